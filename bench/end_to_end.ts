/**
 * End to end to a file: events per second from the first log call until
 * the logger is closed and every line is in the file, ttlog beside pino,
 * LogTape, winston and console in one process. Three groups: an NDJSON
 * file, a gzip file and an LZ4 file. Run with `npm run bench` or
 * `node scripts/bench.mjs end_to_end deno`.
 *
 * Each round, for each case: the logger and its file are set up outside
 * the clock (ttlog's drain worker is started and answers a flush); then
 * the clock runs while 50,000 reference events are logged
 * (`info("hello world", { a: 1, b: "two", c: true })`) and the logger is
 * closed; then the file is read back and must hold every event (lines, or
 * .ttlog records), else the run fails. Files go to the system's temporary
 * directory.
 *
 * - ttlog: `fileSink({ path, format, compression })`, default 8 MiB ring
 *   and `overwrite` policy (100,000 events fit, and the accounting is
 *   checked: nothing lost), drain in its worker (the default) or on the
 *   calling thread; `await log.close()`.
 * - pino: `pino.destination({ dest: path, sync: false })` (sonic-boom),
 *   closed with `end()` and its `close` event; gzip: pino into a stream
 *   that gathers 64 KiB before each write into a node:zlib `createGzip()`
 *   (level 6, as ttlog's) piped into `fs.createWriteStream(path)`.
 * - LogTape: `getFileSink(path, { formatter: jsonLinesFormatter })` from
 *   @logtape/file, closed with `dispose()`; gzip: `getStreamSink` over the
 *   same zlib stream (`Writable.toWeb`).
 * - winston: `transports.File({ filename: path })` with
 *   `format.combine(timestamp(), json())`, closed with `logger.end()` and
 *   the transport's `finish`; gzip: `transports.Stream` over the zlib
 *   stream.
 * - console: `new Console(fs.createWriteStream(path))` and
 *   `console.log(JSON.stringify({ time, level, msg, a, b, c }))`, closed
 *   with `end()` and `close`; gzip: the Console over the zlib stream.
 *
 * No peer writes LZ4 (node:zlib has no LZ4 stream): those rows say so.
 *
 * @module
 */

import { Console } from "node:console";
import {
  createWriteStream,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { Writable } from "node:stream";
import { createGzip, gunzipSync } from "node:zlib";
import pino from "pino";
import winston from "winston";
import {
  configure,
  dispose,
  getLogger,
  getStreamSink,
  jsonLinesFormatter,
  type Sink as LogTapeSink,
} from "@logtape/logtape";
import { getFileSink } from "@logtape/file";
import { createLogger, fileSink } from "../mod.ts";
import { detectRuntime } from "../src/sink.ts";
import { decodeLz4Frame } from "../src/codec/lz4_frame.ts";
import { readTtlog } from "../src/ttlog_file/chunk_reader.ts";
import { type BenchCase, runRounds } from "./harness.ts";
import { saveRows } from "./results.ts";

/** Events per run. */
const EVENTS = 50_000;

const dir = mkdtempSync(join(tmpdir(), "ttlog-bench-e2e-"));
let fileNumber = 0;
const rt = detectRuntime().name;

/** A logger set up and ready: log one reference event, then close. */
interface Setup {
  readonly path: string;
  log(): void;
  close(): Promise<void>;
  /** Throws if the run lost events. */
  check?(events: number): void;
}

type Output = "ndjson" | "gzip" | "lz4" | "ttlog-gzip" | "ttlog-lz4";

/** Times one run: setup outside the clock, then log `events` and close. */
function timed(
  output: Output,
  setup: (path: string) => Setup | Promise<Setup>,
  events: number,
): () => Promise<number> {
  return async () => {
    const path = join(dir, `run-${++fileNumber}`);
    const s = await setup(path);
    const t0 = performance.now();
    for (let i = 0; i < events; i++) s.log();
    await s.close();
    const ns = (performance.now() - t0) * 1e6;
    s.check?.(events);
    verify(output, path, events);
    rmSync(path, { force: true });
    return ns;
  };
}

function countLines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) n++;
  return n;
}

/** Reads the file back: it must hold `expected` events. */
function verify(output: Output, path: string, expected: number): void {
  const bytes = new Uint8Array(readFileSync(path));
  let events: number;
  switch (output) {
    case "ndjson":
      events = countLines(bytes);
      break;
    case "gzip":
      events = countLines(gunzipSync(bytes));
      break;
    case "lz4":
      events = countLines(decodeLz4Frame(bytes));
      break;
    default: {
      const { items, error, truncatedAt } = readTtlog(bytes, {
        filter: () => false,
      });
      if (error !== undefined || truncatedAt !== undefined) {
        throw new Error(
          `${path}: ${error?.message ?? `truncated at ${truncatedAt}`}`,
        );
      }
      events = 0;
      for (const item of items) {
        if (item.kind === "events") events += item.filtered;
      }
    }
  }
  if (events !== expected) {
    throw new Error(
      `${output} file ${path} (${
        statSync(path).size
      } bytes) holds ${events} events, not ${expected}`,
    );
  }
}

function ttlogSetup(
  format: "ndjson" | "ttlog",
  compression: "none" | "gzip" | "lz4",
  worker: boolean,
) {
  return async (path: string): Promise<Setup> => {
    const log = createLogger({
      service: "bench",
      level: "info",
      directives: "",
      worker,
      sinks: [fileSink({ path, format, compression })],
    });
    await log.flush(); // the worker is up before the clock starts
    let logged = 0, emitted = 0, lost = 0;
    return {
      path,
      log: () => log.info("hello world", { a: 1, b: "two", c: true }),
      close: async () => {
        await log.flush();
        const m = log.metrics();
        ({ logged, emitted } = m);
        lost = m.lost + m.dropped;
        await log.close();
      },
      check(events) {
        if (logged !== events || emitted !== events || lost !== 0) {
          throw new Error(
            `ttlog accounting: logged ${logged}, emitted ${emitted}, lost or dropped ${lost}`,
          );
        }
      },
    };
  };
}

/** Resolves on `event` of `emitter`. */
function once(
  emitter: { once(event: string, listener: () => void): unknown },
  event: string,
): Promise<void> {
  return new Promise((resolve) => emitter.once(event, () => resolve()));
}

/** Bytes gathered before one write into the gzip stream (as ttlog's file sink does). */
const GZIP_BUFFER = 64 * 1024;

/**
 * A Writable that gathers what it is given into 64 KiB pieces, written into
 * a node:zlib `createGzip()` stream piped into a file; and a promise of the
 * file's close. Without the gathering, node:zlib runs one deflate call per
 * line (a thread-pool round trip each in Node: tens of µs).
 */
function gzipFile(path: string): { gzip: Writable; closed: Promise<void> } {
  const file = createWriteStream(path);
  const zlib = createGzip();
  zlib.pipe(file);
  let parts: Uint8Array[] = [];
  let size = 0;
  const take = () => {
    const data = Buffer.concat(parts, size);
    parts = [];
    size = 0;
    return data;
  };
  const gzip = new Writable({
    write(chunk: Uint8Array, _encoding, callback) {
      parts.push(chunk);
      size += chunk.length;
      if (size < GZIP_BUFFER) return callback();
      if (zlib.write(take())) callback();
      else zlib.once("drain", () => callback());
    },
    final(callback) {
      if (size > 0) zlib.write(take());
      zlib.end();
      callback();
    },
  });
  return { gzip, closed: once(file, "close") };
}

function pinoSetup(path: string): Setup {
  const dest = pino.destination({ dest: path, sync: false });
  const logger = pino({ base: undefined }, dest);
  return {
    path,
    log: () => logger.info({ a: 1, b: "two", c: true }, "hello world"),
    close: async () => {
      // sonic-boom opens the file asynchronously; end() needs it open.
      if ((dest as unknown as { fd: number }).fd < 0) await once(dest, "ready");
      const closed = once(dest, "close");
      dest.end();
      await closed;
    },
  };
}

function pinoGzipSetup(path: string): Setup {
  const { gzip, closed } = gzipFile(path);
  const logger = pino({ base: undefined }, gzip);
  return {
    path,
    log: () => logger.info({ a: 1, b: "two", c: true }, "hello world"),
    close: async () => {
      gzip.end();
      await closed;
    },
  };
}

async function logtapeSetup(sink: LogTapeSink): Promise<Setup> {
  await configure({
    reset: true,
    sinks: { out: sink },
    loggers: [
      { category: ["bench"], lowestLevel: "info", sinks: ["out"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
  const logger = getLogger(["bench"]);
  return {
    path: "",
    log: () => logger.info("hello world", { a: 1, b: "two", c: true }),
    close: () => dispose(),
  };
}

function logtapeFileSetup(nonBlocking: boolean) {
  return async (path: string): Promise<Setup> => {
    const sink = getFileSink(path, {
      formatter: jsonLinesFormatter,
      nonBlocking,
    });
    return { ...(await logtapeSetup(sink)), path };
  };
}

async function logtapeGzipSetup(path: string): Promise<Setup> {
  const { gzip, closed } = gzipFile(path);
  const sink = getStreamSink(
    Writable.toWeb(gzip) as WritableStream<Uint8Array>,
    { formatter: jsonLinesFormatter },
  );
  const s = await logtapeSetup(sink);
  return {
    ...s,
    path,
    close: async () => {
      await s.close();
      await closed;
    },
  };
}

function winstonSetup(
  transport: winston.transport,
  finished: () => Promise<void>,
  path: string,
): Setup {
  const logger = winston.createLogger({
    level: "info",
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.json(),
    ),
    transports: [transport],
  });
  return {
    path,
    log: () => logger.info("hello world", { a: 1, b: "two", c: true }),
    close: async () => {
      const done = finished();
      logger.end();
      await done;
    },
  };
}

function winstonFileSetup(path: string): Setup {
  const transport = new winston.transports.File({ filename: path });
  return winstonSetup(transport, () => once(transport, "finish"), path);
}

function winstonGzipSetup(path: string): Setup {
  const { gzip, closed } = gzipFile(path);
  const transport = new winston.transports.Stream({ stream: gzip });
  return winstonSetup(transport, async () => {
    await once(transport, "finish");
    gzip.end();
    await closed;
  }, path);
}

function consoleSetup(stream: Writable, closed: Promise<void>, path: string) {
  const out = new Console(stream);
  return {
    path,
    log: () =>
      out.log(
        JSON.stringify({
          time: Date.now(),
          level: "info",
          msg: "hello world",
          a: 1,
          b: "two",
          c: true,
        }),
      ),
    close: async () => {
      stream.end();
      await closed;
    },
  };
}

function consoleFileSetup(path: string): Setup {
  const file = createWriteStream(path);
  return consoleSetup(file, once(file, "close"), path);
}

function consoleGzipSetup(path: string): Setup {
  const { gzip, closed } = gzipFile(path);
  return consoleSetup(gzip, closed, path);
}

const NO_LZ4 = "no LZ4 output; node:zlib has no LZ4 stream";

function run(
  group: string,
  name: string,
  output: Output,
  setup: (path: string) => Setup | Promise<Setup>,
  events = EVENTS,
): BenchCase {
  return { group, name, calls: events, once: timed(output, setup, events) };
}

/**
 * Events for LogTape's default file sink, which writes and fsyncs each
 * record under 200 bytes by itself (over 100 µs each here): fewer, so the
 * run stays short; the rate is per event all the same.
 */
const FSYNC_EVENTS = 2_000;

const NDJSON = `NDJSON file, ${EVENTS.toLocaleString("en-US")} events`;
const GZIP = `gzip file, ${EVENTS.toLocaleString("en-US")} events`;
const LZ4 = `LZ4 file, ${EVENTS.toLocaleString("en-US")} events`;

const cases: BenchCase[] = [
  run(
    NDJSON,
    "ttlog, drain in its worker",
    "ndjson",
    ttlogSetup("ndjson", "none", true),
  ),
  run(
    NDJSON,
    "ttlog, drain on the calling thread",
    "ndjson",
    ttlogSetup("ndjson", "none", false),
  ),
  run(NDJSON, "pino", "ndjson", pinoSetup),
  run(
    NDJSON,
    `logtape getFileSink, default (write + fsync per event; ${
      FSYNC_EVENTS.toLocaleString("en-US")
    } events)`,
    "ndjson",
    logtapeFileSetup(false),
    FSYNC_EVENTS,
  ),
  run(
    NDJSON,
    "logtape getFileSink, nonBlocking: true",
    "ndjson",
    logtapeFileSetup(true),
  ),
  run(NDJSON, "winston", "ndjson", winstonFileSetup),
  run(NDJSON, "console", "ndjson", consoleFileSetup),

  run(
    GZIP,
    "ttlog ndjson, drain in its worker",
    "gzip",
    ttlogSetup("ndjson", "gzip", true),
  ),
  run(
    GZIP,
    "ttlog .ttlog format, drain in its worker",
    "ttlog-gzip",
    ttlogSetup("ttlog", "gzip", true),
  ),
  run(GZIP, "pino into createGzip()", "gzip", pinoGzipSetup),
  run(
    GZIP,
    "logtape getStreamSink into createGzip()",
    "gzip",
    logtapeGzipSetup,
  ),
  run(
    GZIP,
    "winston Stream transport into createGzip()",
    "gzip",
    winstonGzipSetup,
  ),
  run(GZIP, "console into createGzip()", "gzip", consoleGzipSetup),

  run(
    LZ4,
    "ttlog ndjson, drain in its worker",
    "lz4",
    ttlogSetup("ndjson", "lz4", true),
  ),
  run(
    LZ4,
    "ttlog .ttlog format, drain in its worker",
    "ttlog-lz4",
    ttlogSetup("ttlog", "lz4", true),
  ),
  { group: LZ4, name: "pino", na: NO_LZ4 },
  { group: LZ4, name: "logtape", na: NO_LZ4 },
  { group: LZ4, name: "winston", na: NO_LZ4 },
  { group: LZ4, name: "console", na: NO_LZ4 },
];

try {
  const rows = await runRounds(cases, { verbose: true });
  saveRows("end_to_end", rows, { events: EVENTS });
  for (const row of rows) {
    if (row.avg !== undefined) {
      console.log(
        `${rt}: ${row.group} / ${row.name}: ${
          Math.round(1e9 / row.avg).toLocaleString("en-US")
        } events/s`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
