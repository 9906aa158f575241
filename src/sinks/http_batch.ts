/**
 * The batching core that `httpSink` and `otlpSink` share: pending
 * events, sealed batches, one request in flight, retries with backoff and
 * Retry-After, bounded memory with counted drops and a loss record, flush and
 * close. What differs between the sinks (how a record becomes part of a
 * body, which statuses are worth a retry) is a {@link BodyEncoding}.
 *
 * Internal: not exported from mod.ts.
 *
 * @module
 */

import { TtlogConfigError } from "../errors.ts";
import { edgePlatform } from "../runtime/edge.ts";
import type { LogRecord } from "../record/values.ts";
import type {
  HttpBatchOptions,
  HttpRetryOptions,
  HttpSinkStats,
} from "./http_types.ts";
import type { SinkDelivery, SinkSpec } from "./sink.ts";
import {
  type BadOption,
  badOption,
  describeError,
  describeValue,
  groupOption,
  integerOption,
  millisOption,
} from "../validate.ts";

/**
 * How records become a request body. Events are kept in groups (one for
 * ndjson; one per service and target for OTLP): each group keeps the order
 * its events were written in.
 */
export interface BodyEncoding {
  /** The `content-type` header, unless the user's headers set one. */
  readonly contentType: string;
  /** The `reason` field of the "lost N events" record. */
  readonly lossReason: string;
  /** One event's text in the body; may throw (the event is dropped, counted). */
  entry(record: LogRecord): string;
  /** The group the event goes in. */
  group(record: LogRecord): string;
  /** The body text from the groups' texts, in the order they were first seen. */
  body(groups: ReadonlyMap<string, string>): string;
  /** Whether an answer with this (non-2xx) status is worth another try. */
  retryable(status: number): boolean;
  /**
   * Events the server says it rejected, read from a 2xx answer's body (OTLP
   * partial success). They are counted as dropped and reported.
   */
  rejected?(responseText: string): number;
}

/** The options both sinks share, with every default filled in. */
export interface PostSettings {
  url: string;
  compression: "none" | "gzip";
  headers: Record<string, string>;
  batch: { events: number; bytes: number; ms: number };
  retry: { attempts: number; baseMs: number; maxMs: number };
  maxBufferedBytes: number;
  timeoutMs: number;
}

/** The options both sinks share, as the user gives them. */
export interface PostOptions {
  readonly url?: string;
  readonly compression?: "none" | "gzip";
  readonly headers?: Readonly<Record<string, string>>;
  readonly batch?: HttpBatchOptions;
  readonly retry?: HttpRetryOptions;
  readonly maxBufferedBytes?: number;
  readonly timeoutMs?: number;
}

const MIB = 1024 * 1024;

// ---- option checks ----

/**
 * Checks the shared options and fills in their defaults.
 *
 * @param options The user's options (already known to be a plain object).
 * @param who The factory's name, for error messages.
 * @param defaults The defaults that differ between the sinks.
 * @returns The settings.
 * @throws {TtlogConfigError} When an option is bad or the runtime lacks
 *   `fetch` (or `CompressionStream` for gzip).
 */
export function postSettings(
  options: PostOptions,
  who: string,
  defaults: { url?: string; compression: "none" | "gzip" },
): PostSettings {
  const bad: BadOption = badOption(who);
  const url = options.url ?? defaults.url;
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
  // A default of gzip falls back to none where there is no CompressionStream
  // (Vercel's edge-runtime); asking for gzip there is an error below.
  const compression = options.compression ??
    (defaults.compression === "gzip" && typeof CompressionStream !== "function"
      ? "none"
      : defaults.compression);
  if (compression !== "gzip" && compression !== "none") {
    bad("compression", compression, '"gzip" or "none"');
  }
  if (typeof fetch !== "function") {
    throw new TtlogConfigError(
      `${who} needs fetch, which this runtime does not provide`,
    );
  }
  if (compression === "gzip" && typeof CompressionStream !== "function") {
    throw new TtlogConfigError(
      `${who}: compression "gzip" needs CompressionStream, which this runtime does not provide; use compression: "none"`,
    );
  }
  const headers: Record<string, string> = {};
  for (
    const [name, value] of Object.entries(
      groupOption(
        bad,
        options.headers,
        "headers",
        "a plain object of strings (not a Headers)",
      ),
    )
  ) {
    if (typeof value !== "string") {
      bad(`headers[${describeValue(name)}]`, value, "a string");
    }
    headers[name] = value;
  }
  try {
    new Headers(headers);
  } catch (error) {
    throw new TtlogConfigError(
      `${who}: headers must be valid HTTP header names and values (${
        describeError(error)
      })`,
    );
  }
  const batch = groupOption(bad, options.batch, "batch");
  const retry = groupOption(bad, options.retry, "retry");
  const maxBufferedBytes = integerOption(
    bad,
    options.maxBufferedBytes,
    "maxBufferedBytes",
    16 * MIB,
  );
  const timeoutMs = millisOption(bad, options.timeoutMs, "timeoutMs", 10_000);
  if (timeoutMs === 0) bad("timeoutMs", timeoutMs, "> 0");
  return {
    url,
    compression,
    headers,
    batch: {
      events: integerOption(bad, batch.events, "batch.events", 1000),
      bytes: integerOption(bad, batch.bytes, "batch.bytes", MIB),
      ms: millisOption(bad, batch.ms, "batch.ms", 1000),
    },
    retry: {
      attempts: integerOption(bad, retry.attempts, "retry.attempts", 5),
      baseMs: millisOption(bad, retry.baseMs, "retry.baseMs", 200),
      maxMs: millisOption(bad, retry.maxMs, "retry.maxMs", 10_000),
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

// ---- the core ----

/** A batch sealed for sending: its groups' texts, its events and their bytes. */
interface Batch {
  readonly id: number;
  readonly groups: ReadonlyMap<string, string>;
  readonly events: number;
  readonly bytes: number;
  /** Set when the batch is dropped: no more tries. */
  dropped: boolean;
  /** The body last built, and the loss count its loss record carries. */
  body?: Uint8Array;
  bodyLost: number;
  /** Request-scoped delivery: when a flush took it to deliver. */
  claimedAt?: number;
}

interface FlushWaiter {
  readonly upTo: number;
  readonly resolve: () => void;
}

/** What one try of a request came to. */
type Outcome =
  | { readonly kind: "ok"; readonly rejected: number }
  | { readonly kind: "retry"; readonly afterMs?: number }
  | { readonly kind: "reject" };

/** UTF-8 length of a string (a lone surrogate counts 3: U+FFFD). */
export function utf8Length(text: string): number {
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

/**
 * The sink behind `httpSink` and `otlpSink`; see httpSink's
 * documentation for batching, retries, bounded memory, loss reports and
 * lifetime.
 */
export class BatchPoster {
  readonly name: string;
  readonly spec: SinkSpec;
  #settings: PostSettings;
  #encoding: BodyEncoding;
  #headers: Record<string, string>;
  #service = "";

  #pending = new Map<string, string>();
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
  /**
   * On Cloudflare Workers, I/O belongs to the request that started it: a
   * delivery loop started in one request dies with it, and a fetch started
   * for another request's batch fails. There each flush() (the one under
   * ctx.waitUntil) delivers the batches itself, and nothing is sent from
   * the background.
   */
  #requestScoped = edgePlatform() === "cloudflare";

  #sent = 0;
  #dropped = 0;
  #retries = 0;
  #failures = 0;
  /** Dropped events not yet reported by a delivered loss record. */
  #unreported = 0;

  /**
   * @param name The sink's name.
   * @param spec The recipe a worker rebuilds the sink from.
   * @param settings The shared settings.
   * @param encoding How records become a body.
   */
  constructor(
    name: string,
    spec: SinkSpec,
    settings: PostSettings,
    encoding: BodyEncoding,
  ) {
    this.name = name;
    this.spec = spec;
    this.#settings = settings;
    this.#encoding = encoding;
    // Header names are case-insensitive: the user's `Content-Type` replaces
    // the default one rather than joining it. Whatever the user's headers
    // say, the content-encoding is what the body has.
    this.#headers = {};
    for (const [name, value] of Object.entries(settings.headers)) {
      if (name.toLowerCase() !== "content-encoding") {
        this.#headers[name.toLowerCase()] = value;
      }
    }
    this.#headers["content-type"] ??= encoding.contentType;
    if (settings.compression === "gzip") {
      this.#headers["content-encoding"] = "gzip";
    }
  }

  /** For metrics().sinks: what was delivered, given up on, failed. */
  get delivery(): SinkDelivery {
    return {
      written: this.#sent,
      dropped: this.#dropped,
      errors: this.#failures,
    };
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
      // Nothing in #write throws (a record the encoding cannot read is
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
    const encoding = this.#encoding;
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      let entry: string;
      let group: string;
      try {
        entry = encoding.entry(record);
        group = encoding.group(record);
        if (typeof record.service === "string") this.#service = record.service;
      } catch {
        this.#drop(1);
        continue;
      }
      const bytes = utf8Length(entry);
      if (bytes > maxBufferedBytes) {
        this.#drop(1);
        continue;
      }
      this.#makeRoom(bytes);
      const text = this.#pending.get(group);
      this.#pending.set(group, text === undefined ? entry : text + entry);
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
    this.#pending = new Map();
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

  /** Moves the pending events into a batch of their own and starts sending. */
  #seal(): void {
    if (this.#pendingEvents === 0) return;
    this.#enqueue(this.#pending, this.#pendingEvents, this.#pendingBytes);
    this.#clearPending();
  }

  #enqueue(
    groups: ReadonlyMap<string, string>,
    events: number,
    bytes: number,
  ): void {
    this.#queue.push({
      id: this.#nextId++,
      groups,
      events,
      bytes,
      dropped: false,
      bodyLost: 0,
    });
    if (!this.#running && !this.#requestScoped) void this.#run();
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
        // A batch for the loss record alone, whose loss another batch reported.
        this.#remove(batch);
        return;
      }
      if (attempt > 1) this.#retries++;
      const body = await this.#body(batch, lost);
      if (batch.dropped) return;
      const outcome = await this.#post(body);
      if (batch.dropped) return;
      if (outcome.kind === "ok") {
        const rejected = Math.min(outcome.rejected, batch.events);
        this.#sent += batch.events - rejected;
        this.#unreported -= lost;
        this.#drop(rejected);
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

  /** The request body: the loss record (if any) first, the events, compressed. */
  async #body(batch: Batch, lost: number): Promise<Uint8Array> {
    if (batch.body !== undefined && batch.bodyLost === lost) return batch.body;
    let groups = batch.groups;
    if (lost > 0) {
      const loss: LogRecord = {
        time: Date.now(),
        level: "warn",
        target: "ttlog",
        msg: `lost ${lost} events`,
        fields: { lost, reason: this.#encoding.lossReason },
        service: this.#service,
        seq: -1,
      };
      const withLoss = new Map([[
        this.#encoding.group(loss),
        this.#encoding.entry(loss),
      ]]);
      for (const [group, text] of batch.groups) {
        withLoss.set(group, (withLoss.get(group) ?? "") + text);
      }
      groups = withLoss;
    }
    let body: Uint8Array = encoder.encode(this.#encoding.body(groups));
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
      const answer = await response.arrayBuffer();
      const status = response.status;
      if (status >= 200 && status < 300) {
        let rejected = 0;
        if (this.#encoding.rejected !== undefined && answer.byteLength > 0) {
          try {
            rejected = this.#encoding.rejected(
              new TextDecoder().decode(answer),
            );
          } catch {
            // An answer we cannot read says nothing about rejections.
          }
        }
        return { kind: "ok", rejected };
      }
      if (this.#encoding.retryable(status)) {
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
      // Nothing left to carry the loss record: send it alone.
      this.#enqueue(new Map(), 0, 0);
    }
    if (this.#queue.length === 0) return Promise.resolve();
    const upTo = this.#queue[this.#queue.length - 1].id;
    if (this.#requestScoped) return this.#deliverHere(upTo);
    // Someone waits now: the backoff and timeout timers must keep the
    // process alive until they fire.
    for (const timer of this.#timers) ref(timer);
    return new Promise((resolve) => {
      this.#waiters.push({ upTo, resolve });
    });
  }

  /**
   * Request-scoped delivery: sends the batches up to `upTo` from this call,
   * and waits (on its own timers) for those another flush is sending; one
   * whose flush went silent for longer than a request's timeout is taken
   * over.
   */
  async #deliverHere(upTo: number): Promise<void> {
    const stale = this.#settings.timeoutMs + 1000;
    for (;;) {
      const now = Date.now();
      const batch = this.#queue.find((b) =>
        b.id <= upTo && (b.claimedAt === undefined || now - b.claimedAt > stale)
      );
      if (batch !== undefined) {
        batch.claimedAt = now;
        try {
          await this.#deliver(batch);
        } catch {
          if (!batch.dropped) this.#dropBatch(batch);
        }
        continue;
      }
      if (!this.#queue.some((b) => b.id <= upTo)) return;
      await new Promise((done) => setTimeout(done, 5));
    }
  }

  /**
   * Gives up now on everything not delivered (counted as dropped), for a
   * close() out of time: the request under way is cancelled, flushes freed.
   */
  abort(): void {
    this.#closed = true;
    this.#stopped = true;
    if (this.#pendingEvents > 0) this.#drop(this.#pendingEvents);
    this.#clearPending();
    for (const batch of [...this.#queue]) {
      if (!batch.dropped) this.#dropBatch(batch);
    }
    this.#cancel?.();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.resolve();
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
