// The HTTP sink against a local node:http server on 127.0.0.1: retries,
// order, batching, gzip, 4xx, bounded memory with loss lines, Retry-After,
// timeouts, close() and timers, option validation, the worker spec.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { gunzipSync } from "node:zlib";
import { createLogger, type LogRecord, TtlogConfigError } from "../mod.ts";
import { runtime } from "../src/sink.ts";
import {
  type HttpSink,
  httpSink,
  type HttpSinkOptions,
} from "../src/sinks/http.ts";
import { BUILTIN_SINK_MODULE } from "../src/sinks/sink.ts";
import { sinkFromSpec } from "../src/drain/sink_specs.ts";
import { sleep } from "./helpers.ts";

/** One request the server received. */
interface Received {
  readonly index: number;
  readonly at: number;
  readonly headers: IncomingMessage["headers"];
  /** The body, gunzipped when its content-encoding says gzip. */
  readonly text: string;
  readonly rawBytes: number;
}

/** What the server does with a request: answer with a status, drop the connection, or never answer. */
type Action =
  | { readonly status: number; readonly headers?: Record<string, string> }
  | "drop"
  | "hang";

const OK: Action = { status: 200 };

/** Most requests a test server answers; past it, 400, so a runaway retry loop ends. */
const MAX_REQUESTS = 300;

interface TestServer {
  readonly url: string;
  /** Every request, in arrival order. */
  readonly requests: Received[];
  /** The requests that got a 2xx answer. */
  readonly accepted: Received[];
  /** Resolves once `n` requests have arrived (rejects after `ms`). */
  waitFor(n: number, ms?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1, port 0. `plan(index)` says what to do with
 * the request number `index` (0-based); by default every request gets a 200.
 */
async function startServer(
  plan: (index: number) => Action = () => OK,
): Promise<TestServer> {
  const requests: Received[] = [];
  const accepted: Received[] = [];
  const hanging: ServerResponse[] = [];
  const waiting: { n: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const text = req.headers["content-encoding"] === "gzip"
        ? gunzipSync(raw).toString("utf8")
        : raw.toString("utf8");
      const index = requests.length;
      const received: Received = {
        index,
        at: performance.now(),
        headers: req.headers,
        text,
        rawBytes: raw.length,
      };
      requests.push(received);
      const action: Action = index >= MAX_REQUESTS
        ? { status: 400 }
        : plan(index);
      if (action === "drop") {
        req.socket.destroy();
      } else if (action === "hang") {
        hanging.push(res);
      } else {
        if (action.status >= 200 && action.status < 300) {
          accepted.push(received);
        }
        res.writeHead(action.status, action.headers ?? {});
        res.end(String(action.status));
      }
      for (const w of waiting.filter((w) => requests.length >= w.n)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve();
      }
    });
  });
  await new Promise<void>((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/ingest`,
    requests,
    accepted,
    waitFor(n: number, ms = 3000): Promise<void> {
      if (requests.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new Error(
              `waited ${ms} ms for ${n} requests, got ${requests.length}`,
            ),
          );
        }, ms);
        waiting.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    close(): Promise<void> {
      for (const res of hanging) res.destroy();
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The ndjson lines of some requests, parsed. */
function lines(requests: readonly Received[]): Record<string, unknown>[] {
  return requests.flatMap((r) =>
    r.text.split("\n").filter((line) => line !== "").map((line) =>
      JSON.parse(line) as Record<string, unknown>
    )
  );
}

/** The `i` field of the event lines (loss lines left out). */
function eventIds(requests: readonly Received[]): unknown[] {
  return lines(requests).filter((l) => l.target !== "ttlog").map((l) => l.i);
}

function lossLines(requests: readonly Received[]): Record<string, unknown>[] {
  return lines(requests).filter((l) => l.target === "ttlog");
}

function record(i: number, msg = "event"): LogRecord {
  return {
    time: 1_700_000_000_000 + i,
    level: "info",
    target: "app",
    msg,
    fields: { i },
    service: "svc",
    seq: i,
  };
}

function records(from: number, to: number): LogRecord[] {
  const out: LogRecord[] = [];
  for (let i = from; i < to; i++) out.push(record(i));
  return out;
}

/** Fast retries, so tests stay short. */
const FAST_RETRY = { attempts: 5, baseMs: 5, maxMs: 20 } as const;

// ---- delivery ----

test("503, 503, a dropped connection, then 200: every event arrives once, in order", async () => {
  // `connection: close` on the 503s, so the connection is dropped on a fresh
  // connection: Deno's fetch silently re-sends a request whose reused
  // keep-alive connection was closed (the server sees it twice).
  const server = await startServer((index) =>
    index < 2
      ? { status: 503, headers: { connection: "close" } }
      : index === 2
      ? "drop"
      : OK
  );
  const sink = httpSink({
    url: server.url,
    batch: { events: 20, ms: 60_000 },
    retry: FAST_RETRY,
  });
  const log = createLogger({
    service: "shop",
    level: "trace",
    directives: "",
    sinks: [sink],
    worker: false,
  });
  try {
    const n = 95;
    for (let i = 0; i < n; i++) log.info("order", { i });
    await log.flush();
    assert.deepEqual(eventIds(server.accepted), [...Array(n).keys()]);
    // The first batch took four tries; the other four went through at once.
    assert.equal(server.requests.length, 4 + 4);
    assert.deepEqual(sink.stats, {
      sent: n,
      dropped: 0,
      retries: 3,
      failures: 3,
    });
    const first = lines(server.accepted)[0];
    assert.equal(first.msg, "order");
    assert.equal(first.service, "shop");
    assert.equal(first.level, "info");
    assert.equal(lossLines(server.requests).length, 0);
  } finally {
    await log.close();
    await server.close();
  }
});

test("a request that times out is retried", async () => {
  const server = await startServer((index) => index === 0 ? "hang" : OK);
  const sink = httpSink({
    url: server.url,
    retry: FAST_RETRY,
    timeoutMs: 100,
  });
  try {
    sink.write(records(0, 3));
    const started = performance.now();
    await sink.flush();
    assert.ok(performance.now() - started >= 90, "waited for the timeout");
    assert.equal(server.requests.length, 2);
    assert.deepEqual(eventIds(server.accepted), [0, 1, 2]);
    assert.deepEqual(sink.stats, {
      sent: 3,
      dropped: 0,
      retries: 1,
      failures: 1,
    });
  } finally {
    await sink.close();
    await server.close();
  }
});

// ---- batching ----

test("a batch is sent when it reaches batch.events, the rest on flush", async () => {
  const server = await startServer();
  const sink = httpSink({ url: server.url, batch: { events: 10, ms: 60_000 } });
  try {
    sink.write(records(0, 25));
    await server.waitFor(2);
    await sleep(20);
    assert.equal(server.requests.length, 2, "the last 5 wait for a flush");
    await sink.flush();
    assert.deepEqual(
      server.requests.map((r) => eventIds([r]).length),
      [10, 10, 5],
    );
    assert.deepEqual(eventIds(server.accepted), [...Array(25).keys()]);
    assert.equal(sink.stats.sent, 25);
  } finally {
    await sink.close();
    await server.close();
  }
});

test("a batch is sent when it reaches batch.bytes", async () => {
  const server = await startServer();
  const sink = httpSink({
    url: server.url,
    compression: "none",
    batch: { bytes: 1000, ms: 60_000 },
  });
  try {
    sink.write(records(0, 30));
    await sink.flush();
    assert.ok(server.requests.length >= 3);
    for (const r of server.requests.slice(0, -1)) {
      assert.ok(r.rawBytes >= 1000 && r.rawBytes < 1200, String(r.rawBytes));
    }
    assert.deepEqual(eventIds(server.accepted), [...Array(30).keys()]);
  } finally {
    await sink.close();
    await server.close();
  }
});

test("a batch is sent batch.ms after its first event, without a flush", async () => {
  const server = await startServer();
  const sink = httpSink({ url: server.url, batch: { events: 1000, ms: 60 } });
  try {
    const started = performance.now();
    sink.write(records(0, 2));
    sink.write(records(2, 3));
    await server.waitFor(1);
    assert.ok(server.requests[0].at - started >= 50);
    assert.deepEqual(eventIds(server.requests), [0, 1, 2]);
    await sleep(100);
    assert.equal(server.requests.length, 1);
  } finally {
    await sink.close();
    await server.close();
  }
});

// ---- encoding ----

test("gzip: content-encoding and content-type headers, a body that gunzips to ndjson", async () => {
  const server = await startServer();
  const sink = httpSink({
    url: server.url,
    headers: {
      authorization: "Bearer t0ken",
      "x-extra": "1",
      "Content-Type": "application/x-ndjson; charset=utf-8",
    },
  });
  try {
    sink.write([record(1, "héllo ✓ \u{1f600}")]);
    await sink.flush();
    const [request] = server.requests;
    assert.equal(request.headers["content-encoding"], "gzip");
    assert.equal(
      request.headers["content-type"],
      "application/x-ndjson; charset=utf-8",
      "the user's Content-Type replaces the default",
    );
    assert.equal(request.headers["authorization"], "Bearer t0ken");
    assert.equal(request.headers["x-extra"], "1");
    assert.ok(request.text.endsWith("\n"));
    assert.deepEqual(lines([request]), [{
      time: 1_700_000_000_001,
      level: "info",
      target: "app",
      msg: "héllo ✓ \u{1f600}",
      service: "svc",
      i: 1,
    }]);
  } finally {
    await sink.close();
    await server.close();
  }
});

test("compression none and format text: plain body, text/plain, no content-encoding", async () => {
  const server = await startServer();
  const sink = httpSink({
    url: server.url,
    compression: "none",
    format: "text",
    headers: { "Content-Encoding": "br" },
  });
  try {
    sink.write(records(0, 2));
    await sink.flush();
    const [request] = server.requests;
    assert.equal(request.headers["content-encoding"], undefined);
    assert.equal(request.headers["content-type"], "text/plain; charset=utf-8");
    assert.equal(
      request.text,
      "2023-11-14T22:13:20.000Z INFO  app event i=0\n" +
        "2023-11-14T22:13:20.001Z INFO  app event i=1\n",
    );
  } finally {
    await sink.close();
    await server.close();
  }
});

// ---- failures and loss ----

test("a 4xx is not retried: the batch is dropped, counted, and reported by the next batch", async () => {
  const server = await startServer((index) =>
    index === 0 ? { status: 400 } : OK
  );
  const sink = httpSink({ url: server.url, retry: FAST_RETRY });
  try {
    sink.write(records(0, 3));
    await sink.flush();
    assert.equal(server.requests.length, 1);
    assert.deepEqual(sink.stats, {
      sent: 0,
      dropped: 3,
      retries: 0,
      failures: 1,
    });
    sink.write(records(3, 5));
    await sink.flush();
    const [loss, ...rest] = lines([server.requests[1]]);
    assert.equal(typeof loss.time, "number");
    assert.deepEqual({ ...loss, time: 0 }, {
      time: 0,
      level: "warn",
      target: "ttlog",
      msg: "lost 3 events",
      service: "svc",
      lost: 3,
      reason: "http sink gave up",
    });
    assert.deepEqual(rest.map((l) => l.i), [3, 4]);
    assert.equal(sink.stats.sent, 2);
  } finally {
    await sink.close();
    await server.close();
  }
});

test("out of retries: the batch is dropped; flush sends the loss line on its own", async () => {
  const server = await startServer((index) => index < 3 ? { status: 500 } : OK);
  const sink = httpSink({
    url: server.url,
    retry: { attempts: 3, baseMs: 1, maxMs: 5 },
  });
  try {
    sink.write(records(0, 4));
    await sink.flush();
    assert.deepEqual(sink.stats, {
      sent: 0,
      dropped: 4,
      retries: 2,
      failures: 3,
    });
    // Nothing else to send, but the loss is still unreported.
    await sink.flush();
    assert.equal(server.requests.length, 4);
    assert.deepEqual(
      lines([server.requests[3]]).map((l) => [l.msg, l.lost]),
      [["lost 4 events", 4]],
    );
    await sink.flush();
    assert.equal(server.requests.length, 4, "reported once");
  } finally {
    await sink.close();
    await server.close();
  }
});

test("endpoint down for long: the oldest batches are dropped within maxBufferedBytes, the loss line arrives when it is back", async () => {
  let up = false;
  const server = await startServer(() => up ? OK : { status: 503 });
  const sink = httpSink({
    url: server.url,
    batch: { events: 5, ms: 60_000 },
    retry: { attempts: 100_000, baseMs: 10, maxMs: 10 },
    maxBufferedBytes: 2000,
  });
  try {
    const lineBytes = JSON.stringify({
      time: 1_700_000_000_000,
      level: "info",
      target: "app",
      msg: "event",
      service: "svc",
      i: 10,
    }).length + 1;
    for (let i = 0; i < 100; i += 5) {
      sink.write(records(i, i + 5));
      await sleep(2);
    }
    await server.waitFor(3);
    const { dropped } = sink.stats;
    // What is kept fits maxBufferedBytes (lines are 89 or 90 bytes), and
    // whole batches of 5 are dropped only as long as they must be.
    const kept = 100 - dropped;
    assert.ok(kept * (lineBytes - 1) <= 2000, `kept ${kept}`);
    assert.ok((kept + 5) * (lineBytes - 1) > 2000, `kept ${kept}`);
    assert.equal(server.accepted.length, 0);
    up = true;
    await sink.flush();
    const stats = sink.stats;
    assert.equal(stats.dropped, dropped, "nothing dropped once it was back");
    assert.equal(stats.sent + stats.dropped, 100);
    assert.ok(stats.failures >= 3 && stats.retries >= 3);
    const ids = eventIds(server.accepted) as number[];
    assert.equal(ids.length, stats.sent);
    // The batch being delivered (0-4) is dropped last: it survives, and so
    // do the newest events, in order.
    assert.deepEqual(ids.slice(0, 5), [0, 1, 2, 3, 4]);
    assert.deepEqual(
      ids.slice(5),
      [...Array(stats.sent - 5).keys()].map((k) => 100 - stats.sent + 5 + k),
    );
    // Each delivered batch reports the drops not reported yet: usually one
    // line, two when the batch that got through was built before the last
    // drops. Together they report every dropped event, once.
    const loss = lossLines(server.accepted);
    assert.ok(loss.length >= 1 && loss.length <= 2, JSON.stringify(loss));
    for (const line of loss) {
      assert.equal(line.msg, `lost ${line.lost} events`);
      assert.equal(line.reason, "http sink gave up");
    }
    assert.equal(loss.reduce((sum, l) => sum + (l.lost as number), 0), dropped);
    assert.equal(
      lines(server.accepted)[0].target,
      "ttlog",
      "the loss line leads",
    );
  } finally {
    await sink.close();
    await server.close();
  }
});

test("a line larger than maxBufferedBytes is dropped and counted", async () => {
  const server = await startServer();
  const sink = httpSink({ url: server.url, maxBufferedBytes: 300 });
  try {
    sink.write([record(0), record(1, "x".repeat(400)), record(2)]);
    await sink.flush();
    assert.deepEqual(sink.stats, {
      sent: 2,
      dropped: 1,
      retries: 0,
      failures: 0,
    });
    assert.deepEqual(
      lines(server.requests).map((l) => l.i ?? l.msg),
      // Dropped at write time: the batch that carries the loss line is the
      // one the two other events are in.
      ["lost 1 events", 0, 2],
    );
  } finally {
    await sink.close();
    await server.close();
  }
});

test("Retry-After is honoured, up to retry.maxMs", async () => {
  const server = await startServer((index) =>
    index === 0
      ? { status: 429, headers: { "retry-after": "1" } }
      : index === 1
      ? {
        status: 503,
        headers: {
          "retry-after": new Date(Date.now() + 3600_000).toUTCString(),
        },
      }
      : OK
  );
  const sink = httpSink({
    url: server.url,
    batch: { events: 2 },
    retry: { attempts: 5, baseMs: 1, maxMs: 1200 },
  });
  try {
    sink.write(records(0, 2));
    await server.waitFor(2, 4000);
    const [first, second] = server.requests;
    assert.ok(second.at - first.at >= 950, `${second.at - first.at} ms`);
    // The second answer asks for an hour from now (an HTTP date): the wait
    // is capped at maxMs.
    await sink.flush();
    const third = server.requests[2];
    assert.ok(third.at - second.at >= 1150, `${third.at - second.at} ms`);
    assert.ok(third.at - second.at < 2500, `${third.at - second.at} ms`);
    assert.deepEqual(eventIds(server.accepted), [0, 1]);
    assert.equal(sink.stats.retries, 2);
  } finally {
    await sink.close();
    await server.close();
  }
});

// ---- lifetime ----

test("close() sends what is pending, leaves no timer behind, and drops later writes", async () => {
  const server = await startServer((index) =>
    index === 0 ? { status: 503 } : OK
  );
  // Tracks the sink's timers by their (unusual) delays.
  const delays = new Set([43_210, 43_211]);
  const live = new Set<unknown>();
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const tracked: unknown[] = [];
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    const timer = realSet(() => {
      live.delete(timer);
      fn();
    }, ms);
    if (ms !== undefined && delays.has(ms)) {
      live.add(timer);
      tracked.push(timer);
    }
    return timer;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((timer?: ReturnType<typeof setTimeout>) => {
    live.delete(timer);
    realClear(timer);
  }) as typeof clearTimeout;
  try {
    const sink = httpSink({
      url: server.url,
      batch: { ms: 43_210 },
      timeoutMs: 43_211,
      retry: FAST_RETRY,
    });
    sink.write(records(0, 3));
    assert.equal(live.size, 1, "the batch timer");
    const hasRef = (tracked[0] as { hasRef?: () => boolean }).hasRef;
    if (typeof hasRef === "function") {
      assert.equal(
        hasRef.call(tracked[0]),
        false,
        "the batch timer is unref'd",
      );
    }
    await sink.close();
    assert.equal(live.size, 0, "no timer left after close()");
    assert.ok(tracked.length >= 3, "batch timer and two request timeouts");
    assert.deepEqual(eventIds(server.accepted), [0, 1, 2]);
    sink.write(records(3, 5));
    assert.equal(live.size, 0);
    assert.deepEqual(sink.stats, {
      sent: 3,
      dropped: 2,
      retries: 1,
      failures: 1,
    });
    await sink.close(); // idempotent
    await sink.flush();
    assert.equal(server.requests.length, 2);
  } finally {
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
    await server.close();
  }
});

test("close() through the logger resolves once everything is delivered", async () => {
  const server = await startServer();
  const sink = httpSink({ url: server.url, batch: { ms: 60_000 } });
  const log = createLogger({
    level: "trace",
    directives: "",
    sinks: [sink],
    worker: false,
  });
  for (let i = 0; i < 10; i++) log.info("bye", { i });
  await log.close();
  assert.deepEqual(eventIds(server.accepted), [...Array(10).keys()]);
  assert.equal(sink.stats.sent, 10);
  await server.close();
});

test("write() never throws, even for a record the formatter cannot read", () => {
  const sink = httpSink({
    url: "http://127.0.0.1:9/",
    retry: { attempts: 1 },
  });
  const hostile = {
    get time(): number {
      throw new Error("no time");
    },
  } as unknown as LogRecord;
  assert.doesNotThrow(() => sink.write([hostile]));
  assert.equal(sink.stats.dropped, 1);
  return sink.close().then(() => {
    assert.doesNotThrow(() => sink.write([record(1)]));
  });
});

// ---- options ----

test("bad options throw a TtlogConfigError naming the option and the value", () => {
  const cases: [unknown, RegExp][] = [
    [undefined, /options must be an object, got undefined/],
    [{}, /url must be a string, got undefined/],
    [
      { url: "not a url" },
      /url must be an absolute http: or https: URL, got "not a url"/,
    ],
    [{ url: "ftp://example.com/" }, /url .*got "ftp:\/\/example.com\/"/],
    [
      { url: "https://user:secret@example.com/logs" },
      /url must be a URL without credentials .*got "https:\/\/\*\*\*@example.com\/logs"/,
    ],
    [
      { url: "http://x/", format: "xml" },
      /format must be "ndjson" or "text", got "xml"/,
    ],
    [{ url: "http://x/", compression: "br" }, /compression must be .*got "br"/],
    [
      { url: "http://x/", headers: new Headers({ a: "b" }) },
      /headers must be a plain object.*got a Headers/,
    ],
    [
      { url: "http://x/", headers: { a: 1 } },
      /headers\["a"\] must be a string, got 1/,
    ],
    [
      { url: "http://x/", headers: { "bad name": "v" } },
      /headers must be valid/,
    ],
    [{ url: "http://x/", batch: 5 }, /batch must be a plain object, got 5/],
    [
      { url: "http://x/", batch: { events: 0 } },
      /batch\.events must be an integer >= 1, got 0/,
    ],
    [
      { url: "http://x/", batch: { bytes: 1.5 } },
      /batch\.bytes must be an integer >= 1, got 1\.5/,
    ],
    [
      { url: "http://x/", batch: { ms: -1 } },
      /batch\.ms must be .*>= 0, got -1/,
    ],
    [
      { url: "http://x/", retry: { attempts: "3" } },
      /retry\.attempts must be an integer >= 1, got "3"/,
    ],
    [{ url: "http://x/", retry: { baseMs: NaN } }, /retry\.baseMs .*got NaN/],
    [
      { url: "http://x/", retry: { maxMs: Infinity } },
      /retry\.maxMs .*got Infinity/,
    ],
    [
      { url: "http://x/", maxBufferedBytes: 0 },
      /maxBufferedBytes must be an integer >= 1, got 0/,
    ],
    [{ url: "http://x/", timeoutMs: 0 }, /timeoutMs must be > 0, got 0/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => httpSink(options as HttpSinkOptions),
      (error: unknown) =>
        error instanceof TtlogConfigError && message.test(error.message),
      `${message}`,
    );
  }
});

test("the spec survives structuredClone and rebuilds an equivalent sink", async () => {
  const server = await startServer();
  const sink = httpSink({
    url: server.url,
    format: "ndjson",
    headers: { "x-token": "abc" },
    batch: { events: 7 },
  });
  try {
    assert.equal(sink.spec.factory, "httpSink");
    assert.equal(sink.spec.module, BUILTIN_SINK_MODULE);
    const spec = structuredClone(sink.spec);
    assert.deepEqual(spec, {
      module: sink.spec.module,
      factory: "httpSink",
      options: {
        url: server.url,
        format: "ndjson",
        compression: "gzip",
        headers: { "x-token": "abc" },
        batch: { events: 7, bytes: 1024 * 1024, ms: 1000 },
        retry: { attempts: 5, baseMs: 200, maxMs: 10_000 },
        maxBufferedBytes: 16 * 1024 * 1024,
        timeoutMs: 10_000,
      },
    });
    const rebuilt = await sinkFromSpec(spec) as HttpSink;
    assert.equal(rebuilt.name, sink.name);
    rebuilt.write(records(0, 7));
    await rebuilt.flush();
    assert.equal(server.requests[0].headers["x-token"], "abc");
    assert.deepEqual(eventIds(server.requests), [0, 1, 2, 3, 4, 5, 6]);
    await rebuilt.close();
  } finally {
    await sink.close();
    await server.close();
  }
});

test("in a drain worker: the sink is rebuilt from its spec and delivers", async () => {
  const server = await startServer();
  const log = createLogger({
    level: "trace",
    directives: "",
    sinks: [httpSink({ url: server.url, retry: FAST_RETRY })],
    worker: true,
  });
  try {
    for (let i = 0; i < 50; i++) log.info("from the worker", { i });
    await log.flush();
    assert.deepEqual(eventIds(server.accepted), [...Array(50).keys()]);
  } finally {
    await log.close();
    await server.close();
  }
});

for (const worker of [false, true]) {
  test(
    `metrics().sinks tells what reached the endpoint, not what was handed over: rejected batches are dropped, not written (drain ${
      worker ? "in its worker" : "inline"
    })`,
    async () => {
      // Every other request is refused for good (400): its events are lost.
      const server = await startServer((i) => ({
        status: i % 2 === 0 ? 200 : 400,
      }));
      try {
        const log = createLogger({
          worker,
          sinks: [httpSink({
            url: server.url,
            batch: { events: 10, ms: 1 },
          })],
        });
        for (let i = 0; i < 40; i++) log.info("event", { i });
        await log.flush();
        await log.close();
        const accepted = server.accepted.reduce(
          (n, r) =>
            n +
            r.text.split("\n").filter((l) => l.includes('"msg":"event"'))
              .length,
          0,
        );
        const [m] = log.metrics().sinks;
        assert.equal(log.metrics().worker, worker);
        assert.equal(m.written, accepted, JSON.stringify(m));
        assert.equal(m.written + m.dropped, 40, JSON.stringify(m));
        assert.ok(m.dropped > 0 && m.errors > 0, JSON.stringify(m));
      } finally {
        await server.close();
      }
    },
  );
}

for (const worker of [false, true]) {
  test(
    `close() against an endpoint that accepts and never answers is bounded by exitTimeoutMs; what was not delivered is dropped (drain ${
      worker ? "in its worker" : "inline"
    })`,
    async () => {
      const server = await startServer(() => "hang");
      const original = runtime.write;
      let stderr = "";
      runtime.write = (stream, text) => {
        if (stream === "stderr") stderr += text;
        else original(stream, text);
      };
      try {
        const log = createLogger({
          worker,
          exitTimeoutMs: 500,
          sinks: [httpSink({ url: server.url, batch: { events: 5, ms: 1 } })],
        });
        for (let i = 0; i < 10; i++) log.info("event", { i });
        const guard = new Promise<string>((ok) =>
          setTimeout(() => ok("still closing"), 20_000)
        );
        const outcome = await Promise.race([
          log.close().then(() => "closed"),
          guard,
        ]);
        assert.equal(outcome, "closed");
        assert.match(
          stderr,
          /close\(\) gave up on the sinks after exitTimeoutMs \(500 ms\)/,
        );
        // The worker publishes its counters after the abort: read them once
        // they are in.
        let sink = log.metrics().sinks[0];
        for (let i = 0; i < 100 && sink.dropped < 10; i++) {
          await sleep(20);
          sink = log.metrics().sinks[0];
        }
        assert.deepEqual(
          { written: sink.written, dropped: sink.dropped },
          { written: 0, dropped: 10 },
          JSON.stringify(sink),
        );
      } finally {
        runtime.write = original;
        await server.close();
      }
    },
  );
}
