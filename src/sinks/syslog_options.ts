/**
 * The options of `syslogSink`: their types, the facility names, and
 * the checks that turn them into the settings the sink and its messages use.
 *
 * Internal: the public names here are exported from src/syslog.ts.
 *
 * @module
 */

import { builtin, tryBuiltin } from "../runtime/builtin.ts";
import {
  type BadOption,
  badOption,
  booleanOption,
  choiceOption,
  groupOption,
  integerOption,
  isPlainObject,
  millisOption,
  textOption,
} from "../validate.ts";
import { headerField, type MessageSettings, NIL } from "./syslog_message.ts";

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

/** The options, checked, with every default filled in: the sink's `spec.options`. */
export interface Settings extends MessageSettings {
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

/**
 * Checks {@link SyslogSinkOptions} and fills in their defaults.
 *
 * @param options The user's options.
 * @returns The settings.
 * @throws {TtlogConfigError} When an option is bad, or the runtime has no
 *   node:dgram / node:net.
 */
export function syslogSettings(options: SyslogSinkOptions): Settings {
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
