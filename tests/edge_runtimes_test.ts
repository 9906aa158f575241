// ttlog in real edge runtimes from npm: Cloudflare's workerd (through
// Miniflare), with and without nodejs_compat, on an old and a current
// compatibility date, and Vercel's edge-runtime. tests/fixtures/edge_app.ts
// is bundled with esbuild as a user's build would, served on 127.0.0.1, and
// sent real requests; its events go to a collector with httpSink, delivered
// by ctx.waitUntil(log.flush()).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Buffer } from "node:buffer";
import { gunzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { Miniflare } from "miniflare";
import { EdgeRuntime, runServer } from "edge-runtime";

const LIMIT = { timeout: 120_000 };
const APP = fileURLToPath(new URL("./fixtures/edge_app.ts", import.meta.url));

interface Collected {
  url: string;
  events: Record<string, unknown>[];
  /** Each request: its method, encoding and length, or what broke. */
  requests: string[];
  close(): Promise<void>;
}

/** An NDJSON collector on 127.0.0.1, as httpSink's endpoint. */
async function collector(): Promise<Collected> {
  const events: Record<string, unknown>[] = [];
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(
      `${req.method} ${req.headers["content-encoding"]} ${
        req.headers["content-length"]
      } ${req.headers["transfer-encoding"]}`,
    );
    req.on("error", (e) => requests.push(`error ${e}`));
    const chunks: Uint8Array[] = [];
    req.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      // httpSink gzips where the runtime has CompressionStream (workerd).
      const body =
        (req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw)
          .toString("utf8");
      for (const line of body.split("\n")) {
        if (line !== "") events.push(JSON.parse(line));
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/logs`,
    events,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}

/** Bundles the app behind a platform's entry shim. */
async function bundle(shim: string, format: "esm" | "iife"): Promise<string> {
  const result = await esbuild.build({
    stdin: {
      contents: shim.replace("APP", JSON.stringify(APP)),
      resolveDir: fileURLToPath(new URL(".", import.meta.url)),
      loader: "ts",
    },
    bundle: true,
    write: false,
    format,
    platform: "browser",
    target: "es2022",
    // What wrangler does with nodejs_compat: node: modules come from workerd.
    external: ["node:*"],
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

const WORKER_SHIM = `import { handle } from APP;
export default {
  fetch(request, env, ctx) { return handle(request, env.COLLECTOR, ctx); },
};`;

// workerd with nodejs_compat before the 2024-09-23 compatibility date: no
// process.getBuiltinModule, so the app hands AsyncLocalStorage over.
const WORKER_SHIM_HANDOVER =
  `import { AsyncLocalStorage } from "node:async_hooks";
import { useAsyncLocalStorage } from ${
    JSON.stringify(
      fileURLToPath(new URL("../mod.ts", import.meta.url)),
    )
  };
useAsyncLocalStorage(AsyncLocalStorage);
${WORKER_SHIM}`;

const VERCEL_SHIM = `import { handle } from APP;
addEventListener("fetch", (event) => {
  event.respondWith(handle(event.request, globalThis.COLLECTOR, event));
});`;

async function until(
  what: string,
  ok: () => boolean,
  detail?: () => string,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!ok()) {
    if (Date.now() > deadline) {
      assert.fail(
        `timed out waiting for ${what}${detail ? `: ${detail()}` : ""}`,
      );
    }
    await new Promise((done) => setTimeout(done, 20));
  }
}

/**
 * The requests every host gets, and what must come of them: each answered
 * as the handler answers, every event delivered after the response, the
 * request ids on the request events always and on the handler's events
 * where there is AsyncLocalStorage, the probes' clear errors.
 */
async function exercise(
  base: string,
  sink: Collected,
  stderr: () => string,
  hasContext: boolean,
): Promise<void> {
  const ok = await fetch(`${base}/ok`, {
    headers: { "x-request-id": "edge-ok" },
  });
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), "ok");
  assert.equal(ok.headers.get("x-request-id"), "edge-ok");
  const slow = await fetch(`${base}/slow`, {
    headers: { "x-request-id": "edge-slow" },
  });
  assert.equal(await slow.text(), "slow ok");
  const fail = await fetch(`${base}/fail`, {
    headers: { "x-request-id": "edge-fail" },
  });
  assert.equal(fail.status, 503);
  assert.equal(await fail.text(), "down");
  const thrown = await fetch(`${base}/throw`, {
    headers: { "x-request-id": "edge-throw" },
  });
  assert.equal(thrown.status, 500, "the platform answers a thrown error");
  await thrown.text();

  const byId = (id: string) =>
    sink.events.filter((e) => e.request_id === id).map((e) => e.msg);
  await until(
    "every event at the collector",
    () =>
      sink.events.filter((e) => e.msg?.toString().startsWith("request"))
        .length === 4,
    () =>
      `${sink.events.map((e) => e.msg).join(",")} events; requests: ${
        sink.requests.join(" | ")
      }; the runtime said: ${stderr()}`,
  );
  await until(
    "the handler's events",
    () => sink.events.some((e) => e.msg === "after the await"),
  );
  const requestEvents = sink.events.filter((e) => e.target === "http");
  assert.deepEqual(
    requestEvents.map((e) => [e.request_id, e.status ?? null, e.level]),
    [
      ["edge-ok", 200, "info"],
      ["edge-slow", 200, "info"],
      ["edge-fail", 503, "error"],
      ["edge-throw", null, "error"],
    ],
  );
  const failedEvent = requestEvents[3];
  assert.equal(failedEvent.msg, "request failed");
  assert.equal(
    (failedEvent.err as { message: string }).message,
    "handler blew up",
  );
  // requestLogger carries the ids on every host.
  assert.ok(byId("edge-ok").includes("through requestLogger"));
  assert.ok(byId("edge-fail").includes("the lead-up"));
  if (hasContext) {
    assert.deepEqual(byId("edge-ok"), [
      "inside the handler",
      "through requestLogger",
      "request",
    ]);
    assert.deepEqual(byId("edge-slow"), [
      "before the await",
      "after the await",
      "request",
    ]);
    assert.doesNotMatch(stderr(), /no AsyncLocalStorage/);
  } else {
    const inside = sink.events.find((e) => e.msg === "inside the handler")!;
    assert.equal(inside.request_id, undefined);
    const notices = stderr().split("\n").filter((l) =>
      l.includes("no AsyncLocalStorage")
    );
    assert.equal(notices.length, 1, stderr());
    assert.match(
      notices[0],
      /^ttlog: withLogging: this runtime has no AsyncLocalStorage/,
    );
  }

  const probe = await (await fetch(`${base}/probe`)).json();
  assert.equal(probe.runtime, "web");
  assert.equal(probe.worker, false);
  assert.match(
    probe.workerTrue,
    /^TtlogConfigError: createLogger: worker: true needs worker threads/,
  );
  assert.match(
    probe.coarse,
    /^TtlogConfigError: createLogger: clock: "coarse" needs a thread/,
  );
  assert.match(probe.fileSink, /^TtlogConfigError: fileSink needs node:fs/);
  assert.match(probe.snapshot, /^TtlogConfigError: .*node:fs/);
  assert.match(probe.snapshot, /snapshot: \{ store \}/);
}

const WORKERD_CASES = [
  {
    date: "2024-01-01",
    flags: [] as string[],
    handover: false,
    context: false,
  },
  // No process.getBuiltinModule on this date: without the handover, the
  // notice; with it, contexts.
  {
    date: "2024-01-01",
    flags: ["nodejs_compat"],
    handover: false,
    context: false,
  },
  {
    date: "2024-01-01",
    flags: ["nodejs_compat"],
    handover: true,
    context: true,
  },
  {
    date: "2026-07-01",
    flags: [] as string[],
    handover: false,
    context: false,
  },
  {
    date: "2026-07-01",
    flags: ["nodejs_compat"],
    handover: false,
    context: true,
  },
];

for (const { date, flags, handover, context } of WORKERD_CASES) {
  test(
    `workerd (Miniflare), compatibility date ${date}, ${
      flags.length === 0 ? "no flags" : flags.join(", ")
    }${
      handover ? ", AsyncLocalStorage handed over" : ""
    }: withLogging with its defaults answers as the handler does, waitUntil(log.flush()) delivers every event`,
    LIMIT,
    async () => {
      const sink = await collector();
      let stderr = "";
      const mf = new Miniflare({
        modules: true,
        script: await bundle(
          handover ? WORKER_SHIM_HANDOVER : WORKER_SHIM,
          "esm",
        ),
        compatibilityDate: date,
        compatibilityFlags: flags,
        bindings: { COLLECTOR: sink.url },
        handleRuntimeStdio(
          out: NodeJS.ReadableStream,
          err: NodeJS.ReadableStream,
        ) {
          out.on("data", (chunk: Uint8Array) => {
            stderr += new TextDecoder().decode(chunk);
          });
          err.on("data", (chunk: Uint8Array) => {
            stderr += new TextDecoder().decode(chunk);
          });
        },
      });
      try {
        const base = (await mf.ready).href.replace(/\/$/, "");
        await exercise(base, sink, () => stderr, context);
      } finally {
        await mf.dispose();
        await sink.close();
      }
    },
  );
}

test(
  "Vercel's edge-runtime: withLogging with its defaults answers as the handler does, waitUntil(log.flush()) delivers every event",
  LIMIT,
  async () => {
    const sink = await collector();
    let stderr = "";
    const runtime = new EdgeRuntime({
      initialCode: await bundle(VERCEL_SHIM, "iife"),
      extend(context) {
        const global = context as unknown as Record<string, unknown>;
        global.COLLECTOR = sink.url;
        const console = context.console as unknown as Record<string, unknown>;
        console.error = (...args: unknown[]) => {
          stderr += args.map(String).join(" ").replace(/^%s /, "") + "\n";
        };
        return context;
      },
    });
    const server = await runServer({ runtime, port: 0, host: "127.0.0.1" });
    try {
      await exercise(server.url.replace(/\/$/, ""), sink, () => stderr, false);
    } finally {
      await server.close();
      await sink.close();
    }
  },
);
