/**
 * Latency per call under a steady rate: P50, P95, P99, P999 and the maximum
 * of the reference call (`info("hello world", { a: 1, b: "two", c: true })`),
 * ttlog beside pino in one process, each writing NDJSON to a file in the
 * system's temporary directory while it is measured: ttlog's drain in its
 * worker (the default), pino through `pino.destination({ dest, sync: false
 * })`. Run with `npm run bench` or `node scripts/bench.mjs latency deno`.
 *
 * The rate: 50,000 calls per second, as a busy service's would come. Every
 * millisecond or so (a `setTimeout(1)` tick) the loop makes the calls that
 * are due since the start, so the rate holds on average and the event loop
 * turns between bursts of about 50 calls, as it would between requests.
 * ttlog's ring (the default 8 MiB, `overwrite`) is filled once before
 * measuring, so every call runs against a full ring that keeps evicting its
 * oldest records, as in a long-running process; the drain keeps up (the
 * accounting is checked: nothing lost).
 *
 * The clock: each call is timed by itself with `performance.now()` read
 * before and after (timing batches of calls would average the tail away).
 * Each sample therefore includes one clock read and the loop's call through
 * a function. Right after each call the same two reads are taken around a
 * function that does nothing (same loop, same moment), and the median of
 * those empty pairs is subtracted from every percentile. The empty pairs'
 * own P99 and P999 are reported too: that much of a call's tail may be the
 * clock's or the machine's, not the logger's.
 *
 * Rounds alternate the loggers (ttlog then pino, then pino then ttlog...),
 * one second each; the percentiles are over all rounds' samples, the spread
 * is how far the rounds' own percentiles disagree.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { createLogger, fileSink } from "../mod.ts";
import { detectRuntime } from "../src/sink.ts";
import { type BenchRow, roundsFromEnv, spreadOf } from "./harness.ts";
import { saveRows } from "./results.ts";

const RATE = 50_000;
const SECONDS = 1;
const ROUNDS = roundsFromEnv() ?? 6;
const PERCENTILES = [
  ["P50", 0.5],
  ["P95", 0.95],
  ["P99", 0.99],
  ["P999", 0.999],
  ["max", 1],
] as const;

const dir = mkdtempSync(join(tmpdir(), "ttlog-bench-latency-"));
const rt = detectRuntime().name;

const ttlog = createLogger({
  service: "bench",
  level: "info",
  directives: "",
  sinks: [fileSink({ path: join(dir, "ttlog.ndjson"), format: "ndjson" })],
});
// Fill the ring once, so that calls run against a full ring.
{
  const ringBytes = 8 * 1024 * 1024;
  let logged = 0;
  while (ttlog.metrics().recordedBytes < ringBytes * 1.25) {
    for (let i = 0; i < 10_000; i++) {
      ttlog.info("hello world", { a: 1, b: "two", c: true });
    }
    logged += 10_000;
    await ttlog.flush();
  }
  console.log(`${rt}: ring filled with ${logged} events`);
}
const pinoDest = pino.destination({
  dest: join(dir, "pino.ndjson"),
  sync: false,
});
const pinoLog = pino({ base: undefined }, pinoDest);

const loggers = {
  ttlog: () => ttlog.info("hello world", { a: 1, b: "two", c: true }),
  pino: () => pinoLog.info({ a: 1, b: "two", c: true }, "hello world"),
};
type Name = keyof typeof loggers;

function noop(): void {}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One round: `RATE * SECONDS` calls of `call`, each timed, beside empty pairs. */
async function round(
  call: () => void,
): Promise<{ calls: Float64Array; empty: Float64Array }> {
  const total = RATE * SECONDS;
  const calls = new Float64Array(total);
  const empty = new Float64Array(total);
  const start = performance.now();
  let done = 0;
  while (done < total) {
    const due = Math.min(
      total,
      Math.floor(((performance.now() - start) / 1000) * RATE),
    );
    while (done < due) {
      let t0 = performance.now();
      call();
      let t1 = performance.now();
      calls[done] = t1 - t0;
      t0 = performance.now();
      noop();
      t1 = performance.now();
      empty[done] = t1 - t0;
      done++;
    }
    await sleep(1);
  }
  return { calls, empty };
}

/** Percentiles of ms samples, in ns. */
function percentiles(samples: Float64Array): number[] {
  const sorted = samples.slice().sort();
  return PERCENTILES.map(([, q]) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 1e6
  );
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

const samples: Record<Name, Float64Array[]> = { ttlog: [], pino: [] };
const empties: Record<Name, Float64Array[]> = { ttlog: [], pino: [] };
// Warm-up: a little of each, not counted.
for (const call of Object.values(loggers)) {
  for (let i = 0; i < 20_000; i++) call();
  await sleep(50);
}
await ttlog.flush();
for (let r = 0; r < ROUNDS; r++) {
  const order: Name[] = r % 2 === 0 ? ["ttlog", "pino"] : ["pino", "ttlog"];
  for (const name of order) {
    const { calls, empty } = await round(loggers[name]);
    samples[name].push(calls);
    empties[name].push(empty);
    const [p50, , p99, p999] = percentiles(calls);
    console.log(
      `round ${r + 1}/${ROUNDS} ${name}: P50 ${p50.toFixed(0)} ns, P99 ${
        p99.toFixed(0)
      } ns, P999 ${p999.toFixed(0)} ns (clock not subtracted)`,
    );
  }
}

await ttlog.flush();
const m = ttlog.metrics();
const accounting = {
  logged: m.logged,
  emitted: m.emitted,
  lost: m.lost,
  dropped: m.dropped,
  ok: m.emitted === m.logged && m.lost === 0 && m.dropped === 0,
};

const names = Object.keys(loggers) as Name[];
const emptyRounds = names.flatMap((name) => empties[name]);
const clock = percentiles(concat(emptyRounds));
const clockMedian = clock[0];
const pooled = Object.fromEntries(
  names.map((name) => [name, percentiles(concat(samples[name]))]),
) as Record<Name, number[]>;
const perRound = Object.fromEntries(
  names.map((name) => [
    name,
    samples[name].map((s, k) => {
      const emptyMedian = percentiles(empties[name][k])[0];
      return percentiles(s).map((p) => p - emptyMedian);
    }),
  ]),
) as Record<Name, number[][]>;
const emptyPerRound = emptyRounds.map((e) => percentiles(e));
// Each logger's calls less the median of the empty pairs taken beside them.
const clockMedianOf = Object.fromEntries(
  names.map((name) => [name, percentiles(concat(empties[name]))[0]]),
) as Record<Name, number>;
const rows: BenchRow[] = [];
for (const [i, [label]] of PERCENTILES.entries()) {
  for (const name of names) {
    const rounds = perRound[name].map((p) => p[i]);
    rows.push({
      group: label,
      name,
      avg: pooled[name][i] - clockMedianOf[name],
      roundAvgs: rounds,
      spread: spreadOf(rounds),
    });
  }
  const rounds = emptyPerRound.map((p) => p[i]);
  rows.push({
    group: label,
    name: "empty clock pair (not subtracted)",
    avg: clock[i],
    roundAvgs: rounds,
    spread: spreadOf(rounds),
  });
}

for (const row of rows) {
  console.log(
    `${rt}: ${row.group.padEnd(5)} ${row.name.padEnd(34)} ${
      row.avg!.toFixed(0).padStart(8)
    } ns  spread ${(row.spread! * 100).toFixed(0)}%`,
  );
}
console.log(
  `${rt}: clock pair median ${
    clockMedian.toFixed(0)
  } ns subtracted; ttlog accounting ${
    accounting.ok ? "ok" : "WRONG"
  }: logged ${m.logged}, emitted ${m.emitted}, lost ${m.lost}, dropped ${m.dropped}`,
);
saveRows("latency", rows, {
  rate: RATE,
  secondsPerRound: SECONDS,
  rounds: ROUNDS,
  clockMedianNs: clockMedian,
  samplesPerLogger: RATE * SECONDS * ROUNDS,
  ttlogAccounting: accounting,
});
await ttlog.close();
pinoLog.flush();
rmSync(dir, { recursive: true, force: true });
