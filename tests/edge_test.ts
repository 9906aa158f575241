import { test } from "node:test";
import assert from "node:assert/strict";
import {
  consoleSink,
  createLogger,
  type LogRecord,
  memorySink,
  prometheusText,
  TtlogConfigError,
} from "../mod.ts";
import { internals } from "../src/logger/logger.ts";

test("without SharedArrayBuffer the ring lives in an ArrayBuffer and still delivers", async () => {
  const saved = globalThis.SharedArrayBuffer;
  // Edge runtimes (Cloudflare Workers) have no SharedArrayBuffer.
  // deno-lint-ignore no-explicit-any
  delete (globalThis as any).SharedArrayBuffer;
  let log;
  const sink = memorySink();
  try {
    log = createLogger({
      sinks: [sink],
      ring: { bytes: 4096, overflow: "block" },
    });
  } finally {
    globalThis.SharedArrayBuffer = saved;
  }
  const { ring, dictionary } = internals(log);
  assert.ok(!(ring.buffer instanceof SharedArrayBuffer));
  assert.ok(ring.buffer instanceof ArrayBuffer);
  assert.ok(!(dictionary.buffer instanceof SharedArrayBuffer));
  for (let i = 0; i < 500; i++) log.info("edge event", { i });
  await log.flush();
  assert.deepEqual(sink.records.map((r) => r.fields.i), [...Array(500).keys()]);
  const m = log.metrics();
  assert.equal(m.logged, m.emitted);
  assert.equal(m.pending, 0);
  await log.close();
});

test("a sink that logs while it is being drained neither recurses nor loses the event", async () => {
  const seen: string[] = [];
  const log = createLogger({
    sinks: [{
      name: "echo",
      write(records: readonly LogRecord[]) {
        for (const r of records) {
          seen.push(r.msg);
          if (r.msg === "outer") log.info("from the sink");
        }
      },
    }],
  });
  log.info("outer");
  await log.flush();
  await log.flush();
  assert.deepEqual(seen, ["outer", "from the sink"]);
  const m = log.metrics();
  assert.equal(m.logged, m.emitted + m.filtered + m.dropped + m.lost);
  assert.equal(m.pending, 0);
  await log.close();
});

test("the drain runs by itself after the current task, without flush()", async () => {
  const sink = memorySink();
  const log = createLogger({ sinks: [sink] });
  log.info("scheduled");
  assert.equal(sink.records.length, 0, "not delivered inside the log call");
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(sink.records.length, 1);
  assert.equal(sink.records[0].msg, "scheduled");
  await log.close();
});

test("events logged after close() are counted as pending and reported, not thrown", async () => {
  const sink = memorySink();
  const log = createLogger({ sinks: [sink] });
  log.info("before");
  await log.close();
  await log.close();
  assert.doesNotThrow(() => log.info("after"));
  await log.flush();
  const m = log.metrics();
  assert.equal(sink.records.length, 1);
  assert.equal(m.logged, 2);
  assert.equal(m.pending, 1);
});

test("prometheusText exposes every counter with the service label and per-sink series", async () => {
  const sink = memorySink();
  const log = createLogger({ service: 'che"ck', sinks: [sink] });
  log.info("one");
  log.debug("two");
  await log.flush();
  const text = prometheusText(log);
  const m = log.metrics();
  assert.match(text, /^ttlog_events_logged_total\{service="che\\"ck"\} 2$/m);
  assert.match(text, /^ttlog_events_emitted_total\{service="che\\"ck"\} 1$/m);
  assert.match(text, /^ttlog_events_filtered_total\{service="che\\"ck"\} 1$/m);
  assert.match(
    text,
    /^ttlog_sink_written_total\{service="che\\"ck",sink="memory"\} 1$/m,
  );
  assert.match(
    text,
    new RegExp(
      `^ttlog_ring_bytes\\{service="che\\\\"ck"\\} ${m.ringBytes}$`,
      "m",
    ),
  );
  for (const line of text.trimEnd().split("\n")) {
    assert.match(
      line,
      /^(# (HELP|TYPE) ttlog_\w+ .+|ttlog_\w+\{[^}]*\} [0-9.e+-]+)$/,
      line,
    );
  }
  await log.close();
});

test("a sink that asks for retries gets the failed batch again until it succeeds", async () => {
  let calls = 0;
  const got: string[] = [];
  const flaky = {
    name: "flaky",
    retry: { attempts: 4, delayMs: 5 },
    write(records: readonly LogRecord[]) {
      calls++;
      if (calls <= 2) throw new Error(`flaky failure ${calls}`);
      for (const r of records) got.push(r.msg);
    },
  };
  const sink = memorySink();
  const log = createLogger({ sinks: [flaky, sink] });
  log.info("one");
  log.info("two");
  await log.flush();
  assert.deepEqual(got, ["one", "two"]);
  assert.deepEqual(sink.records.map((r) => r.msg), ["one", "two"]);
  const m = log.metrics();
  assert.deepEqual(m.sinks[0], {
    name: "flaky",
    written: 2,
    dropped: 0,
    errors: 2,
  });
  await log.close();
});

test("a sink without retry is not written again; the other sinks still get every batch", async () => {
  let calls = 0;
  const sink = memorySink();
  const log = createLogger({
    sinks: [{
      name: "broken",
      write() {
        calls++;
        throw new Error("broken");
      },
    }, sink],
  });
  log.info("one");
  await log.flush();
  log.info("two");
  await log.flush();
  assert.equal(calls, 2);
  assert.equal(sink.records.length, 2);
  // Each failed batch (one event each) is counted as dropped.
  assert.deepEqual(log.metrics().sinks[0], {
    name: "broken",
    written: 0,
    dropped: 2,
    errors: 2,
  });
  await log.close();
});

test("a slow asynchronous sink holds the drain back instead of piling up writes", async () => {
  let inFlight = 0;
  let most = 0;
  let delivered = 0;
  const slow = {
    name: "slow",
    async write(records: readonly LogRecord[]) {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 40));
      delivered += records.length;
      inFlight--;
    },
  };
  const log = createLogger({
    sinks: [slow],
    ring: { bytes: 1 << 20, overflow: "block" },
  });
  for (let round = 0; round < 40; round++) {
    for (let i = 0; i < 50; i++) log.info("e", { i });
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await log.flush();
  assert.equal(delivered, 2000);
  assert.ok(most <= 16, `at most 16 writes in flight, saw ${most}`);
  await log.close();
});

test("worker: true where there is no SharedArrayBuffer is a clear error; auto drains inline", () => {
  const saved = globalThis.SharedArrayBuffer;
  // deno-lint-ignore no-explicit-any
  delete (globalThis as any).SharedArrayBuffer;
  try {
    const sink = consoleSink({ format: "ndjson" });
    assert.throws(
      () => createLogger({ worker: true, sinks: [sink] }),
      (error: Error) =>
        error instanceof TtlogConfigError &&
        /worker: true needs worker threads and SharedArrayBuffer/.test(
          error.message,
        ),
    );
    const log = createLogger({ worker: "auto", sinks: [memorySink()] });
    assert.equal(log.metrics().worker, false);
    void log.close();
  } finally {
    globalThis.SharedArrayBuffer = saved;
  }
});
