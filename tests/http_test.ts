// Request logging (withLogging) and the node:http adapter (nodeListener):
// one event per request, request ids in every event of the request, never
// mixed between concurrent requests on a real server (Deno.serve under
// Deno, Bun.serve under Bun, node:http under Node), request-scoped
// snapshots, and clear errors for bad options.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createLogger,
  getContext,
  type LogRecord,
  memorySink,
  TtlogConfigError,
} from "../mod.ts";
import {
  metricsHandler,
  nodeListener,
  parseTraceparent,
  withLogging,
} from "../src/http.ts";
import { readTtlog } from "../src/ttlog_file/chunk_reader.ts";
import { serve } from "./fixtures/serve.ts";

const LIMIT = { timeout: 60_000 };

function setup(options: { snapshotDir?: string } = {}) {
  const sink = memorySink();
  const log = createLogger({
    sinks: [sink],
    directives: "",
    level: "debug",
    snapshot: options.snapshotDir ? { dir: options.snapshotDir } : undefined,
  });
  return { sink, log };
}

const requestEvents = (records: readonly LogRecord[]) =>
  records.filter((r) => r.target === "http");

test("one event per request: method, path, status, ms, bytes; the id from x-request-id is echoed", async () => {
  const { sink, log } = setup();
  const handler = withLogging((req: Request) => {
    log.debug("handling", { step: 1 });
    const path = new URL(req.url).pathname;
    return new Response(path === "/empty" ? null : "hello", {
      status: path === "/missing" ? 404 : path === "/empty" ? 204 : 200,
      headers: path === "/sized" ? { "content-length": "5" } : {},
    });
  }, { log });
  const ok = await handler(
    new Request("http://x/sized?q=1#h", { headers: { "x-request-id": "abc" } }),
  );
  assert.equal(ok.headers.get("x-request-id"), "abc");
  assert.equal(await ok.text(), "hello");
  await handler(new Request("http://x/missing"));
  await handler(new Request("http://x/empty", { method: "POST" }));
  await handler(new Request("http://x/plain"));
  await log.flush();
  const events = requestEvents(sink.records);
  assert.equal(events.length, 4);
  assert.deepEqual(
    events.map((e) => [e.level, e.msg, e.fields.method, e.fields.path]),
    [
      ["info", "request", "GET", "/sized"],
      ["warn", "request", "GET", "/missing"],
      ["info", "request", "POST", "/empty"],
      ["info", "request", "GET", "/plain"],
    ],
  );
  assert.equal(events[0].fields.status, 200);
  assert.equal(events[0].fields.bytes, 5);
  assert.equal(events[0].fields.request_id, "abc");
  assert.equal(events[1].fields.status, 404);
  assert.equal(events[2].fields.bytes, 0);
  // A body of unknown size (the response is never read to count it): no
  // bytes field rather than a guess.
  assert.equal("bytes" in events[3].fields, false);
  for (const e of events) {
    assert.equal(typeof e.fields.ms, "number");
    assert.ok((e.fields.ms as number) >= 0);
  }
  // The handler's own event carries the same id as its request event.
  const handling = sink.records.filter((r) => r.msg === "handling");
  assert.deepEqual(
    handling.map((r) => r.fields.request_id),
    events.map((e) => e.fields.request_id),
  );
  await log.close();
});

test("request ids: generated when absent or invalid, unique; traceparent adds trace and span ids", async () => {
  const { sink, log } = setup();
  const seen: (Readonly<Record<string, unknown>> | undefined)[] = [];
  const handler = withLogging(() => {
    seen.push(getContext());
    return new Response("x");
  }, { log });
  const ids = new Set<string>();
  for (
    const given of [undefined, "has space", "x".repeat(129), "é", ""]
  ) {
    const res = await handler(
      new Request("http://x/", {
        headers: given === undefined ? {} : { "x-request-id": given },
      }),
    );
    const id = res.headers.get("x-request-id")!;
    assert.notEqual(id, given);
    assert.match(id, /^[\x21-\x7e]{8,128}$/);
    ids.add(id);
  }
  assert.equal(ids.size, 5);
  // One random prefix per process, then a counter.
  const prefixes = new Set([...ids].map((id) => id.split("-")[0]));
  assert.equal(prefixes.size, 1);
  assert.match([...prefixes][0], /^[0-9a-f]{16}$/);
  const trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  await handler(
    new Request("http://x/", {
      headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` },
    }),
  );
  await log.flush();
  const last = requestEvents(sink.records).at(-1)!;
  assert.equal(last.fields.trace_id, trace);
  assert.equal(last.fields.span_id, "00f067aa0ba902b7");
  assert.equal(last.fields.trace_flags, "01");
  assert.equal(seen.at(-1)!.trace_id, trace);
  assert.equal(seen.at(-1)!.trace_flags, "01");
  // A later version may add fields after the flags; version 00 may not.
  assert.deepEqual(
    parseTraceparent(`01-${trace}-00f067aa0ba902b7-00-future`),
    { trace_id: trace, span_id: "00f067aa0ba902b7", trace_flags: "00" },
  );
  for (
    const bad of [
      `00-${trace}-00f067aa0ba902b7-01-extra`,
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
      "nonsense",
    ]
  ) assert.equal(parseTraceparent(bad), undefined, bad);
  await log.close();
});

test("a handler that throws: an error event with the error, the error thrown again, a snapshot of only that request", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ttlog-http-"));
  try {
    const { sink, log } = setup({ snapshotDir: dir });
    const handler = withLogging(async (req: Request) => {
      const n = new URL(req.url).searchParams.get("n");
      log.debug("step one", { n });
      await new Promise((r) => setTimeout(r, 1));
      log.debug("step two", { n });
      if (n === "2") throw new Error("payment service down");
      if (n === "3") return new Response("bad gateway", { status: 502 });
      return new Response("ok");
    }, { log, snapshot: "5xx" });
    const results = await Promise.allSettled(
      [1, 2, 3, 4].map((n) =>
        handler(
          new Request(`http://x/pay?n=${n}`, {
            headers: { "x-request-id": `req-${n}` },
          }),
        )
      ),
    );
    assert.equal(results[1].status, "rejected");
    assert.equal(
      ((results[1] as PromiseRejectedResult).reason as Error).message,
      "payment service down",
    );
    assert.equal(
      (results[2] as PromiseFulfilledResult<Response>).value.status,
      502,
    );
    await log.flush();
    // Let the snapshots (written in a microtask after the events) land.
    await new Promise((r) => setTimeout(r, 20));
    const failed = sink.records.find((r) => r.msg === "request failed")!;
    assert.equal(failed.level, "error");
    assert.equal(failed.fields.request_id, "req-2");
    assert.equal((failed.fields.err as Error).message, "payment service down");
    const files = readdirSync(dir).filter((n) => n.endsWith(".ttlog")).sort();
    assert.equal(files.length, 2, files.join(", "));
    const byId = new Map<string, LogRecord[]>();
    for (const file of files) {
      const result = readTtlog(new Uint8Array(readFileSync(join(dir, file))));
      assert.equal(result.error, undefined);
      const records = result.items.flatMap((item) =>
        item.kind === "events" ? item.records : []
      );
      const ids = new Set(records.map((r) => r.fields.request_id));
      assert.equal(ids.size, 1, `${file}: ids ${[...ids]}`);
      byId.set([...ids][0] as string, records);
    }
    assert.deepEqual(
      byId.get("req-2")!.map((r) => r.msg),
      ["step one", "step two", "request failed"],
    );
    assert.deepEqual(
      byId.get("req-3")!.map((r) => r.msg),
      ["step one", "step two", "request"],
    );
    await log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a response with immutable headers gets its id on a copy", async () => {
  const { log } = setup();
  const handler = withLogging(
    () => Response.redirect("http://example.com/next", 302),
    { log, requestIdHeader: "X-Trace-Id" },
  );
  const res = await handler(
    new Request("http://x/", { headers: { "x-trace-id": "t-1" } }),
  );
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "http://example.com/next");
  assert.equal(res.headers.get("x-trace-id"), "t-1");
  await log.close();
});

test("bad options are clear errors", async () => {
  const { log } = setup();
  const ok = () => new Response();
  for (
    const [handler, options, pattern] of [
      [42, { log }, /handler must be a function, got number/],
      [ok, null, /options must be an object with a logger/],
      [ok, {}, /options\.log must be a logger from createLogger/],
      [ok, { log, snapshot: true }, /snapshot must be "error", "5xx" or false/],
      [ok, { log, requestIdHeader: "bad header" }, /not a valid header name/],
      [ok, { log, logger: log }, /unknown option "logger"/],
    ] as const
  ) {
    assert.throws(
      () => withLogging(handler as never, options as never),
      (error: Error) =>
        error instanceof TtlogConfigError && pattern.test(error.message),
    );
  }
  assert.throws(() => nodeListener("x" as never), TtlogConfigError);
  await log.close();
});

test(
  "a real server: concurrent requests never mix their ids, and every response carries its own",
  LIMIT,
  async () => {
    const { sink, log } = setup();
    const handler = withLogging(async (req: Request) => {
      const n = Number(new URL(req.url).searchParams.get("n"));
      log.info("start", { n });
      await new Promise((r) => setTimeout(r, (n * 7) % 11));
      log.info("middle", { n });
      await Promise.resolve();
      log.info("end", { n });
      return new Response(String(n));
    }, { log });
    const server = await serve(handler);
    try {
      const responses = await Promise.all(
        Array.from(
          { length: 60 },
          (_, n) =>
            fetch(`${server.url}/work?n=${n}`, {
              headers: n % 2 === 0 ? { "x-request-id": `given-${n}` } : {},
            }).then(async (res) => ({
              n,
              body: await res.text(),
              id: res.headers.get("x-request-id")!,
            })),
        ),
      );
      await log.flush();
      const idOf = new Map(responses.map((r) => [r.n, r.id]));
      for (const r of responses) {
        assert.equal(r.body, String(r.n));
        if (r.n % 2 === 0) assert.equal(r.id, `given-${r.n}`);
      }
      assert.equal(new Set(idOf.values()).size, 60);
      const app = sink.records.filter((r) => r.target === "");
      assert.equal(app.length, 180);
      for (const record of app) {
        assert.equal(
          record.fields.request_id,
          idOf.get(record.fields.n as number),
          `${server.kind}: ${JSON.stringify(record)}`,
        );
      }
      const events = requestEvents(sink.records);
      assert.equal(events.length, 60);
      for (const e of events) {
        assert.equal(e.fields.status, 200);
        assert.equal(e.fields.path, "/work");
      }
    } finally {
      await server.close();
      await log.close();
    }
  },
);

test(
  "nodeListener (node:http on every runtime): streamed request and response bodies, cookies, HEAD, a throwing handler",
  LIMIT,
  async () => {
    const { log } = setup();
    const handler = withLogging(async (req: Request) => {
      const path = new URL(req.url).pathname;
      if (path === "/boom") throw new Error("boom");
      if (path === "/echo") {
        const body = new Uint8Array(await req.arrayBuffer());
        return new Response(body, {
          headers: { "x-length": String(body.length) },
        });
      }
      const headers = new Headers({ "content-type": "text/plain" });
      headers.append("set-cookie", "a=1");
      headers.append("set-cookie", "b=2");
      const chunks = ["one ", "two ", "three"];
      return new Response(
        new ReadableStream({
          pull(controller) {
            const next = chunks.shift();
            if (next === undefined) controller.close();
            else controller.enqueue(new TextEncoder().encode(next));
          },
        }),
        { headers },
      );
    }, { log });
    const server = await serve(handler, { node: true });
    assert.equal(server.kind, "node:http");
    try {
      const big = new Uint8Array(300_000).map((_, i) => i & 0xff);
      const echo = await fetch(`${server.url}/echo`, {
        method: "POST",
        body: big,
      });
      assert.equal(echo.headers.get("x-length"), String(big.length));
      assert.deepEqual(new Uint8Array(await echo.arrayBuffer()), big);
      const stream = await fetch(`${server.url}/stream`);
      assert.equal(await stream.text(), "one two three");
      assert.deepEqual(stream.headers.getSetCookie(), ["a=1", "b=2"]);
      assert.ok(stream.headers.get("x-request-id"));
      const head = await fetch(`${server.url}/stream`, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), "");
      const boom = await fetch(`${server.url}/boom`);
      assert.equal(boom.status, 500);
      assert.equal(await boom.text(), "Internal Server Error");
    } finally {
      await server.close();
      await log.close();
    }
  },
);

test("metricsHandler answers the Prometheus text format; other methods get 405", async () => {
  const { log } = setup();
  log.info("one");
  await log.flush();
  const handler = metricsHandler(log, "shop");
  const res = handler(new Request("http://x/metrics"));
  assert.equal(res.status, 200);
  assert.equal(
    res.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
  const text = await res.text();
  assert.match(text, /^ttlog_events_logged_total\{service="shop"\} 1$/m);
  assert.match(text, /^# TYPE ttlog_events_emitted_total counter$/m);
  const head = handler(new Request("http://x/metrics", { method: "HEAD" }));
  assert.equal(await head.text(), "");
  const post = handler(new Request("http://x/metrics", { method: "POST" }));
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  assert.throws(() => metricsHandler({} as never), TtlogConfigError);
  await log.close();
});

test("withLogging never reads the response's body (servers keep their fast path for static bodies)", async () => {
  const { log } = setup();
  let touched = 0;
  const handler = withLogging(() => {
    const res = new Response("static");
    Object.defineProperty(res, "body", {
      get() {
        touched++;
        return null;
      },
    });
    return res;
  }, { log });
  await handler(new Request("http://x/"));
  assert.equal(touched, 0);
  await log.close();
});

test("a handler that answers synchronously gets its Response back synchronously, logged and with its id; an async one gets a promise", async () => {
  const { sink, log } = setup();
  const sync = withLogging(() => new Response("now"), { log });
  const result = sync(
    new Request("http://x/a", { headers: { "x-request-id": "q-1" } }),
  );
  assert.ok(result instanceof Response, "a Response, not a promise");
  assert.equal(result.headers.get("x-request-id"), "q-1");
  const later = withLogging(async () => {
    await new Promise((r) => setTimeout(r, 1));
    return new Response("later");
  }, { log });
  const pending = later(
    new Request("http://x/b", { headers: { "x-request-id": "q-2" } }),
  );
  assert.ok(pending instanceof Promise);
  assert.equal((await pending).headers.get("x-request-id"), "q-2");
  await log.flush();
  assert.deepEqual(
    requestEvents(sink.records).map((
      r,
    ) => [r.fields.path, r.fields.request_id]),
    [["/a", "q-1"], ["/b", "q-2"]],
  );
  await log.close();
});

test("a handler that returns no Response: the wrapper rejects with a TypeError naming what it got, logged as a failed request", async () => {
  const { sink, log } = setup();
  const cases: [string, () => unknown, RegExp][] = [
    ["u-1", () => undefined, /must return a Response .*got undefined/],
    [
      "u-2",
      () => Promise.resolve({ ok: true }),
      /got an object that is not a Response/,
    ],
    ["u-3", () => "text", /got string/],
  ];
  for (const [id, body, pattern] of cases) {
    const handler = withLogging(body as () => Response, { log });
    await assert.rejects(
      Promise.resolve(
        handler(new Request("http://x/", { headers: { "x-request-id": id } })),
      ),
      (error: Error) =>
        error instanceof TypeError && pattern.test(error.message),
    );
  }
  await log.flush();
  const failed = sink.records.filter((r) => r.msg === "request failed");
  assert.deepEqual(failed.map((r) => r.fields.request_id), [
    "u-1",
    "u-2",
    "u-3",
  ]);
  assert.ok(failed.every((r) => r.level === "error"));
  await log.close();
});

test("a handler that throws synchronously: the wrapper rejects with the error, logged with the request's id", async () => {
  const { sink, log } = setup();
  const handler = withLogging((): Response => {
    log.debug("about to fail");
    throw new TypeError("sync boom");
  }, { log });
  await assert.rejects(
    Promise.resolve(
      handler(new Request("http://x/", { headers: { "x-request-id": "s-1" } })),
    ),
    (error: Error) =>
      error instanceof TypeError && error.message === "sync boom",
  );
  await log.flush();
  assert.deepEqual(
    sink.records.map((r) => [r.msg, r.fields.request_id]),
    [["about to fail", "s-1"], ["request failed", "s-1"]],
  );
  await log.close();
});

test("context: false: no context switch; the request event still carries the ids", async () => {
  const { sink, log } = setup();
  const seen: unknown[] = [];
  const handler = withLogging(() => {
    seen.push(getContext());
    log.info("inside");
    return new Response("x");
  }, { log, context: false });
  const trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  const res = await handler(
    new Request("http://x/a", {
      headers: {
        "x-request-id": "n-1",
        traceparent: `00-${trace}-00f067aa0ba902b7-01`,
      },
    }),
  );
  assert.equal(res.headers.get("x-request-id"), "n-1");
  await log.flush();
  assert.deepEqual(seen, [undefined]);
  assert.deepEqual(sink.records[0].fields, {});
  const event = sink.records[1];
  assert.equal(event.msg, "request");
  assert.equal(event.fields.request_id, "n-1");
  assert.equal(event.fields.trace_id, trace);
  assert.equal(event.fields.path, "/a");
  for (
    const [options, pattern] of [
      [{ context: "yes" }, /context must be true or false/],
      [
        { replay: "always" },
        /replay must be "error", "5xx" or false, got "always"/,
      ],
      [{ replay: true }, /replay must be "error", "5xx" or false, got true/],
    ] as const
  ) {
    assert.throws(
      () => withLogging(() => new Response(), { log, ...options } as never),
      (error: Error) =>
        error instanceof TtlogConfigError && pattern.test(error.message),
    );
  }
  await log.close();
});
