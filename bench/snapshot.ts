/**
 * Snapshots and .ttlog files (issue 4's benchmark): run with
 * `node scripts/bench.mjs snapshot` (all three runtimes) or directly:
 * `deno run -A bench/snapshot.ts`, `bun bench/snapshot.ts`,
 * `tsx bench/snapshot.ts`.
 *
 * 1. A full 64 MiB ring of reference-workload events (bench/workload.ts):
 *    the synchronous snapshot the crash path writes (`writeSnapshotSync`
 *    over the logger's ring, LZ4) and `await log.snapshot()`, plus the parts
 *    of the first: copying the ring (`captureRing`), laying the records out
 *    as columns (`eventsChunk`) and LZ4-compressing them (`encodeChunk`).
 *    Target: under 250 ms.
 * 2. On-disk bytes per event of 100,000 reference events: a snapshot in
 *    .ttlog+LZ4 and .ttlog+gzip, `fileSink({ format: "ttlog" })`, and pino's
 *    NDJSON of the same events (written to memory), raw and gzipped with
 *    node:zlib. Once as logged in a tight loop (every event within a few ms),
 *    once with `Date.now()` stepped as if the events came at 500 per second
 *    (exponential gaps), which costs the time column about a byte per event.
 *    Target: .ttlog+LZ4 at most 12 bytes per event.
 * 3. `ttlog view FILE --level error` on a snapshot of 1,000,000 events,
 *    through `runCli` with the output counted and dropped. Target: at least
 *    3 million events per second. Beside it, for scale, what reading the
 *    same events back from pino's NDJSON costs at least: `JSON.parse` of
 *    each line, keeping level >= 50 (no formatting).
 *
 * Timings are taken in interleaved rounds (bench/harness.ts), each reporting
 * its spread. The peers keep no ring, so the snapshot rows say so.
 *
 * @module
 */

import { do_not_optimize } from "mitata";
import pino from "pino";
import { gzipSync } from "node:zlib";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, fileSink, type Logger } from "../mod.ts";
import { detectRuntime } from "../src/sink.ts";
import { internals } from "../src/logger/logger.ts";
import { CTL_COMMIT } from "../src/ring/ring.ts";
import { runCli } from "../src/cli/run.ts";
import { captureRing } from "../src/snapshot/capture.ts";
import { encodeChunk, eventsChunk } from "../src/ttlog_file/chunk_writer.ts";
import { ChunkKind } from "../src/ttlog_file/format.ts";
import {
  type SnapshotProducer,
  writeSnapshotSync,
} from "../src/snapshot/writer.ts";
import { logWorkload, workload } from "./workload.ts";
import { saveRows } from "./results.ts";
import { type BenchCase, runRounds } from "./harness.ts";

const RING_BYTES = 64 * 1024 * 1024;
/** Events for bytes per event. */
const SIZE_EVENTS = 100_000;
/** Events in the file `ttlog view` reads. */
const VIEW_EVENTS = 1_000_000;

const dir = mkdtempSync(join(tmpdir(), "ttlog-bench-snapshot-"));
const rt = detectRuntime().name;

function quietLogger(ringBytes: number): Logger {
  return createLogger({
    service: "bench",
    level: "info",
    recordLevel: "debug",
    directives: "",
    worker: false,
    sinks: [],
    ring: { bytes: ringBytes, overflow: "overwrite" },
    snapshot: { dir, keep: 3, compression: "lz4" },
  });
}

function producersOf(log: Logger): SnapshotProducer[] {
  const { ring, dictionary } = internals(log);
  return [{ ring, dictionary }];
}

function crashSnapshot(producers: SnapshotProducer[]): string {
  return writeSnapshotSync(
    producers,
    { service: "bench", reason: "crash" },
    { dir, keep: 3, compression: "lz4" },
  );
}

// 1. A full 64 MiB ring.
const full = quietLogger(RING_BYTES);
const fullProducers = producersOf(full);
{
  // Log until the ring has wrapped: it is full from then on.
  const ring = internals(full).ring;
  let logged = 0;
  while (Atomics.load(ring.ctl, CTL_COMMIT) >>> 0 < RING_BYTES * 1.25) {
    logWorkload(full, 100_000, logged + 1);
    logged += 100_000;
  }
  await full.flush();
}
const fullCapture = captureRing(
  fullProducers[0].ring,
  fullProducers[0].dictionary,
);
const fullColumns = eventsChunk(0, fullCapture.entries, fullCapture);
const fullEvents = fullCapture.count;

// 2. Bytes per event.
/** Steps `Date.now()` as if events came at `perSecond` (exponential gaps). */
function withSpacedClock<T>(perSecond: number, body: () => T): T {
  const realNow = Date.now;
  let seed = 99;
  let time = realNow();
  Date.now = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    time += -Math.log(1 - seed / 2 ** 32) * (1000 / perSecond);
    return Math.floor(time);
  };
  try {
    return body();
  } finally {
    Date.now = realNow;
  }
}

async function ttlogSizes(spaced: boolean) {
  const sizes: Record<string, number> = {};
  for (const compression of ["lz4", "gzip"] as const) {
    const log = quietLogger(RING_BYTES);
    const logAll = () => logWorkload(log, SIZE_EVENTS);
    if (spaced) withSpacedClock(500, logAll);
    else logAll();
    const path = writeSnapshotSync(
      producersOf(log),
      { service: "bench", reason: "size" },
      { dir, keep: 3, compression },
    );
    sizes[`snapshot ${compression}`] = statSync(path).size / SIZE_EVENTS;
    await log.close();
  }
  const path = join(dir, `sink-${spaced}.ttlog`);
  const log = createLogger({
    service: "bench",
    level: "debug",
    directives: "",
    worker: false,
    sinks: [fileSink({ path, format: "ttlog", compression: "lz4" })],
    ring: { bytes: RING_BYTES, overflow: "block" },
  });
  const logAll = () => logWorkload(log, SIZE_EVENTS);
  if (spaced) withSpacedClock(500, logAll);
  else logAll();
  await log.close();
  sizes["fileSink ttlog lz4"] = statSync(path).size / SIZE_EVENTS;
  return sizes;
}

function pinoSizes(spaced: boolean) {
  const chunks: string[] = [];
  const destination = { write: (line: string) => void chunks.push(line) };
  const logger = pino({ level: "debug" }, destination);
  const children = {
    http: logger.child({ module: "http" }),
    cache: logger.child({ module: "cache" }),
    db: logger.child({ module: "db" }),
  };
  const next = workload();
  const logAll = () => {
    for (let i = 0; i < SIZE_EVENTS; i++) {
      const event = next();
      children[event.target][event.level](event.fields, event.msg);
    }
  };
  if (spaced) withSpacedClock(500, logAll);
  else logAll();
  const ndjson = new TextEncoder().encode(chunks.join(""));
  return {
    "pino ndjson": ndjson.length / SIZE_EVENTS,
    "pino ndjson+gzip": gzipSync(ndjson).length / SIZE_EVENTS,
  };
}

/** pino's NDJSON lines of `count` workload events, as an array of lines. */
function pinoNdjson(count: number): string[] {
  const lines: string[] = [];
  const destination = { write: (line: string) => void lines.push(line) };
  const logger = pino({ level: "debug" }, destination);
  const children = {
    http: logger.child({ module: "http" }),
    cache: logger.child({ module: "cache" }),
    db: logger.child({ module: "db" }),
  };
  const next = workload();
  for (let i = 0; i < count; i++) {
    const event = next();
    children[event.target][event.level](event.fields, event.msg);
  }
  return lines;
}

const sizes = {
  "tight loop": { ...(await ttlogSizes(false)), ...pinoSizes(false) },
  "500 events/s": { ...(await ttlogSizes(true)), ...pinoSizes(true) },
};

// 3. A 1M-event file for `ttlog view`.
const viewLog = quietLogger(128 * 1024 * 1024);
logWorkload(viewLog, VIEW_EVENTS);
await viewLog.flush();
// In a directory of its own: the benchmarks' snapshots would prune it.
const viewFile = writeSnapshotSync(
  producersOf(viewLog),
  { service: "view", reason: "bench" },
  { dir: join(dir, "view"), keep: 1, compression: "lz4" },
);
await viewLog.close();
const viewBytes = statSync(viewFile).size;
let viewChars = 0;
let viewErrors = "";
const viewIo = {
  stdout: (text: string) => void (viewChars += text.length),
  stderr: (text: string) => void (viewErrors += text),
};
async function view(): Promise<void> {
  const status = await runCli(["view", viewFile, "--level", "error"], viewIo);
  if (status !== 0) throw new Error(`ttlog view failed: ${viewErrors}`);
}
// The file read once, outside the clock: its lines are the error events.
await view();
const viewLines = viewChars;

const FULL = "full 64 MiB ring";
const VIEW = `ttlog view --level error, ${
  VIEW_EVENTS.toLocaleString("en-US")
} events`;
const NO_RING = "keeps no ring: nothing to snapshot";

// The same events as pino writes them, for the peer row of the view group:
// what reading a log back costs without a binary format.
const pinoLines = pinoNdjson(VIEW_EVENTS);
let pinoErrors = 0;

const cases: BenchCase[] = [
  {
    group: FULL,
    name: "crash path: writeSnapshotSync, lz4",
    minSamples: 3,
    fn: () => do_not_optimize(crashSnapshot(fullProducers)),
  },
  {
    group: FULL,
    name: "await log.snapshot(), lz4",
    minSamples: 3,
    fn: async () => do_not_optimize(await full.snapshot("bench")),
  },
  {
    group: FULL,
    name: "part: captureRing (copy the ring)",
    minSamples: 3,
    fn: () =>
      do_not_optimize(
        captureRing(fullProducers[0].ring, fullProducers[0].dictionary),
      ),
  },
  {
    group: FULL,
    name: "part: eventsChunk (records to columns)",
    minSamples: 3,
    fn: () =>
      do_not_optimize(
        eventsChunk(0, fullCapture.entries, fullCapture),
      ),
  },
  {
    group: FULL,
    name: "part: encodeChunk (xxHash32, LZ4 frame)",
    minSamples: 3,
    fn: () =>
      do_not_optimize(encodeChunk(ChunkKind.events, fullColumns, "lz4")),
  },
  { group: FULL, name: "pino", na: NO_RING },
  { group: FULL, name: "logtape", na: NO_RING },
  { group: FULL, name: "winston", na: NO_RING },
  { group: FULL, name: "console", na: NO_RING },
  {
    group: VIEW,
    name: "runCli view --level error",
    minSamples: 3,
    fn: () => view(),
  },
  {
    group: VIEW,
    name:
      "pino NDJSON of the same events: JSON.parse each line, keep level >= 50",
    minSamples: 3,
    fn: () => {
      pinoErrors = 0;
      for (const line of pinoLines) {
        if ((JSON.parse(line) as { level: number }).level >= 50) pinoErrors++;
      }
    },
  },
];

const rows = await runRounds(cases, { budgetMs: 500 });
const viewNs = rows.find((r) => r.name === "runCli view --level error")?.avg;
const viewRate = viewNs === undefined
  ? undefined
  : VIEW_EVENTS / (viewNs / 1e9);
console.log(`${rt}: bytes per event`, JSON.stringify(sizes, null, 1));
console.log(
  `${rt}: full ring ${fullEvents} events, ${
    (fullCapture.records.length / 1048576).toFixed(1)
  } MiB of records; view file ${viewBytes} bytes, ${viewLines} chars out; view ${
    viewRate === undefined ? "?" : (viewRate / 1e6).toFixed(2)
  } M events/s; pino lines with level >= 50: ${pinoErrors}`,
);
saveRows("snapshot", rows, {
  fullRingEvents: fullEvents,
  bytesPerEventOnDisk: sizes,
  viewEvents: VIEW_EVENTS,
  viewEventsPerSecond: viewRate,
});
await full.close();
rmSync(dir, { recursive: true, force: true });
