/**
 * The sink interface: where decoded records go, or, for sinks that store
 * records as they are (`writeRaw`), the records' bytes.
 *
 * @module
 */

import type { LogRecord } from "../record/values.ts";

/**
 * A destination for records. The drain calls `write` with batches of records
 * in order; a sink that returns a promise is awaited before `flush()` resolves.
 * A sink that throws or rejects is counted and reported, and never stops the
 * other sinks.
 *
 * @example A sink that counts records
 * ```ts
 * import { createLogger, type LogRecord, type Sink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * let count = 0;
 * const counting: Sink = {
 *   name: "counting",
 *   write(records: readonly LogRecord[]) { count += records.length; },
 * };
 * const log = createLogger({ sinks: [counting] });
 * log.info("one");
 * await log.close();
 * assert.equal(count, 1);
 * ```
 */
export interface Sink {
  /** A short name for metrics and error reports. */
  readonly name: string;
  /** Takes a batch of records, oldest first. */
  write(records: readonly LogRecord[]): void | Promise<void>;
  /**
   * Set by a sink that stores records undecoded (such as
   * `fileSink({ format: "ttlog" })`): the drain then calls this instead of
   * `write`, with each producer's emitted records exactly as they sit in its
   * ring and the dictionary entries they need, and decodes nothing for it.
   * The same events reach it as reach `write` of the other sinks: those at
   * or above their target's emit level, plus their losses.
   */
  writeRaw?(batches: readonly RawBatch[]): void | Promise<void>;
  /**
   * Set to `"ndjson"` by a sink that writes `ndjsonFormatter()` lines (with
   * its default options) and has {@link writeLines}: the drain then writes
   * those lines itself, straight from the ring's bytes, and decodes nothing
   * for the sink.
   */
  readonly lines?: "ndjson";
  /**
   * With {@link lines}: takes a batch of `count` lines, UTF-8, each ending
   * with `\n`, byte for byte what `ndjsonFormatter()` makes of the records
   * `write` would have had (loss records included). The bytes are the
   * drain's buffer, valid until the call returns: a sink that keeps them
   * (to write later, to batch) copies them. `write` is still called for
   * what the drain hands over as records (a replay).
   */
  writeLines?(bytes: Uint8Array, count: number): void | Promise<void>;
  /** Pushes anything buffered to its destination. */
  flush?(): void | Promise<void>;
  /** Flushes and releases the destination; called once. */
  close?(): void | Promise<void>;
  /**
   * Gives up at once on what is not delivered yet, counting it as dropped
   * (a network sink cancels its request under way): called when `close()`
   * runs out of `exitTimeoutMs`, so that a destination that never answers
   * cannot hold the logger's end.
   */
  abort?(): void;
  /**
   * How a drain running in a worker rebuilds this sink there. Sinks without
   * one (a memory sink, your own object) keep the drain on the caller's
   * thread.
   */
  readonly spec?: SinkSpec;
  /**
   * Set when a failed `write` may succeed later: the drain then writes the
   * same batch again after `delayMs`, doubling each time, up to `attempts`
   * writes in all. Every failure is counted in the sink's `errors`.
   */
  readonly retry?: { readonly attempts: number; readonly delayMs: number };
  /**
   * Set by a sink whose `write` only queues (a network sink that batches):
   * what reached the destination, what it gave up on, and its failures, as
   * it counts them. `metrics().sinks` then shows these rather than what the
   * drain handed over.
   */
  readonly delivery?: SinkDelivery;
}

/**
 * What a sink knows of its own delivery (see {@link Sink.delivery}).
 *
 * @example A sink that counts what it delivers
 * ```ts
 * import { createLogger, type Sink } from "@ttlog/ttlog";
 * import { type SinkDelivery } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * const delivery = { written: 0, dropped: 0, errors: 0 };
 * const sink: Sink & { delivery: SinkDelivery } = {
 *   name: "counting",
 *   delivery,
 *   write(records) {
 *     delivery.written += records.length - 1;
 *     delivery.dropped += 1; // say the last one could not be sent
 *   },
 * };
 * const log = createLogger({ sinks: [sink] });
 * log.info("one");
 * log.info("two");
 * await log.flush();
 * assert.deepEqual(log.metrics().sinks[0], { name: "counting", written: 1, dropped: 1, errors: 0 });
 * await log.close();
 * ```
 */
export interface SinkDelivery {
  /** Records that reached the destination. */
  readonly written: number;
  /** Records given up on. */
  readonly dropped: number;
  /** Failures (failed requests, failed writes). */
  readonly errors: number;
}

/**
 * The `module` of every built-in sink's {@link SinkSpec}: the drain's worker
 * carries those sinks inside its own code, so it starts from anywhere (a
 * `file:` or `https:` import, a bundle) without looking a module up.
 */
export const BUILTIN_SINK_MODULE = "ttlog:sinks";

/**
 * A recipe for a sink: the worker imports `module`, calls its export
 * `factory` with `options` (which must survive structured clone) and gets
 * an equivalent sink. Built-in sinks name {@link BUILTIN_SINK_MODULE}
 * instead of a URL; your own sink names its module's `import.meta.url`,
 * which the worker imports (so it must be importable from there: a
 * `file:` or `https:` URL, not a path inside a bundle).
 *
 * @example A built-in sink's recipe
 * ```ts
 * import { consoleSink } from "@ttlog/ttlog";
 * import { type SinkSpec } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * const spec: SinkSpec | undefined = consoleSink({ format: "ndjson" }).spec;
 * assert.equal(spec?.factory, "consoleSink");
 * assert.deepEqual(structuredClone(spec), spec); // it can cross to a worker
 * // A formatter function cannot: such a sink has no spec.
 * assert.equal(consoleSink({ format: (r) => r.msg }).spec, undefined);
 * ```
 */
export interface SinkSpec {
  /**
   * URL of the module that exports the factory (its `import.meta.url`), or
   * {@link BUILTIN_SINK_MODULE} for ttlog's own sinks.
   */
  readonly module: string;
  /** The factory's export name, such as `"fileSink"`. */
  readonly factory: string;
  /** The factory's options. */
  readonly options: unknown;
}

/**
 * A dictionary entry, as a producer's dictionary stores it.
 *
 * @example Keep every entry a raw sink is given
 * ```ts
 * import { createLogger, type Sink } from "@ttlog/ttlog";
 * import { type RawEntry } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * const dictionary = new Map<number, RawEntry>();
 * const raw: Sink = {
 *   name: "raw",
 *   write() {},
 *   writeRaw(batches) {
 *     for (const batch of batches) {
 *       for (const entry of batch.entries) dictionary.set(entry.id, entry);
 *     }
 *   },
 * };
 * const log = createLogger({ sinks: [raw] });
 * const user = "ada";
 * log.info`user ${user} logged in`;
 * await log.close();
 * assert.ok(dictionary.has(1));
 * assert.ok([...dictionary.values()].some((entry) => entry.kind === 2)); // the call site
 * ```
 */
export interface RawEntry {
  /** Its id (1 and up, in the order the producer added entries). */
  readonly id: number;
  /** 1 string (key or target), 2 call site (docs/FORMAT.md, "Dictionary"). */
  readonly kind: number;
  /** Its payload, exactly as stored. */
  readonly payload: Uint8Array;
}

/**
 * Events a producer lost: a "lost N events" record, undecoded.
 *
 * @example Count what a raw sink was told was lost
 * ```ts
 * import { createLogger, type Sink } from "@ttlog/ttlog";
 * import { type RawLoss } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * const losses: RawLoss[] = [];
 * const raw: Sink = {
 *   name: "raw",
 *   write() {},
 *   writeRaw(batches) {
 *     for (const batch of batches) losses.push(...batch.losses);
 *   },
 * };
 * // A small ring and a drain that runs after this task: the burst overflows.
 * const log = createLogger({ sinks: [raw], worker: false, ring: { bytes: 4096, overflow: "drop" } });
 * for (let i = 0; i < 1000; i++) log.info("tick", { i });
 * await log.flush();
 * const lost = losses.reduce((sum, loss) => sum + loss.lost, 0);
 * assert.ok(lost > 0);
 * assert.equal(lost, log.metrics().dropped);
 * await log.close();
 * ```
 */
export interface RawLoss {
  /** How many events. */
  readonly lost: number;
  /** Why: overwritten before the drain read them, undecodable, or dropped. */
  readonly reason: string;
}

/**
 * What a raw sink gets of one producer in one pass of the drain. The
 * batches of one producer arrive in order, each carrying the dictionary
 * entries the producer added since its previous batch: a sink that keeps
 * every entry it was given can decode every record.
 *
 * @example A raw sink that counts records and bytes
 * ```ts
 * import { createLogger, type Sink } from "@ttlog/ttlog";
 * import { type RawBatch } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * let count = 0;
 * let bytes = 0;
 * let service = "";
 * const raw: Sink = {
 *   name: "raw",
 *   write() {}, // not called: writeRaw takes the records
 *   writeRaw(batches: readonly RawBatch[]) {
 *     for (const batch of batches) {
 *       service = batch.service;
 *       count += batch.count;
 *       bytes += batch.records.byteLength;
 *     }
 *   },
 * };
 * const log = createLogger({ service: "checkout", sinks: [raw] });
 * log.info("one");
 * log.info("two", { n: 2 });
 * await log.close();
 * assert.equal(count, 2);
 * assert.ok(bytes > 0);
 * assert.equal(service, "checkout");
 * ```
 */
export interface RawBatch {
  /** The logger's service name. */
  readonly service: string;
  /** The producer: 0 for the logger's own ring, then rings from `port()`. */
  readonly producer: number;
  /**
   * Whole event records, exactly as in the ring (docs/FORMAT.md, "Record"),
   * oldest first, without pads: those at or above their target's emit level.
   */
  readonly records: Uint8Array;
  /** How many records. */
  readonly count: number;
  /** Each record's sequence number (records do not hold them). */
  readonly seqs: Uint32Array;
  /** The time base of the producer's ring: record times count ms from it. */
  readonly timeBase: number;
  /** Dictionary entries added since this producer's previous batch. */
  readonly entries: readonly RawEntry[];
  /** Events lost around these records ("lost N events"), to write before them. */
  readonly losses: readonly RawLoss[];
}

/**
 * Turns one record into one line of text, without the line end.
 *
 * @example A formatter of your own for the console
 * ```ts
 * import { consoleSink, createLogger, type Formatter, memorySink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const short: Formatter = (record) => `${record.level.toUpperCase()} ${record.msg}`;
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink, consoleSink({ format: short })] });
 * log.warn("disk almost full");
 * await log.flush();
 * assert.equal(short(sink.records[0]), "WARN disk almost full");
 * await log.close();
 * ```
 */
export type Formatter = (record: LogRecord) => string;
