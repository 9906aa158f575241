// Regression guard for the hot path: ttlog's reference call must stay at
// least 5x cheaper than pino's, measured in this process on this runtime.
// A ratio, not a time, so a slow or loaded machine does not make it flap:
// both sides are timed in the same rounds, interleaved (ttlog then pino,
// then pino then ttlog...), in batches of calls, and each side keeps its
// best round (load only ever adds time). Measured here: 10-50x.
//
// ttlog runs with its drain on this thread (`worker: false`), so the drain
// works between rounds, never inside a timed batch: the guard compares what
// a call costs the caller, as bench/hot_path.ts does, without a drain thread
// competing for one of two busy cores. pino writes to /dev/null through
// pino.destination (asynchronous sonic-boom), as in the benchmarks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import pino from "pino";
import { createLogger, type LogRecord } from "../mod.ts";
import { detectRuntime } from "../src/sink.ts";

/** The least factor by which ttlog's call must be cheaper than pino's. */
const REQUIRED_RATIO = 5;
const ROUNDS = 30;

interface Side {
  readonly call: () => void;
  /** Calls per timed batch: a few ms of work, far above the clock's cost. */
  readonly batch: number;
}

/** ns per call of one timed batch. */
function timeBatch(side: Side): number {
  const { call, batch } = side;
  const t0 = performance.now();
  for (let i = 0; i < batch; i++) call();
  return ((performance.now() - t0) * 1e6) / batch;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Times two calls in interleaved rounds; each side's best round.
 *
 * @returns ns per call of each side and `costly / cheap`.
 */
async function compare(
  cheap: Side,
  costly: Side,
): Promise<{ cheapNs: number; costlyNs: number; ratio: number }> {
  // Warm-up: JIT, and the ring's pages touched once.
  for (let i = 0; i < 5; i++) {
    timeBatch(cheap);
    timeBatch(costly);
    await nextTurn();
  }
  let cheapNs = Infinity;
  let costlyNs = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      cheapNs = Math.min(cheapNs, timeBatch(cheap));
      costlyNs = Math.min(costlyNs, timeBatch(costly));
    } else {
      costlyNs = Math.min(costlyNs, timeBatch(costly));
      cheapNs = Math.min(cheapNs, timeBatch(cheap));
    }
    // The drain and sonic-boom's writes run here, outside the clock.
    await nextTurn();
  }
  return { cheapNs, costlyNs, ratio: costlyNs / cheapNs };
}

function pinoToDevNull() {
  const destination = pino.destination({
    dest: "/dev/null",
    sync: false,
    minLength: 4096,
  });
  const close = () =>
    new Promise<void>((resolve) => {
      destination.once("close", () => resolve());
      destination.end();
    });
  return { logger: pino({ base: undefined }, destination), close };
}

test("perf guard: ttlog's reference call is at least 5x cheaper than pino's", {
  timeout: 60_000,
}, async () => {
  let delivered = 0;
  const log = createLogger({
    service: "guard",
    level: "info",
    recordLevel: "info",
    directives: "",
    worker: false,
    sinks: [{
      name: "count",
      write(records: readonly LogRecord[]) {
        delivered += records.length;
      },
    }],
    ring: { bytes: 4 * 1024 * 1024, overflow: "overwrite" },
  });
  const { logger, close } = pinoToDevNull();
  try {
    const result = await compare(
      {
        call: () => log.info("hello world", { a: 1, b: "two", c: true }),
        batch: 20_000,
      },
      {
        call: () => logger.info({ a: 1, b: "two", c: true }, "hello world"),
        batch: 2_000,
      },
    );
    console.log(
      `perf guard (${detectRuntime().name}): reference call ttlog ${
        result.cheapNs.toFixed(0)
      } ns, pino ${
        result.costlyNs.toFixed(0)
      } ns (best of ${ROUNDS} rounds): ` +
        `ttlog ${
          result.ratio.toFixed(1)
        }x cheaper (required: ${REQUIRED_RATIO}x)`,
    );
    assert.ok(
      result.ratio >= REQUIRED_RATIO,
      `ttlog's reference call costs ${result.cheapNs.toFixed(0)} ns against ` +
        `pino's ${result.costlyNs.toFixed(0)} ns: only ${
          result.ratio.toFixed(1)
        }x cheaper, under the required ${REQUIRED_RATIO}x. A change made the ` +
        "hot path (src/record/encode.ts, src/record/ring_writer.ts, " +
        "src/logger/logger.ts) slower: run " +
        "`node scripts/bench.mjs hot_path` before and after it.",
    );
    // The calls did log: the guard timed real work.
    await log.flush();
    assert.ok(delivered > 0, "ttlog delivered nothing");
  } finally {
    await log.close();
    await close();
  }
});

test("perf guard: the comparison catches a call as costly as pino's", {
  timeout: 60_000,
}, async () => {
  // Two pino loggers against each other: a ratio near 1, which the guard
  // must reject, so the measurement can tell a regression.
  const a = pinoToDevNull();
  const b = pinoToDevNull();
  try {
    const result = await compare(
      {
        call: () => a.logger.info({ a: 1, b: "two", c: true }, "hello world"),
        batch: 2_000,
      },
      {
        call: () => b.logger.info({ a: 1, b: "two", c: true }, "hello world"),
        batch: 2_000,
      },
    );
    console.log(
      `perf guard self-check (${detectRuntime().name}): pino against pino ${
        result.ratio.toFixed(2)
      }x`,
    );
    assert.ok(
      result.ratio < REQUIRED_RATIO,
      `pino against itself measured ${result.ratio.toFixed(1)}x`,
    );
  } finally {
    await a.close();
    await b.close();
  }
});
