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
import { TtlogConfigError } from "../level.ts";
import type { LogRecord } from "../record/values.ts";
import type { Formatter, Sink, SinkSpec } from "./sink.ts";

/** When a batch is sent; see {@link HttpSinkOptions}. */
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

/** How failed requests are retried; see {@link HttpSinkOptions}. */
export interface HttpRetryOptions {
  /** Tries per batch, the first one included (default 5; 1: never retry). */
  readonly attempts?: number;
  /** The first backoff, in milliseconds; it doubles on each retry (default 200). */
  readonly baseMs?: number;
  /** The longest wait between two tries, Retry-After included (default 10000). */
  readonly maxMs?: number;
}

/**
 * Options of {@link httpSink}. They survive `structuredClone` (plain data
 * only), so a drain in a worker can rebuild the sink from its `spec`.
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

/** Delivery counters of an {@link HttpSink}, in events and requests. */
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
 * `"none"`.
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
  return new HttpSinkImpl(normalize(options));
}

// ---- options ----

/** Options with every default filled in: what `spec.options` holds. */
interface Settings {
  url: string;
  format: "ndjson" | "text";
  compression: "none" | "gzip";
  headers: Record<string, string>;
  batch: { events: number; bytes: number; ms: number };
  retry: { attempts: number; baseMs: number; maxMs: number };
  maxBufferedBytes: number;
  timeoutMs: number;
}

const MIB = 1024 * 1024;

function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || typeof value !== "object") {
    return typeof value === "function" ? "a function" : String(value);
  }
  if (Array.isArray(value)) return "an array";
  const name = (Object.getPrototypeOf(value) as
    | { constructor?: { name?: unknown } }
    | null)
    ?.constructor?.name;
  return typeof name === "string" && name !== "" && name !== "Object"
    ? `a ${name}`
    : "an object";
}

function bad(option: string, value: unknown, expected: string): never {
  throw new TtlogConfigError(
    `httpSink: ${option} must be ${expected}, got ${shown(value)}`,
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function group(
  value: unknown,
  option: string,
  expected = "a plain object",
): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) bad(option, value, expected);
  return value;
}

function count(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    bad(option, value, "an integer >= 1");
  }
  return value;
}

function millis(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    bad(option, value, "a finite number of milliseconds >= 0");
  }
  return value;
}

function normalize(options: HttpSinkOptions): Settings {
  if (!isPlainObject(options)) bad("options", options, "an object");
  const { url } = options;
  if (typeof url !== "string") bad("url", url, "a string");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    bad("url", url, "an absolute http: or https: URL");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    bad("url", url, "an absolute http: or https: URL");
  }
  if (parsed.username !== "" || parsed.password !== "") {
    // fetch refuses such URLs; credentials belong in a header.
    bad(
      "url",
      parsed.protocol + "//***@" + parsed.host + parsed.pathname,
      "a URL without credentials (put them in headers.authorization)",
    );
  }
  const format = options.format ?? "ndjson";
  if (format !== "ndjson" && format !== "text") {
    bad("format", format, '"ndjson" or "text"');
  }
  const compression = options.compression ?? "gzip";
  if (compression !== "gzip" && compression !== "none") {
    bad("compression", compression, '"gzip" or "none"');
  }
  if (typeof fetch !== "function") {
    throw new TtlogConfigError(
      "httpSink needs fetch, which this runtime does not provide",
    );
  }
  if (compression === "gzip" && typeof CompressionStream !== "function") {
    throw new TtlogConfigError(
      'httpSink: compression "gzip" needs CompressionStream, which this runtime does not provide; use compression: "none"',
    );
  }
  const headers: Record<string, string> = {};
  for (
    const [name, value] of Object.entries(
      group(
        options.headers,
        "headers",
        "a plain object of strings (not a Headers)",
      ),
    )
  ) {
    if (typeof value !== "string") {
      bad(`headers[${shown(name)}]`, value, "a string");
    }
    headers[name] = value;
  }
  try {
    new Headers(headers);
  } catch (error) {
    throw new TtlogConfigError(
      `httpSink: headers must be valid HTTP header names and values (${
        error instanceof Error ? error.message : String(error)
      })`,
    );
  }
  const batch = group(options.batch, "batch");
  const retry = group(options.retry, "retry");
  const maxBufferedBytes = count(
    options.maxBufferedBytes,
    "maxBufferedBytes",
    16 * MIB,
  );
  const timeoutMs = millis(options.timeoutMs, "timeoutMs", 10_000);
  if (timeoutMs === 0) bad("timeoutMs", timeoutMs, "> 0");
  return {
    url,
    format,
    compression,
    headers,
    batch: {
      events: count(batch.events, "batch.events", 1000),
      bytes: count(batch.bytes, "batch.bytes", MIB),
      ms: millis(batch.ms, "batch.ms", 1000),
    },
    retry: {
      attempts: count(retry.attempts, "retry.attempts", 5),
      baseMs: millis(retry.baseMs, "retry.baseMs", 200),
      maxMs: millis(retry.maxMs, "retry.maxMs", 10_000),
    },
    maxBufferedBytes,
    timeoutMs,
  };
}

// ---- timers ----

type Timer = ReturnType<typeof setTimeout>;

// Node, Bun and Deno (2.9) timers have unref/ref; browsers' and edge
// runtimes' timers are numbers, and nothing there waits for them anyway.
function unref(timer: Timer): void {
  (timer as { unref?: () => void }).unref?.();
}

function ref(timer: Timer): void {
  (timer as { ref?: () => void }).ref?.();
}

// ---- the sink ----

/** A batch sealed for sending: its lines, its events and their bytes. */
interface Batch {
  readonly id: number;
  readonly text: string;
  readonly events: number;
  readonly bytes: number;
  /** Set when the batch is dropped: no more tries. */
  dropped: boolean;
  /** The body last built, and the loss count its leading line carries. */
  body?: Uint8Array;
  bodyLost: number;
}

interface FlushWaiter {
  readonly upTo: number;
  readonly resolve: () => void;
}

/** What one try of a request came to. */
type Outcome =
  | { readonly kind: "ok" }
  | { readonly kind: "retry"; readonly afterMs?: number }
  | { readonly kind: "reject" };

const LOSS_REASON = "http sink gave up";

/** UTF-8 length of a string (a lone surrogate counts 3: U+FFFD). */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (
      code >= 0xd800 && code <= 0xdbff && i + 1 < text.length &&
      (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      bytes += 2; // 4 bytes for the pair's 2 code units
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** Milliseconds a Retry-After header asks for, or undefined. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const encoder = new TextEncoder();

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

class HttpSinkImpl implements HttpSink {
  readonly name: string;
  readonly spec: SinkSpec;
  #settings: Settings;
  #format: Formatter;
  #headers: Record<string, string>;
  #service = "";

  #pendingText = "";
  #pendingEvents = 0;
  #pendingBytes = 0;
  #batchTimer: Timer | undefined;

  /** Sealed batches, oldest first; the first is the one being delivered. */
  #queue: Batch[] = [];
  #nextId = 1;
  #bufferedBytes = 0;
  #delivering: Batch | undefined;
  #running = false;
  /** Cancels the current try or backoff of the batch being delivered. */
  #cancel: (() => void) | undefined;
  /** The current request-timeout and backoff timers. */
  #timers = new Set<Timer>();
  #waiters: FlushWaiter[] = [];
  /** Set by close(): later writes are dropped. */
  #closed = false;
  /** Set when close() is done: nothing is sent any more. */
  #stopped = false;
  #closing: Promise<void> | undefined;

  #sent = 0;
  #dropped = 0;
  #retries = 0;
  #failures = 0;
  /** Dropped events not yet reported by a delivered "lost N events" line. */
  #unreported = 0;

  constructor(settings: Settings) {
    this.#settings = settings;
    this.name = "http:" + new URL(settings.url).host;
    this.spec = Object.freeze({
      module: import.meta.url,
      factory: "httpSink",
      options: deepFreeze(structuredClone(settings)),
    });
    this.#format = settings.format === "text"
      ? textFormatter()
      : ndjsonFormatter();
    // Header names are case-insensitive: the user's `Content-Type` replaces
    // the default one rather than joining it. Whatever the user's headers
    // say, the content-encoding is what the body has.
    this.#headers = {};
    for (const [name, value] of Object.entries(settings.headers)) {
      if (name.toLowerCase() !== "content-encoding") {
        this.#headers[name.toLowerCase()] = value;
      }
    }
    this.#headers["content-type"] ??= settings.format === "text"
      ? "text/plain; charset=utf-8"
      : "application/x-ndjson";
    if (settings.compression === "gzip") {
      this.#headers["content-encoding"] = "gzip";
    }
  }

  get stats(): HttpSinkStats {
    return {
      sent: this.#sent,
      dropped: this.#dropped,
      retries: this.#retries,
      failures: this.#failures,
    };
  }

  write(records: readonly LogRecord[]): void {
    try {
      this.#write(records);
    } catch {
      // Nothing in #write throws (a record the formatter cannot read is
      // dropped and counted there); this keeps write()'s promise regardless.
    }
  }

  #write(records: readonly LogRecord[]): void {
    if (this.#closed) {
      this.#drop(records.length);
      return;
    }
    const { batch, maxBufferedBytes } = this.#settings;
    const batchBytes = Math.min(batch.bytes, maxBufferedBytes);
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      let line: string;
      try {
        line = this.#format(record) + "\n";
        if (typeof record.service === "string") this.#service = record.service;
      } catch {
        this.#drop(1);
        continue;
      }
      const bytes = utf8Length(line);
      if (bytes > maxBufferedBytes) {
        this.#drop(1);
        continue;
      }
      this.#makeRoom(bytes);
      this.#pendingText += line;
      this.#pendingEvents++;
      this.#pendingBytes += bytes;
      this.#bufferedBytes += bytes;
      if (
        this.#pendingEvents >= batch.events || this.#pendingBytes >= batchBytes
      ) {
        this.#seal();
      } else if (this.#batchTimer === undefined) {
        this.#batchTimer = setTimeout(() => {
          this.#batchTimer = undefined;
          this.#seal();
        }, batch.ms);
        unref(this.#batchTimer);
      }
    }
  }

  /** Drops the oldest batches until `bytes` more fit in the buffer. */
  #makeRoom(bytes: number): void {
    const max = this.#settings.maxBufferedBytes;
    while (this.#bufferedBytes + bytes > max) {
      const oldest = this.#queue.find((b) => b !== this.#delivering);
      if (oldest !== undefined) this.#dropBatch(oldest);
      else if (this.#pendingEvents > 0) {
        this.#drop(this.#pendingEvents);
        this.#bufferedBytes -= this.#pendingBytes;
        this.#clearPending();
      } else if (this.#delivering !== undefined) {
        this.#dropBatch(this.#delivering);
      } else break;
    }
  }

  #clearPending(): void {
    this.#pendingText = "";
    this.#pendingEvents = 0;
    this.#pendingBytes = 0;
    if (this.#batchTimer !== undefined) clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
  }

  /** Counts events given up on; a later delivered batch reports them. */
  #drop(events: number): void {
    this.#dropped += events;
    this.#unreported += events;
  }

  #dropBatch(batch: Batch): void {
    batch.dropped = true;
    this.#drop(batch.events);
    this.#remove(batch);
    if (batch === this.#delivering) this.#cancel?.();
  }

  #remove(batch: Batch): void {
    const index = this.#queue.indexOf(batch);
    if (index === -1) return;
    this.#queue.splice(index, 1);
    this.#bufferedBytes -= batch.bytes;
    this.#wakeWaiters();
  }

  /** Moves the pending lines into a batch of their own and starts sending. */
  #seal(): void {
    if (this.#pendingEvents === 0) return;
    this.#enqueue(this.#pendingText, this.#pendingEvents, this.#pendingBytes);
    this.#clearPending();
  }

  #enqueue(text: string, events: number, bytes: number): void {
    this.#queue.push({
      id: this.#nextId++,
      text,
      events,
      bytes,
      dropped: false,
      bodyLost: 0,
    });
    if (!this.#running) void this.#run();
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue[0];
        this.#delivering = batch;
        try {
          await this.#deliver(batch);
        } catch {
          // #deliver handles its own failures; never let the loop die.
          if (!batch.dropped) this.#dropBatch(batch);
        }
        this.#delivering = undefined;
        this.#cancel = undefined;
      }
    } finally {
      this.#running = false;
      this.#delivering = undefined;
    }
  }

  async #deliver(batch: Batch): Promise<void> {
    const { attempts } = this.#settings.retry;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const lost = this.#unreported;
      if (batch.events === 0 && lost === 0) {
        // A batch for the loss line alone, whose loss another batch reported.
        this.#remove(batch);
        return;
      }
      if (attempt > 1) this.#retries++;
      const body = await this.#body(batch, lost);
      if (batch.dropped) return;
      const outcome = await this.#post(body);
      if (batch.dropped) return;
      if (outcome.kind === "ok") {
        this.#sent += batch.events;
        this.#unreported -= lost;
        this.#remove(batch);
        return;
      }
      this.#failures++;
      if (outcome.kind === "reject" || attempt === attempts) break;
      await this.#sleep(this.#backoff(attempt, outcome.afterMs));
      if (batch.dropped) return;
    }
    this.#dropBatch(batch);
  }

  /** The request body: the loss line (if any), the lines, compressed. */
  async #body(batch: Batch, lost: number): Promise<Uint8Array> {
    if (batch.body !== undefined && batch.bodyLost === lost) return batch.body;
    let text = batch.text;
    if (lost > 0) {
      text = this.#format({
        time: Date.now(),
        level: "warn",
        target: "ttlog",
        msg: `lost ${lost} events`,
        fields: { lost, reason: LOSS_REASON },
        service: this.#service,
        seq: -1,
      }) + "\n" + text;
    }
    let body: Uint8Array = encoder.encode(text);
    if (this.#settings.compression === "gzip") body = await gzip(body);
    batch.body = body;
    batch.bodyLost = lost;
    return body;
  }

  #backoff(retry: number, afterMs: number | undefined): number {
    const { baseMs, maxMs } = this.#settings.retry;
    if (afterMs !== undefined) return Math.min(afterMs, maxMs);
    const ceiling = Math.min(maxMs, baseMs * 2 ** (retry - 1));
    return ceiling / 2 + Math.random() * ceiling / 2;
  }

  /** A timer that keeps the process alive only while someone awaits a flush. */
  #timer(ms: number, fire: () => void): Timer {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fire();
    }, ms);
    this.#timers.add(timer);
    if (this.#waiters.length === 0) unref(timer);
    return timer;
  }

  #clearTimer(timer: Timer): void {
    clearTimeout(timer);
    this.#timers.delete(timer);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#timer(ms, resolve);
      this.#cancel = () => {
        this.#clearTimer(timer);
        resolve();
      };
    });
  }

  async #post(body: Uint8Array): Promise<Outcome> {
    const controller = new AbortController();
    const timer = this.#timer(
      this.#settings.timeoutMs,
      () => controller.abort(),
    );
    this.#cancel = () => controller.abort();
    try {
      const response = await fetch(this.#settings.url, {
        method: "POST",
        headers: this.#headers,
        body: body as BodyInit,
        signal: controller.signal,
      });
      // Read the answer so the connection can be reused (and, in Deno, is
      // not reported as a leaked resource).
      await response.arrayBuffer();
      const status = response.status;
      if (status >= 200 && status < 300) return { kind: "ok" };
      if (status === 429 || status >= 500) {
        return {
          kind: "retry",
          afterMs: retryAfterMs(response.headers.get("retry-after")),
        };
      }
      return { kind: "reject" };
    } catch {
      // A network error, a timeout or a cancel: retried unless cancelled.
      return { kind: "retry" };
    } finally {
      this.#clearTimer(timer);
    }
  }

  #wakeWaiters(): void {
    const oldest = this.#queue.length > 0 ? this.#queue[0].id : Infinity;
    const ready = this.#waiters.filter((w) => w.upTo < oldest);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.upTo >= oldest);
    for (const waiter of ready) waiter.resolve();
  }

  flush(): Promise<void> {
    this.#seal();
    if (this.#unreported > 0 && this.#queue.length === 0 && !this.#stopped) {
      // Nothing left to carry the loss line: send it alone.
      this.#enqueue("", 0, 0);
    }
    if (this.#queue.length === 0) return Promise.resolve();
    const upTo = this.#queue[this.#queue.length - 1].id;
    // Someone waits now: the backoff and timeout timers must keep the
    // process alive until they fire.
    for (const timer of this.#timers) ref(timer);
    return new Promise((resolve) => {
      this.#waiters.push({ upTo, resolve });
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    // Writes from here on are dropped (and counted): the flush below then
    // covers everything the sink will ever send.
    this.#closed = true;
    await this.flush();
    this.#stopped = true;
    this.#clearPending();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}
