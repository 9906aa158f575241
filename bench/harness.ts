/**
 * Interleaved rounds around mitata's `measure`: every case is measured once
 * per round, round after round (case A, B, C, then A, B, C again...), so that
 * a slow moment of the machine lands on every case alike, and each row says
 * how far its rounds disagree (its spread). bench/results.ts saves the rows;
 * bench/report.ts shows a row whose spread is over 5% with a marker.
 *
 * A case is one of:
 * - `fn`: a call mitata times (in batches of thousands of calls when it is
 *   fast, so the clock's own cost is spread over the batch);
 * - `once`: a whole run the case times itself (setup outside the clock),
 *   returning nanoseconds, one per round;
 * - `na`: no equivalent in this logger; the reason stands in the table.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import process from "node:process";
import { setImmediate } from "node:timers";
import { measure } from "mitata";

/** One thing to measure, or the reason there is nothing to measure. */
export interface BenchCase {
  /** The table group, such as "reference call: message + 3 fields". */
  readonly group: string;
  /** The row: the logger and how it is set up, such as "pino". */
  readonly name: string;
  /** Timed by mitata. */
  readonly fn?: () => unknown;
  /** Times itself once per round; resolves to nanoseconds. */
  readonly once?: () => number | Promise<number>;
  /** No equivalent: why, shown in the table instead of a number. */
  readonly na?: string;
  /** mitata's least number of samples per round (default 12). */
  readonly minSamples?: number;
  /** Operations one call of `fn` or `once` performs: numbers are per operation. */
  readonly calls?: number;
}

/** One row of results: per-round numbers and what they say together. */
export interface BenchRow {
  /** The table group. */
  group: string;
  /** The row name. */
  name: string;
  /** Median over rounds of each round's mean, ns per iteration. */
  avg?: number;
  /** Median over rounds of each round's median sample. */
  p50?: number;
  /** Median over rounds of each round's 99th percentile sample. */
  p99?: number;
  /** The least sample of all rounds. */
  min?: number;
  /** The greatest sample of all rounds. */
  max?: number;
  /** Each round's mean, in round order. */
  roundAvgs?: number[];
  /** (largest round mean - smallest) / median round mean. */
  spread?: number;
  /** No equivalent: why. */
  na?: string;
  /** What `avg` counts: ns per iteration (the default) or bytes. */
  unit?: "ns" | "bytes";
}

/** Options of {@link runRounds}. */
export interface RoundOptions {
  /** Rounds counted (default 5, or TTLOG_BENCH_ROUNDS). */
  readonly rounds?: number;
  /** mitata's time budget per case per round, ms (default 150). */
  readonly budgetMs?: number;
  /** Runs every case once, uncounted, before the rounds (default true). */
  readonly warmup?: boolean;
  /** Prints each round's numbers (default true). */
  readonly verbose?: boolean;
  /**
   * Runs after each measurement, outside the clock: lets work a case left
   * behind (a drain's backlog) finish before the next case starts.
   */
  readonly settle?: () => Promise<void>;
}

/** The median of numbers (not modified). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid]
    : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** (max - min) / median: how far the rounds disagree, 0.05 for 5%. */
export function spreadOf(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = median(values);
  return m === 0 ? 0 : (Math.max(...values) - Math.min(...values)) / m;
}

function envValue(name: string): string | undefined {
  return (globalThis as {
    process?: { env?: Record<string, string | undefined> };
  }).process?.env?.[name];
}

/** The rounds from TTLOG_BENCH_ROUNDS, if set. */
export function roundsFromEnv(): number | undefined {
  const value = envValue("TTLOG_BENCH_ROUNDS");
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(
      `TTLOG_BENCH_ROUNDS must be a whole number of rounds >= 1, got "${value}"`,
    );
  }
  return n;
}

interface RoundStats {
  avg: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
}

async function measureOnce(
  c: BenchCase,
  budgetMs: number,
): Promise<RoundStats> {
  const calls = c.calls ?? 1;
  if (c.once !== undefined) {
    const ns = (await c.once()) / calls;
    return { avg: ns, p50: ns, p99: ns, min: ns, max: ns };
  }
  const stats = await measure(c.fn!, {
    min_cpu_time: budgetMs * 1e6,
    min_samples: c.minSamples ?? 12,
  });
  return {
    avg: stats.avg / calls,
    p50: stats.p50 / calls,
    p99: stats.p99 / calls,
    min: stats.min / calls,
    max: stats.max / calls,
  };
}

/** Resolves after one turn of the event loop (node:timers setImmediate). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A case of `calls` calls of `call` per iteration, then one turn of the
 * event loop, so that work a logger defers to the next tick (winston's
 * streams) is paid inside the clock, and nothing piles up between samples.
 * Without `calls`, as many as take about 2 ms (1,000 to 10,000): the turn
 * (a few µs) then adds well under 1% to a call.
 */
export function batchCase(
  group: string,
  name: string,
  call: () => unknown,
  calls = callsFor(call),
): BenchCase {
  // A loop compiled for this case alone, as mitata compiles its own: one
  // shared loop would make `call()` a megamorphic call site that the JIT
  // cannot inline, adding a few ns to every case.
  const loop = new Function(
    "call",
    "nextTurn",
    `return async function batch() {
      for (let i = 0; i < ${calls}; i++) call();
      await nextTurn();
    };`,
  )(call, nextTurn) as () => Promise<void>;
  return { group, name, calls, fn: loop };
}

/** Calls of `call` that take about 2 ms, in thousands, from 1,000 to 10,000. */
function callsFor(call: () => unknown): number {
  for (let i = 0; i < 200; i++) call();
  const t0 = performance.now();
  for (let i = 0; i < 1000; i++) call();
  const perCallNs = ((performance.now() - t0) * 1e6) / 1000;
  const thousands = Math.round(2e6 / Math.max(perCallNs, 1) / 1000);
  return 1000 * Math.max(1, Math.min(10, thousands));
}

function formatNs(ns: number): string {
  if (ns < 100) return ns.toFixed(1);
  return Math.round(ns).toLocaleString("en-US");
}

/**
 * Measures every case `rounds` times, interleaved, and returns one row per
 * case in the order given.
 *
 * @param cases What to measure.
 * @param options Rounds and budget.
 * @returns Rows for bench/results.ts.
 */
export async function runRounds(
  cases: readonly BenchCase[],
  options: RoundOptions = {},
): Promise<BenchRow[]> {
  const rounds = options.rounds ?? roundsFromEnv() ?? 5;
  const budgetMs = options.budgetMs ?? 150;
  const verbose = options.verbose ?? true;
  const only = envValue("TTLOG_BENCH_ONLY");
  const pattern = only ? new RegExp(only) : undefined;
  const measured = cases.filter((c) =>
    c.na === undefined &&
    (pattern === undefined || pattern.test(`${c.group} / ${c.name}`))
  );
  for (const c of measured) {
    if ((c.fn === undefined) === (c.once === undefined)) {
      throw new Error(
        `bench case "${c.group} / ${c.name}" needs exactly one of fn, once or na`,
      );
    }
  }
  const settle = options.settle ?? (() => Promise.resolve());
  if (options.warmup ?? true) {
    for (const c of measured) {
      await measureOnce(c, Math.min(budgetMs, 30));
      await settle();
    }
  }
  const perCase = new Map<BenchCase, RoundStats[]>(
    measured.map((c) => [c, []]),
  );
  for (let round = 0; round < rounds; round++) {
    for (const c of measured) {
      perCase.get(c)!.push(await measureOnce(c, budgetMs));
      await settle();
    }
    if (verbose) {
      console.log(
        `round ${round + 1}/${rounds}: ` +
          measured.map((c) =>
            `${c.group} / ${c.name} ${formatNs(perCase.get(c)!.at(-1)!.avg)}`
          ).join("; "),
      );
    }
  }
  const rows = cases.flatMap((c): BenchRow[] => {
    if (c.na !== undefined) return [{ group: c.group, name: c.name, na: c.na }];
    const stats = perCase.get(c);
    if (stats === undefined) return []; // left out by TTLOG_BENCH_ONLY
    const roundAvgs = stats.map((s) => s.avg);
    return [{
      group: c.group,
      name: c.name,
      avg: median(roundAvgs),
      p50: median(stats.map((s) => s.p50)),
      p99: median(stats.map((s) => s.p99)),
      min: Math.min(...stats.map((s) => s.min)),
      max: Math.max(...stats.map((s) => s.max)),
      roundAvgs,
      spread: spreadOf(roundAvgs),
    }];
  });
  if (verbose) printRows(rows);
  return rows;
}

/** Prints rows as a plain table: group, name, median ns, spread. */
export function printRows(rows: readonly BenchRow[]): void {
  let group = "";
  for (const row of rows) {
    if (row.group !== group) {
      group = row.group;
      console.log(`\n${group}`);
    }
    const value = row.na !== undefined
      ? `n/a: ${row.na}`
      : `${formatNs(row.avg!).padStart(14)} ns  spread ${
        (row.spread! * 100).toFixed(1).padStart(5)
      }%${row.spread! > 0.05 ? " (over 5%)" : ""}`;
    console.log(`  ${row.name.padEnd(44)} ${value}`);
  }
}

/**
 * The process's CPU time so far, every thread (a drain worker, a runtime's
 * own threads), in ns: getrusage through `process.cpuUsage()` (microseconds;
 * Deno, Bun and Node count every thread in it), else /proc/self/stat (clock
 * ticks of 10 ms); undefined where there is neither.
 */
export function processCpuNs(): number | undefined {
  try {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) * 1000;
  } catch {
    // No process.cpuUsage: /proc below.
  }
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime, fields 14 and 15, in clock ticks (100 per second).
    return (Number(fields[11]) + Number(fields[12])) * 1e7;
  } catch {
    return undefined;
  }
}
