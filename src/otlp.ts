/**
 * OpenTelemetry export: {@link otlpSink} sends ttlog's records as OTLP/HTTP
 * JSON logs to an OpenTelemetry Collector (or any OTLP receiver), batched,
 * retried, in bounded memory, from the drain's worker.
 *
 * @example Send everything at info and above to a local Collector
 * ```ts
 * import { createLogger } from "@ttlog/ttlog";
 * import { otlpSink } from "@ttlog/ttlog/otlp";
 * import assert from "node:assert/strict";
 *
 * const sink = otlpSink({
 *   url: "http://127.0.0.1:4318/v1/logs",
 *   resource: { "deployment.environment": "staging" },
 *   batch: { events: 500, ms: 2000 },
 * });
 * const log = createLogger({ service: "checkout", sinks: [sink] });
 * // log.info("paid", { order: 42 }) would be exported as a LogRecord with
 * // severityNumber 9, body "paid", attribute order=42 and resource
 * // service.name "checkout". Nothing logged here, so nothing is sent.
 * await log.close();
 * assert.equal(sink.stats.sent, 0);
 * ```
 *
 * @module
 */

export {
  OTLP_SEVERITY,
  type OtlpAttributeValue,
  otlpSink,
  type OtlpSinkOptions,
} from "./sinks/otlp.ts";
export type {
  HttpBatchOptions,
  HttpRetryOptions,
  HttpSink,
  HttpSinkStats,
} from "./sinks/http.ts";
