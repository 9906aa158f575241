/**
 * The option and counter types of the HTTP sinks (httpSink, otlpSink),
 * apart from both so that http.ts and http_batch.ts need not import each
 * other.
 *
 * @module
 */

/**
 * When a batch is sent; see {@link HttpSinkOptions}.
 *
 * @example Send every two events
 * ```ts
 * import { createLogger, httpSink } from "@ttlog/ttlog";
 * import { type HttpBatchOptions } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * import { createServer } from "node:http";
 * const bodies: string[] = [];
 * const server = createServer(async (req, res) => {
 *   let body = "";
 *   for await (const chunk of req) body += chunk;
 *   bodies.push(body);
 *   res.end();
 * });
 * await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
 * const { port } = server.address() as { port: number };
 * const batch: HttpBatchOptions = { events: 2, ms: 60_000 };
 * const url = `http://127.0.0.1:${port}/logs`;
 * const log = createLogger({ sinks: [httpSink({ url, compression: "none", batch })] });
 * for (const msg of ["a", "b", "c", "d"]) log.info(msg);
 * await log.close();
 * assert.deepEqual(bodies.map((body) => body.trimEnd().split("\n").length), [2, 2]);
 * await new Promise((ok) => server.close(ok));
 * ```
 */
export interface HttpBatchOptions {
  /** Send once this many events are pending (default 1000). */
  readonly events?: number;
  /**
   * Send once the pending lines reach this many UTF-8 bytes, before
   * compression (default 1 MiB; at most `maxBufferedBytes`).
   */
  readonly bytes?: number;
  /** Send this many milliseconds after the first pending event (default 1000). */
  readonly ms?: number;
}

/**
 * How failed requests are retried; see {@link HttpSinkOptions}.
 *
 * @example Retry once after a 503
 * ```ts
 * import { createLogger, httpSink } from "@ttlog/ttlog";
 * import { type HttpRetryOptions } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * import { createServer } from "node:http";
 * let requests = 0;
 * const server = createServer(async (req, res) => {
 *   for await (const _ of req); // read the body
 *   res.statusCode = ++requests === 1 ? 503 : 200;
 *   res.end();
 * });
 * await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
 * const { port } = server.address() as { port: number };
 * const retry: HttpRetryOptions = { attempts: 3, baseMs: 10, maxMs: 100 };
 * const sink = httpSink({ url: `http://127.0.0.1:${port}/logs`, retry });
 * // worker: false keeps the sink on this thread, where its stats are read.
 * const log = createLogger({ sinks: [sink], worker: false });
 * log.info("order placed");
 * await log.close();
 * assert.equal(sink.stats.retries, 1);
 * assert.equal(sink.stats.sent, 1);
 * await new Promise((ok) => server.close(ok));
 * ```
 */
export interface HttpRetryOptions {
  /** Tries per batch, the first one included (default 5; 1: never retry). */
  readonly attempts?: number;
  /** The first backoff, in milliseconds; it doubles on each retry (default 200). */
  readonly baseMs?: number;
  /** The longest wait between two tries, Retry-After included (default 10000). */
  readonly maxMs?: number;
}

/**
 * Delivery counters of an {@link HttpSink}, in events and requests.
 *
 * @example Count a batch the endpoint rejects
 * ```ts
 * import { createLogger, httpSink } from "@ttlog/ttlog";
 * import { type HttpSinkStats } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * import { createServer } from "node:http";
 * const server = createServer(async (req, res) => {
 *   for await (const _ of req); // read the body
 *   res.statusCode = 400; // a 4xx is not retried
 *   res.end();
 * });
 * await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
 * const { port } = server.address() as { port: number };
 * const sink = httpSink({ url: `http://127.0.0.1:${port}/logs` });
 * // worker: false keeps the sink on this thread, where its stats are read.
 * const log = createLogger({ sinks: [sink], worker: false });
 * log.info("one");
 * log.info("two");
 * await log.close();
 * const stats: HttpSinkStats = sink.stats;
 * // Two requests failed: the batch, then the "lost 2 events" report.
 * assert.deepEqual(stats, { sent: 0, dropped: 2, retries: 0, failures: 2 });
 * await new Promise((ok) => server.close(ok));
 * ```
 */
export interface HttpSinkStats {
  /** Events delivered (a 2xx answer). */
  readonly sent: number;
  /** Events given up on: out of retries, rejected (4xx), or over `maxBufferedBytes`. */
  readonly dropped: number;
  /** Requests that were retries of an earlier, failed request. */
  readonly retries: number;
  /** Requests that failed: network error, timeout, or a status other than 2xx. */
  readonly failures: number;
}
