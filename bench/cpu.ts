/**
 * What the whole process pays per event: CPU time of every thread (the
 * caller, ttlog's drain worker, pino's and the runtime's own threads, from
 * getrusage: see processCpuNs in harness.ts), for 200,000 reference events
 * (`info("hello world", { a: 1, b: "two", c: true })`) written as NDJSON to a
 * file, from the first call until every line is in the file. ttlog with its
 * drain in its worker and on the caller's thread,
 * pino (`pino.destination`, asynchronous sonic-boom, `minLength: 4096`) and LogTape
 * (`getFileSink` with `jsonLinesFormatter` and `nonBlocking: true`, its
 * fastest), interleaved in one process.
 * Run with `npm run bench` or `node scripts/bench.mjs cpu deno`.
 *
 * Steady state, as in a server: each case's logger is made once (the
 * warm-up round makes it, its worker starts and its code is compiled) and
 * kept. Each round, for each case: the process's CPU time is read, the
 * events are logged and flushed (ttlog's `flush()`, sonic-boom's
 * `flush(cb)`), the CPU time is read again, and the file must hold every
 * event so far. LogTape has no flush: each of its rounds makes its sink and
 * disposes of it. A case's number is the median of its rounds, in CPU ns per
 * event; the ratios to pino's are in the result file as `cpuRatios`. After
 * each round the file is emptied (the loggers append), so it stays small.
 *
 * @module
 */

import { mkdtempSync, readFileSync, rmSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import pino from "pino";
import {
  configure,
  dispose,
  getLogger,
  jsonLinesFormatter,
} from "@logtape/logtape";
import { getFileSink } from "@logtape/file";
import { createLogger, fileSink } from "../mod.ts";
import { detectRuntime } from "../src/sink.ts";
import { type BenchCase, processCpuNs, runRounds } from "./harness.ts";
import { saveRows } from "./results.ts";

/**
 * Events per run: all of them fit ttlog's default 8 MiB ring (36 bytes
 * each), which the inline drain only reads once the loop is done.
 */
export const EVENTS = 200_000;

const dir = mkdtempSync(join(tmpdir(), "ttlog-bench-cpu-"));
let fileNumber = 0;
const rt = detectRuntime().name;

/** A logger writing NDJSON to `path`, ready: log one reference event, flush, close. */
export interface CpuSetup {
  log(): void;
  /** Resolves when every line logged so far is in the file. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** ttlog's file sink, drain in its worker or on the caller's thread. */
export async function ttlogSetup(
  path: string,
  worker: boolean,
): Promise<CpuSetup> {
  const log = createLogger({
    service: "bench",
    level: "info",
    directives: "",
    worker,
    sinks: [fileSink({ path, format: "ndjson" })],
  });
  await log.flush(); // the worker is up before the clock starts
  return {
    log: () => log.info("hello world", { a: 1, b: "two", c: true }),
    flush: () => log.flush(),
    close: () => log.close(),
  };
}

/** pino to a file through asynchronous sonic-boom (4 KiB writes), as pino recommends. */
export function pinoSetup(path: string): CpuSetup {
  // minLength: writes gathered to 4 KiB, as pino advises for throughput
  // (and what makes sonic-boom's flush(cb) wait for the write).
  const destination = pino.destination({
    dest: path,
    sync: false,
    minLength: 4096,
  });
  const log = pino({ base: { service: "bench" } }, destination);
  return {
    log: () => log.info({ a: 1, b: "two", c: true }, "hello world"),
    // sonic-boom's flush(cb) writes one buffer and calls back once it is
    // written: again until nothing is buffered (its _len) or in flight.
    flush: async () => {
      const boom = destination as unknown as {
        _len: number;
        _writing: boolean;
      };
      while (boom._len > 0 || boom._writing) {
        await new Promise<void>((resolve, reject) =>
          destination.flush((error) => error ? reject(error) : resolve())
        );
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        destination.once("close", () => resolve());
        destination.end();
      }),
  };
}

async function logtapeSetup(path: string): Promise<CpuSetup> {
  await configure({
    reset: true,
    sinks: {
      file: getFileSink(path, {
        formatter: jsonLinesFormatter,
        nonBlocking: true,
      }),
    },
    loggers: [
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
      { category: "bench", lowestLevel: "info", sinks: ["file"] },
    ],
  });
  const log = getLogger("bench");
  return {
    log: () => log.info("hello world", { a: 1, b: "two", c: true }),
    flush: () => Promise.resolve(),
    close: () => dispose(),
  };
}

function countLines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) n++;
  return n;
}

/** A logger kept across runs, and its file. */
export interface Kept {
  readonly path: string;
  readonly setup: CpuSetup;
}

/** Makes a logger to keep for {@link cpuRun}. */
export async function keep(
  setup: (path: string) => CpuSetup | Promise<CpuSetup>,
): Promise<Kept> {
  const path = join(dir, `run-${++fileNumber}`);
  return { path, setup: await setup(path) };
}

/** Closes a kept logger and removes its file. */
export async function release(kept: Kept): Promise<void> {
  await kept.setup.close();
  rmSync(kept.path, { force: true });
}

function processCpu(): number {
  const ns = processCpuNs();
  if (ns === undefined) {
    throw new Error(
      "no process.cpuUsage() and no /proc/self/stat: the process's CPU time cannot be read",
    );
  }
  return ns;
}

/**
 * The process's CPU ns for `events` events logged and flushed through a
 * kept logger; its file must then hold them all (it is emptied after).
 */
export async function cpuRun(kept: Kept, events: number): Promise<number> {
  const s = kept.setup;
  const before = processCpu();
  for (let i = 0; i < events; i++) s.log();
  await s.flush();
  const ns = processCpu() - before;
  const lines = countLines(new Uint8Array(readFileSync(kept.path)));
  if (lines !== events) {
    throw new Error(`${kept.path} holds ${lines} lines, not ${events}`);
  }
  // Both loggers append (O_APPEND): emptied, the file fills from 0 again.
  truncateSync(kept.path, 0);
  return ns;
}

/** As {@link cpuRun} for a logger made and closed inside the measure. */
async function cpuRunOnce(
  setup: (path: string) => CpuSetup | Promise<CpuSetup>,
  events: number,
): Promise<number> {
  const path = join(dir, `run-${++fileNumber}`);
  const s = await setup(path);
  const before = processCpu();
  for (let i = 0; i < events; i++) s.log();
  await s.close();
  const ns = processCpu() - before;
  const lines = countLines(new Uint8Array(readFileSync(path)));
  rmSync(path, { force: true });
  if (lines !== events) {
    throw new Error(`${path} holds ${lines} lines, not ${events}`);
  }
  return ns;
}

const kept = new Map<string, Promise<Kept>>();

/** A case on a logger made at its first run and kept. */
function steady(
  name: string,
  setup: (path: string) => CpuSetup | Promise<CpuSetup>,
): () => Promise<number> {
  return async () => {
    let k = kept.get(name);
    if (k === undefined) kept.set(name, k = keep(setup));
    return cpuRun(await k, EVENTS);
  };
}

const GROUP = "process CPU per NDJSON event to a file (all threads)";

const cases: BenchCase[] = [
  {
    group: GROUP,
    name: "ttlog, drain in its worker",
    calls: EVENTS,
    once: steady("worker", (path) => ttlogSetup(path, true)),
  },
  {
    group: GROUP,
    name: "ttlog, drain inline",
    calls: EVENTS,
    once: steady("inline", (path) => ttlogSetup(path, false)),
  },
  {
    group: GROUP,
    name: "pino",
    calls: EVENTS,
    once: steady("pino", pinoSetup),
  },
  {
    group: GROUP,
    name: "logtape (a sink per round: it has no flush)",
    calls: EVENTS,
    once: () => cpuRunOnce(logtapeSetup, EVENTS),
  },
];

/** Whether this file is the program (not imported by the perf guard). */
const isMain = import.meta.main ??
  (process.argv[1] !== undefined &&
    pathToFileURL(process.argv[1]).href === import.meta.url);

if (isMain) {
  const rows = await runRounds(cases);
  const pinoNs = rows.find((r) => r.name === "pino")?.avg;
  const cpuRatios: Record<string, number> = {};
  for (const row of rows) {
    if (row.avg !== undefined && pinoNs !== undefined) {
      cpuRatios[row.name] = pinoNs / row.avg;
    }
  }
  console.log(
    `${rt}: pino's CPU per event / each case's: ${JSON.stringify(cpuRatios)}`,
  );
  saveRows("cpu", rows, { events: EVENTS, cpuRatios });
  for (const k of kept.values()) await release(await k);
  rmSync(dir, { recursive: true, force: true });
}
