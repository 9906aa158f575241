/**
 * A sink that sends records as RFC 5424 syslog messages to rsyslog,
 * syslog-ng or any syslog receiver, over UDP (RFC 5426, one datagram per
 * message) or TCP (RFC 6587 octet-counting framing), with reconnects,
 * bounded memory and counted, reported losses.
 *
 * @module
 */

import type * as Dgram from "node:dgram";
import type * as Net from "node:net";
import { ndjsonFormatter } from "../format/ndjson.ts";
import { type LogRecord, Marker } from "../record/values.ts";
import { builtin, tryBuiltin } from "../runtime/builtin.ts";
import { BUILTIN_SINK_MODULE, type Sink, type SinkSpec } from "./sink.ts";
import {
  type BadOption,
  badOption,
  booleanOption,
  choiceOption,
  deepFreeze,
  groupOption,
  integerOption,
  isPlainObject,
  millisOption,
  textOption,
} from "../validate.ts";

/**
 * Syslog facility names (RFC 5424 §6.2.1), with their codes.
 *
 * @example Work out a PRI value
 * ```ts
 * import { SYSLOG_FACILITIES, SYSLOG_SEVERITY } from "@ttlog/ttlog/syslog";
 * import assert from "node:assert/strict";
 * assert.equal(SYSLOG_FACILITIES.local0, 16);
 * // PRI = facility * 8 + severity: a warning from local0 is <132>.
 * assert.equal(SYSLOG_FACILITIES.local0 * 8 + SYSLOG_SEVERITY.warn, 132);
 * ```
 */
export const SYSLOG_FACILITIES: Readonly<Record<SyslogFacility, number>> =
  Object.freeze({
    kern: 0,
    user: 1,
    mail: 2,
    daemon: 3,
    auth: 4,
    syslog: 5,
    lpr: 6,
    news: 7,
    uucp: 8,
    cron: 9,
    authpriv: 10,
    ftp: 11,
    ntp: 12,
    audit: 13,
    alert: 14,
    clock: 15,
    local0: 16,
    local1: 17,
    local2: 18,
    local3: 19,
    local4: 20,
    local5: 21,
    local6: 22,
    local7: 23,
  });

/**
 * A facility name; see {@link SYSLOG_FACILITIES}.
 *
 * @example Log as local3 to a UDP receiver
 * ```ts
 * import { createLogger } from "@ttlog/ttlog";
 * import { type SyslogFacility, syslogSink } from "@ttlog/ttlog/syslog";
 * import assert from "node:assert/strict";
 * import { createSocket } from "node:dgram";
 * const receiver = createSocket("udp4");
 * await new Promise<void>((ok) => receiver.bind(0, "127.0.0.1", ok));
 * const { port } = receiver.address();
 * const message = new Promise<string>((ok) =>
 *   receiver.once("message", (data) => ok(data.toString("utf8")))
 * );
 * const facility: SyslogFacility = "local3";
 * const log = createLogger({ sinks: [syslogSink({ port, facility })] });
 * log.warn("disk almost full");
 * await log.close();
 * assert.match(await message, /^<156>1 /); // 19 * 8 + 4 (warning)
 * receiver.close();
 * ```
 */
export type SyslogFacility =
  | "kern"
  | "user"
  | "mail"
  | "daemon"
  | "auth"
  | "syslog"
  | "lpr"
  | "news"
  | "uucp"
  | "cron"
  | "authpriv"
  | "ftp"
  | "ntp"
  | "audit"
  | "alert"
  | "clock"
  | "local0"
  | "local1"
  | "local2"
  | "local3"
  | "local4"
  | "local5"
  | "local6"
  | "local7";

/**
 * Syslog severities of the ttlog levels: trace and debug 7 (debug), info 6
 * (informational), warn 4 (warning), error 3 (error), fatal 2 (critical:
 * one program's fatal error, not the system's emergency).
 *
 * @example Look a level up
 * ```ts
 * import { SYSLOG_SEVERITY } from "@ttlog/ttlog/syslog";
 * import assert from "node:assert/strict";
 * assert.equal(SYSLOG_SEVERITY.warn, 4);
 * ```
 */
export const SYSLOG_SEVERITY: Readonly<Record<string, number>> = Object
  .freeze({
    trace: 7,
    debug: 7,
    info: 6,
    warn: 4,
    error: 3,
    fatal: 2,
  });

/**
 * How a TCP sink reconnects; see {@link SyslogSinkOptions}.
 *
 * @example Give up sooner on a receiver that is down
 * ```ts
 * import { TtlogConfigError } from "@ttlog/ttlog";
 * import { type SyslogReconnectOptions, syslogSink } from "@ttlog/ttlog/syslog";
 * import assert from "node:assert/strict";
 * const reconnect: SyslogReconnectOptions = { attempts: 3, baseMs: 100 };
 * const sink = syslogSink({ transport: "tcp", port: 6514, reconnect });
 * const options = sink.spec.options as { reconnect: SyslogReconnectOptions };
 * assert.deepEqual(options.reconnect, { attempts: 3, baseMs: 100, maxMs: 10_000 });
 * await sink.close(); // nothing written: no connection was opened
 * assert.throws(() => syslogSink({ reconnect: { attempts: 0 } }), TtlogConfigError);
 * ```
 */
export interface SyslogReconnectOptions {
  /**
   * Connection attempts in a row before the buffered messages are dropped
   * (counted); the next message starts over (default 5).
   */
  readonly attempts?: number;
  /** The first wait, in milliseconds; it doubles on each failure (default 200). */
  readonly baseMs?: number;
  /** The longest wait between two attempts (default 10000). */
  readonly maxMs?: number;
}

/**
 * Options of {@link syslogSink}. Plain data only, so a drain in a worker can
 * rebuild the sink from its `spec`.
 *
 * @example Fixed header fields over TCP
 * ```ts
 * import { createLogger } from "@ttlog/ttlog";
 * import { syslogSink, type SyslogSinkOptions } from "@ttlog/ttlog/syslog";
 * import assert from "node:assert/strict";
 * import { createServer } from "node:net";
 * let received = "";
 * const server = createServer((socket) => {
 *   socket.setEncoding("utf8");
 *   socket.on("data", (text: string) => (received += text));
 * });
 * await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
 * const { port } = server.address() as { port: number };
 * const options: SyslogSinkOptions = {
 *   port,
 *   transport: "tcp",
 *   appName: "checkout",
 *   hostname: "web-1",
 *   procId: 42,
 *   bom: false,
 * };
 * const log = createLogger({ sinks: [syslogSink(options)] });
 * log.child("db").info("connected", { pool: "main" });
 * await log.close();
 * await new Promise((ok) => server.close(ok)); // after the sink's connection ended
 * // RFC 6587 octet counting: the length, a space, then the message.
 * assert.match(
 *   received,
 *   /^\d+ <14>1 \S+ web-1 checkout 42 db \[ttlog@32473 pool="main"\] connected$/,
 * );
 * ```
 */
export interface SyslogSinkOptions {
  /** The receiver's host name or address (default `"127.0.0.1"`). */
  readonly host?: string;
  /** The receiver's port (default 514). */
  readonly port?: number;
  /** `"udp"` (default, RFC 5426) or `"tcp"` (RFC 6587, octet counting). */
  readonly transport?: "udp" | "tcp";
  /** A facility name or code 0-23 (default `"user"`, 1). */
  readonly facility?: SyslogFacility | number;
  /** APP-NAME (at most 48 printable ASCII characters); default: each record's service. */
  readonly appName?: string;
  /** HOSTNAME (at most 255 printable ASCII characters); default: the machine's host name. */
  readonly hostname?: string;
  /** PROCID (at most 128 printable ASCII characters); default: the process id. */
  readonly procId?: string | number;
  /**
   * SD-ID of the structured data element that holds the fields (default
   * `"ttlog@32473"`; 32473 is the enterprise number RFC 5612 sets aside for
   * examples: use your own where it matters).
   */
  readonly sdId?: string;
  /** Start MSG with the UTF-8 byte order mark, as RFC 5424 asks (default true). */
  readonly bom?: boolean;
  /**
   * Longest message in bytes, framing left out (default 2048 over UDP, the
   * size RFC 5426 says receivers should accept, and 8192 over TCP, rsyslog's
   * default limit; at least 480). A longer message is cut, with
   * `truncated="<original length>"` in its structured data.
   */
  readonly maxMessageBytes?: number;
  /**
   * Most bytes of messages waiting to be sent (default 4 MiB). Past it the
   * oldest are dropped and counted.
   */
  readonly maxBufferedBytes?: number;
  /** How TCP reconnects. */
  readonly reconnect?: SyslogReconnectOptions;
}

/**
 * Delivery counters of a {@link SyslogSink}, in events.
 *
 * @example Count a message cut at maxMessageBytes
 * ```ts
 * import { createLogger } from "@ttlog/ttlog";
 * import { syslogSink, type SyslogSinkStats } from "@ttlog/ttlog/syslog";
 * import assert from "node:assert/strict";
 * import { createSocket } from "node:dgram";
 * const receiver = createSocket("udp4");
 * await new Promise<void>((ok) => receiver.bind(0, "127.0.0.1", ok));
 * const { port } = receiver.address();
 * const message = new Promise<string>((ok) =>
 *   receiver.once("message", (data) => ok(data.toString("utf8")))
 * );
 * const sink = syslogSink({ port, maxMessageBytes: 480 });
 * // worker: false keeps the sink on this thread, where its stats are read.
 * const log = createLogger({ sinks: [sink], worker: false });
 * log.info("x".repeat(1000));
 * await log.close();
 * const stats: SyslogSinkStats = sink.stats;
 * assert.deepEqual(stats, { sent: 1, dropped: 0, truncated: 1, failures: 0 });
 * assert.match(await message, /truncated="\d+"/);
 * receiver.close();
 * ```
 */
export interface SyslogSinkStats {
  /**
   * Events handed to the network: a datagram sent, or bytes written to the
   * TCP connection. Neither protocol acknowledges: a receiver that goes
   * away can still lose what was sent last.
   */
  readonly sent: number;
  /** Events given up on: buffer full, out of reconnect attempts, a failed datagram, or written after close. */
  readonly dropped: number;
  /** Events whose message was cut at `maxMessageBytes`. */
  readonly truncated: number;
  /** Send errors and failed or broken TCP connections. */
  readonly failures: number;
}

/**
 * The sink {@link syslogSink} returns.
 *
 * @example Flush, then read the counters
 * ```ts
 * import { createLogger } from "@ttlog/ttlog";
 * import { type SyslogSink, syslogSink } from "@ttlog/ttlog/syslog";
 * import assert from "node:assert/strict";
 * import { createSocket } from "node:dgram";
 * const receiver = createSocket("udp4");
 * await new Promise<void>((ok) => receiver.bind(0, "127.0.0.1", ok));
 * const { port } = receiver.address();
 * const message = new Promise<string>((ok) =>
 *   receiver.once("message", (data) => ok(data.toString("utf8")))
 * );
 * const sink: SyslogSink = syslogSink({ port, appName: "checkout" });
 * assert.equal(sink.name, `syslog:udp:127.0.0.1:${port}`);
 * // worker: false keeps the sink on this thread, where its stats are read.
 * const log = createLogger({ sinks: [sink], worker: false });
 * log.error("payment failed", { order: 7 });
 * await log.flush();
 * assert.equal(sink.stats.sent, 1);
 * assert.match(await message, /checkout .*\[ttlog@32473 order="7"\] \ufeffpayment failed$/);
 * await log.close();
 * receiver.close();
 * ```
 */
export interface SyslogSink extends Sink {
  /** A copy of the counters, taken when read. */
  readonly stats: SyslogSinkStats;
  /** `{ module, factory: "syslogSink", options }`, with every default filled in. */
  readonly spec: SinkSpec;
  /** Never throws: formats and queues the records, and starts sending. */
  write(records: readonly LogRecord[]): void;
  /** Resolves when everything written before is sent or given up on. */
  flush(): Promise<void>;
  /** Flushes, then closes the socket; later writes are dropped and counted. */
  close(): Promise<void>;
}

/**
 * Creates a sink that sends each record as one RFC 5424 syslog message:
 *
 * `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA BOM MSG`
 *
 * - PRI: facility × 8 + the level's severity ({@link SYSLOG_SEVERITY}).
 * - TIMESTAMP: the record's time in UTC with milliseconds,
 *   `2024-05-01T12:00:00.123Z`.
 * - HOSTNAME, APP-NAME, PROCID: the options, or the machine's host name, the
 *   record's service and the process id. MSGID: the target (`-` for the
 *   root logger). Characters outside printable ASCII become `_`; each is cut
 *   to the RFC's length.
 * - STRUCTURED-DATA: `-` without fields, otherwise one element
 *   `[ttlog@32473 key="value" ...]` with the fields in order. Values escape
 *   `"`, `\` and `]` with a backslash (§6.3.3); strings, numbers, booleans
 *   and bigints are their text, Dates ISO 8601, `null` and `undefined` those
 *   words, and objects, arrays and errors their ndjson encoding (the JSON
 *   `ndjsonFormatter` writes). A name keeps at most 32 characters, and
 *   characters outside printable ASCII, `=`, space, `]` and `"` become `_`.
 * - MSG: the message in UTF-8, after the byte order mark unless `bom` is
 *   false (RFC 5424 §6.4 asks for it; some receivers show it).
 *
 * A message longer than `maxMessageBytes` loses the end of MSG (cut on a
 * character boundary) and gains `truncated="<original length in bytes>"`
 * in its structured data; when even the fields do not fit, the element holds
 * only `truncated`. Each cut message is counted in `stats.truncated`.
 *
 * **UDP**: one datagram per message, to `host:port`, at most 64 in flight.
 * **TCP**: one connection, messages framed as `LENGTH SP MESSAGE` (RFC 6587
 * octet counting, which rsyslog and syslog-ng detect by themselves). When
 * the connection fails or breaks, messages not yet written are kept and
 * sent again after a reconnect, with backoff (from half to all of
 * `baseMs × 2^(n-1)`, at most `maxMs`); after `reconnect.attempts` failures
 * in a row the waiting messages are dropped and the sink waits for the next
 * message to try again. A message written just before a connection broke can
 * be lost or, rarely, arrive twice.
 *
 * **No silent loss.** Messages waiting to be sent hold at most
 * `maxBufferedBytes`; past it the oldest are dropped. Every dropped event
 * is counted in `stats.dropped`, and the next message sent is preceded by a
 * warning `lost N events` (MSGID `ttlog`, structured data
 * `lost="N" reason="syslog sink gave up"`). Sockets do not keep the
 * process alive unless a `flush()` is being awaited.
 *
 * @param options The receiver, the transport and the header fields.
 * @returns The sink, with `stats` and a `spec` for workers.
 * @throws {TtlogConfigError} When an option is out of range or of the
 *   wrong type (the message names it and the bad value), or the runtime has
 *   no node:dgram / node:net (an edge runtime).
 *
 * @example Create a TCP sink, read its spec, close it
 * ```ts
 * import { syslogSink } from "@ttlog/ttlog/syslog";
 * import assert from "node:assert/strict";
 * const sink = syslogSink({
 *   host: "127.0.0.1",
 *   port: 6514,
 *   transport: "tcp",
 *   facility: "local0",
 *   appName: "checkout",
 * });
 * assert.equal(sink.name, "syslog:tcp:127.0.0.1:6514");
 * assert.equal(sink.spec.factory, "syslogSink");
 * await sink.close(); // nothing written: no connection was opened
 * assert.deepEqual(sink.stats, { sent: 0, dropped: 0, truncated: 0, failures: 0 });
 * ```
 */
export function syslogSink(options: SyslogSinkOptions = {}): SyslogSink {
  return new SyslogSinkImpl(normalize(options));
}

// ---- options ----

interface Settings {
  host: string;
  port: number;
  transport: "udp" | "tcp";
  facility: number;
  /** Absent: each record's service. */
  appName?: string;
  hostname: string;
  procId: string;
  sdId: string;
  bom: boolean;
  maxMessageBytes: number;
  maxBufferedBytes: number;
  reconnect: { attempts: number; baseMs: number; maxMs: number };
}

const MIB = 1024 * 1024;
const NIL = "-";

/** PRINTUSASCII, cut to `max`: what HOSTNAME, APP-NAME, PROCID and MSGID allow. */
function headerField(text: string, max: number): string {
  const clean = text.replace(/[^\x21-\x7e]/g, "_").slice(0, max);
  return clean === "" ? NIL : clean;
}

function normalize(options: SyslogSinkOptions): Settings {
  const bad: BadOption = badOption("syslogSink");
  if (!isPlainObject(options)) bad("options", options, "an object");
  const integer = (
    value: unknown,
    option: string,
    fallback: number,
    min: number,
    max?: number,
  ) => integerOption(bad, value, option, fallback, min, max);
  const text = (value: unknown, option: string) =>
    textOption(bad, value, option);

  const host = text(options.host, "host") ?? "127.0.0.1";
  const port = integer(options.port, "port", 514, 1, 65535);
  const transport = choiceOption(bad, options.transport, "transport", [
    "udp",
    "tcp",
  ]);
  let facility: number;
  const given = options.facility ?? "user";
  if (typeof given === "string") {
    if (!Object.hasOwn(SYSLOG_FACILITIES, given)) {
      bad(
        "facility",
        given,
        `a facility name (${
          Object.keys(SYSLOG_FACILITIES).join(", ")
        }) or a code from 0 to 23`,
      );
    }
    facility = SYSLOG_FACILITIES[given as SyslogFacility];
  } else {
    facility = integer(given, "facility", 1, 0, 23);
  }
  const appName = text(options.appName, "appName");
  const hostname = text(options.hostname, "hostname") ??
    tryBuiltin<{ hostname?: () => string }>("node:os")?.hostname?.() ?? NIL;
  let procId: string;
  if (options.procId === undefined) {
    const pid = tryBuiltin<{ pid?: number }>("node:process")?.pid;
    procId = pid === undefined ? NIL : String(pid);
  } else if (
    typeof options.procId === "number" && Number.isSafeInteger(options.procId)
  ) {
    procId = String(options.procId);
  } else {
    procId = text(options.procId, "procId") as string;
  }
  const sdId = text(options.sdId, "sdId") ?? "ttlog@32473";
  if (!/^[\x21-\x7e]{1,32}$/.test(sdId) || /[= \]"]/.test(sdId)) {
    bad(
      "sdId",
      sdId,
      'an SD-ID: 1 to 32 printable ASCII characters without =, space, ] or "',
    );
  }
  const bom = booleanOption(bad, options.bom, "bom", true);
  const maxMessageBytes = integer(
    options.maxMessageBytes,
    "maxMessageBytes",
    transport === "udp" ? 2048 : 8192,
    480,
    // The largest UDP payload over IPv4.
    transport === "udp" ? 65507 : Number.MAX_SAFE_INTEGER,
  );
  const maxBufferedBytes = integer(
    options.maxBufferedBytes,
    "maxBufferedBytes",
    4 * MIB,
    1,
  );
  const reconnect = groupOption(bad, options.reconnect, "reconnect");
  // Fail here, not at the first write, where the runtime has no sockets.
  builtin(transport === "udp" ? "node:dgram" : "node:net", "syslogSink");
  return {
    host,
    port,
    transport,
    facility,
    ...(appName === undefined ? {} : { appName: headerField(appName, 48) }),
    hostname: headerField(hostname, 255),
    procId: headerField(procId, 128),
    sdId,
    bom,
    maxMessageBytes,
    maxBufferedBytes,
    reconnect: {
      attempts: integer(reconnect.attempts, "reconnect.attempts", 5, 1),
      baseMs: millisOption(bad, reconnect.baseMs, "reconnect.baseMs", 200),
      maxMs: millisOption(bad, reconnect.maxMs, "reconnect.maxMs", 10_000),
    },
  };
}

// ---- formatting ----

const encoder = new TextEncoder();
const BOM = "\ufeff";
const LOSS_REASON = "syslog sink gave up";

/** SD-NAME: printable ASCII except `=`, space, `]` and `"`, 1 to 32 characters. */
function paramName(key: string): string {
  const clean = key.replace(/[^\x21-\x7e]|[= \]"]/g, "_").slice(0, 32);
  return clean === "" ? "_" : clean;
}

/** PARAM-VALUE with `"`, `\` and `]` escaped (RFC 5424 §6.3.3). */
function paramValue(text: string): string {
  return text.replace(/["\\\]]/g, "\\$&");
}

const toJson = ndjsonFormatter();
const JSON_PREFIX =
  '{"time":0,"level":"info","target":"","msg":"","service":"","v":';

/** A value's ndjson encoding: the one ndjsonFormatter gives a field. */
function valueJson(value: unknown): string {
  const line = toJson({
    time: 0,
    level: "info",
    target: "",
    msg: "",
    fields: { v: value },
    service: "",
    seq: 0,
  });
  return line.slice(JSON_PREFIX.length, -1);
}

function valueText(value: unknown): string {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "bigint":
    case "boolean":
    case "undefined":
    case "symbol":
      return String(value);
    case "function":
      return `[Function: ${String(value.name) || "(anonymous)"}]`;
  }
  if (value === null) return "null";
  if (value instanceof Marker) return String(value.text);
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  }
  return valueJson(value);
}

/** The SD-PARAMs of a record's fields: ` name="value"` each. */
function sdParams(fields: LogRecord["fields"]): string {
  let out = "";
  let keys: string[];
  try {
    keys = Object.keys(fields);
  } catch {
    return ' _fields="[Unformattable]"';
  }
  for (const key of keys) {
    let text: string;
    try {
      text = valueText(fields[key]);
    } catch {
      text = "[Unformattable]";
    }
    out += " " + paramName(key) + '="' + paramValue(text) + '"';
  }
  return out;
}

function timestamp(time: number): string {
  if (!Number.isFinite(time)) return NIL;
  const date = new Date(Math.floor(time));
  return Number.isNaN(date.getTime()) ? NIL : date.toISOString();
}

/** Cuts UTF-8 bytes to at most `max`, on a character boundary. */
function cutUtf8(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.length <= max) return bytes;
  let end = Math.max(0, max);
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** One record as an RFC 5424 message, and whether it was cut. */
function formatMessage(
  record: LogRecord,
  settings: Settings,
): { bytes: Uint8Array; truncated: boolean } {
  const severity = SYSLOG_SEVERITY[record.level] ?? 6;
  const header = "<" + (settings.facility * 8 + severity) + ">1 " +
    timestamp(record.time) + " " + settings.hostname + " " +
    (settings.appName ?? headerField(String(record.service), 48)) + " " +
    settings.procId + " " +
    (record.target === "" ? NIL : headerField(String(record.target), 32)) +
    " ";
  const params = sdParams(record.fields);
  const sd = params === "" ? NIL : "[" + settings.sdId + params + "]";
  const msg = String(record.msg);
  const text = msg === ""
    ? header + sd
    : header + sd + " " + (settings.bom ? BOM : "") + msg;
  const bytes = encoder.encode(text);
  const max = settings.maxMessageBytes;
  if (bytes.length <= max) return { bytes, truncated: false };

  const mark = ' truncated="' + bytes.length + '"';
  let head = encoder.encode(
    header + "[" + settings.sdId + params + mark + "] " +
      (settings.bom ? BOM : ""),
  );
  if (head.length > max) {
    // Even the fields do not fit: keep only the mark.
    head = encoder.encode(
      header + "[" + settings.sdId + mark + "] " + (settings.bom ? BOM : ""),
    );
  }
  const body = cutUtf8(encoder.encode(msg), max - head.length);
  return { bytes: cutUtf8(concat([head, body]), max), truncated: true };
}

// ---- the sink ----

type Timer = ReturnType<typeof setTimeout>;

function unref(handle: unknown): void {
  (handle as { unref?: () => void } | undefined)?.unref?.();
}

function ref(handle: unknown): void {
  (handle as { ref?: () => void } | undefined)?.ref?.();
}

/** A message waiting or in flight: its framed bytes and the events it reports. */
interface Outgoing {
  readonly bytes: Uint8Array;
  /** 1 for an event; 0 for a loss message. */
  readonly events: number;
  /** For a loss message: the drops it reports. */
  readonly lost: number;
}

const MAX_UDP_IN_FLIGHT = 64;

class SyslogSinkImpl implements SyslogSink {
  readonly name: string;
  readonly spec: SinkSpec;
  #settings: Settings;
  #service = "";

  #queue: Outgoing[] = [];
  #queuedBytes = 0;
  /** Messages handed to the socket whose callbacks have not come back. */
  #inFlight: Outgoing[] = [];
  /** Set while a loss message is queued or in flight. */
  #lossPending = false;
  #waiters: (() => void)[] = [];
  /** Set by close(): later writes are dropped. */
  #closed = false;
  /** Set when close() has flushed: nothing is sent any more. */
  #closedDone = false;
  #closing: Promise<void> | undefined;

  #udp: Dgram.Socket | undefined;
  #tcp: Net.Socket | undefined;
  /** Bumped when a TCP socket is dropped: callbacks of an older one are ignored. */
  #generation = 0;
  #state: "idle" | "connecting" | "open" | "waiting" = "idle";
  #needsDrain = false;
  #failedAttempts = 0;
  #backoffTimer: Timer | undefined;

  #sent = 0;
  #dropped = 0;
  #truncated = 0;
  #failures = 0;
  #unreported = 0;

  constructor(settings: Settings) {
    this.#settings = settings;
    this.name =
      `syslog:${settings.transport}:${settings.host}:${settings.port}`;
    this.spec = Object.freeze({
      module: BUILTIN_SINK_MODULE,
      factory: "syslogSink",
      options: deepFreeze(structuredClone(settings)),
    });
  }

  /** For metrics().sinks: what was sent, given up on, failed. */
  get delivery(): { written: number; dropped: number; errors: number } {
    return {
      written: this.#sent,
      dropped: this.#dropped,
      errors: this.#failures,
    };
  }

  get stats(): SyslogSinkStats {
    return {
      sent: this.#sent,
      dropped: this.#dropped,
      truncated: this.#truncated,
      failures: this.#failures,
    };
  }

  write(records: readonly LogRecord[]): void {
    try {
      if (this.#closed) {
        this.#drop(records.length);
        return;
      }
      for (const record of records) {
        let message: { bytes: Uint8Array; truncated: boolean };
        try {
          message = formatMessage(record, this.#settings);
          if (typeof record.service === "string") {
            this.#service = record.service;
          }
        } catch {
          this.#drop(1);
          continue;
        }
        if (message.truncated) this.#truncated++;
        this.#enqueue({
          bytes: this.#frame(message.bytes),
          events: 1,
          lost: 0,
        });
      }
      this.#pump();
    } catch {
      // Nothing above should throw; write() never does.
    }
  }

  #frame(bytes: Uint8Array): Uint8Array {
    if (this.#settings.transport === "udp") return bytes;
    return concat([encoder.encode(bytes.length + " "), bytes]);
  }

  #enqueue(message: Outgoing): void {
    const max = this.#settings.maxBufferedBytes;
    if (message.bytes.length > max) {
      this.#drop(message.events);
      return;
    }
    while (this.#queuedBytes + message.bytes.length > max) {
      const oldest = this.#queue.shift()!;
      this.#queuedBytes -= oldest.bytes.length;
      this.#dropMessage(oldest);
    }
    this.#queue.push(message);
    this.#queuedBytes += message.bytes.length;
  }

  #drop(events: number): void {
    this.#dropped += events;
    this.#unreported += events;
  }

  #dropMessage(message: Outgoing): void {
    if (message.events === 0) this.#lossPending = false;
    else this.#drop(message.events);
  }

  /** Puts a loss message in front of the queue when drops are unreported. */
  #reportLoss(): void {
    if (this.#unreported === 0 || this.#lossPending || this.#closedDone) return;
    const lost = this.#unreported;
    const { bytes } = formatMessage({
      time: Date.now(),
      level: "warn",
      target: "ttlog",
      msg: `lost ${lost} events`,
      fields: { lost, reason: LOSS_REASON },
      service: this.#service,
      seq: -1,
    }, this.#settings);
    const framed = this.#frame(bytes);
    this.#queue.unshift({ bytes: framed, events: 0, lost });
    this.#queuedBytes += framed.length;
    this.#lossPending = true;
  }

  #pump(): void {
    if (this.#closedDone) return;
    if (this.#queue.length > 0) this.#reportLoss();
    if (this.#settings.transport === "udp") this.#pumpUdp();
    else this.#pumpTcp();
    this.#settle();
  }

  /** Takes the next message off the queue. */
  #next(): Outgoing | undefined {
    const message = this.#queue.shift();
    if (message !== undefined) this.#queuedBytes -= message.bytes.length;
    return message;
  }

  #delivered(message: Outgoing): void {
    if (message.events === 0) {
      this.#unreported -= message.lost;
      this.#lossPending = false;
    } else this.#sent += message.events;
  }

  // ---- UDP ----

  #pumpUdp(): void {
    if (this.#queue.length === 0) return;
    if (this.#udp === undefined) {
      const dgram = builtin<typeof Dgram>("node:dgram", "syslogSink");
      const net = tryBuiltin<typeof Net>("node:net");
      const socket = dgram.createSocket(
        net?.isIPv6(this.#settings.host) ? "udp6" : "udp4",
      );
      socket.on("error", () => {
        this.#failures++;
      });
      this.#udp = socket;
      if (this.#waiters.length === 0) unref(socket);
    }
    const socket = this.#udp;
    while (
      this.#queue.length > 0 && this.#inFlight.length < MAX_UDP_IN_FLIGHT
    ) {
      const message = this.#next()!;
      this.#inFlight.push(message);
      const done = (error: unknown) => {
        this.#inFlight.splice(this.#inFlight.indexOf(message), 1);
        if (error) {
          this.#failures++;
          this.#dropMessage(message);
        } else this.#delivered(message);
        this.#pump();
      };
      try {
        socket.send(
          message.bytes,
          this.#settings.port,
          this.#settings.host,
          done,
        );
      } catch (error) {
        done(error ?? new Error("send failed"));
      }
    }
  }

  // ---- TCP ----

  #pumpTcp(): void {
    if (this.#state === "idle" && this.#queue.length > 0) this.#connect();
    if (this.#state !== "open" || this.#needsDrain) return;
    const socket = this.#tcp!;
    const generation = this.#generation;
    while (this.#queue.length > 0 && !this.#needsDrain) {
      const message = this.#next()!;
      this.#inFlight.push(message);
      const ok = socket.write(message.bytes, (error) => {
        if (generation !== this.#generation) return;
        if (error) return; // the close handler requeues it
        this.#inFlight.splice(this.#inFlight.indexOf(message), 1);
        this.#delivered(message);
        this.#settle();
      });
      if (!ok) this.#needsDrain = true;
    }
  }

  #connect(): void {
    const net = builtin<typeof Net>("node:net", "syslogSink");
    this.#state = "connecting";
    const generation = ++this.#generation;
    const socket = net.createConnection({
      host: this.#settings.host,
      port: this.#settings.port,
    });
    this.#tcp = socket;
    if (this.#waiters.length === 0) unref(socket);
    socket.setNoDelay?.(true);
    socket.on("connect", () => {
      if (generation !== this.#generation) return;
      this.#state = "open";
      this.#failedAttempts = 0;
      this.#pump();
    });
    socket.on("drain", () => {
      if (generation !== this.#generation) return;
      this.#needsDrain = false;
      this.#pump();
    });
    socket.on("error", () => {
      // "close" follows and handles it.
    });
    socket.on("close", () => {
      if (generation !== this.#generation) return;
      this.#lost(socket);
    });
  }

  /** The connection failed or broke: keep what was not acknowledged, retry later. */
  #lost(socket: Net.Socket): void {
    this.#generation++;
    socket.destroy();
    this.#tcp = undefined;
    this.#needsDrain = false;
    this.#failures++;
    // Messages written but not confirmed go back to the front, in order.
    const unsent = this.#inFlight;
    this.#inFlight = [];
    for (let i = unsent.length - 1; i >= 0; i--) {
      this.#queue.unshift(unsent[i]);
      this.#queuedBytes += unsent[i].bytes.length;
    }
    if (this.#closedDone) {
      this.#state = "idle";
      return;
    }
    const { attempts, baseMs, maxMs } = this.#settings.reconnect;
    this.#failedAttempts++;
    if (this.#failedAttempts >= attempts) {
      // Out of attempts: give the waiting messages up; the next write tries again.
      this.#failedAttempts = 0;
      this.#state = "idle";
      for (const message of this.#queue) this.#dropMessage(message);
      this.#queue = [];
      this.#queuedBytes = 0;
      this.#settle();
      return;
    }
    this.#state = "waiting";
    const ceiling = Math.min(maxMs, baseMs * 2 ** (this.#failedAttempts - 1));
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = undefined;
      this.#state = "idle";
      this.#pump();
    }, ceiling / 2 + Math.random() * ceiling / 2);
    if (this.#waiters.length === 0) unref(this.#backoffTimer);
  }

  // ---- flush and close ----

  #idle(): boolean {
    return this.#queue.length === 0 && this.#inFlight.length === 0;
  }

  #settle(): void {
    if (!this.#idle() || this.#waiters.length === 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
    unref(this.#udp);
    unref(this.#tcp);
    unref(this.#backoffTimer);
  }

  flush(): Promise<void> {
    if (!this.#closedDone && this.#unreported > 0) {
      this.#reportLoss();
      this.#pump();
    }
    if (this.#idle()) return Promise.resolve();
    // Someone waits now: the sockets and timers must keep the process alive.
    ref(this.#udp);
    ref(this.#tcp);
    ref(this.#backoffTimer);
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    this.#closedDone = true;
    if (this.#backoffTimer !== undefined) clearTimeout(this.#backoffTimer);
    this.#backoffTimer = undefined;
    const udp = this.#udp;
    this.#udp = undefined;
    if (udp !== undefined) {
      await new Promise<void>((resolve) => {
        try {
          udp.close(() => resolve());
        } catch {
          resolve();
        }
      });
    }
    const tcp = this.#tcp;
    this.#tcp = undefined;
    this.#generation++;
    if (tcp !== undefined) {
      await new Promise<void>((resolve) => {
        tcp.once("close", () => resolve());
        tcp.end();
        // A peer that never answers the FIN must not hold close() up.
        const timer = setTimeout(() => {
          tcp.destroy();
          resolve();
        }, 1000);
        unref(timer);
      });
    }
  }
}
