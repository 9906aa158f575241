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
  const { ctl, u8, i32, mask } = ring;
  const commit = Atomics.load(ctl, CTL_COMMIT);
  const timeBase = ringTimeBase(ring);
  const pairs = new RingPairs(ring);
  const pair: SeqPosition = { position: 0, seq: 0 };
  pairs.loadTail(pair);
  const tail = pair.position;
  const tailSeq = pair.seq;
  const used = Math.max(0, (commit - tail) | 0);
  const out = new Uint8Array(used);
  // Every record is at least a header long: these bound the record count.
  const most = Math.floor(used / alignedLength(MIN_HEADER_BYTES)) + 1;
  const starts = new Int32Array(most);
  const positions = new Int32Array(most);
  let count = 0;
  let size = 0;
  // Walk the headers only, noting the runs of adjacent event records (a pad
  // or the ring's end breaks a run), then copy each run in one piece.
  const runs: number[] = [];
  let runFrom = -1;
  let runBytes = 0;
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
        runs.push(runFrom, runBytes);
        runBytes = 0;
      }
      if (runBytes === 0) runFrom = index;
      runBytes += length;
      starts[count] = size;
      positions[count] = position;
      count++;
      size += length;
    } else if (runBytes > 0) {
      runs.push(runFrom, runBytes);
      runBytes = 0;
    }
    position = (position + length) | 0;
  }
  if (runBytes > 0) runs.push(runFrom, runBytes);
  for (let r = 0, at = 0; r < runs.length; r += 2) {
    out.set(u8.subarray(runs[r], runs[r] + runs[r + 1]), at);
    at += runs[r + 1];
  }
  // Records that began before the tail as it is now may have been written
  // over while they were copied: leave them out.
  pairs.loadTail(pair);
  const tailAfter = pair.position;
  let first = 0;
  while (first < count && ((tailAfter - positions[first]) | 0) > 0) {
    first++;
  }
  // The window: newest records within the age and size limits.
  const now = window.now ?? Date.now();
  const h = eventHeader();
  let keepFrom = first;
  if (window.ms !== undefined) {
    const oldest = now - window.ms;
    while (keepFrom < count) {
      const at = starts[keepFrom];
      const end = at + (out[at] | (out[at + 1] << 8) | (out[at + 2] << 16));
      if (readHeader(out, at, end, timeBase, h) && h.time >= oldest) break;
      keepFrom++;
    }
  }
  if (window.bytes !== undefined) {
    while (keepFrom < count && size - starts[keepFrom] > window.bytes) {
      keepFrom++;
    }
  }
  const begin = keepFrom < count ? starts[keepFrom] : size;
  const seqs = new Uint32Array(count - keepFrom);
  for (let i = 0, seq = tailSeq + keepFrom; i < seqs.length; i++) {
    seqs[i] = seq + i;
  }
  return {
    records: begin === 0 ? out.subarray(0, size) : out.slice(begin, size),
    count: count - keepFrom,
    seqs,
    timeBase,
    entries: window.entries === false ? [] : captureDictionary(dictionary),
    overwritten: first,
  };
}
