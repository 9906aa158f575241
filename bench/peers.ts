/**
 * The peers the benchmarks measure beside ttlog, set up once here so that
 * every scenario uses the same configuration:
 *
 * - pino: `pino({ base: undefined }, pino.destination(...))`, asynchronous
 *   sonic-boom; per-call scenarios write to /dev/null with 4 KiB buffering.
 * - LogTape: one category with a sink that formats each record with
 *   `jsonLinesFormatter` (what its file and stream sinks do inside the call)
 *   and drops the line.
 * - winston: `format.combine(errors({ stack: true }), splat(), timestamp(),
 *   json())` into a `transports.Stream` over a node:stream Writable whose
 *   `write()` drops the chunk and calls back at once.
 * - console: `new Console({ stdout, stderr })` from node:console over the
 *   same discarding Writable, so `console.log` formats (util.inspect) and
 *   writes as usual but nothing reaches a terminal or a file.
 *
 * @module
 */

import { Console } from "node:console";
import { Writable } from "node:stream";
import pino from "pino";
import winston from "winston";
import {
  configure,
  getLogger,
  jsonLinesFormatter,
  type Logger as LogTapeLogger,
} from "@logtape/logtape";

/** Characters the discarding destinations were handed (so no engine skips the formatting). */
export const discarded = { chars: 0 };

/** A Writable that drops every chunk and calls back at once. */
export function discardStream(): Writable {
  return new Writable({
    write(chunk: { length: number }, _encoding, callback) {
      discarded.chars += chunk.length;
      callback();
    },
  });
}

/** pino to /dev/null through pino.destination (asynchronous sonic-boom, 4 KiB buffer). */
export function pinoDevNull(): pino.Logger {
  return pino(
    { base: undefined },
    pino.destination({ dest: "/dev/null", sync: false, minLength: 4096 }),
  );
}

/**
 * Configures LogTape with category `["bench"]` at info into a sink that
 * formats each record as a JSON line and drops it.
 */
export async function logtapeJson(): Promise<LogTapeLogger> {
  await configure({
    reset: true,
    sinks: {
      jsonDiscard: (record) => {
        discarded.chars += jsonLinesFormatter(record).length;
      },
    },
    loggers: [
      { category: ["bench"], lowestLevel: "info", sinks: ["jsonDiscard"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
  return getLogger(["bench"]);
}

/** winston's usual JSON setup at info into a discarding stream. */
export function winstonDiscard(): winston.Logger {
  return winston.createLogger({
    level: "info",
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      winston.format.splat(),
      winston.format.timestamp(),
      winston.format.json(),
    ),
    transports: [new winston.transports.Stream({ stream: discardStream() })],
  });
}

/** A node:console Console whose stdout and stderr discard. */
export function consoleDiscard(): Console {
  return new Console({ stdout: discardStream(), stderr: discardStream() });
}

/** An Error with a few frames of stack, made once and logged by every logger. */
export function sampleError(): Error {
  function connect(): Error {
    return new Error("upstream payments timed out after 3000 ms");
  }
  function charge(): Error {
    return connect();
  }
  function handleRequest(): Error {
    return charge();
  }
  return handleRequest();
}
