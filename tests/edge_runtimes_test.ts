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
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ndjson, ttlog } from "./fixtures/cli_run.ts";

/** What the tests read of Miniflare's R2 bucket (its types do not resolve under Deno). */
interface R2Like {
  list(): Promise<{ objects: { key: string }[] }>;
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
}

const LIMIT = { timeout: 120_000 };
const APP = fileURLToPath(new URL("./fixtures/edge_app.ts", import.meta.url));

interface Collected {
  url: string;
  /** Where httpStore PUTs snapshots (the name is appended). */
  storeUrl: string;
  /** The snapshots PUT there, by name. */
  stored: Map<string, Uint8Array>;
  events: Record<string, unknown>[];
  /** Each request: its method, encoding and length, or what broke. */
  requests: string[];
  close(): Promise<void>;
}

/** An NDJSON collector on 127.0.0.1, as httpSink's endpoint. */
async function collector(): Promise<Collected> {
  const events: Record<string, unknown>[] = [];
  const requests: string[] = [];
  const stored = new Map<string, Uint8Array>();
  const server: Server = createServer((req, res) => {
    if (req.method === "PUT") {
      const chunks: Uint8Array[] = [];
      req.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      req.on("end", () => {
        const url = new URL(req.url!, "http://x");
        stored.set(
          decodeURIComponent(url.pathname.replace("/store/", "")) +
            url.search,
          new Uint8Array(Buffer.concat(chunks)),
        );
        res.writeHead(201).end();
      });
      return;
    }
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
    storeUrl: `http://127.0.0.1:${port}/store/`,
    stored,
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

// Snapshots go to the R2 bucket bound as BUCKET.
const WORKER_SHIM = `import { handle } from APP;
export default {
  fetch(request, env, ctx) {
    return handle(request, env.COLLECTOR, ctx, ({ name, bytes }) => env.BUCKET.put(name, bytes));
  },
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

// Snapshots go by HTTP PUT to the collector (presigned-URL style).
const VERCEL_SHIM = `import { handle } from APP;
import { httpStore } from ${
  JSON.stringify(fileURLToPath(new URL("../mod.ts", import.meta.url)))
};
const store = httpStore({ url: (name) => globalThis.STORE + name + "?sig=test" });
addEventListener("fetch", (event) => {
  event.respondWith(handle(event.request, globalThis.COLLECTOR, event, store));
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

/**
 * The /r/ routes: a failed request's debug lead-up is replayed into the
 * sinks, marked, in order, only that request's; its snapshot reaches the
 * store and the CLI reads it.
 */
async function exerciseReplay(
  base: string,
  sink: Collected,
  snapshots: () => Promise<Map<string, Uint8Array>>,
  stdout: () => string,
): Promise<void> {
  const get = async (path: string, id: string) => {
    const res = await fetch(`${base}${path}`, {
      headers: { "x-request-id": id },
    });
    await res.text();
    return res.status;
  };
  assert.equal(await get("/r/ok?steps=3", "r-ok"), 200);
  assert.equal(await get("/r/fail?steps=50", "r-fail"), 503);
  assert.equal(await get("/r/fail?steps=5", "r-fail-2"), 503);
  assert.equal(await get("/r/ok?steps=2", "r-ok-2"), 200);
  const of = (id: string) => sink.events.filter((e) => e.request_id === id);
  await until(
    "both replays at the collector",
    () =>
      of("r-fail").filter((e) => e.msg === "step").length === 50 &&
      of("r-fail-2").filter((e) => e.msg === "step").length === 5,
    () =>
      JSON.stringify(sink.events.filter((e) => e.service === "edge-replay")),
  );
  for (const [id, steps] of [["r-fail", 50], ["r-fail-2", 5]] as const) {
    const events = of(id);
    assert.deepEqual(
      events.map((e) => [e.msg, e.level, e.replay ?? null]),
      [
        ["request", "error", null],
        ["replay: status 503", "info", "status 503"],
        ...Array.from({ length: steps }, () => ["step", "debug", "status 503"]),
      ],
    );
    const summary = events[1];
    assert.equal(summary.target, "ttlog");
    assert.equal(summary.replayed, steps);
    assert.equal(summary.overwritten, 0);
    const replayed = events.slice(2);
    assert.deepEqual(
      replayed.map((e) => e.step),
      Array.from({ length: steps }, (_, i) => i),
    );
    // Their own times, from before the failure.
    for (const e of replayed) {
      assert.ok((e.time as number) <= (events[0].time as number));
    }
  }
  // The console sink got the same, one NDJSON line per event.
  const printed = stdout().split("\n").filter((line) =>
    line.includes('"service":"edge-replay"')
  ).map((line) => JSON.parse(line.slice(line.indexOf("{"))));
  assert.deepEqual(
    printed.filter((e) => e.request_id === "r-fail").map((e) => [
      e.msg,
      e.replay ?? null,
    ]),
    [
      ["request", null],
      ["replay: status 503", "status 503"],
      ...Array.from({ length: 50 }, () => ["step", "status 503"]),
    ],
  );
  assert.ok(!printed.some((e) => e.request_id === "r-ok" && e.msg === "step"));
  // Requests that did not fail are never replayed.
  assert.equal(of("r-ok").filter((e) => e.msg === "step").length, 0);
  assert.equal(of("r-ok-2").filter((e) => e.msg === "step").length, 0);
  const metrics = await (await fetch(`${base}/r/metrics?steps=0`)).json();
  assert.equal(metrics.replayed, 55);
  assert.equal(metrics.replays, 2);

  let stored = await snapshots();
  for (let i = 0; i < 200 && stored.size < 2; i++) {
    await new Promise((ok) => setTimeout(ok, 50));
    stored = await snapshots();
  }
  assert.equal(stored.size, 2, [...stored.keys()].join(", "));
  assert.equal(metrics.snapshotsStored, 2);
  const dir = mkdtempSync(join(tmpdir(), "ttlog-edge-store-"));
  try {
    const byId = new Map<string, Record<string, unknown>[]>();
    for (const [name, bytes] of stored) {
      assert.match(
        name,
        /^ttlog-edge-replay-\d+-\d{8}T\d{6}\.\d{3}Z-request(-1)?\.ttlog/,
      );
      const path = join(dir, name.replace(/\?.*/, ""));
      writeFileSync(path, bytes);
      const run = await ttlog("view", path, "--format", "ndjson");
      assert.equal(run.status, 0, run.stderr);
      const events = ndjson(run.stdout);
      byId.set(events[0].request_id as string, events);
    }
    assert.deepEqual([...byId.keys()].sort(), ["r-fail", "r-fail-2"]);
    const events = byId.get("r-fail")!;
    assert.deepEqual(
      events.map((e) => e.msg),
      [...Array.from({ length: 50 }, () => "step"), "request"],
    );
    assert.ok(events.every((e) => e.request_id === "r-fail"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
    }: withLogging with its defaults answers as the handler does, waitUntil(log.flush()) delivers every event; a 5xx request's lead-up is replayed to the sinks, its snapshot put in R2`,
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
        r2Buckets: ["BUCKET"],
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
        const bucket = await mf.getR2Bucket("BUCKET") as unknown as R2Like;
        await exerciseReplay(base, sink, async () => {
          const found = new Map<string, Uint8Array>();
          for (const object of (await bucket.list()).objects) {
            const body = await bucket.get(object.key);
            found.set(object.key, new Uint8Array(await body!.arrayBuffer()));
          }
          return found;
        }, () => stderr);
      } finally {
        await mf.dispose();
        await sink.close();
      }
    },
  );
}

test(
  "Vercel's edge-runtime: withLogging with its defaults answers as the handler does, waitUntil(log.flush()) delivers every event; a 5xx request's lead-up is replayed to the sinks, its snapshot PUT by httpStore",
  LIMIT,
  async () => {
    const sink = await collector();
    let stderr = "";
    let stdout = "";
    const runtime = new EdgeRuntime({
      initialCode: await bundle(VERCEL_SHIM, "iife"),
      extend(context) {
        const global = context as unknown as Record<string, unknown>;
        global.COLLECTOR = sink.url;
        global.STORE = sink.storeUrl;
        const console = context.console as unknown as Record<string, unknown>;
        console.error = (...args: unknown[]) => {
          stderr += args.map(String).join(" ").replace(/^%s /, "") + "\n";
        };
        console.log = (...args: unknown[]) => {
          stdout += args.map(String).join(" ").replace(/^%s /, "") + "\n";
        };
        return context;
      },
    });
    const server = await runServer({ runtime, port: 0, host: "127.0.0.1" });
    try {
      const base = server.url.replace(/\/$/, "");
      await exercise(base, sink, () => stderr, false);
      await exerciseReplay(base, sink, () => {
        assert.ok(
          [...sink.stored.keys()].every((k) => k.endsWith("?sig=test")),
        );
        return Promise.resolve(sink.stored);
      }, () => stdout);
    } finally {
      await server.close();
      await sink.close();
    }
  },
);
