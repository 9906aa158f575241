/**
 * A sink that writes formatted lines to the process's stdout or stderr.
 *
 * @module
 */

import { ndjsonFormatter } from "../format/ndjson.ts";
import { textFormatter } from "../format/text.ts";
import type { LogRecord } from "../record/values.ts";
import { runtime } from "../runtime/mod.ts";
import { BUILTIN_SINK_MODULE, type Formatter, type Sink } from "./sink.ts";
import {
  type BadOption,
  badOption,
  booleanOption,
  choiceOption,
  isPlainObject,
} from "../validate.ts";

/** UTF-16 units whose UTF-8 encoding always fits in PIPE_BUF (4096 bytes). */
const ATOMIC_UNITS = 1365;
/** Bytes a pipe takes in one atomic write. */
const PIPE_BUF = 4096;

/**
 * Options of {@link consoleSink}.
 *
 * @example Uncoloured text on stderr
 * ```ts
 * import { consoleSink, type ConsoleSinkOptions, createLogger } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const options: ConsoleSinkOptions = { format: "text", stream: "stderr", color: false };
 * const sink = consoleSink(options);
 * assert.equal(sink.name, "console:stderr");
 * const log = createLogger({ sinks: [sink] });
 * log.warn("disk almost full", { free: 3 });
 * await log.close();
 * ```
 */
export interface ConsoleSinkOptions {
  /** `"text"` (default), `"ndjson"`, or a formatter of your own. */
  readonly format?: "text" | "ndjson" | Formatter;
  /** Where lines go (default `"stdout"`). */
  readonly stream?: "stdout" | "stderr";
  /** Colour for `text`; default: when the stream is a terminal and NO_COLOR is unset. */
  readonly color?: boolean;
}

/**
 * Creates a sink that writes one line per record to stdout (or stderr), in
 * writes of whole lines small enough for a pipe to take atomically, so lines
 * never interleave partially with other output. It runs in the drain's
 * worker.
 *
 * @param options The format, the stream and colour.
 * @returns The sink.
 * @throws {TtlogConfigError} When an option is of the wrong type or unknown
 * (the message names it and the bad value).
 *
 * @example Log as ndjson to stdout
 * ```ts
 * import { consoleSink, createLogger } from "@ttlog/ttlog";
 * const log = createLogger({ sinks: [consoleSink({ format: "ndjson" })] });
 * log.info("ready", { port: 8080 });
 * await log.close();
 * ```
 */
export function consoleSink(options: ConsoleSinkOptions = {}): Sink {
  const bad: BadOption = badOption("consoleSink");
  // (Checked as unknown: narrowing would widen the format to a Function.)
  if (!isPlainObject(options as unknown)) bad("options", options, "an object");
  const stream = choiceOption(bad, options.stream, "stream", [
    "stdout",
    "stderr",
  ]);
  const format = options.format ?? "text";
  const color = options.color === undefined
    ? runtime.isTerminal(stream) && (runtime.env("NO_COLOR") ?? "") === ""
    : booleanOption(bad, options.color, "color", false);
  let formatter: Formatter;
  if (typeof format === "function") formatter = format;
  else if (format === "text") formatter = textFormatter({ color });
  else if (format === "ndjson") formatter = ndjsonFormatter();
  else bad("format", format, '"text", "ndjson" or a function');
  return {
    name: `console:${stream}`,
    // A formatter function cannot cross to a worker: then the drain stays here.
    spec: typeof format === "function" ? undefined : {
      module: BUILTIN_SINK_MODULE,
      factory: "consoleSink",
      options: { format, stream, color } satisfies ConsoleSinkOptions,
    },
    // NDJSON lines come written by the drain, straight from the ring.
    ...(format === "ndjson"
      ? {
        lines: "ndjson" as const,
        writeLines(bytes: Uint8Array): void {
          // Whole lines, at most PIPE_BUF bytes per write, as below.
          let from = 0;
          while (from < bytes.length) {
            let to = bytes.length;
            if (to - from > PIPE_BUF) {
              const end = bytes.lastIndexOf(0x0a, from + PIPE_BUF - 1);
              to = end >= from ? end + 1 : bytes.indexOf(0x0a, from) + 1 ||
                bytes.length;
            }
            runtime.write(stream, bytes.subarray(from, to));
            from = to;
          }
        },
      }
      : {}),
    write(records: readonly LogRecord[]): void {
      // Whole lines, at most PIPE_BUF (4096) bytes per write (1365 UTF-16
      // units encode to at most 4095 bytes): a pipe takes such a write
      // atomically, so lines from this thread and others never interleave
      // inside a line.
      let out = "";
      for (const record of records) {
        const line = formatter(record) + "\n";
        if (out.length > 0 && out.length + line.length > ATOMIC_UNITS) {
          runtime.write(stream, out);
          out = "";
        }
        out += line;
      }
      if (out.length > 0) runtime.write(stream, out);
    },
  };
}
