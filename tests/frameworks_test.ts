// ttlog under real frameworks, served by real servers on 127.0.0.1: Hono
// through its middleware on Deno.serve, Bun.serve and @hono/node-server
// (node:http on every runtime, as Node users run it); Elysia through its
// plugin on the runtime's own server (Bun.serve via app.listen on Bun);
// and withLogging around a framework's fetch with requestFailed from its
// error hook. Both frameworks catch a route's error and answer 500: the
// request's event must still carry that error with its stack.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { Hono } from "hono";
import { Elysia } from "elysia";
import { createLogger, type LoggedError, type LogRecord } from "../mod.ts";
import { requestFailed, requestLogger, withLogging } from "../src/http.ts";
import { requestLogging as honoLogging } from "../src/hono.ts";
import { requestLogging as elysiaLogging } from "../src/elysia.ts";
import { detectRuntime } from "../src/runtime/mod.ts";
import { memorySink } from "../src/sinks/memory.ts";
import { TtlogConfigError } from "../src/errors.ts";
import { serve, type Served } from "./fixtures/serve.ts";

const runtime = detectRuntime().name;

function logger() {
  const sink = memorySink();
  const log = createLogger({
    sinks: [sink],
    level: "debug",
    directives: "",
  });
  return { log, sink };
}

function requestEvents(sink: ReturnType<typeof memorySink>): LogRecord[] {
  return sink.records.filter((r) => r.target === "http");
}

/**
 * Serves a Hono app as users of each runtime do: Deno.serve, Bun.serve, and
 * @hono/node-server on Node. Only Node loads @hono/node-server: it replaces
 * the global Response with its own, which Deno.serve and Bun.serve refuse.
 */
async function serveHono(app: Hono): Promise<Served> {
  if (runtime !== "node") return await serve(app.fetch);
  const { serve: honoNodeServe } = await import("@hono/node-server");
  const server = await new Promise<ReturnType<typeof honoNodeServe>>(
    (ok) => {
      const s = honoNodeServe(
        { fetch: app.fetch, port: 0, hostname: "127.0.0.1" },
        () => ok(s),
      );
    },
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    kind: "node:http",
    close: () =>
      new Promise<void>((ok) => {
        (server as { closeAllConnections?: () => void })
          .closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}

function honoApp(log: ReturnType<typeof logger>["log"]): Hono {
  const app = new Hono();
  app.use(honoLogging({ log }));
  app.get("/ok", (c) => {
    log.debug("looking up", { sku: 7 }); // through the context
    (c.get("log" as never) as typeof log).info("from c.var.log");
    return c.text("fine");
  });
  app.get("/boom", async () => {
    await new Promise((done) => setTimeout(done, 1));
    log.debug("about to fail");
    throw new Error("out of stock");
  });
  app.get("/teapot", (c) => c.text("short and stout", 418));
  return app;
}

{
  const name = runtime === "deno"
    ? "Deno.serve"
    : runtime === "bun"
    ? "Bun.serve"
    : "@hono/node-server";
  const start = serveHono;
  test(`hono on ${name}: the middleware logs each request, carries the ids into its events, and the error Hono answered with a 500 rides on the request's event with its stack`, async () => {
    const { log, sink } = logger();
    const served = await start(honoApp(log));
    try {
      const ok = await fetch(`${served.url}/ok`, {
        headers: { "x-request-id": "hono-ok-1" },
      });
      assert.equal(await ok.text(), "fine");
      assert.equal(ok.headers.get("x-request-id"), "hono-ok-1");
      const boom = await fetch(`${served.url}/boom`);
      assert.equal(boom.status, 500);
      assert.equal(await boom.text(), "Internal Server Error");
      const boomId = boom.headers.get("x-request-id");
      assert.ok(boomId);
      const teapot = await fetch(`${served.url}/teapot`);
      assert.equal(teapot.status, 418);
      await teapot.text();
      await log.flush();

      const byId = (id: string) =>
        sink.records.filter((r) => r.fields.request_id === id);
      assert.deepEqual(
        byId("hono-ok-1").map((r) => [r.level, r.msg]),
        [["debug", "looking up"], ["info", "from c.var.log"], [
          "info",
          "request",
        ]],
      );
      const failed = byId(boomId);
      assert.deepEqual(failed.map((r) => r.msg), ["about to fail", "request"]);
      const event = failed[1];
      assert.equal(event.level, "error");
      assert.equal(event.fields.status, 500);
      assert.equal(event.fields.path, "/boom");
      const err = event.fields.err as LoggedError;
      assert.equal(err.message, "out of stock");
      assert.match(err.stack ?? "", /out of stock[\s\S]*frameworks_test/);
      const tea = requestEvents(sink).find((r) => r.fields.status === 418)!;
      assert.equal(tea.level, "warn");
      assert.equal(
        tea.fields.err,
        undefined,
        "a 4xx is an answer, not a failure",
      );
    } finally {
      await served.close();
      await log.close();
    }
  });
}

test("hono: an HTTPException turned into a 401 is the answer; a thrown non-Error reaches the server, logged as a failed request", async () => {
  const { log, sink } = logger();
  const { HTTPException } = await import("hono/http-exception");
  const app = new Hono();
  app.use(honoLogging({ log }));
  app.get("/private", () => {
    throw new HTTPException(401, { message: "who are you" });
  });
  app.get("/weird", () => {
    throw "a string"; // Hono's compose passes non-Errors on
  });
  const denied = await app.fetch(new Request("http://localhost/private"));
  assert.equal(denied.status, 401);
  await assert.rejects(
    Promise.resolve(app.fetch(new Request("http://localhost/weird"))),
    (thrown) => thrown === "a string",
  );
  await log.flush();
  const [first, second] = requestEvents(sink);
  assert.equal(first.fields.status, 401);
  assert.equal(first.level, "warn");
  assert.equal(first.fields.err, undefined);
  assert.equal(second.msg, "request failed");
  assert.equal(second.fields.err, "a string");
  await log.close();
});

test("hono: bad middleware options are TtlogConfigErrors naming the option", async () => {
  const { log } = logger();
  assert.throws(
    () => honoLogging({ log, snapshot: "always" } as never),
    (e: Error) =>
      e instanceof TtlogConfigError &&
      /requestLogging \(hono\): snapshot must be/.test(e.message),
  );
  assert.throws(
    () => honoLogging({ log, colour: true } as never),
    (e: Error) =>
      e instanceof TtlogConfigError &&
      /unknown option "colour"/.test(e.message),
  );
  await log.close();
});

test("withLogging around app.fetch: Hono's onError calls requestFailed, and the request's event carries the error", async () => {
  const { log, sink } = logger();
  const app = new Hono();
  app.get("/boom", () => {
    throw new Error("db down");
  });
  app.onError((err, c) => {
    requestFailed(c.req.raw, err);
    return c.text("sorry", 500);
  });
  const served = await serve(withLogging(app.fetch, { log }));
  try {
    const res = await fetch(`${served.url}/boom`);
    assert.equal(res.status, 500);
    assert.equal(await res.text(), "sorry");
    await log.flush();
    const [event] = requestEvents(sink);
    assert.equal(event.fields.status, 500);
    assert.equal((event.fields.err as LoggedError).message, "db down");
  } finally {
    await served.close();
    await log.close();
  }
});

/** Serves an Elysia app: app.listen on Bun, app.fetch on the others. */
async function serveElysia(app: Elysia): Promise<Served> {
  if (runtime === "bun") {
    app.listen({ port: 0, hostname: "127.0.0.1" });
    const port = app.server!.port;
    return {
      url: `http://127.0.0.1:${port}`,
      kind: "Bun.serve",
      close: async () => {
        await app.stop(true);
      },
    };
  }
  return await serve((request) => app.fetch(request));
}

test(`elysia on ${runtime === "bun" ? "Bun (app.listen)" : runtime}: the plugin logs each request, requestLogger carries the ids, the error Elysia answered rides on the event`, async () => {
  const { log, sink } = logger();
  const app = new Elysia()
    .use(elysiaLogging({ log }))
    .get("/ok", ({ request }) => {
      requestLogger(request).debug("looking up", { sku: 7 });
      return "fine";
    })
    .get("/made", () => new Response("made", { status: 201 }))
    .get("/boom", ({ request }) => {
      requestLogger(request).debug("about to fail");
      throw new Error("card declined");
    });
  const served = await serveElysia(app as unknown as Elysia);
  try {
    const ok = await fetch(`${served.url}/ok`, {
      headers: { "x-request-id": "ely-1" },
    });
    assert.equal(await ok.text(), "fine");
    assert.equal(ok.headers.get("x-request-id"), "ely-1");
    const made = await fetch(`${served.url}/made`);
    assert.equal(made.status, 201);
    await made.text();
    const boom = await fetch(`${served.url}/boom`);
    assert.equal(boom.status, 500);
    await boom.text();
    const boomId = boom.headers.get("x-request-id")!;
    const missing = await fetch(`${served.url}/nope`);
    assert.equal(missing.status, 404);
    await missing.text();
    // The request events are logged after each response was sent.
    const deadline = Date.now() + 5000;
    while (requestEvents(sink).length < 4 && Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, 10));
      await log.flush();
    }
    const byId = (id: string) =>
      sink.records.filter((r) => r.fields.request_id === id);
    assert.deepEqual(byId("ely-1").map((r) => [r.level, r.msg]), [
      ["debug", "looking up"],
      ["info", "request"],
    ]);
    const statuses = requestEvents(sink).map((r) => r.fields.status).sort();
    assert.deepEqual(statuses, [200, 201, 404, 500]);
    const failed = byId(boomId);
    assert.deepEqual(failed.map((r) => r.msg), ["about to fail", "request"]);
    const err = failed[1].fields.err as LoggedError;
    assert.equal(failed[1].level, "error");
    assert.equal(err.message, "card declined");
    assert.match(err.stack ?? "", /card declined/);
    const notFound = requestEvents(sink).find((r) => r.fields.status === 404)!;
    assert.equal(notFound.level, "warn");
    assert.equal(notFound.fields.err, undefined);
  } finally {
    await served.close();
    await log.close();
  }
});

test("elysia: a context option is refused (no hook goes around a handler); requestLogger outside a logged request is a clear error", async () => {
  const { log } = logger();
  assert.throws(
    () => elysiaLogging({ log, context: true } as never),
    (e: Error) =>
      e instanceof TtlogConfigError && /no context option/.test(e.message),
  );
  assert.throws(
    () => requestLogger(new Request("http://localhost/")),
    (e: Error) =>
      e instanceof TtlogConfigError &&
      /requestLogger: this request is not being logged/.test(e.message),
  );
  await log.close();
});
