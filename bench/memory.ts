/**
 * Memory: ring bytes per event, and how much the process's resident memory
 * grows while 1,000,000 events are retained. Run with `npm run bench` or
 * `node scripts/bench.mjs memory deno`.
 *
 * "Retained" means kept in ttlog's ring, readable by a snapshot: the ring
 * is made big enough (rounded up to a power of two) that none of the
 * 1,000,000 events is evicted, and the run checks that. pino keeps nothing
 * once a line is written: its row is the growth of a process that logged
 * the same events to /dev/null, for scale.
 *
 * Each measurement runs in a fresh child process of the same runtime, with
 * a real garbage collector call before each reading (`--expose-gc` for
 * Deno and Node, `Bun.gc(true)` for Bun); resident memory is
 * `process.memoryUsage().rss` from node:process. Readings: before the
 * logger exists, once it is created and its drain worker answers a flush
 * (the logger's fixed cost: the worker thread, the dictionary), and after
 * the events are logged and flushed (the growth per retained event: ring
 * pages touched for the first time, plus whatever else stayed). Ring memory
 * is a SharedArrayBuffer the system hands out lazily, so an untouched ring
 * costs no resident memory.
 *
 * Two kinds of events: the reference call (`info("hello world", { a: 1,
 * b: "two", c: true })`) and the reference workload of bench/workload.ts
 * (the mix of request, cache, slow-query and error events a web service
 * logs).
 *
 * Repeated three times per case; the median is kept and the spread shown.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { createLogger, type Logger } from "../mod.ts";
import { detectRuntime } from "../src/sink.ts";
import { internals } from "../src/logger/logger.ts";
import { captureRing } from "../src/snapshot/capture.ts";
import { discardSink } from "./discard_sink.ts";
import { type BenchRow, median, spreadOf } from "./harness.ts";
import { saveRows } from "./results.ts";
import { logWorkload, workload } from "./workload.ts";

const EVENTS = 1_000_000;
const REPEATS = 3;
const MB = 1e6;

type Kind = "reference" | "workload";
const LOGGERS = [
  "ttlog-recorded",
  "ttlog-emitted",
  "pino",
  "no-logger",
] as const;
type Case = `${typeof LOGGERS[number]}-${Kind}`;
/** Events logged between two flushes. */
const BATCH = 10_000;

interface Reading {
  rssStart: number;
  rssReady: number;
  rssEnd: number;
  ringBytes?: number;
  recordedBytes?: number;
  retained?: number;
}

function collectGarbage(): void {
  const g = globalThis as {
    gc?: () => void;
    Bun?: { gc(force: boolean): void };
  };
  if (g.Bun !== undefined) g.Bun.gc(true);
  else if (g.gc !== undefined) g.gc();
  else throw new Error("memory.ts needs --expose-gc (Deno: --v8-flags=)");
}

function rss(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().rss;
}

/** Logs `count` events of `kind` into a ttlog logger. */
function logTtlog(log: Logger, kind: Kind, count: number, seed = 0): void {
  if (kind === "workload") logWorkload(log, count, seed + 1);
  else {
    for (let i = 0; i < count; i++) {
      log.info("hello world", { a: 1, b: "two", c: true });
    }
  }
}

/** Ring bytes per event of each kind, on a logger whose ring does not wrap. */
async function bytesPerEvent(kind: Kind): Promise<number> {
  const log = createLogger({
    service: "bench",
    level: "info",
    recordLevel: "debug",
    directives: "",
    worker: false,
    sinks: [],
    ring: { bytes: 64 * 1024 * 1024 },
  });
  logTtlog(log, kind, 100_000);
  const m = log.metrics();
  await log.close();
  return m.recordedBytes / m.recorded;
}

/** In the child: one case, printed as JSON on stdout. */
async function child(name: Case, ringBytes: number): Promise<void> {
  const kind: Kind = name.endsWith("workload") ? "workload" : "reference";
  const rssStart = rss();
  if (name.startsWith("ttlog")) {
    const log = createLogger({
      service: "bench",
      // Recorded only: the drain reads each record's header and emits
      // nothing. Emitted: it decodes each record for the sink.
      level: name.startsWith("ttlog-emitted") ? "info" : "off",
      recordLevel: "debug",
      directives: "",
      worker: true,
      sinks: [discardSink()],
      ring: { bytes: ringBytes, overflow: "overwrite" },
    });
    await log.flush();
    const rssReady = rss();
    for (let done = 0; done < EVENTS; done += BATCH) {
      logTtlog(log, kind, BATCH, done);
      await log.flush();
    }
    const rssEnd = rss();
    const m = log.metrics();
    const { ring, dictionary } = internals(log);
    const reading: Reading = {
      rssStart,
      rssReady,
      rssEnd,
      ringBytes: ring.capacity,
      recordedBytes: m.recordedBytes,
      // What a snapshot would read now (after the readings: it copies).
      retained: captureRing(ring, dictionary).count,
    };
    await log.close();
    console.log(JSON.stringify(reading));
  } else if (name.startsWith("no-logger")) {
    // The same loop, events made and dropped: the garbage of the loop alone.
    const rssReady = rss();
    const next = workload();
    let kept: unknown;
    for (let done = 0; done < EVENTS; done += BATCH) {
      for (let i = 0; i < BATCH; i++) {
        kept = kind === "workload" ? next() : { a: 1, b: "two", c: true };
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const rssEnd = rss();
    console.log(JSON.stringify({ rssStart, rssReady, rssEnd, kept: !!kept }));
  } else {
    const logger = pino(
      { base: undefined, level: "debug" },
      pino.destination({ dest: "/dev/null", sync: false, minLength: 4096 }),
    );
    const rssReady = rss();
    const children = {
      http: logger.child({ module: "http" }),
      cache: logger.child({ module: "cache" }),
      db: logger.child({ module: "db" }),
    };
    const next = workload();
    for (let done = 0; done < EVENTS; done += BATCH) {
      for (let i = 0; i < BATCH; i++) {
        if (kind === "workload") {
          const event = next();
          children[event.target][event.level](event.fields, event.msg);
        } else {
          logger.info({ a: 1, b: "two", c: true }, "hello world");
        }
      }
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
    }
    const rssEnd = rss();
    console.log(JSON.stringify({ rssStart, rssReady, rssEnd }));
  }
}

/** The command that runs this file again, with a garbage collector exposed. */
function childCommand(args: string[]): [string, string[]] {
  const file = fileURLToPath(import.meta.url);
  switch (detectRuntime().name) {
    case "deno":
      return [process.execPath, [
        "run",
        "-A",
        "--v8-flags=--expose-gc",
        file,
        ...args,
      ]];
    case "bun":
      return [process.execPath, [file, ...args]];
    default:
      return [process.execPath, [
        "--expose-gc",
        "--import",
        import.meta.resolve("tsx"),
        file,
        ...args,
      ]];
  }
}

function runChild(name: Case, ringBytes: number): Reading {
  const [command, args] = childCommand(["child", name, String(ringBytes)]);
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(
      `memory child ${name} failed (${result.status}): ${result.stderr}`,
    );
  }
  const line = result.stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line) as Reading;
}

async function parent(): Promise<void> {
  const rt = detectRuntime().name;
  const perEvent: Record<Kind, number> = {
    reference: await bytesPerEvent("reference"),
    workload: await bytesPerEvent("workload"),
  };
  const rows: BenchRow[] = [];
  const details: Record<string, Record<string, Reading[]>> = {};
  for (const kind of ["reference", "workload"] as const) {
    // A ring that holds every event, with room to spare for the producer's
    // free-space margin.
    const ringBytes = perEvent[kind] * EVENTS * 1.05;
    const readings = Object.fromEntries(
      LOGGERS.map((logger) => [logger, [] as Reading[]]),
    ) as Record<typeof LOGGERS[number], Reading[]>;
    for (let r = 0; r < REPEATS; r++) {
      for (const logger of LOGGERS) {
        const reading = runChild(`${logger}-${kind}`, ringBytes);
        if (logger.startsWith("ttlog") && reading.retained !== EVENTS) {
          throw new Error(
            `${logger} retained ${reading.retained} of ${EVENTS} ${kind} events (ring ${reading.ringBytes} bytes, recorded ${reading.recordedBytes})`,
          );
        }
        readings[logger].push(reading);
        console.log(
          `${rt} ${kind} ${logger}: rss ${
            (reading.rssStart / MB).toFixed(1)
          } MB at start, +${
            ((reading.rssReady - reading.rssStart) / MB).toFixed(1)
          } MB logger, +${
            ((reading.rssEnd - reading.rssReady) / MB).toFixed(1)
          } MB after ${EVENTS} events`,
        );
      }
    }
    const group = kind === "reference"
      ? "1,000,000 reference calls (message + 3 fields)"
      : "1,000,000 reference-workload events";
    const row = (
      name: string,
      unit: BenchRow["unit"],
      values: number[],
    ): BenchRow => ({
      group,
      name,
      unit,
      avg: median(values),
      roundAvgs: values,
      spread: spreadOf(values),
    });
    const growth = (list: Reading[]) => list.map((x) => x.rssEnd - x.rssReady);
    rows.push(
      row("ttlog: ring bytes per event", "bytes", [perEvent[kind]]),
      row(
        "ttlog: ring size (allocated; paged in as written)",
        "bytes",
        readings["ttlog-recorded"].map((x) => x.ringBytes!),
      ),
      row(
        "ttlog: RSS added by creating the logger (drain worker, dictionary)",
        "bytes",
        readings["ttlog-recorded"].map((x) => x.rssReady - x.rssStart),
      ),
      row(
        "ttlog, recorded only (emit level off): RSS growth, 1M events retained",
        "bytes",
        growth(readings["ttlog-recorded"]),
      ),
      row(
        "ttlog, recorded and emitted (worker decodes each for a discarding sink): RSS growth",
        "bytes",
        growth(readings["ttlog-emitted"]),
      ),
      row(
        "pino to /dev/null, nothing retained: RSS growth",
        "bytes",
        growth(readings.pino),
      ),
      row(
        "no logger (the same loop, events made and dropped): RSS growth",
        "bytes",
        growth(readings["no-logger"]),
      ),
    );
    details[kind] = readings;
  }
  for (const r of rows) {
    console.log(
      `${rt}: ${r.group} / ${r.name}: ${
        r.avg! < 1000 ? r.avg!.toFixed(1) + " B" : (r.avg! / MB).toFixed(1) +
          " MB"
      } (spread ${(r.spread! * 100).toFixed(0)}%)`,
    );
  }
  saveRows("memory", rows, {
    events: EVENTS,
    ringBytesPerEvent: perEvent,
    readings: details,
  });
}

if (process.argv.includes("child")) {
  const [name, ringBytes] = process.argv.slice(
    process.argv.indexOf("child") + 1,
  );
  await child(name as Case, Number(ringBytes));
} else {
  await parent();
}
