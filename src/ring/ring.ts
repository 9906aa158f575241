/**
 * The ring's memory layout, shared by the producer (hot path) and the drain.
 *
 * One ring per producing thread: a control block of Int32 words followed by
 * the data area. Positions are byte counters that grow forever, wrapping at
 * 2^32 (compare them with `(a - b) | 0`); a position's index in the data area
 * is `position & mask`. The capacity is a power of two so that 2^32 is a
 * multiple of it.
 *
 * Records are 4-byte aligned, length-prefixed and never straddle the end of
 * the data area: a pad record fills the rest of a lap. A record is visible
 * once the producer stores a commit position past it. The producer keeps
 * `tail` at the oldest record still intact; it moves `tail` before it writes
 * over anything, so a reader that loads `tail` after reading a record knows
 * whether the record's bytes could have changed under it.
 *
 * @module
 */

/** Bytes of the control block at the start of the ring's buffer. */
export const CONTROL_BYTES = 128;
/** Int32 control words (the first 64 bytes); float64 drain statistics follow. */
const CONTROL_WORDS = 16;

/** Drain statistic (float64): events of this ring delivered to the sinks. */
export const S_EMITTED = 0;
/** Drain statistic: events of this ring below their target's emit level. */
export const S_FILTERED = 1;
/** Drain statistic: events of this ring lost (overwritten or undecodable). */
export const S_LOST = 2;
/** Drain statistic: "lost N events" records written for this ring. */
export const S_LOSS_RECORDS = 3;
/** Drain statistic: drops already reported in a "lost N events" record. */
export const S_DROPS_REPORTED = 4;

/** Control word: position just past the last committed record (producer). */
export const CTL_COMMIT = 0;
/** Control word: position of the oldest record still intact (producer). */
export const CTL_TAIL = 1;
/** Control word: position up to which the drain has consumed (drain). */
export const CTL_READ = 2;
/**
 * Control word (drain): 0 while the drain is awake; {@link WAITING_ASLEEP}
 * while it may be asleep and every commit must wake it;
 * {@link WAITING_LINGER} while it polls on a short timer and only a ring
 * filling up ({@link lingerBytes}) must wake it.
 */
export const CTL_WAITING = 3;
/** CTL_WAITING: the drain may be asleep; wake it on every commit. */
export const WAITING_ASLEEP = 1;
/** CTL_WAITING: the drain polls every few ms; wake it only when the ring fills. */
export const WAITING_LINGER = 2;

/**
 * Unread bytes past which a producer wakes a lingering drain: a quarter of
 * the ring, so a burst cannot overwrite what the drain has not read before
 * its next poll.
 */
export function lingerBytes(capacity: number): number {
  return capacity >> 2;
}
/** Control word: the data area's capacity in bytes. */
export const CTL_CAPACITY = 4;
/** Control word: the largest record in bytes. */
export const CTL_MAX_RECORD = 5;
/** Control word: the overflow policy (see {@link OVERFLOW_CODES}). */
export const CTL_POLICY = 6;
/** Control word: events dropped so far under `drop` or `block` (producer). */
export const CTL_DROPPED = 7;
/** Control word: 1 once a drain has registered this ring (drain). */
export const CTL_REGISTERED = 8;

/** Record kind (top byte of a record's first word): an event. */
export const KIND_EVENT = 1;
/** Record kind: padding up to the end of the data area. */
export const KIND_PAD = 2;

/** Bytes of an event record's header: length+kind, seq, time (f64), level+target, site. */
export const HEADER_BYTES = 24;

/**
 * What happens when the drain lags and the ring is full.
 *
 * @example Drop the newest events of a burst, and count them
 * ```ts
 * import { createLogger, memorySink, type OverflowPolicy } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const overflow: OverflowPolicy = "drop";
 * // worker: false: the drain runs after this task, so the burst fills the ring.
 * const log = createLogger({ sinks: [sink], worker: false, ring: { bytes: 4096, overflow } });
 * for (let i = 0; i < 1000; i++) log.info("tick", { i });
 * await log.flush();
 * const m = log.metrics();
 * assert.ok(m.dropped > 0);
 * assert.equal(m.logged, m.emitted + m.dropped);
 * assert.equal(sink.records.at(-1)?.msg, `lost ${m.dropped} events`);
 * await log.close();
 * ```
 */
export type OverflowPolicy = "overwrite" | "drop" | "block";

/** Overflow policies as stored in the control block. */
export const OVERFLOW_CODES: Readonly<Record<OverflowPolicy, number>> = {
  overwrite: 0,
  drop: 1,
  block: 2,
};

/** The smallest ring, in bytes. */
export const MIN_RING_BYTES = 1024;
/** The largest ring, in bytes (positions must stay comparable as int32). */
export const MAX_RING_BYTES = 1 << 30;

/** The memory of one ring and its views. */
export interface RingMemory {
  /** The whole buffer (control block, then data). */
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
  /** Control words. */
  readonly ctl: Int32Array;
  /**
   * The drain's per-ring statistics (S_*), written only by the drain, so any
   * thread can check its own producer's accounting.
   */
  readonly stats: Float64Array;
  /** The data area as bytes. */
  readonly u8: Uint8Array;
  /** The data area as 32-bit words. */
  readonly i32: Int32Array;
  /** Data capacity in bytes (a power of two). */
  readonly capacity: number;
  /** `capacity - 1`. */
  readonly mask: number;
}

/**
 * Allocates ring memory: a SharedArrayBuffer where the runtime has one,
 * else an ArrayBuffer (edge runtimes), which only the caller's thread drains.
 */
export function allocateRing(
  capacity: number,
  maxRecord: number,
  policy: OverflowPolicy,
): RingMemory {
  const bytes = CONTROL_BYTES + capacity;
  const buffer = typeof SharedArrayBuffer === "function"
    ? new SharedArrayBuffer(bytes)
    : new ArrayBuffer(bytes);
  const memory = viewRing(buffer);
  memory.ctl[CTL_CAPACITY] = capacity;
  memory.ctl[CTL_MAX_RECORD] = maxRecord;
  memory.ctl[CTL_POLICY] = OVERFLOW_CODES[policy];
  memory.ctl[CTL_WAITING] = 1;
  return memory;
}

/** Creates the views of an existing ring buffer (for example in the drain's thread). */
export function viewRing(buffer: SharedArrayBuffer | ArrayBuffer): RingMemory {
  const capacity = buffer.byteLength - CONTROL_BYTES;
  return {
    buffer,
    ctl: new Int32Array(buffer, 0, CONTROL_WORDS),
    stats: new Float64Array(
      buffer,
      CONTROL_WORDS * 4,
      (CONTROL_BYTES - CONTROL_WORDS * 4) >> 3,
    ),
    u8: new Uint8Array(buffer, CONTROL_BYTES, capacity),
    i32: new Int32Array(buffer, CONTROL_BYTES, capacity >> 2),
    capacity,
    mask: capacity - 1,
  };
}

/** Rounds a requested ring size up to the power of two the ring uses. */
export function ringCapacity(requested: number): number {
  let capacity = MIN_RING_BYTES;
  while (capacity < requested && capacity < MAX_RING_BYTES) capacity *= 2;
  return capacity;
}

// ---- record framing ----
//
// A record's first word is its content length (24 bits, header included)
// with its kind in the top byte; the next record starts at the content
// length rounded up to 4 bytes. Dictionary entries (entryLength() in
// src/record/dictionary.ts) and the records in snapshot chunks follow the
// same arithmetic. Write it with these, not by hand: each is small enough
// for the JITs to inline.

/** The most content a record (or a dictionary entry) can say it has. */
export const MAX_CONTENT_BYTES = 0xffffff;

/**
 * The aligned size of a record whose content is `contentBytes` long.
 *
 * @param contentBytes The content length, header included.
 * @returns It rounded up to a multiple of 4.
 */
export function alignedLength(contentBytes: number): number {
  return (contentBytes + 3) & ~3;
}

/**
 * The content length a record's first word holds.
 *
 * @param word The record's first word (length and kind).
 * @returns Its low 24 bits.
 */
export function contentLength(word: number): number {
  return word & 0xffffff;
}

/**
 * The kind a record's first word holds ({@link KIND_EVENT}, {@link KIND_PAD}).
 *
 * @param word The record's first word (length and kind).
 * @returns Its top byte.
 */
export function recordKind(word: number): number {
  return word >>> 24;
}

/**
 * The first word of a record: its content length and its kind.
 *
 * @param kind {@link KIND_EVENT} or {@link KIND_PAD}.
 * @param contentBytes The content length (at most {@link MAX_CONTENT_BYTES}).
 * @returns The word.
 */
export function recordWord(kind: number, contentBytes: number): number {
  return contentBytes | (kind << 24);
}
