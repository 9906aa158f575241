/**
 * Syslog export: {@link syslogSink} sends ttlog's records as RFC 5424
 * messages to rsyslog, syslog-ng or any syslog receiver, over UDP or TCP
 * (octet counting), with the fields as structured data, from the drain's
 * worker.
 *
 * @example Send warnings and above to the local rsyslog over TCP
 * ```ts
 * import { createLogger } from "@ttlog/ttlog";
 * import { syslogSink } from "@ttlog/ttlog/syslog";
 * import assert from "node:assert/strict";
 *
 * const sink = syslogSink({
 *   host: "127.0.0.1",
 *   port: 514,
 *   transport: "tcp",
 *   facility: "local3",
 * });
 * const log = createLogger({
 *   service: "checkout",
 *   directives: "warn",
 *   sinks: [sink],
 * });
 * // log.warn("slow", { ms: 812 }) would arrive as
 * // <156>1 2024-05-01T12:00:00.123Z host checkout 4242 - [ttlog@32473 ms="812"] slow
 * // (after a BOM). Nothing logged here, so no connection is opened.
 * await log.close();
 * assert.equal(sink.stats.sent, 0);
 * ```
 *
 * @module
 */

export {
  type SyslogSink,
  syslogSink,
  type SyslogSinkStats,
} from "./sinks/syslog.ts";
export { SYSLOG_SEVERITY } from "./sinks/syslog_message.ts";
export {
  SYSLOG_FACILITIES,
  type SyslogFacility,
  type SyslogReconnectOptions,
  type SyslogSinkOptions,
} from "./sinks/syslog_options.ts";
