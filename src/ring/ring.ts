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

/**
 * Byte offset of an event's level byte: bits 0-2 the level, bit 3
 * {@link TIME_FLOAT}, bits 4-7 the time's bits 32-35. Bytes 4-7 hold the
 * time's low 32 bits (ms after the ring's time base); the target id and
 * the site id follow the level byte as varints (docs/FORMAT.md, "Record").
 */
export const LEVEL_AT = 8;
/**
 * Level byte flag: the time is a float64 of epoch ms after the ids (it was
 * not a whole number of ms within 2^36 ms after the ring's time base).
 */
export const TIME_FLOAT = 0x08;
/** The shortest event header: length and kind, time, level, two 1-byte ids. */
export const MIN_HEADER_BYTES = 11;
/** The longest: 4-byte target and 5-byte site varints, a float64 time. */
export const MAX_HEADER_BYTES = 26;
/** Whole ms past the time base the compact header holds (36 bits). */
export const MAX_TIME_DELTA = 2 ** 36;

/** Int32 control word where the (tail, tail seq) pair starts (a BigInt64). */
const PAIR_TAIL = 10;
/** Int32 control word where the drain's (read, read seq) pair starts. */
const PAIR_READ = 12;
/** Float64 control slot holding the time base (epoch ms). */
const F_TIME_BASE = 5;
/**
 * How far before the ring's creation its time base lies: a clock stepped
 * back by less than this still gets compact times.
 */
const TIME_BASE_MARGIN_MS = 86_400_000;
/**
 * A clock before 2000-01-01 has not been set (a Worker's global scope reads
 * 0): no time base is taken from it.
 */
const SET_CLOCK_MS = 946_684_800_000;

/**
 * The header of an event record as {@link readHeader} reads it: one object
 * per reader, reused record after record.
 */
export interface EventHeader {
  /** Level value (0 trace to 5 fatal; 6 and 7 are undecodable). */
  level: number;
  /** Target id (0: the target is inline, first in the body). */
  targetId: number;
  /** Site id (0: the message parts are inline). */
  siteId: number;
  /** Epoch ms. */
  time: number;
  /** Index of the body's first byte. */
  body: number;
}

/** A new, zeroed {@link EventHeader}. */
export function eventHeader(): EventHeader {
  return { level: 0, targetId: 0, siteId: 0, time: 0, body: 0 };
}

const timeF64 = new Float64Array(1);
const timeBytes = new Uint8Array(timeF64.buffer);

/**
 * Reads the header of the event record whose content is `u8[start, end)`.
 *
 * @param u8 The bytes holding the record.
 * @param start Where the record starts (its first word).
 * @param end Where its content ends.
 * @param timeBase The time base of the ring it was written in.
 * @param out Receives the fields.
 * @returns False when the header does not fit the content (`out` is then
 * partly written).
 */
export function readHeader(
  u8: Uint8Array,
  start: number,
  end: number,
  timeBase: number,
  out: EventHeader,
): boolean {
  const flags = u8[start + LEVEL_AT];
  out.level = flags & 7;
  let p = start + LEVEL_AT + 1;
  if (p + 2 > end) return false;
  let v = u8[p++];
  if (v > 0x7f) {
    v &= 0x7f;
    let b = u8[p++];
    v |= (b & 0x7f) << 7;
    if (b > 0x7f) {
      b = u8[p++];
      v |= (b & 0x7f) << 14;
      if (b > 0x7f) {
        b = u8[p++];
        if (b > 0x07) return false;
        v |= b << 21;
      }
    }
  }
  out.targetId = v;
  if (p >= end) return false;
  v = u8[p++];
  if (v > 0x7f) {
    v &= 0x7f;
    let shift = 7;
    let b: number;
    do {
      if (p >= end || shift > 28) return false;
      b = u8[p++];
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b > 0x7f);
    if (v > 0xffffffff) return false;
  }
  out.siteId = v;
  if ((flags & TIME_FLOAT) === 0) {
    out.time = timeBase + (flags >>> 4) * 4294967296 +
      ((u8[start + 4] | (u8[start + 5] << 8) | (u8[start + 6] << 16) |
        (u8[start + 7] << 24)) >>> 0);
  } else {
    if (p + 8 > end) return false;
    for (let i = 0; i < 8; i++) timeBytes[i] = u8[p + i];
    out.time = timeF64[0];
    p += 8;
  }
  out.body = p;
  return p <= end;
}

/**
 * Writes an event header (not on the hot path: records built outside a
 * ring's producer, such as those rebuilt from a .ttlog file, use it).
 *
 * @param u8 Where the record goes.
 * @param start Where it starts (its first word is left to the caller).
 * @param level Level value.
 * @param targetId Target id (at most 2^24-1).
 * @param siteId Site id (at most 2^32-1).
 * @param time Epoch ms.
 * @param timeBase The time base the compact time counts from.
 * @returns Where the body starts.
 */
export function writeHeader(
  u8: Uint8Array,
  start: number,
  level: number,
  targetId: number,
  siteId: number,
  time: number,
  timeBase: number,
): number {
  let p = putVarint(u8, start + LEVEL_AT + 1, targetId);
  p = putVarint(u8, p, siteId);
  const delta = time - timeBase;
  if (
    Number.isInteger(delta) && delta >= 0 && delta < MAX_TIME_DELTA &&
    !Object.is(time, -0)
  ) {
    writeWord(u8, start + 4, delta % 4294967296);
    u8[start + LEVEL_AT] = level | (Math.floor(delta / 4294967296) << 4);
    return p;
  }
  writeWord(u8, start + 4, 0);
  u8[start + LEVEL_AT] = level | TIME_FLOAT;
  timeF64[0] = time;
  for (let i = 0; i < 8; i++) u8[p + i] = timeBytes[i];
  return p + 8;
}

function writeWord(u8: Uint8Array, at: number, value: number): void {
  u8[at] = value & 0xff;
  u8[at + 1] = (value >>> 8) & 0xff;
  u8[at + 2] = (value >>> 16) & 0xff;
  u8[at + 3] = (value >>> 24) & 0xff;
}

/**
 * Writes `value` (a non-negative safe integer) as an unsigned LEB128
 * varint at `at`.
 *
 * @returns Where the next byte goes.
 */
export function putVarint(
  u8: Uint8Array,
  at: number,
  value: number,
): number {
  while (value > 0x7f) {
    u8[at++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  u8[at++] = value;
  return at;
}

/**
 * The time base a ring's compact record times count from (epoch ms), or
 * NaN while it has none (every record's time is then a float64).
 */
export function ringTimeBase(memory: RingMemory): number {
  return memory.stats[F_TIME_BASE];
}

/**
 * Sets a ring's time base from a clock reading, a day before it; NaN (no
 * base yet) when the clock has not been set. Only its producer, at the
 * ring's creation or, while the base is NaN, before it commits a record
 * with the new base (readers load the base after the commit position).
 */
export function setRingTimeBase(memory: RingMemory, now: number): void {
  memory.stats[F_TIME_BASE] = Number.isFinite(now) && now >= SET_CLOCK_MS
    ? Math.floor(now) - TIME_BASE_MARGIN_MS
    : NaN;
}

/** A position and the sequence number of the event there, read as one. */
export interface SeqPosition {
  /** The position. */
  position: number;
  /** The sequence number of the first event at or after it. */
  seq: number;
}

function pairView(memory: RingMemory): BigInt64Array {
  return new BigInt64Array(memory.buffer, 0, CONTROL_WORDS >> 1);
}

/**
 * Stores a (position, seq) pair with one 64-bit atomic write, so a reader
 * on another thread sees both or neither.
 */
function storePair(pairs: BigInt64Array, word: number, pair: SeqPosition) {
  Atomics.store(
    pairs,
    word >> 1,
    (BigInt(pair.seq >>> 0) << 32n) | BigInt(pair.position >>> 0),
  );
}

function loadPair(pairs: BigInt64Array, word: number, out: SeqPosition) {
  const value = Atomics.load(pairs, word >> 1);
  out.position = Number(value & 0xffffffffn) | 0;
  out.seq = Number((value >> 32n) & 0xffffffffn) | 0;
}

/**
 * The 64-bit control pairs of a ring: the tail with its sequence number
 * (written by the producer when it evicts records), and the drain's read
 * position with its sequence number (so a drain that takes over a ring
 * knows both).
 */
export class RingPairs {
  readonly #pairs: BigInt64Array;

  /** @param memory The ring. */
  constructor(memory: RingMemory) {
    this.#pairs = pairView(memory);
  }

  /** Stores the tail pair (producer). */
  storeTail(pair: SeqPosition): void {
    storePair(this.#pairs, PAIR_TAIL, pair);
  }

  /** Loads the tail pair into `out`. */
  loadTail(out: SeqPosition): void {
    loadPair(this.#pairs, PAIR_TAIL, out);
  }

  /** Stores the read pair (drain). */
  storeRead(pair: SeqPosition): void {
    storePair(this.#pairs, PAIR_READ, pair);
  }

  /** Loads the read pair into `out`. */
  loadRead(out: SeqPosition): void {
    loadPair(this.#pairs, PAIR_READ, out);
  }
}

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
   * thread can check its own producer's accounting; slot 5 holds the ring's
   * time base (written by its producer, see {@link ringTimeBase}).
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
  setRingTimeBase(memory, Date.now());
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
