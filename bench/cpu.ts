/**
 * What the whole process pays per event: CPU time of every thread (the
 * caller, ttlog's drain worker, pino's and the runtime's own threads) from
 * /proc/self/stat, for 200,000 reference events
 * (`info("hello world", { a: 1, b: "two", c: true })`) written as NDJSON to a
 * file, from the first call until the logger is closed and every line is in
 * the file. ttlog with its drain in its worker and on the caller's thread,
 * pino (`pino.destination`, asynchronous sonic-boom) and LogTape
 * (`getFileSink` with `jsonLinesFormatter` and `nonBlocking: true`, its
 * fastest), interleaved in one process.
 * Run with `npm run bench` or `node scripts/bench.mjs cpu deno`.
 *
 * Each round, for each case: the logger and its file are set up, then the
 * process's CPU time is read, the events are logged and the logger closed,
 * the CPU time is read again, and the file must hold every event. A case's
 * number is the median of its rounds, in CPU ns per event; the ratios to
 * pino's are in the result file as `cpuRatios`. The clock tick is 10 ms: a
 * run takes 0.2-1 s of CPU, so a number is good to a few percent.
 *
 * @module
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
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

/** Events per run. */
export const EVENTS = 200_000;

const dir = mkdtempSync(join(tmpdir(), "ttlog-bench-cpu-"));
let fileNumber = 0;
const rt = detectRuntime().name;

/** A logger writing NDJSON to `path`, ready: log one reference event, then close. */
export interface CpuSetup {
  log(): void;
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
    close: () => log.close(),
  };
}

/** pino to a file through asynchronous sonic-boom, as pino recommends. */
export function pinoSetup(path: string): CpuSetup {
  const destination = pino.destination({ dest: path, sync: false });
  const log = pino({ base: { service: "bench" } }, destination);
  return {
    log: () => log.info({ a: 1, b: "two", c: true }, "hello world"),
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
    close: () => dispose(),
  };
}

function countLines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) n++;
  return n;
}

/**
 * The process's CPU ns for one run of `events` events: set up outside the
 * measure, then log and close inside it; the file must hold every event.
 */
export async function cpuRun(
  setup: (path: string) => CpuSetup | Promise<CpuSetup>,
  events: number,
): Promise<number> {
  const path = join(dir, `run-${++fileNumber}`);
  const s = await setup(path);
  const before = processCpuNs();
  if (before === undefined) {
    throw new Error("no /proc/self/stat: process CPU time cannot be read");
  }
  for (let i = 0; i < events; i++) s.log();
  await s.close();
  const ns = processCpuNs()! - before;
  const lines = countLines(new Uint8Array(readFileSync(path)));
  rmSync(path, { force: true });
  if (lines !== events) {
    throw new Error(`${path} holds ${lines} lines, not ${events}`);
  }
  return ns;
}

const GROUP = "process CPU per NDJSON event to a file (all threads)";

const cases: BenchCase[] = [
  {
    group: GROUP,
    name: "ttlog, drain in its worker",
    calls: EVENTS,
    once: () => cpuRun((path) => ttlogSetup(path, true), EVENTS),
  },
  {
    group: GROUP,
    name: "ttlog, drain inline",
    calls: EVENTS,
    once: () => cpuRun((path) => ttlogSetup(path, false), EVENTS),
  },
  {
    group: GROUP,
    name: "pino",
    calls: EVENTS,
    once: () => cpuRun(pinoSetup, EVENTS),
  },
  {
    group: GROUP,
    name: "logtape",
    calls: EVENTS,
    once: () => cpuRun(logtapeSetup, EVENTS),
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
  rmSync(dir, { recursive: true, force: true });
}
