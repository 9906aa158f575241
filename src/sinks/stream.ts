/**
 * A sink that writes formatted lines to a web `WritableStream`.
 *
 * @module
 */

import { ndjsonFormatter } from "../format/ndjson.ts";
import { textFormatter } from "../format/text.ts";
import { TtlogConfigError } from "../errors.ts";
import type { LogRecord } from "../record/values.ts";
import type { Formatter, Sink } from "./sink.ts";
import {
  type BadOption,
  badOption,
  choiceOption,
  isPlainObject,
} from "../validate.ts";

/**
 * Options of {@link streamSink}.
 *
 * @example Text lines into a TransformStream
 * ```ts
 * import { createLogger, streamSink, type StreamSinkOptions } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
 * const options: StreamSinkOptions = { format: "text" };
 * const log = createLogger({ sinks: [streamSink(writable, options)] });
 * log.info("ready", { port: 8080 });
 * const closed = log.close();
 * const text = await new Response(readable).text();
 * await closed;
 * assert.match(text, /ready/);
 * assert.doesNotMatch(text, /^\{/); // not JSON
 * ```
 */
export interface StreamSinkOptions {
  /** `"ndjson"` (default) or `"text"` (never coloured). */
  readonly format?: "text" | "ndjson";
}

/**
 * Creates a sink that writes each batch of records as one chunk of UTF-8
 * lines to a `WritableStream`, such as Deno's `stdout.writable`, a Bun or Node
 * web stream, or a `TransformStream`'s writable side.
 *
 * The sink locks the stream with one writer for its lifetime. Chunks are
 * written in order; each waits for `writer.ready`, so a slow stream's queue
 * never grows past its high-water mark. `write()` returns a promise that
 * settles when the chunk has been written (or has failed), `flush()` waits
 * for the last chunk, and `close()` waits for it and then closes the stream.
 *
 * A stream cannot be handed to another thread, so this sink has no `spec`: a
 * logger with a stream sink keeps its drain on the caller's thread.
 *
 * @param writable The stream to write to; the sink holds its lock.
 * @param options The line format.
 * @returns The sink, named `stream`.
 * @throws {TtlogConfigError} When `writable` is not a `WritableStream`, it is
 * already locked, or the format is unknown.
 *
 * @example Collect NDJSON lines from a WritableStream
 * ```ts
 * import { createLogger, streamSink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 *
 * const chunks: Uint8Array[] = [];
 * const writable = new WritableStream<Uint8Array>({
 *   write(chunk) {
 *     chunks.push(chunk);
 *   },
 * });
 * const log = createLogger({ sinks: [streamSink(writable)] });
 * log.info("hello", { n: 1 });
 * await log.close();
 * const text = chunks.map((c) => new TextDecoder().decode(c)).join("");
 * assert.equal(JSON.parse(text.trimEnd()).msg, "hello");
 * ```
 */
export function streamSink(
  writable: WritableStream<Uint8Array>,
  options: StreamSinkOptions = {},
): Sink {
  if (
    typeof writable !== "object" || writable === null ||
    typeof (writable as { getWriter?: unknown }).getWriter !== "function"
  ) {
    throw new TtlogConfigError(
      `streamSink: expected a WritableStream, got ${
        writable === null ? "null" : typeof writable
      }`,
    );
  }
  const bad: BadOption = badOption("streamSink");
  if (!isPlainObject(options)) bad("options", options, "an object");
  const format = choiceOption(bad, options.format, "format", [
    "ndjson",
    "text",
  ]);
  if (writable.locked) {
    throw new TtlogConfigError(
      `streamSink: the stream is locked (it already has a writer or a pipe); pass an unlocked WritableStream`,
    );
  }
  const formatter: Formatter = format === "text"
    ? textFormatter({ color: false })
    : ndjsonFormatter();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  // The previous chunk has been handed to the writer (never rejects), and
  // has been written (never rejects): the next chunk waits for the first,
  // flush() for the second.
  let handedOver: Promise<void> = Promise.resolve();
  let written: Promise<void> = Promise.resolve();
  let closing: Promise<void> | undefined;

  /** Hands a chunk to the writer once the one before it is. */
  const writeChunk = (chunk: Uint8Array): Promise<void> => {
    if (closing !== undefined) {
      return Promise.reject(new Error("streamSink: write after close()"));
    }
    const done = handedOver.then(async () => {
      await writer.ready;
      return { result: writer.write(chunk) };
    });
    handedOver = done.then(() => {}, () => {});
    const result = done.then((step) => step.result);
    written = result.then(() => {}, () => {});
    return result;
  };

  return {
    name: "stream",
    // NDJSON lines come written by the drain, straight from the ring
    // (copied: the stream keeps its chunks past the call).
    ...(format === "ndjson"
      ? {
        lines: "ndjson" as const,
        writeLines(bytes: Uint8Array): Promise<void> {
          return writeChunk(bytes.slice());
        },
      }
      : {}),
    write(records: readonly LogRecord[]): Promise<void> {
      if (records.length === 0 && closing === undefined) return written;
      let text = "";
      for (const record of records) text += formatter(record) + "\n";
      return writeChunk(encoder.encode(text));
    },
    flush(): Promise<void> {
      return written;
    },
    close(): Promise<void> {
      closing ??= written.then(() => writer.close());
      return closing;
    },
  };
}
