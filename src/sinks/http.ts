/**
 * A sink that POSTs batches of formatted lines (ndjson or text) to an HTTP
 * endpoint, gzip-compressed, with retries, in order, in bounded memory. It
 * needs only `fetch` (and `CompressionStream` for gzip), so it runs on edge
 * runtimes too.
 *
 * @module
 */

import { ndjsonFormatter } from "../format/ndjson.ts";
import { textFormatter } from "../format/text.ts";
import type { LogRecord } from "../record/values.ts";
import { BatchPoster, type BodyEncoding, postSettings } from "./http_batch.ts";
import {
  BUILTIN_SINK_MODULE,
  type Formatter,
  type Sink,
  type SinkSpec,
} from "./sink.ts";
import {
  type BadOption,
  badOption,
  choiceOption,
  deepFreeze,
  isPlainObject,
} from "../validate.ts";
import type {
  HttpBatchOptions,
  HttpRetryOptions,
  HttpSinkStats,
} from "./http_types.ts";
export type {
  HttpBatchOptions,
  HttpRetryOptions,
  HttpSinkStats,
} from "./http_types.ts";

/**
 * Options of {@link httpSink}. They survive `structuredClone` (plain data
 * only), so a drain in a worker can rebuild the sink from its `spec`.
 *
 * @example Plain text lines with a token
 * ```ts
 * import { createLogger, httpSink, type HttpSinkOptions } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * import { createServer } from "node:http";
 * const seen: { type?: string; auth?: string; body: string }[] = [];
 * const server = createServer(async (req, res) => {
 *   let body = "";
 *   for await (const chunk of req) body += chunk;
 *   seen.push({ type: req.headers["content-type"], auth: req.headers.authorization, body });
 *   res.end();
 * });
 * await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
 * const { port } = server.address() as { port: number };
 * const options: HttpSinkOptions = {
 *   url: `http://127.0.0.1:${port}/ingest`,
 *   format: "text",
 *   compression: "none",
 *   headers: { authorization: "Bearer t0ken" },
 * };
 * const log = createLogger({ sinks: [httpSink(options)] });
 * log.warn("disk almost full", { free: 3 });
 * await log.close();
 * assert.equal(seen[0].type, "text/plain; charset=utf-8");
 * assert.equal(seen[0].auth, "Bearer t0ken");
 * assert.match(seen[0].body, /WARN.*disk almost full free=3\n$/);
 * await new Promise((ok) => server.close(ok));
 * ```
 */
export interface HttpSinkOptions {
  /** The endpoint, an `http:` or `https:` URL. Batches are POSTed to it. */
  readonly url: string;
  /**
   * `"ndjson"` (default: `content-type: application/x-ndjson`) or `"text"`
   * (`content-type: text/plain; charset=utf-8`). One line per event.
   */
  readonly format?: "ndjson" | "text";
  /** `"gzip"` (default: `content-encoding: gzip`) or `"none"`. */
  readonly compression?: "none" | "gzip";
  /**
   * Extra request headers, such as `authorization`, as a plain object (not a
   * `Headers`). They may replace `content-type`; a `content-encoding` here
   * is ignored: it always matches `compression`.
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** When a batch is sent. */
  readonly batch?: HttpBatchOptions;
  /** How failed requests are retried. */
  readonly retry?: HttpRetryOptions;
  /**
   * Most bytes (UTF-8, before compression) held for pending, in-flight and
   * waiting batches together (default 16 MiB). Past it the oldest batches
   * are dropped and counted.
   */
  readonly maxBufferedBytes?: number;
  /** Time limit of one request, response body included, in milliseconds (default 10000). */
  readonly timeoutMs?: number;
}

/**
 * The sink {@link httpSink} returns: a {@link Sink} with delivery counters
 * and the `spec` a worker rebuilds it from.
 *
 * @example Read the counters after a flush
 * ```ts
 * import { httpSink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink = httpSink({ url: "http://127.0.0.1:9/logs" });
 * await sink.flush(); // nothing written: nothing to send
 * assert.deepEqual(sink.stats, { sent: 0, dropped: 0, retries: 0, failures: 0 });
 * await sink.close();
 * ```
 */
export interface HttpSink extends Sink {
  /** A copy of the counters, taken when read. */
  readonly stats: HttpSinkStats;
  /** `{ module, factory: "httpSink", options }`, with every default filled in. */
  readonly spec: SinkSpec;
  /** Never throws: formats and buffers the records, and may start a request. */
  write(records: readonly LogRecord[]): void;
  /** Sends what is pending; resolves when everything written before is delivered or given up on. */
  flush(): Promise<void>;
  /** Flushes, then stops the timers; later writes are dropped and counted. */
  close(): Promise<void>;
}

/**
 * Creates a sink that POSTs batches of log lines to an HTTP endpoint.
 *
 * **Batching.** `write()` formats each record into a line and appends it to
 * the pending batch. The batch is sent when it holds `batch.events` events
 * or `batch.bytes` bytes, `batch.ms` after its first event, or on `flush()`
 * and `close()`. The body is the lines, each ending in `\n`,
 * gzip-compressed through `CompressionStream` unless `compression` is
 * `"none"` (the default where the runtime has no `CompressionStream`).
 *
 * **Retries.** A network error, a timeout (`timeoutMs`), a 5xx or a 429 is
 * retried up to `retry.attempts` tries in all, after an exponential backoff
 * with jitter (from half to all of `baseMs * 2^(retry - 1)`, capped at
 * `maxMs`), or after `Retry-After` (seconds or an HTTP date, capped at
 * `maxMs`) when the answer has one. Any other status that is not 2xx (a 4xx
 * such as 400, 401, 413) is not retried: the batch is dropped. One request
 * is in flight at a time, so batches arrive in the order they were written;
 * a request that timed out or whose connection broke may still have reached
 * the server, so an event can arrive twice (at least once, not exactly once),
 * never out of order.
 *
 * **Bounded memory.** Pending, in-flight and waiting batches together hold at
 * most `maxBufferedBytes` bytes of lines. When a line would not fit (the
 * endpoint has been down for long), batches are dropped to make room, oldest
 * first: the waiting ones, then the pending one, and the one being
 * delivered last. A single line larger than `maxBufferedBytes` is dropped.
 *
 * **No silent loss.** Every dropped event is counted in `stats.dropped`, and
 * the next batch the endpoint accepts starts with one more line that reports
 * the drops not reported yet,
 * `{"time":...,"level":"warn","target":"ttlog","msg":"lost N events",
 * "service":...,"lost":N,"reason":"http sink gave up"}` (in the sink's
 * format; `service` is the service of the records written), so the loss
 * shows in the output too. `flush()` sends that line on its own when no
 * batch is waiting. Events that arrive after `close()` are counted only.
 *
 * **Lifetime.** `write()` never throws and returns nothing: delivery
 * happens in the background, and `flush()` resolves once everything written
 * before it has been delivered or given up on, which the retry settings
 * bound (at most `attempts` tries of `timeoutMs` each, and the waits
 * between them). Timers do not keep the process alive (where timers have
 * `unref`) unless a `flush()` is being awaited: flush or close the logger
 * before exit. After `close()` no timer is left.
 *
 * @param options The endpoint and how to batch, compress and retry.
 * @returns The sink, with `stats` and a `spec` for workers.
 * @throws {TtlogConfigError} When an option is missing or out of range (the
 * message names it and the bad value), when `fetch` is missing, or when
 * `compression` is `"gzip"` and the runtime has no `CompressionStream`.
 *
 * @example Create the sink and read its spec
 * ```ts
 * import { httpSink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink = httpSink({
 *   url: "https://logs.example.com/ingest",
 *   headers: { authorization: "Bearer token" },
 *   batch: { events: 500, ms: 2000 },
 * });
 * assert.equal(sink.name, "http:logs.example.com");
 * assert.equal(sink.spec.factory, "httpSink");
 * const options = structuredClone(sink.spec.options) as Record<string, unknown>;
 * assert.equal(options.compression, "gzip");
 * assert.deepEqual(options.batch, { events: 500, bytes: 1048576, ms: 2000 });
 * await sink.close();
 * ```
 */
export function httpSink(options: HttpSinkOptions): HttpSink {
  const bad: BadOption = badOption("httpSink");
  if (!isPlainObject(options)) bad("options", options, "an object");
  const common = postSettings(options, "httpSink", { compression: "gzip" });
  const format = choiceOption(bad, options.format, "format", [
    "ndjson",
    "text",
  ]);
  const { url, compression, ...rest } = common;
  // spec.options keeps the order the options are documented in.
  const settings = { url, format, compression, ...rest };
  const formatter: Formatter = format === "text"
    ? textFormatter()
    : ndjsonFormatter();
  const encoding: BodyEncoding = {
    contentType: format === "text"
      ? "text/plain; charset=utf-8"
      : "application/x-ndjson",
    lossReason: "http sink gave up",
    entry: (record) => formatter(record) + "\n",
    group: () => "",
    body: (groups) => [...groups.values()].join(""),
    retryable: (status) => status === 429 || status >= 500,
  };
  return new BatchPoster(
    "http:" + new URL(url).host,
    Object.freeze({
      module: BUILTIN_SINK_MODULE,
      factory: "httpSink",
      options: deepFreeze(structuredClone(settings)),
    }),
    common,
    encoding,
  );
}
