/**
 * End to end: what it costs to get N reference events all the way out, ttlog
 * (caller side plus the inline drain: decode, NDJSON formatting) vs pino vs
 * LogTape, in one process. Run with `npm run bench` (all three runtimes) or
 * directly: `deno run -A bench/end_to_end.ts`, `bun bench/end_to_end.ts`,
 * `tsx bench/end_to_end.ts`.
 *
 * One mitata iteration logs the whole batch and waits until it is out:
 * - ttlog: a 64 MiB `block` ring (nothing overwritten or dropped), a sink
 *   that formats every record with `ndjsonFormatter()` and drops the string,
 *   then `await log.flush()`.
 * - pino: `pino.destination({ dest: "/dev/null", sync: false })`, then
 *   `flush()` and the destination's `drain` (with the default `minLength: 0`
 *   pino's flush returns at once, while sonic-boom is still writing).
 * - LogTape: a sink that `JSON.stringify`s the record and drops the string
 *   (LogTape sinks run inside the log call).
 *
 * pino alone pays for write(2) calls to /dev/null; the other two discard in
 * memory.
 *
 * @module
 */

import { bench, group, run, summary } from "mitata";
import pino from "pino";
import { configure, getLogger } from "@logtape/logtape";
import {
  createLogger,
  detectRuntime,
  type LogRecord,
  ndjsonFormatter,
  type Sink,
} from "../mod.ts";
import { saveResults } from "./results.ts";

/** Events per batch: one mitata iteration logs them all. */
const EVENTS = 200_000;

// Formatted output goes nowhere, but its length is kept so no engine can
// skip the formatting.
let formattedChars = 0;

const format = ndjsonFormatter();
const ndjsonDiscard: Sink = {
  name: "ndjson-discard",
  write(records: readonly LogRecord[]) {
    for (const record of records) formattedChars += format(record).length;
  },
};

const ttlog = createLogger({
  service: "bench",
  level: "info",
  record: "info",
  directives: "",
  sinks: [ndjsonDiscard],
  ring: { bytes: 64 * 1024 * 1024, overflow: "block" },
});

const pinoDest = pino.destination({ dest: "/dev/null", sync: false });
const pinoLog = pino({ base: undefined }, pinoDest);

/** Resolves once pino has flushed and sonic-boom has written everything. */
function pinoDone(): Promise<void> {
  return new Promise((resolve, reject) => {
    pinoLog.flush((error) => {
      if (error) {
        reject(error);
        return;
      }
      // sonic-boom has no public "busy" flag; `_writing` is what its own
      // flush() checks, and it emits "drain" when the buffer is empty.
      const busy = (pinoDest as unknown as { _writing: boolean })._writing;
      if (busy) pinoDest.once("drain", () => resolve());
      else resolve();
    });
  });
}

await configure({
  sinks: {
    stringify: (record) => {
      formattedChars += JSON.stringify(record).length;
    },
  },
  loggers: [
    { category: ["bench"], lowestLevel: "info", sinks: ["stringify"] },
    { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
  ],
});
const logtape = getLogger(["bench"]);

summary(() => {
  group(`${EVENTS} reference events, logged and out`, () => {
    bench("ttlog", async () => {
      for (let i = 0; i < EVENTS; i++) {
        ttlog.info("hello world", { a: 1, b: "two", c: true });
      }
      await ttlog.flush();
    });
    bench("pino", async () => {
      for (let i = 0; i < EVENTS; i++) {
        pinoLog.info({ a: 1, b: "two", c: true }, "hello world");
      }
      await pinoDone();
    });
    bench("logtape", () => {
      for (let i = 0; i < EVENTS; i++) {
        logtape.info("hello world", { a: 1, b: "two", c: true });
      }
    });
  });
});

const results = await run();

await ttlog.flush();
const m = ttlog.metrics();
const accounting = {
  logged: m.logged,
  emitted: m.emitted,
  filtered: m.filtered,
  dropped: m.dropped,
  lost: m.lost,
  pending: m.pending,
  ok: m.logged > 0 && m.emitted === m.logged && m.lost === 0 &&
    m.dropped === 0,
};
const name = detectRuntime().name;
if (accounting.ok) {
  console.log(
    `${name}: ttlog accounting ok: logged ${m.logged} = emitted ${m.emitted}, lost 0, dropped 0`,
  );
} else {
  console.log(
    `\n!!!!!!!!!! ${name}: TTLOG LOST EVENTS IN THE END-TO-END BENCH !!!!!!!!!!\n` +
      `  logged ${m.logged}, emitted ${m.emitted}, filtered ${m.filtered}, ` +
      `dropped ${m.dropped}, lost ${m.lost}, pending ${m.pending}\n` +
      `  (expected emitted == logged, lost == 0, dropped == 0)\n`,
  );
}

const eventsPerSecond: Record<string, number> = {};
for (const b of (results as { benchmarks: BenchResult[] }).benchmarks) {
  const avg = b.runs[0]?.stats?.avg;
  if (avg) eventsPerSecond[b.alias] = EVENTS / (avg / 1e9);
}
console.log(
  `${name}: events/s ` +
    Object.entries(eventsPerSecond)
      .map(([logger, rate]) => `${logger} ${Math.round(rate)}`)
      .join(", ") +
    ` (${formattedChars} chars formatted and discarded)`,
);

saveResults("end_to_end", results, {
  events: EVENTS,
  eventsPerSecond,
  ttlogAccounting: accounting,
});
await ttlog.close();

interface BenchResult {
  alias: string;
  runs: { stats?: { avg: number } }[];
}
