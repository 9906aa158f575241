/**
 * Ring records as the columns of an events chunk (docs/FORMAT.md, "Events,
 * columns"): a column of call-site shapes, columns of sequence and time
 * deltas, then each shape's value stream. Two linear passes: the first
 * measures and works out every record's codes, the second lays them out.
 *
 * This is most of what a snapshot costs after the copy and before LZ4, so
 * it is written for speed: typed arrays only, integer arithmetic where the
 * values allow it, bodies copied four bytes at a time.
 *
 * @module
 */

import { TtlogConfigError } from "../errors.ts";
import {
  alignedLength,
  contentLength,
  eventHeader,
  KIND_EVENT,
  LEVEL_AT,
  MIN_HEADER_BYTES,
  putVarint,
  readHeader,
  recordKind,
  TIME_FLOAT,
} from "../ring/ring.ts";

/** Event records as a ring holds them, with their seqs and time base. */
export interface ColumnRecords {
  /** Whole event records, back to back, 4-byte aligned, without pads. */
  readonly records: Uint8Array;
  /** Each record's sequence number, in order. */
  readonly seqs: ArrayLike<number>;
  /** The time base of the ring the records were written in. */
  readonly timeBase: number;
}

/** A measured layout: its size, and how to write it. */
export interface Shaped {
  /** Bytes `write` writes. */
  readonly size: number;
  /** Writes the layout into `out` from `at`. */
  write(out: Uint8Array, at: number): void;
}

/** Bytes of the columns section's fixed part: five u32 counts and sizes. */
const COLUMNS_FIXED = 20;

/**
 * The largest body the columns hold: the 24-byte header of the "records"
 * layout plus the body must still fit a record's 24-bit length.
 */
const MAX_BODY = 0xffffff - 24;

/** The largest |time delta| written as a delta: 2|d|+1 stays a safe integer. */
const MAX_TIME_DELTA = 2 ** 51;

function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  let size = 3;
  for (value = Math.floor(value / 0x200000); value > 0; size++) {
    value = Math.floor(value / 128);
  }
  return size;
}

function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value;
  out[at + 1] = value >>> 8;
  out[at + 2] = value >>> 16;
  out[at + 3] = value >>> 24;
}

/**
 * The time column's code for `time` after `previous`: an even number 2d for
 * a delta d >= 0, an odd number 2|d|+1 (3 and up) for d < 0, or 1 when the
 * time follows raw (not an integer, -0, or too far from the previous one).
 */
function timeCode(time: number, previous: number): number {
  const delta = time - previous;
  if (
    Number.isInteger(time) && Number.isInteger(previous) &&
    !(time === 0 && 1 / time < 0) &&
    delta <= MAX_TIME_DELTA && delta >= -MAX_TIME_DELTA
  ) return delta >= 0 ? 2 * delta : -2 * delta + 1;
  return 1;
}

/** Counts the records, checking that each is a whole event record. */
function countRecords(words: Int32Array, end: number): number {
  let count = 0;
  for (let at = 0; at < end; count++) {
    const word = words[at >> 2];
    const content = contentLength(word);
    if (
      recordKind(word) !== KIND_EVENT || content < MIN_HEADER_BYTES ||
      alignedLength(content) > end - at
    ) {
      throw new TtlogConfigError(
        `eventsChunk: the record at byte ${at} is not a whole event record (records must be copied whole from a ring, without pads)`,
      );
    }
    at += alignedLength(content);
  }
  return count;
}

/**
 * The per-record work arrays of {@link toColumns}, kept by a caller that
 * lays out one chunk after another (a snapshot), so that each chunk reuses
 * memory already paged in instead of paging in its own.
 */
export class ColumnScratch {
  /** Each record's shape. */
  shapeOf: Int32Array = new Int32Array(0);
  /** Each record's seq code. */
  seqCodes: Uint32Array = new Uint32Array(0);
  /** Each record's time code. */
  timeCodes: Float64Array = new Float64Array(0);
  /** Where each record's body starts. */
  bodyStarts: Int32Array = new Int32Array(0);
  /** Each record's body length. */
  bodyLengths: Int32Array = new Int32Array(0);

  /** Makes room for `count` records. */
  reserve(count: number): void {
    if (this.shapeOf.length >= count) return;
    const size = count + (count >> 3);
    this.shapeOf = new Int32Array(size);
    this.seqCodes = new Uint32Array(size);
    this.timeCodes = new Float64Array(size);
    this.bodyStarts = new Int32Array(size);
    this.bodyLengths = new Int32Array(size);
  }
}

/**
 * Measures `records` as columns and returns how to write them. The writer
 * uses `scratch`: write before the next call with the same scratch.
 *
 * @throws {TtlogConfigError} When `records` is not a sequence of whole event
 * records with one sequence number each, or a header does not fit its record.
 */
export function toColumns(
  records: ColumnRecords,
  scratch: ColumnScratch = new ColumnScratch(),
): Shaped {
  const bytes = records.records;
  const end = bytes.length;
  // Records are 4-byte aligned: read their first words as words (copy a
  // misaligned view, never one from a ring).
  const aligned = (bytes.byteOffset & 3) === 0 ? bytes : bytes.slice();
  const words = new Int32Array(aligned.buffer, aligned.byteOffset, end >> 2);
  const count = countRecords(words, end);
  const seqs = records.seqs;
  if (seqs.length !== count) {
    throw new TtlogConfigError(
      `eventsChunk: ${count} records need ${count} sequence numbers, got ${seqs.length}`,
    );
  }
  const timeBase = records.timeBase;
  // A compact time is an integer exactly when the base is one.
  const integerBase = Number.isInteger(timeBase);
  // Per record: its shape, its seq and time codes, and (for the write) where
  // its body starts and how long it is.
  scratch.reserve(count);
  const { shapeOf, seqCodes, timeCodes, bodyStarts, bodyLengths } = scratch;
  const h = eventHeader();
  // Shapes: (level, target id, site id), numbered as first seen; found
  // through a small cache by site id, then a map.
  const shapeKeys = new Map<string, number>();
  const siteCache = new Int32Array(1024).fill(-1);
  const levelTargets: number[] = [];
  const sites: number[] = [];
  let streamSizes = new Float64Array(64);
  let shapeColumn = 0;
  let seqColumn = 0;
  let timeColumn = 0;
  let previousSeq = 0xffffffff;
  let previousTime = 0;
  let previousInteger = true;
  // The times written raw (code 1), in order: rare, so a plain array.
  const rawTimes: number[] = [];
  for (let i = 0, at = 0; i < count; i++) {
    const content = contentLength(words[at >> 2]);
    const flags = bytes[at + LEVEL_AT];
    const targetId = bytes[at + LEVEL_AT + 1];
    const siteId = bytes[at + LEVEL_AT + 2];
    let levelTarget: number;
    let site: number;
    let time: number;
    let bodyStart: number;
    if ((flags & TIME_FLOAT) === 0 && targetId < 0x80 && siteId < 0x80) {
      // The usual header: 1-byte ids, a compact time.
      levelTarget = (flags & 7) | (targetId << 8);
      site = siteId;
      time = timeBase + (flags >>> 4) * 4294967296 +
        (words[(at >> 2) + 1] >>> 0);
      bodyStart = at + LEVEL_AT + 3;
    } else {
      if (!readHeader(bytes, at, at + content, timeBase, h)) {
        throw new TtlogConfigError(
          `eventsChunk: the header of the record at byte ${at} does not fit it`,
        );
      }
      levelTarget = (h.level | (h.targetId << 8)) >>> 0;
      site = h.siteId;
      time = h.time;
      bodyStart = h.body;
    }
    const body = at + content - bodyStart;
    if (body > MAX_BODY) {
      throw new TtlogConfigError(
        `eventsChunk: the header of the record at byte ${at} does not fit it`,
      );
    }
    bodyStarts[i] = bodyStart;
    bodyLengths[i] = body;
    let shape = siteCache[site & 1023];
    if (
      shape < 0 || levelTargets[shape] !== levelTarget || sites[shape] !== site
    ) {
      const key = `${levelTarget}:${site}`;
      shape = shapeKeys.get(key) ?? -1;
      if (shape < 0) {
        shape = sites.length;
        shapeKeys.set(key, shape);
        levelTargets.push(levelTarget);
        sites.push(site);
        if (shape === streamSizes.length) {
          const grown = new Float64Array(shape * 2);
          grown.set(streamSizes);
          streamSizes = grown;
        }
      }
      siteCache[site & 1023] = shape;
    }
    shapeOf[i] = shape;
    shapeColumn += shape < 0x80 ? 1 : varintSize(shape);
    const seq = seqs[i] >>> 0;
    const delta = (seq - previousSeq - 1) | 0;
    const seqValue = ((delta << 1) ^ (delta >> 31)) >>> 0;
    seqCodes[i] = seqValue;
    seqColumn += seqValue < 0x80 ? 1 : varintSize(seqValue);
    previousSeq = seq;
    let code: number;
    const step = time - previousTime;
    if (
      integerBase && previousInteger && (flags & TIME_FLOAT) === 0 &&
      step >= 0 && step < 0x40
    ) {
      // The usual time: a small step forward from an integer time.
      code = 2 * step;
      timeColumn += 1;
    } else {
      code = timeCode(time, previousTime);
      timeColumn += code < 0x80 ? (code === 1 ? 9 : 1) : varintSize(code);
      previousInteger = Number.isInteger(time);
      if (code === 1) rawTimes.push(time);
    }
    timeCodes[i] = code;
    previousTime = time;
    streamSizes[shape] += (body < 0x80 ? 1 : varintSize(body)) + body;
    at += alignedLength(content);
  }
  const shapes = sites.length;
  let size = COLUMNS_FIXED + shapeColumn + seqColumn + timeColumn;
  for (let shape = 0; shape < shapes; shape++) {
    size += 1 + varintSize(levelTargets[shape] >>> 8) +
      varintSize(sites[shape]) + varintSize(streamSizes[shape]) +
      streamSizes[shape];
  }
  return {
    size,
    write(out: Uint8Array, start: number): void {
      writeU32(out, start, count);
      writeU32(out, start + 4, shapes);
      writeU32(out, start + 8, shapeColumn);
      writeU32(out, start + 12, seqColumn);
      writeU32(out, start + 16, timeColumn);
      let at = start + COLUMNS_FIXED;
      for (let shape = 0; shape < shapes; shape++) {
        out[at++] = levelTargets[shape] & 0xff;
        at = putVarint(out, at, levelTargets[shape] >>> 8);
        at = putVarint(out, at, sites[shape]);
        at = putVarint(out, at, streamSizes[shape]);
      }
      const shapeAt = at;
      const seqAt = shapeAt + shapeColumn;
      const timeAt = seqAt + seqColumn;
      const streams = new Int32Array(shapes);
      let streamAt = timeAt + timeColumn;
      for (let shape = 0; shape < shapes; shape++) {
        streams[shape] = streamAt;
        streamAt += streamSizes[shape];
      }
      writeColumns(out, shapeAt, shapeOf, count);
      writeColumns(out, seqAt, seqCodes, count);
      writeTimes(out, timeAt, timeCodes, count, rawTimes);
      writeStreams(
        out,
        bytes,
        streams,
        shapeOf,
        bodyStarts,
        bodyLengths,
        count,
      );
    },
  };
}

/** One varint per value, back to back. */
function writeColumns(
  out: Uint8Array,
  at: number,
  values: Int32Array | Uint32Array,
  count: number,
): void {
  for (let i = 0; i < count; i++) {
    const value = values[i];
    if (value < 0x80) out[at++] = value;
    else at = putVarint(out, at, value);
  }
}

/** The time codes, each code 1 followed by the raw float64 time. */
function writeTimes(
  out: Uint8Array,
  at: number,
  codes: Float64Array,
  count: number,
  rawTimes: readonly number[],
): void {
  let view: DataView | undefined;
  let raw = 0;
  for (let i = 0; i < count; i++) {
    const code = codes[i];
    if (code < 0x80) out[at++] = code;
    else at = putVarint(out, at, code);
    if (code === 1) {
      view ??= new DataView(out.buffer, out.byteOffset, out.length);
      view.setFloat64(at, rawTimes[raw++], true);
      at += 8;
    }
  }
}

/** Each record's body, its length first, into its shape's stream. */
function writeStreams(
  out: Uint8Array,
  bytes: Uint8Array,
  streams: Int32Array,
  shapeOf: Int32Array,
  bodyStarts: Int32Array,
  bodyLengths: Int32Array,
  count: number,
): void {
  const from = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const to = new DataView(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < count; i++) {
    const shape = shapeOf[i];
    const body = bodyLengths[i];
    const bodyStart = bodyStarts[i];
    let p = streams[shape];
    if (body < 0x80) out[p++] = body;
    else p = putVarint(out, p, body);
    if (body < 256) {
      let k = 0;
      for (; k + 4 <= body; k += 4) {
        to.setInt32(p + k, from.getInt32(bodyStart + k, true), true);
      }
      for (; k < body; k++) out[p + k] = bytes[bodyStart + k];
    } else out.set(bytes.subarray(bodyStart, bodyStart + body), p);
    streams[shape] = p + body;
  }
}
