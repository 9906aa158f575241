/**
 * A sink that sends records as RFC 5424 syslog messages to rsyslog,
 * syslog-ng or any syslog receiver, over UDP (RFC 5426, one datagram per
 * message) or TCP (RFC 6587 octet-counting framing), with reconnects,
 * bounded memory and counted, reported losses. This file is the sending:
 * the queue, the UDP and TCP transports, flush and close; the messages are
 * built in src/sinks/syslog_message.ts, the options checked in
 * src/sinks/syslog_options.ts.
 *
 * @module
 */

import type * as Dgram from "node:dgram";
import type * as Net from "node:net";
import type { LogRecord } from "../record/values.ts";
import { builtin, tryBuiltin } from "../runtime/builtin.ts";
import { deepFreeze } from "../validate.ts";
import { BUILTIN_SINK_MODULE, type Sink, type SinkSpec } from "./sink.ts";
import { formatMessage, octetCounted } from "./syslog_message.ts";
import {
  type Settings,
  syslogSettings,
  type SyslogSinkOptions,
} from "./syslog_options.ts";

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
 * - PRI: facility × 8 + the level's severity (`SYSLOG_SEVERITY`).
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
  return new SyslogSinkImpl(syslogSettings(options));
}

const LOSS_REASON = "syslog sink gave up";

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
    return this.#settings.transport === "udp" ? bytes : octetCounted(bytes);
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
