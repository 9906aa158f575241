/**
 * A sink that writes formatted lines to the process's stdout or stderr.
 *
 * @module
 */

import { ndjsonFormatter } from "../format/ndjson.ts";
import { textFormatter } from "../format/text.ts";
import type { LogRecord } from "../record/values.ts";
import { runtime } from "../runtime/mod.ts";
import type { Formatter, Sink } from "./sink.ts";
import { TtlogConfigError } from "../level.ts";

/** Options of {@link consoleSink}. */
export interface ConsoleSinkOptions {
  /** `"text"` (default), `"ndjson"`, or a formatter of your own. */
  readonly format?: "text" | "ndjson" | Formatter;
  /** Where lines go (default `"stdout"`). */
  readonly stream?: "stdout" | "stderr";
  /** Colour for `text`; default: when the stream is a terminal and NO_COLOR is unset. */
  readonly color?: boolean;
}

/**
 * Creates a sink that writes one line per record to stdout (or stderr). Each
 * batch is written with a single call, so lines never interleave partially.
 *
 * @param options The format, the stream and colour.
 * @returns The sink.
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
  const stream = options.stream ?? "stdout";
  const format = options.format ?? "text";
  const color = options.color ??
    (runtime.isTerminal(stream) && (runtime.env("NO_COLOR") ?? "") === "");
  let formatter: Formatter;
  if (typeof format === "function") formatter = format;
  else if (format === "text") formatter = textFormatter({ color });
  else if (format === "ndjson") formatter = ndjsonFormatter();
  else {
    throw new TtlogConfigError(
      `consoleSink: unknown format ${
        JSON.stringify(format)
      } (expected "text", "ndjson" or a function)`,
    );
  }
  return {
    name: `console:${stream}`,
    // A formatter function cannot cross to a worker: then the drain stays here.
    spec: typeof format === "function" ? undefined : {
      module: import.meta.url,
      factory: "consoleSink",
      options: { format, stream, color } satisfies ConsoleSinkOptions,
    },
    write(records: readonly LogRecord[]): void {
      let out = "";
      for (const record of records) out += formatter(record) + "\n";
      runtime.write(stream, out);
    },
  };
}
