/**
 * Replay against LogTape's fingersCrossed (issue 15's benchmark): run with
 * `node scripts/bench.mjs replay` (all three runtimes) or directly:
 * `deno run -A bench/replay.ts`, `bun bench/replay.ts`, `tsx bench/replay.ts`.
 *
 * A request logs 50 debug events (`step`, two fields) while it is handled,
 * inside its context (request_id), then its one request event. Emitted
 * level: info. Both loggers format what they emit as NDJSON lines into a
 * sink that counts and drops them.
 * - ttlog: `withLogging(handler, { log, replay: "5xx" })`, drain inline
 *   (so every cost is on this thread) and flushed after each batch of
 *   requests: the debug events go to the ring only; a request that answers
 *   500 gets its 50 events replayed to the sink after its request event.
 * - LogTape: `fingersCrossed(sink, { triggerLevel: "error", bufferLevel:
 *   "debug", isolateByContext: { keys: ["request_id"], maxContexts: 100 } })` with
 *   AsyncLocalStorage contexts (`withContext({ request_id })`): the debug
 *   records are buffered per request as objects; the request's error event
 *   triggers a flush of its buffer. A request that succeeds leaves its
 *   buffer to be evicted (least recently used, past 100 contexts).
 *
 * Rows: ns per request when every request fails (50 replayed events each),
 * and ns per logged event (51 per request) when none fails. Beside mitata's
 * wall-clock numbers, the process's CPU time per request over a fixed run
 * (all threads, from /proc/self/stat, where it exists).
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import {
  configure,
  dispose,
  fingersCrossed,
  getLogger,
  jsonLinesFormatter,
  type LogRecord as LogTapeRecord,
  withContext as logtapeContext,
} from "@logtape/logtape";
import {
  createLogger,
  type LogRecord,
  ndjsonFormatter,
  type Sink,
} from "../mod.ts";
import { detectRuntime } from "../src/sink.ts";
import { withLogging } from "../src/http.ts";
import { saveRows } from "./results.ts";
import {
  type BenchCase,
  type BenchRow,
  processCpuNs,
  runRounds,
} from "./harness.ts";

const STEPS = 50;
const BATCH = 100;
const rt = detectRuntime().name;

let bytes = 0;
let lines = 0;

// ttlog: NDJSON lines, counted and dropped.
const format = ndjsonFormatter();
const countingSink: Sink = {
  name: "counting",
  write(records: readonly LogRecord[]) {
    for (const record of records) {
      bytes += format(record).length;
      lines++;
    }
  },
};
const log = createLogger({
  service: "bench",
  level: "info",
  directives: "",
  worker: false,
  sinks: [countingSink],
});
const request = new Request("http://localhost/pay");
let failing = false;
const handler = withLogging(() => {
  for (let step = 0; step < STEPS; step++) {
    log.debug("step", { step, table: "orders" });
  }
  return new Response(null, { status: failing ? 500 : 200 });
}, { log, replay: "5xx" });

async function ttlogBatch(): Promise<void> {
  for (let i = 0; i < BATCH; i++) handler(request);
  await log.flush();
}

// The same without replay: what replay costs a request that succeeds.
const plain = withLogging(() => {
  for (let step = 0; step < STEPS; step++) {
    log.debug("step", { step, table: "orders" });
  }
  return new Response(null, { status: 200 });
}, { log });

async function plainBatch(): Promise<void> {
  for (let i = 0; i < BATCH; i++) plain(request);
  await log.flush();
}

// LogTape: the same, through fingersCrossed.
await configure({
  reset: true,
  contextLocalStorage: new AsyncLocalStorage(),
  sinks: {
    crossed: fingersCrossed((record: LogTapeRecord) => {
      bytes += jsonLinesFormatter(record).length;
      lines++;
    }, {
      triggerLevel: "error",
      bufferLevel: "debug", // info passes through, as ttlog emits it
      isolateByContext: { keys: ["request_id"], maxContexts: 100 },
    }),
  },
  loggers: [
    { category: ["bench"], lowestLevel: "debug", sinks: ["crossed"] },
    { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
  ],
});
const logtape = getLogger(["bench"]);
const http = getLogger(["bench", "http"]);
let ids = 0;

function logtapeRequest(): void {
  logtapeContext({ request_id: `r-${++ids}` }, () => {
    for (let step = 0; step < STEPS; step++) {
      logtape.debug("step", { step, table: "orders" });
    }
    const status = failing ? 500 : 200;
    if (status >= 500) {
      http.error("request", { method: "GET", path: "/pay", status });
    } else http.info("request", { method: "GET", path: "/pay", status });
  });
}

function logtapeBatch(): Promise<void> {
  for (let i = 0; i < BATCH; i++) logtapeRequest();
  return Promise.resolve();
}

/** CPU ns per request over `batches` batches (a run of about a second). */
async function cpuPerRequest(
  batch: () => Promise<void>,
  batches: number,
): Promise<number | undefined> {
  const before = processCpuNs();
  for (let i = 0; i < batches; i++) await batch();
  const after = processCpuNs();
  return before === undefined || after === undefined
    ? undefined
    : (after - before) / (batches * BATCH);
}

const FAIL =
  `a request that fails: ${STEPS} debug events, then 500 (ns per request)`;
const PASS =
  `a request that succeeds: ${STEPS} debug events + its info event (ns per logged event)`;

const run = (fail: boolean, batch: () => Promise<void>) => async () => {
  failing = fail;
  await batch();
};

const cases: BenchCase[] = [
  {
    group: FAIL,
    name: 'ttlog, withLogging replay: "5xx"',
    calls: BATCH,
    fn: run(true, ttlogBatch),
  },
  {
    group: FAIL,
    name: "logtape, fingersCrossed isolateByContext",
    calls: BATCH,
    fn: run(true, logtapeBatch),
  },
  {
    group: PASS,
    name: 'ttlog, withLogging replay: "5xx"',
    calls: BATCH * (STEPS + 1),
    fn: run(false, ttlogBatch),
  },
  {
    group: PASS,
    name: "ttlog, withLogging without replay",
    calls: BATCH * (STEPS + 1),
    fn: run(false, plainBatch),
  },
  {
    group: PASS,
    name: "logtape, fingersCrossed isolateByContext",
    calls: BATCH * (STEPS + 1),
    fn: run(false, logtapeBatch),
  },
];

// Check both do the same work: 51 lines per failing request, 1 per other.
for (
  const [fail, batch] of [[true, ttlogBatch], [true, logtapeBatch], [
    false,
    ttlogBatch,
  ], [false, logtapeBatch]] as const
) {
  failing = fail;
  lines = 0;
  await batch();
  const expected = BATCH * (fail ? STEPS + 2 : 1);
  // ttlog adds one summary event per replay.
  const got = batch === ttlogBatch && fail ? lines : lines + (fail ? BATCH : 0);
  if (got !== expected) {
    throw new Error(
      `${batch.name} (fail ${fail}): ${lines} lines for ${BATCH} requests`,
    );
  }
}

const rows: BenchRow[] = await runRounds(cases, { budgetMs: 300 });

const cpu: Record<string, number | undefined> = {};
for (let round = 0; round < 3; round++) {
  for (
    const [name, fail, batch] of [
      ["ttlog fail", true, ttlogBatch],
      ["logtape fail", true, logtapeBatch],
      ["ttlog pass", false, ttlogBatch],
      ["ttlog pass, no replay", false, plainBatch],
      ["logtape pass", false, logtapeBatch],
    ] as const
  ) {
    failing = fail;
    const ns = await cpuPerRequest(batch, 100);
    if (ns !== undefined) cpu[name] = Math.min(cpu[name] ?? Infinity, ns);
  }
}
console.log(
  `${rt}: process CPU ns per request (best of 3 runs of 10,000 requests): ${
    JSON.stringify(cpu)
  }; ${lines} lines, ${bytes} bytes formatted in all`,
);
saveRows("replay", rows, { processCpuNsPerRequest: cpu, steps: STEPS });
await log.close();
await dispose();
