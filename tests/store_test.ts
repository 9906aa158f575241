// Snapshot stores: each snapshot's complete .ttlog bytes handed to a
// function (with or without a directory), waited for by flush() within
// exitTimeoutMs, failures counted and reported but never thrown; request
// snapshots to a store; httpStore against a local server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Buffer } from "node:buffer";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createLogger,
  httpStore,
  memorySink,
  type StoredSnapshot,
  TtlogConfigError,
} from "../mod.ts";
import { runtime } from "../src/sink.ts";
import { withLogging } from "../src/http.ts";
import { ndjson, ttlog } from "./fixtures/cli_run.ts";
import { serve } from "./fixtures/serve.ts";

const LIMIT = { timeout: 60_000 };

/** The events of a .ttlog file's bytes, read by the CLI. */
async function viewed(bytes: Uint8Array): Promise<Record<string, unknown>[]> {
  const dir = mkdtempSync(join(tmpdir(), "ttlog-store-view-"));
  try {
    const path = join(dir, "s.ttlog");
    writeFileSync(path, bytes);
    const run = await ttlog("view", path, "--format", "ndjson");
    assert.equal(run.status, 0, run.stderr);
    return ndjson(run.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Captures what ttlog writes to stderr while `fn` runs. */
async function stderrOf(fn: () => Promise<void>): Promise<string> {
  const original = runtime.write;
  let text = "";
  runtime.write = (stream, chunk) => {
    if (stream === "stderr") text += chunk;
    else original(stream, chunk);
  };
  try {
    await fn();
  } finally {
    runtime.write = original;
  }
  return text;
}

test("a store without dir: every snapshot's bytes, named as a file would be, no file written; the CLI reads them", async () => {
  const cwd = readdirSync(".");
  const got: StoredSnapshot[] = [];
  const log = createLogger({
    service: "shop",
    level: "info",
    sinks: [memorySink()],
    snapshot: {
      store: (snapshot) => {
        got.push(snapshot);
        return Promise.resolve();
      },
    },
  });
  log.debug("cache miss", { key: "k1" });
  log.info("served");
  const name = await log.snapshot("by hand");
  const again = await log.snapshot("by hand");
  await log.flush();
  assert.equal(got.length, 2);
  assert.equal(name, got[0].name);
  assert.match(name, /^ttlog-shop-\d+-\d{8}T\d{6}\.\d{3}Z-by_hand\.ttlog$/);
  assert.notEqual(again, name, "two snapshots never share a name");
  assert.equal(got[0].reason, "by hand");
  const events = await viewed(got[0].bytes);
  assert.deepEqual(events.map((e) => [e.msg, e.level]), [
    ["cache miss", "debug"],
    ["served", "info"],
  ]);
  assert.deepEqual(readdirSync("."), cwd, "no ttlog-snapshots directory");
  const m = log.metrics();
  assert.equal(m.snapshotsStored, 2);
  assert.equal(m.snapshotStoreErrors, 0);
  assert.equal(m.snapshotStoresPending, 0);
  await log.close();
});

test("a store with dir: the same bytes in the file and in the store", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ttlog-store-"));
  try {
    const got: StoredSnapshot[] = [];
    const log = createLogger({
      sinks: [memorySink()],
      snapshot: { dir, store: (s) => void got.push(s) },
    });
    log.warn("disk almost full");
    const path = await log.snapshot("both");
    assert.equal(path, join(dir, got[0].name));
    assert.deepEqual(new Uint8Array(readFileSync(path)), got[0].bytes);
    await log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a store that throws or rejects: counted, reported once on stderr, never thrown; logging goes on", async () => {
  const sink = memorySink();
  let calls = 0;
  const log = createLogger({
    sinks: [sink],
    snapshot: {
      store: () => {
        calls++;
        if (calls === 1) throw new Error("bucket gone");
        return Promise.reject(new Error("403 Forbidden"));
      },
    },
  });
  const stderr = await stderrOf(async () => {
    log.info("one");
    await log.snapshot("first");
    await log.snapshot("second");
    log.info("two");
    await log.flush();
  });
  assert.match(
    stderr,
    /ttlog: the snapshot store failed on ttlog-app-.*-first\.ttlog \(1 errors so far\): Error: bucket gone/,
  );
  assert.equal(calls, 2);
  const m = log.metrics();
  assert.equal(m.snapshotStoreErrors, 2);
  assert.equal(m.snapshotsStored, 0);
  assert.deepEqual(sink.records.map((r) => r.msg), ["one", "two"]);
  await log.close();
});

test(
  "a store that never settles: flush() and close() wait at most exitTimeoutMs, and say so",
  LIMIT,
  async () => {
    const log = createLogger({
      sinks: [memorySink()],
      exitTimeoutMs: 200,
      snapshot: { store: () => new Promise<void>(() => {}) },
    });
    await log.snapshot("stuck");
    const guard = new Promise<string>((ok) =>
      setTimeout(() => ok("guard"), 20_000)
    );
    let stderr = "";
    stderr = await stderrOf(async () => {
      const first = await Promise.race([
        log.flush().then(() => "flushed"),
        guard,
      ]);
      assert.equal(first, "flushed");
      assert.equal(log.metrics().snapshotStoresPending, 1);
      const closed = await Promise.race([
        log.close().then(() => "closed"),
        guard,
      ]);
      assert.equal(closed, "closed");
    });
    assert.match(
      stderr,
      /1 snapshot store call\(s\) still pending after 200 ms/,
    );
  },
);

test("createLogger: a store that is not a function is a clear error", () => {
  for (const store of ["s3://bucket", 42, {}]) {
    assert.throws(
      () => createLogger({ sinks: [], snapshot: { store: store as never } }),
      (error: Error) =>
        error instanceof TtlogConfigError &&
        /snapshot\.store must be a function/.test(error.message),
    );
  }
});

test("a port of a logger with a store can be posted: the store (a function) stays on this thread", async () => {
  const stored: StoredSnapshot[] = [];
  const log = createLogger({
    sinks: [memorySink()],
    worker: false,
    snapshot: { store: (s) => void stored.push(s), keep: 3 },
  });
  const port = log.port();
  assert.equal(port.options.snapshot?.store, undefined);
  assert.equal(port.options.snapshot?.keep, 3, "the rest of snapshot stays");
  // What postMessage does to it: a function anywhere would throw here.
  const cloned = structuredClone(port.options);
  assert.equal(cloned.snapshot?.keep, 3);
  await log.close();
});

test(
  "withLogging snapshot \"5xx\" via the runtime's server: each failed request's own snapshot reaches the store",
  LIMIT,
  async () => {
    const got: StoredSnapshot[] = [];
    const log = createLogger({
      level: "info",
      sinks: [memorySink()],
      snapshot: {
        store: (s) => {
          got.push(s);
          return Promise.resolve();
        },
      },
    });
    const handler = withLogging((request: Request) => {
      const id = request.headers.get("x-request-id")!;
      log.debug("lead-up", { n: id });
      return new Response("x", { status: id.endsWith("bad") ? 502 : 200 });
    }, { log, snapshot: "5xx" });
    const served = await serve(handler);
    try {
      for (const id of ["a-ok", "b-bad", "c-ok", "d-bad"]) {
        const res = await fetch(served.url, {
          headers: { "x-request-id": id },
        });
        await res.text();
      }
    } finally {
      await served.close();
    }
    await log.flush();
    assert.equal(got.length, 2);
    const ids = [];
    for (const snapshot of got) {
      const events = await viewed(snapshot.bytes);
      assert.deepEqual(events.map((e) => e.msg), ["lead-up", "request"]);
      ids.push(events[0].request_id);
    }
    assert.deepEqual(ids.sort(), ["b-bad", "d-bad"]);
    await log.close();
  },
);

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Uint8Array;
}

async function storeServer(status: (n: number) => number) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (c: Uint8Array) => chunks.push(c));
    req.on("end", () => {
      received.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: new Uint8Array(Buffer.concat(chunks)),
      });
      const code = status(received.length);
      if (code === 0) return; // never answer
      res.writeHead(code).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}

test(
  "httpStore: PUT to url + name with the bytes, the type and the reason; a URL function (presigned) and POST",
  LIMIT,
  async () => {
    const server = await storeServer(() => 201);
    try {
      const log = createLogger({
        service: "api",
        sinks: [memorySink()],
        snapshot: {
          store: httpStore({
            url: `${server.url}/snapshots/`,
            headers: { Authorization: "Bearer t0k" },
          }),
        },
      });
      log.info("hello");
      const name = await log.snapshot("500 on /pay");
      await log.flush();
      const [put] = server.received;
      assert.equal(put.method, "PUT");
      assert.equal(put.url, `/snapshots/${name}`);
      assert.equal(put.headers["content-type"], "application/vnd.ttlog");
      assert.equal(put.headers["authorization"], "Bearer t0k");
      assert.equal(
        decodeURIComponent(put.headers["x-ttlog-reason"] as string),
        "500 on /pay",
      );
      assert.deepEqual((await viewed(put.body)).map((e) => e.msg), ["hello"]);
      assert.equal(log.metrics().snapshotsStored, 1);
      await log.close();

      const presigned = createLogger({
        sinks: [memorySink()],
        snapshot: {
          store: httpStore({
            url: (n) =>
              Promise.resolve(`${server.url}/bucket/${n}?X-Amz-Signature=abc`),
            method: "POST",
          }),
        },
      });
      const second = await presigned.snapshot("signed");
      await presigned.flush();
      assert.equal(server.received[1].method, "POST");
      assert.equal(
        server.received[1].url,
        `/bucket/${second}?X-Amz-Signature=abc`,
      );
      await presigned.close();
    } finally {
      await server.close();
    }
  },
);

test(
  "httpStore: an error status, a dead server and a timeout are failed stores, counted, never thrown",
  LIMIT,
  async () => {
    const server = await storeServer((n) => (n === 1 ? 403 : 0));
    try {
      const log = createLogger({
        sinks: [memorySink()],
        snapshot: {
          store: httpStore({ url: `${server.url}/s/`, timeoutMs: 300 }),
        },
      });
      const stderr = await stderrOf(async () => {
        await log.snapshot("forbidden");
        await log.flush();
        await log.snapshot("hangs");
        await log.flush();
      });
      assert.match(
        stderr,
        /httpStore: PUT http:\/\/127\.0\.0\.1:\d+ answered 403/,
      );
      assert.equal(log.metrics().snapshotStoreErrors, 2);
      await log.close();
    } finally {
      await server.close();
    }
    const dead = createLogger({
      sinks: [memorySink()],
      snapshot: { store: httpStore({ url: "http://127.0.0.1:9/s/" }) },
    });
    await stderrOf(async () => {
      await dead.snapshot("refused");
      await dead.flush();
    });
    assert.equal(dead.metrics().snapshotStoreErrors, 1);
    await dead.close();
  },
);

test("httpStore: bad options are clear errors", () => {
  const cases: [unknown, RegExp][] = [
    [undefined, /httpStore: options must be an object with a url/],
    [
      { url: "ftp://x/" },
      /url must be an absolute http: or https: URL, got "ftp:\/\/x\/"/,
    ],
    [{ url: "/relative" }, /url must be an absolute http: or https: URL/],
    [
      { url: 42 },
      /url must be a URL or a function of the snapshot's name, got number/,
    ],
    [
      { url: "http://x/", method: "GET" },
      /method must be "PUT" or "POST", got "GET"/,
    ],
    [
      { url: "http://x/", timeoutMs: 0 },
      /timeoutMs must be a positive integer, got 0/,
    ],
    [{ url: "http://x/", headers: { a: 1 } }, /header "a" must be a string/],
    [{ url: "http://x/", bucket: "b" }, /unknown option "bucket"/],
  ];
  for (const [options, pattern] of cases) {
    assert.throws(
      () => httpStore(options as never),
      (error: Error) =>
        error instanceof TtlogConfigError && pattern.test(error.message),
      JSON.stringify(options),
    );
  }
  assert.equal(existsSync("ttlog-snapshots"), false);
});
