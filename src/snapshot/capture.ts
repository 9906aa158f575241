/**
 * Capturing what a ring still holds, synchronously and from shared memory
 * alone (the drain may be stuck or dead when a snapshot is needed): every
 * event record from the oldest intact one to the last committed one, oldest
 * first, and the dictionary entries they refer to.
 *
 * @module
 */

import type { DictionaryMemory } from "../record/dictionary.ts";
import {
  alignedLength,
  CTL_COMMIT,
  eventHeader,
  KIND_EVENT,
  KIND_PAD,
  MIN_HEADER_BYTES,
  readHeader,
  type RingMemory,
  RingPairs,
  ringTimeBase,
  type SeqPosition,
} from "../ring/ring.ts";

/** A dictionary entry as stored: its id, kind and payload bytes. */
export interface CapturedEntry {
  /** The entry's id (1-based, in the order entries were added). */
  readonly id: number;
  /** 1 string, 2 call site (see docs/FORMAT.md). */
  readonly kind: number;
  /** The payload exactly as stored in the dictionary. */
  readonly payload: Uint8Array;
}

/** What a ring held at one moment. */
export interface Capture {
  /** Event records, back to back, exactly as in the ring (pads left out). */
  readonly records: Uint8Array;
  /** How many event records. */
  readonly count: number;
  /** Each record's sequence number (records do not hold them). */
  readonly seqs: Uint32Array;
  /** The ring's time base (record times count from it). */
  readonly timeBase: number;
  /** The dictionary entries, oldest first. */
  readonly entries: readonly CapturedEntry[];
  /** Records that began before the tail moved during the copy (another thread wrote over them). */
  readonly overwritten: number;
}

/** Limits on a capture: the newest records within them are kept. */
export interface CaptureWindow {
  /** Keep records at most this many ms older than `now` (default: all). */
  readonly ms?: number;
  /** Keep at most this many bytes of records, the newest (default: all). */
  readonly bytes?: number;
  /** The time `ms` counts back from (default `Date.now()`). */
  readonly now?: number;
  /** Whether to copy the dictionary's entries too (default true). */
  readonly entries?: boolean;
}

const DICT_CONTROL_BYTES = 16;
const DCTL_BYTES = 1;

/** Copies the dictionary's entries out of shared memory. */
export function captureDictionary(memory: DictionaryMemory): CapturedEntry[] {
  const ctl = new Int32Array(memory.buffer, 0, DICT_CONTROL_BYTES >> 2);
  const used = Atomics.load(ctl, DCTL_BYTES);
  const u8 = new Uint8Array(memory.buffer, DICT_CONTROL_BYTES);
  const entries: CapturedEntry[] = [];
  let p = 0;
  while (p + 4 <= used) {
    const bytes = u8[p] | (u8[p + 1] << 8) | (u8[p + 2] << 16);
    const kind = u8[p + 3];
    if (p + 4 + bytes > used) break;
    entries.push({
      id: entries.length + 1,
      kind,
      payload: u8.slice(p + 4, p + 4 + bytes),
    });
    p += 4 + ((bytes + 3) & ~3);
  }
  return entries;
}

/** The event records a ring holds, found by walking its headers. */
interface Walk {
  /** Per run of adjacent event records: its ring index, bytes, first record. */
  readonly runs: number[];
  /** Per record: where it starts in the runs laid end to end. */
  readonly starts: Int32Array;
  /** Per record: its position in the ring. */
  readonly positions: Int32Array;
  readonly count: number;
  /** Bytes of the runs laid end to end. */
  readonly size: number;
  readonly tailSeq: number;
  readonly timeBase: number;
}

/**
 * Walks the headers from the tail to the commit, noting the runs of
 * adjacent event records (a pad or the ring's end breaks a run).
 */
function walkRing(ring: RingMemory): Walk {
  const { ctl, i32, mask } = ring;
  const commit = Atomics.load(ctl, CTL_COMMIT);
  const timeBase = ringTimeBase(ring);
  const pair: SeqPosition = { position: 0, seq: 0 };
  new RingPairs(ring).loadTail(pair);
  const tail = pair.position;
  const used = Math.max(0, (commit - tail) | 0);
  // Every record is at least a header long: these bound the record count.
  const most = Math.floor(used / alignedLength(MIN_HEADER_BYTES)) + 1;
  const starts = new Int32Array(most);
  const positions = new Int32Array(most);
  let count = 0;
  let size = 0;
  const runs: number[] = [];
  let runFrom = -1;
  let runBytes = 0;
  let runFirst = 0;
  let position = tail;
  while (position !== commit) {
    const index = position & mask;
    const word = i32[index >> 2];
    const kind = word >>> 24;
    const content = word & 0xffffff;
    const length = alignedLength(content);
    if (
      (kind !== KIND_EVENT && kind !== KIND_PAD) || length === 0 ||
      length > ((commit - position) | 0) ||
      (kind === KIND_EVENT && content < MIN_HEADER_BYTES)
    ) break;
    if (kind === KIND_EVENT) {
      if (runBytes > 0 && index !== runFrom + runBytes) {
        runs.push(runFrom, runBytes, runFirst);
        runBytes = 0;
      }
      if (runBytes === 0) {
        runFrom = index;
        runFirst = count;
      }
      runBytes += length;
      starts[count] = size;
      positions[count] = position;
      count++;
      size += length;
    } else if (runBytes > 0) {
      runs.push(runFrom, runBytes, runFirst);
      runBytes = 0;
    }
    position = (position + length) | 0;
  }
  if (runBytes > 0) runs.push(runFrom, runBytes, runFirst);
  return {
    runs,
    starts,
    positions,
    count,
    size,
    tailSeq: pair.seq,
    timeBase,
  };
}

/**
 * The first record within the window: the newest records within the age
 * and size limits. `bytes` holds record `k` at `offset(k)`.
 */
function windowStart(
  walk: Walk,
  first: number,
  bytes: Uint8Array,
  offset: (record: number) => number,
  window: CaptureWindow,
): number {
  const { count, size, starts } = walk;
  const h = eventHeader();
  let keepFrom = first;
  if (window.ms !== undefined) {
    const oldest = (window.now ?? Date.now()) - window.ms;
    while (keepFrom < count) {
      const at = offset(keepFrom);
      const end = at +
        (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16));
      if (readHeader(bytes, at, end, walk.timeBase, h) && h.time >= oldest) {
        break;
      }
      keepFrom++;
    }
  }
  if (window.bytes !== undefined) {
    while (keepFrom < count && size - starts[keepFrom] > window.bytes) {
      keepFrom++;
    }
  }
  return keepFrom;
}

/** The sequence numbers of records `from` to `to` of a walk. */
function seqsOf(walk: Walk, from: number, to: number): Uint32Array {
  const seqs = new Uint32Array(to - from);
  for (let i = 0, seq = walk.tailSeq + from; i < seqs.length; i++) {
    seqs[i] = seq + i;
  }
  return seqs;
}

/**
 * Copies the event records a ring still holds, oldest first, within the
 * window. Safe while the ring's producer runs on another thread: records
 * the producer wrote over during the copy are left out and counted.
 */
export function captureRing(
  ring: RingMemory,
  dictionary: DictionaryMemory,
  window: CaptureWindow = {},
): Capture {
  const walk = walkRing(ring);
  const { runs, starts, positions, count, size } = walk;
  const out = new Uint8Array(size);
  for (let r = 0, at = 0; r < runs.length; r += 3) {
    out.set(ring.u8.subarray(runs[r], runs[r] + runs[r + 1]), at);
    at += runs[r + 1];
  }
  // Records that began before the tail as it is now may have been written
  // over while they were copied: leave them out.
  const pair: SeqPosition = { position: 0, seq: 0 };
  new RingPairs(ring).loadTail(pair);
  const tailAfter = pair.position;
  let first = 0;
  while (first < count && ((tailAfter - positions[first]) | 0) > 0) {
    first++;
  }
  const keepFrom = windowStart(walk, first, out, (k) => starts[k], window);
  const begin = keepFrom < count ? starts[keepFrom] : size;
  return {
    records: begin === 0 ? out.subarray(0, size) : out.slice(begin, size),
    count: count - keepFrom,
    seqs: seqsOf(walk, keepFrom, count),
    timeBase: walk.timeBase,
    entries: window.entries === false ? [] : captureDictionary(dictionary),
    overwritten: first,
  };
}

/** A run of adjacent event records, and their sequence numbers. */
export interface CaptureRun {
  /** Whole event records, back to back, oldest first. */
  readonly records: Uint8Array;
  /** Each record's sequence number. */
  readonly seqs: Uint32Array;
}

/** What a ring holds, left where it is: runs viewed in the ring's memory. */
export interface RingView {
  /** The runs of records, oldest first (a full ring has two: it wraps). */
  readonly runs: readonly CaptureRun[];
  /** How many event records in all. */
  readonly count: number;
  /** The ring's time base. */
  readonly timeBase: number;
  /** The dictionary entries, oldest first. */
  readonly entries: readonly CapturedEntry[];
}

/**
 * The event records a ring holds within the window, oldest first, as views
 * of the ring's own memory: no copy. Only for a ring no other thread writes
 * while the views are read (the calling thread's own ring, in a snapshot it
 * takes synchronously): where another thread may write, use
 * {@link captureRing}.
 */
export function viewRingRecords(
  ring: RingMemory,
  dictionary: DictionaryMemory,
  window: CaptureWindow = {},
): RingView {
  const walk = walkRing(ring);
  const { runs, starts, positions, count } = walk;
  const { u8, mask } = ring;
  const keepFrom = windowStart(
    walk,
    0,
    u8,
    (k) => positions[k] & mask,
    window,
  );
  const seqs = seqsOf(walk, 0, count);
  const views: CaptureRun[] = [];
  for (let r = 0; r < runs.length; r += 3) {
    const runFirst = runs[r + 2];
    const runEnd = r + 3 < runs.length ? runs[r + 5] : count;
    if (runEnd <= keepFrom) continue;
    const from = Math.max(runFirst, keepFrom);
    const skip = starts[from] - starts[runFirst];
    views.push({
      records: u8.subarray(runs[r] + skip, runs[r] + runs[r + 1]),
      seqs: seqs.subarray(from, runEnd),
    });
  }
  return {
    runs: views,
    count: count - keepFrom,
    timeBase: walk.timeBase,
    entries: window.entries === false ? [] : captureDictionary(dictionary),
  };
}
