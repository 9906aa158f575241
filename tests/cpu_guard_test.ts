// Regression guard for what a process pays per event on every thread:
// ttlog writing the reference event as NDJSON to a file, its drain in its
// worker (the default), must cost the whole process at least 3x less CPU
// than pino doing the same (pino.destination, asynchronous sonic-boom),
// measured in this process with getrusage (every thread). A ratio,
// not a time: both sides run in the same rounds, interleaved, and each
// keeps its best round (load only ever adds CPU time). bench/cpu.ts
// measures the same runs with more rounds and peers.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  cpuRun,
  type CpuSetup,
  keep,
  pinoSetup,
  release,
  ttlogSetup,
} from "../bench/cpu.ts";
import { processCpuNs } from "../bench/harness.ts";
import { detectRuntime } from "../src/sink.ts";

/** The least factor by which ttlog's whole cost per event must be under pino's. */
const REQUIRED_RATIO = 3;
const ROUNDS = 3;
/** Events per run: 0.05-1 s of CPU, measured to the microsecond. */
const EVENTS = 200_000;

type Setup = (path: string) => CpuSetup | Promise<CpuSetup>;

/**
 * Best-of-rounds CPU ns per event of two loggers, each made once and kept
 * (steady state, as in a server), interleaved.
 */
async function compare(
  cheapSetup: Setup,
  costlySetup: Setup,
): Promise<{ cheapNs: number; costlyNs: number; ratio: number }> {
  const cheap = await keep(cheapSetup);
  const costly = await keep(costlySetup);
  try {
    // Warm-up: JIT, the worker's code, the files' first pages.
    await cpuRun(cheap, EVENTS / 4);
    await cpuRun(costly, EVENTS / 4);
    let cheapNs = Infinity;
    let costlyNs = Infinity;
    for (let round = 0; round < ROUNDS; round++) {
      const first = round % 2 === 0;
      const a = await cpuRun(first ? cheap : costly, EVENTS);
      const b = await cpuRun(first ? costly : cheap, EVENTS);
      cheapNs = Math.min(cheapNs, (first ? a : b) / EVENTS);
      costlyNs = Math.min(costlyNs, (first ? b : a) / EVENTS);
    }
    return { cheapNs, costlyNs, ratio: costlyNs / cheapNs };
  } finally {
    await release(cheap);
    await release(costly);
  }
}

test(
  "cpu guard: a whole NDJSON event costs the process at least 3x less than pino's",
  {
    timeout: 120_000,
  },
  async () => {
    assert.ok(
      processCpuNs() !== undefined,
      "this runtime gives no process CPU time (process.cpuUsage, /proc/self/stat)",
    );
    const result = await compare(
      (path) => ttlogSetup(path, true),
      pinoSetup,
    );
    console.log(
      `cpu guard (${detectRuntime().name}): process CPU per NDJSON event ttlog ${
        result.cheapNs.toFixed(0)
      } ns, pino ${result.costlyNs.toFixed(0)} ns (best of ${ROUNDS}): ` +
        `${result.ratio.toFixed(1)}x (required: ${REQUIRED_RATIO}x)`,
    );
    assert.ok(
      result.ratio >= REQUIRED_RATIO,
      `ttlog's whole cost per NDJSON event is ${
        result.cheapNs.toFixed(0)
      } ns of process CPU against pino's ${
        result.costlyNs.toFixed(0)
      } ns: only ${
        result.ratio.toFixed(1)
      }x less, under the required ${REQUIRED_RATIO}x. A change made the drain ` +
        "(src/drain/, src/format/ndjson_lines.ts, src/sinks/file*.ts) or the " +
        "hot path costlier: run `node scripts/bench.mjs cpu` before and after it.",
    );
  },
);

test("cpu guard: the comparison catches a logger as costly as pino", {
  timeout: 120_000,
}, async () => {
  // pino against pino: a ratio near 1, which the guard must reject.
  const result = await compare(pinoSetup, pinoSetup);
  console.log(
    `cpu guard self-check (${detectRuntime().name}): pino against pino ${
      result.ratio.toFixed(2)
    }x`,
  );
  assert.ok(
    result.ratio < REQUIRED_RATIO,
    `pino against itself measured ${result.ratio.toFixed(1)}x`,
  );
});
