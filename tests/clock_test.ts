import { test } from "node:test";
import assert from "node:assert/strict";
import {
  attachLogger,
  createLogger,
  type Logger,
  memorySink,
  TtlogConfigError,
} from "../mod.ts";
import { internals } from "../src/logger/logger.ts";
import { sleep } from "./helpers.ts";

/** The staleness bound the recorder enforces (src/record/encode.ts). */
const STALE_MS = 250;

/** Waits until the logger's clock thread is up (Deno type-checks a worker first). */
async function clockReady(log: Logger): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (internals(log).recorder.coarse === null && Date.now() < deadline) {
    await sleep(20);
  }
}

test(
  'clock: "coarse" stamps events with the time the clock thread publishes, close to Date.now()',
  { timeout: 60_000 },
  async () => {
    const sink = memorySink();
    const log = createLogger({ clock: "coarse", sinks: [sink] });
    // Before the thread's first tick, events read Date.now(): never 0.
    const before = Date.now();
    log.info("early");
    await clockReady(log);
    assert.ok(
      internals(log).recorder.coarse !== null,
      "the clock is in use once ready",
    );
    for (let i = 0; i < 50; i++) {
      log.info("tick", { i });
      await sleep(2);
    }
    await log.flush();
    const [early, ...ticks] = sink.records;
    assert.ok(
      Math.abs(early.time - before) < STALE_MS,
      `early event at ${early.time}, expected about ${before}`,
    );
    let previous = early.time;
    for (const record of ticks) {
      assert.ok(Math.abs(record.time - Date.now()) < 5_000);
      assert.ok(record.time >= previous, "times never go back within a thread");
      previous = record.time;
    }
    // The published time moves: 50 events over 100+ ms do not share one stamp.
    assert.ok(new Set(ticks.map((r) => r.time)).size > 1);
    await log.close();
    assert.equal(
      internals(log).recorder.coarse,
      null,
      "close() stops using the clock",
    );
  },
);

test("a coarse clock that stops ticking is noticed and Date.now() takes over", {
  timeout: 60_000,
}, async () => {
  const sink = memorySink();
  const log = createLogger({ clock: "coarse", sinks: [sink] });
  const { recorder } = internals(log);
  await clockReady(log);
  // Stand in for a stalled clock thread: a time ten seconds old.
  recorder.coarse = new Float64Array([Date.now() - 10_000]);
  for (let i = 0; i < 2048; i++) log.info("e", { i });
  assert.equal(recorder.coarse, null, "the recorder fell back to Date.now()");
  log.info("after");
  await log.flush();
  const last = sink.records.at(-1)!;
  assert.equal(last.msg, "after");
  assert.ok(Math.abs(last.time - Date.now()) < STALE_MS);
  await log.close();
});

test(
  "an attached logger shares its owner's coarse clock",
  { timeout: 60_000 },
  async () => {
    const sink = memorySink();
    const log = createLogger({ clock: "coarse", sinks: [sink] });
    await clockReady(log);
    const port = log.port();
    assert.ok(port.clock instanceof SharedArrayBuffer);
    const remote = attachLogger(port);
    await sleep(10);
    assert.ok(internals(remote).recorder.coarse !== null);
    remote.info("from the worker");
    await remote.flush();
    const record = sink.records.find((r) => r.msg === "from the worker")!;
    assert.ok(Math.abs(record.time - Date.now()) < STALE_MS);
    await log.close();
  },
);

test("bad clock options are clear errors", () => {
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => createLogger({ clock: "fast" as any, sinks: [memorySink()] }),
    (error: Error) =>
      error instanceof TtlogConfigError &&
      /clock must be "exact" or "coarse"/.test(error.message),
  );
  const saved = globalThis.SharedArrayBuffer;
  // deno-lint-ignore no-explicit-any
  delete (globalThis as any).SharedArrayBuffer;
  try {
    assert.throws(
      () => createLogger({ clock: "coarse", sinks: [memorySink()] }),
      (error: Error) =>
        error instanceof TtlogConfigError &&
        /clock: "coarse" needs a thread/.test(error.message),
    );
  } finally {
    globalThis.SharedArrayBuffer = saved;
  }
});
