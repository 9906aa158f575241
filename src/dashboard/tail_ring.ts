/**
 * The live tail's shared memory: a single-producer ring of byte records
 * (one tail entry each, ./tail_entry.ts) plus per-level event counters,
 * written by the dashboard sink wherever the drain runs (its worker, or the
 * caller's thread) and read by the dashboard handler on the thread that
 * serves it.
 *
 * Layout: 16 Int32 control words, then the data area (a power of two).
 *
 * | word | meaning                                                    |
 * | ---- | ---------------------------------------------------------- |
 * | 0    | head: bytes ever written (mod 2^32), stored after a record |
 * | 1    | tail: the oldest intact record, moved before overwriting   |
 * | 2-7  | events seen per level, trace to fatal (mod 2^32)           |
 * | 8    | events not written because of the rate cap (mod 2^32)     |
 *
 * A record is a u32 byte length, the bytes and zero padding to 4 bytes; a length of -1 means "skip to the start of the data area". The
 * reader copies what lies between its position and the head, then loads the
 * tail again: any record that began before that tail may have been written
 * over during the copy and is discarded (the same rule as the event ring's,
 * docs/DESIGN.md "Ring, tail and overflow").
 *
 * @module
 */

import { TtlogConfigError } from "../errors.ts";

const CTL_HEAD = 0;
const CTL_TAIL = 1;
const CTL_LEVELS = 2;
const CTL_SKIPPED = 8;
const CTL_WORDS = 16;
const PAD = -1;

/** The smallest and largest data areas. */
export const TAIL_RING_MIN_BYTES = 4096;
/** The largest data area, in bytes. */
export const TAIL_RING_MAX_BYTES = 64 * 1024 * 1024;

/** The counters a reader sees: each wraps at 2^32, so compare deltas with `>>> 0`. */
export interface TailCounters {
  /** Events per level, trace to fatal. */
  readonly levels: readonly number[];
  /** Lines left out by the rate cap. */
  readonly skipped: number;
}

/** What one {@link TailRing.read} found. */
export interface TailRead {
  /** New records, oldest first (copies, the reader's to keep). */
  readonly records: Uint8Array[];
  /** Whether records were missed because the writer went round the ring faster than it was read. */
  readonly lapped: boolean;
}

/**
 * Allocates a tail ring's memory: a SharedArrayBuffer where the runtime has
 * one (so the drain's worker can write it), else an ArrayBuffer.
 *
 * @param bytes The data area's size: a power of two from 4 KiB to 64 MiB.
 * @returns The memory, to wrap with {@link TailRing}.
 * @throws {TtlogConfigError} When `bytes` is not such a power of two.
 *
 * @example A 64 KiB ring
 * ```ts
 * import { allocateTailRing, TailRing } from "./tail_ring.ts";
 * import assert from "node:assert/strict";
 * const ring = new TailRing(allocateTailRing(65536));
 * ring.write(new Uint8Array([1, 2, 3]));
 * assert.deepEqual(ring.read().records, [new Uint8Array([1, 2, 3])]);
 * ```
 */
export function allocateTailRing(
  bytes: number,
): SharedArrayBuffer | ArrayBuffer {
  if (
    !Number.isInteger(bytes) || bytes < TAIL_RING_MIN_BYTES ||
    bytes > TAIL_RING_MAX_BYTES || (bytes & (bytes - 1)) !== 0
  ) {
    throw new TtlogConfigError(
      `dashboardSink: bytes must be a power of two from ${TAIL_RING_MIN_BYTES} to ${TAIL_RING_MAX_BYTES}, got ${
        String(bytes)
      }`,
    );
  }
  const total = CTL_WORDS * 4 + bytes;
  return typeof SharedArrayBuffer === "function"
    ? new SharedArrayBuffer(total)
    : new ArrayBuffer(total);
}

/**
 * A view of a tail ring's memory. One thread writes (`write`, `count`), one
 * reads (`read`, `counters`); both may be the same thread.
 *
 * @example Write and read records
 * ```ts
 * import { allocateTailRing, TailRing } from "./tail_ring.ts";
 * import assert from "node:assert/strict";
 * const memory = allocateTailRing(4096);
 * const writer = new TailRing(memory);
 * const reader = new TailRing(memory);
 * writer.write(new TextEncoder().encode("one"));
 * writer.count([0, 0, 1, 0, 0, 0], 0);
 * const { records, lapped } = reader.read();
 * assert.deepEqual(records.map((r) => new TextDecoder().decode(r)), ["one"]);
 * assert.equal(lapped, false);
 * assert.equal(reader.counters().levels[2], 1);
 * ```
 */
export class TailRing {
  readonly #ctl: Int32Array;
  readonly #data: Uint8Array;
  readonly #words: Int32Array;
  readonly #capacity: number;
  readonly #mask: number;
  /** The reader's position, or -1 before its first read. */
  #position = -1;

  /**
   * Wraps memory from {@link allocateTailRing}.
   *
   * @param memory The ring's memory.
   * @throws {TtlogConfigError} When the memory has not a ring's size.
   */
  constructor(memory: SharedArrayBuffer | ArrayBuffer) {
    const bytes = memory.byteLength - CTL_WORDS * 4;
    if (bytes < TAIL_RING_MIN_BYTES || (bytes & (bytes - 1)) !== 0) {
      throw new TtlogConfigError(
        `TailRing: memory of ${memory.byteLength} bytes is not a tail ring`,
      );
    }
    this.#ctl = new Int32Array(memory, 0, CTL_WORDS);
    this.#data = new Uint8Array(memory, CTL_WORDS * 4, bytes);
    this.#words = new Int32Array(memory, CTL_WORDS * 4, bytes >> 2);
    this.#capacity = bytes;
    this.#mask = bytes - 1;
  }

  /** The largest record {@link write} takes, in bytes: a quarter of the ring. */
  get maxRecord(): number {
    return (this.#capacity >> 2) - 4;
  }

  /**
   * Appends one record, evicting the oldest records to make room.
   *
   * @param bytes The record's bytes, at most {@link maxRecord} (copied).
   * @throws {RangeError} When the record is longer.
   */
  write(bytes: Uint8Array): void {
    if (bytes.length > this.maxRecord) {
      throw new RangeError(
        `TailRing: a record of ${bytes.length} bytes exceeds ${this.maxRecord}`,
      );
    }
    const ctl = this.#ctl;
    const need = 4 + ((bytes.length + 3) & ~3);
    let head = Atomics.load(ctl, CTL_HEAD) >>> 0;
    let tail = Atomics.load(ctl, CTL_TAIL) >>> 0;
    let offset = head & this.#mask;
    if (offset + need > this.#capacity) {
      // The record does not fit before the end: a pad fills the rest.
      const pad = this.#capacity - offset;
      tail = this.#evict(head, tail, pad);
      this.#words[offset >> 2] = PAD;
      head = (head + pad) >>> 0;
      offset = 0;
    }
    this.#evict(head, tail, need);
    this.#words[offset >> 2] = bytes.length;
    this.#data.set(bytes, offset + 4);
    Atomics.store(ctl, CTL_HEAD, (head + need) | 0);
  }

  /** Moves the tail until `need` bytes past `head` are free; publishes it before they are written. */
  #evict(head: number, tail: number, need: number): number {
    const start = tail;
    while (((head - tail) >>> 0) + need > this.#capacity) {
      const at = tail & this.#mask;
      const word = this.#words[at >> 2];
      tail = (tail +
        (word === PAD ? this.#capacity - at : 4 + ((word + 3) & ~3))) >>> 0;
    }
    if (tail !== start) Atomics.store(this.#ctl, CTL_TAIL, tail | 0);
    return tail;
  }

  /**
   * Adds to the counters.
   *
   * @param levels Events per level in this batch, trace to fatal.
   * @param skipped Events the rate cap left out.
   */
  count(levels: readonly number[], skipped: number): void {
    for (let i = 0; i < 6; i++) {
      if (levels[i] !== 0) Atomics.add(this.#ctl, CTL_LEVELS + i, levels[i]);
    }
    if (skipped !== 0) Atomics.add(this.#ctl, CTL_SKIPPED, skipped);
  }

  /**
   * The counters now.
   *
   * @returns Per-level events and skipped events, each mod 2^32.
   */
  counters(): TailCounters {
    const levels: number[] = [];
    for (let i = 0; i < 6; i++) {
      levels.push(Atomics.load(this.#ctl, CTL_LEVELS + i) >>> 0);
    }
    return {
      levels,
      skipped: Atomics.load(this.#ctl, CTL_SKIPPED) >>> 0,
    };
  }

  /**
   * The records written since the previous read (the first read returns all
   * the ring holds). A reader must read at least once per 4 GiB written.
   *
   * @returns The records, and whether some were missed.
   */
  read(): TailRead {
    const ctl = this.#ctl;
    const head = Atomics.load(ctl, CTL_HEAD) >>> 0;
    const tail = Atomics.load(ctl, CTL_TAIL) >>> 0;
    let position = this.#position;
    let lapped = false;
    if (
      position < 0 || ((position - tail) >>> 0) > ((head - tail) >>> 0)
    ) {
      lapped = position >= 0;
      position = tail;
    }
    const found: { at: number; bytes: Uint8Array }[] = [];
    let broken = false;
    while (position !== head) {
      const offset = position & this.#mask;
      const word = this.#words[offset >> 2];
      if (word === PAD) {
        position = (position + this.#capacity - offset) >>> 0;
        continue;
      }
      const size = 4 + ((word + 3) & ~3);
      if (
        word < 0 || offset + size > this.#capacity ||
        size > ((head - position) >>> 0)
      ) {
        broken = true; // written over while being read
        break;
      }
      // slice() copies into unshared memory (which TextDecoder accepts).
      found.push({
        at: position,
        bytes: this.#data.slice(offset + 4, offset + 4 + word),
      });
      position = (position + size) >>> 0;
    }
    const after = Atomics.load(ctl, CTL_TAIL) >>> 0;
    const moved = (after - tail) >>> 0;
    const records: Uint8Array[] = [];
    for (const record of found) {
      if (((record.at - tail) >>> 0) < moved) {
        lapped = true; // began before the new tail: possibly torn
        continue;
      }
      records.push(record.bytes);
    }
    if (broken) {
      lapped = true;
      position = moved > 0 && ((position - tail) >>> 0) < moved ? after : head;
    }
    this.#position = position;
    return { records, lapped };
  }
}
