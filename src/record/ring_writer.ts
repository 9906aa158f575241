/**
 * The framing half of a producer's recorder: where records go in the ring.
 * {@link RingWriter} makes room for a record under the overflow policy,
 * writes its header (sequence number, time, level, target, site), and
 * commits it with one atomic store, waking the drain when it may sleep.
 * The values inside a record are written by its subclass, `Recorder`
 * (src/record/encode.ts), through `u8`, `pos` and `end`.
 *
 * The hot path, as encode.ts is: any change here comes with a
 * bench/hot_path.ts number before and after.
 *
 * @module
 */

import {
  alignedLength,
  contentLength,
  CTL_COMMIT,
  CTL_DROPPED,
  CTL_READ,
  CTL_TAIL,
  CTL_WAITING,
  KIND_EVENT,
  KIND_PAD,
  LEVEL_AT,
  lingerBytes,
  MAX_TIME_DELTA,
  OVERFLOW_CODES,
  putVarint,
  recordKind,
  recordWord,
  type RingMemory,
  RingPairs,
  ringTimeBase,
  setRingTimeBase,
  TIME_FLOAT,
  WAITING_LINGER,
} from "../ring/ring.ts";

/** A coarse clock this far behind has stopped: fall back to `Date.now()`. */
const STALE_CLOCK_MS = 250;

/** Room kept at the end of every record for closing markers and terminators. */
const SLACK = 128;
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** Called when the ring is full under the `block` policy: make room or return false. */
export type WaitForSpace = (position: number) => boolean;

/**
 * Writes records into one ring: room, header, commit. Single producer: only
 * its own thread calls it.
 */
export class RingWriter {
  /** Ring control words. */
  readonly ctl: Int32Array;
  /** Ring data as bytes. */
  u8: Uint8Array;
  /** Ring data as words. */
  readonly i32: Int32Array;
  /** Ring data capacity. */
  readonly capacity: number;
  /** Unread bytes past which a commit wakes a lingering drain. */
  readonly lingerBytes: number;
  /** `capacity - 1`. */
  readonly mask: number;
  /** Largest record in bytes. */
  readonly maxRecord: number;
  /** Overflow policy code. */
  readonly policy: number;
  /** Position where the next record starts. */
  write = 0;
  /** Position of the oldest intact record (mirrors CTL_TAIL). */
  tail = 0;
  /** Sequence number of the next event. */
  seq = 0;
  /** Sequence number of the event at `tail`. */
  tailSeq = 0;
  /** The ring's time base: record times count ms from it. */
  timeBase: number;
  /** Events recorded. */
  recorded = 0;
  /** Bytes of records committed (padding included). */
  recordedBytes = 0;
  /** Events dropped because the ring was full. */
  dropped = 0;
  /** Highest fill of the ring seen, in bytes. */
  highWater = 0;

  /** Index of the record being written, in `u8`. */
  start = 0;
  /** Write index in `u8`. */
  pos = 0;
  /** Content must stay below this index (markers may use the slack after it). */
  end = 0;

  /** The coarse clock's published time, or null to read `Date.now()`. */
  coarse: Float64Array | null = null;

  /** Wakes the drain; set by the drain's host. */
  wake: () => void = () => {};
  /** Makes room under `block`; set by the drain's host. */
  waitForSpace: WaitForSpace = () => false;

  #detached: Uint8Array;
  readonly #memory: RingMemory;
  readonly #pairs: RingPairs;

  /**
   * @param memory The ring.
   * @param maxRecord Largest record in bytes.
   * @param policy Overflow policy code.
   */
  constructor(memory: RingMemory, maxRecord: number, policy: number) {
    this.ctl = memory.ctl;
    this.u8 = memory.u8;
    this.i32 = memory.i32;
    this.capacity = memory.capacity;
    this.lingerBytes = lingerBytes(memory.capacity);
    this.mask = memory.mask;
    this.maxRecord = maxRecord;
    this.policy = policy;
    this.#detached = new Uint8Array(Math.min(maxRecord, 65536));
    this.#memory = memory;
    this.#pairs = new RingPairs(memory);
    this.timeBase = ringTimeBase(memory);
  }

  // ---- records ----

  /**
   * Starts a record: makes room (per the overflow policy), writes the header.
   * Returns false when the event is dropped.
   */
  begin(level: number, targetId: number, siteId: number): boolean {
    const capacity = this.capacity;
    const max = this.maxRecord;
    let w = this.write;
    let index = w & this.mask;
    let pad = capacity - index;
    if (pad >= max) pad = 0;
    if (((w - this.tail) | 0) + pad + max > capacity) {
      if (!this.#makeRoom(pad + max)) return false;
      // Making room may have run the drain, and a sink may have logged:
      // start again from where the ring is now.
      if (this.write !== w) return this.begin(level, targetId, siteId);
    }
    const i32 = this.i32;
    if (pad !== 0) {
      i32[index >> 2] = recordWord(KIND_PAD, pad);
      w = (w + pad) | 0;
      this.write = w;
      this.recordedBytes += pad;
      index = 0;
    }
    const coarse = this.coarse;
    const now = coarse === null ? Date.now() : coarse[0];
    const delta = now - this.timeBase;
    const u8 = this.u8;
    let p = index + LEVEL_AT + 1;
    if (targetId < 0x80) u8[p++] = targetId;
    else p = putVarint(u8, p, targetId);
    if (siteId < 0x80) u8[p++] = siteId;
    else p = putVarint(u8, p, siteId);
    if ((delta >>> 0) === delta) {
      // Whole ms within 2^32 of the base: the usual case.
      i32[(index >> 2) + 1] = delta;
      u8[index + LEVEL_AT] = level;
    } else p = this.#longTime(index, p, level, now, delta);
    this.start = index;
    this.pos = p;
    this.end = index + max - SLACK;
    this.open = true;
    return true;
  }

  /**
   * Writes a time the compact form's fast case does not hold: past 2^32 ms
   * after the base (its bits 32-35 go in the level byte), or else a
   * float64 after the ids. A ring made before the clock was set (a
   * Worker's global scope reads 0) has no base: the first set clock
   * reading gives it one (no compact record exists before it). Returns
   * where the body starts.
   */
  #longTime(
    index: number,
    p: number,
    level: number,
    now: number,
    delta: number,
  ): number {
    const u8 = this.u8;
    if (Number.isNaN(this.timeBase)) {
      setRingTimeBase(this.#memory, now);
      this.timeBase = ringTimeBase(this.#memory);
      delta = now - this.timeBase;
    }
    if (Number.isInteger(delta) && delta >= 0 && delta < MAX_TIME_DELTA) {
      this.i32[(index >> 2) + 1] = delta % 4294967296;
      u8[index + LEVEL_AT] = level | (Math.floor(delta / 4294967296) << 4);
      return p;
    }
    this.i32[(index >> 2) + 1] = 0;
    u8[index + LEVEL_AT] = level | TIME_FLOAT;
    f64[0] = now;
    for (let i = 0; i < 8; i++) u8[p + i] = f64Bytes[i];
    return p + 8;
  }

  /**
   * Whether a record is being encoded (begin() to commit() or abort(), or a
   * detached encoding): a log call made meanwhile, from a getter or a
   * toJSON of a value being logged, must not begin another.
   */
  open = false;
  /** Log calls made while a record was open, run once it is closed. */
  deferred: (() => void)[] | null = null;
  /** How deep deferred calls are running (a getter that logs itself, again). */
  deferDepth = 0;

  /** Makes the record visible to the drain and wakes it if it may be asleep. */
  commit(): void {
    const content = this.pos - this.start;
    const length = alignedLength(content);
    this.i32[this.start >> 2] = recordWord(KIND_EVENT, content);
    const w = (this.write + length) | 0;
    this.write = w;
    this.seq = (this.seq + 1) | 0;
    // Now and then, check that the coarse clock still ticks.
    if ((this.seq & 1023) === 0 && this.coarse !== null) this.#checkClock();
    this.recorded++;
    this.recordedBytes += length;
    this.open = false;
    Atomics.store(this.ctl, CTL_COMMIT, w);
    const waiting = Atomics.load(this.ctl, CTL_WAITING);
    if (waiting !== 0) {
      // Asleep: ring. Lingering (it polls on a timer): ring only when the
      // unread bytes pass a quarter of the ring.
      if (
        waiting !== WAITING_LINGER ||
        ((w - Atomics.load(this.ctl, CTL_READ)) | 0) > this.lingerBytes
      ) this.wake();
    }
  }

  #checkClock(): void {
    const lag = Date.now() - this.coarse![0];
    if (lag > STALE_CLOCK_MS) {
      this.coarse = null;
      this.onStaleClock(lag);
    }
  }

  /** Called once if the coarse clock stopped ticking (the recorder then reads `Date.now()`). */
  onStaleClock: (lagMs: number) => void = () => {};

  /** Abandons the record being written (nothing becomes visible). */
  abort(): void {
    this.pos = this.start;
    this.open = false;
  }

  #makeRoom(need: number): boolean {
    const capacity = this.capacity;
    const ctl = this.ctl;
    const min = (this.write + need - capacity) | 0;
    // Evict a sixteenth of the ring at once, so the tail store is rare.
    let goal = (min + (capacity >> 4)) | 0;
    if (this.policy !== OVERFLOW_CODES.overwrite) {
      let read = Atomics.load(ctl, CTL_READ);
      if (((min - read) | 0) > 0) {
        if (this.policy === OVERFLOW_CODES.block && this.waitForSpace(min)) {
          read = Atomics.load(ctl, CTL_READ);
        }
        if (((min - read) | 0) > 0) {
          this.dropped++;
          Atomics.store(ctl, CTL_DROPPED, this.dropped | 0);
          return false;
        }
      }
      if (((goal - read) | 0) > 0) goal = read;
    }
    const used = (this.write - this.tail) | 0;
    if (used > this.highWater) this.highWater = used;
    const i32 = this.i32;
    const mask = this.mask;
    let t = this.tail;
    let evicted = 0;
    while (((goal - t) | 0) > 0) {
      const word = i32[(t & mask) >> 2];
      if (recordKind(word) === KIND_EVENT) evicted++;
      t = (t + alignedLength(contentLength(word))) | 0;
    }
    this.tail = t;
    this.tailSeq = (this.tailSeq + evicted) | 0;
    // The tail moves before any byte of the evicted records is written
    // over; the pair says which event it is at, for the drain's loss count.
    this.#pairs.storeTail({ position: t, seq: this.tailSeq });
    Atomics.store(ctl, CTL_TAIL, t);
    return true;
  }

  /** Ring bytes in use now (oldest intact record to the write position). */
  used(): number {
    return (this.write - this.tail) | 0;
  }

  /**
   * Encodes with `fill` into a detached buffer instead of the ring and
   * returns the bytes (for a child logger's bound fields, encoded once).
   */
  detached(fill: () => void): Uint8Array {
    const saved = [this.u8, this.start, this.pos, this.end] as const;
    const open = this.open;
    this.u8 = this.#detached;
    this.start = 0;
    this.pos = 0;
    this.end = this.#detached.length - SLACK;
    this.open = true;
    try {
      fill();
      return this.#detached.slice(0, this.pos);
    } finally {
      [this.u8, this.start, this.pos, this.end] = saved;
      this.open = open;
    }
  }

  /**
   * Where the next byte of the record goes, counted in bytes this recorder
   * has put into its ring (`recordedBytes`, which never wraps), for
   * {@link copyEarlier}.
   */
  position(): number {
    return this.recordedBytes + this.pos - this.start;
  }

  /**
   * Copies into the record `length` bytes that an earlier record holds at
   * `at` (a {@link position}); false, writing nothing, when they were
   * evicted since or do not fit. Only this thread evicts, in `begin()`, so
   * after it the check holds until the commit.
   */
  copyEarlier(at: number, length: number): boolean {
    // Bytes from `at` back to where this record starts.
    const back = this.recordedBytes - at;
    if (
      back < length || back > ((this.write - this.tail) | 0) ||
      this.pos + length > this.end
    ) return false;
    const from = (this.write - back) & this.mask;
    this.u8.copyWithin(this.pos, from, from + length);
    this.pos += length;
    return true;
  }
}
