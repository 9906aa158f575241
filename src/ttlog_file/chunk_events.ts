/**
 * Decoding the payload of a `.ttlog` events chunk (docs/FORMAT.md, "Events
 * chunk" and "Events, columns"): the dictionary entries it carries, then its
 * records, either as they were in the ring or rebuilt from columns, each
 * passed through the reader's filter on its header before its values are
 * decoded. ./chunk_reader.ts calls it for every events chunk it reads.
 *
 * Every count, size and varint is checked against what remains before it is
 * used, so hostile input fails in linear time without allocating more than
 * the payload's size. A record whose framing is sound but whose content is
 * not is counted `undecodable` and skipped.
 *
 * @module
 */

import type { LevelValue } from "../level.ts";
import {
  decodeWithHeader,
  type DictionaryLookup,
  TtlogFormatError,
  ValueReader,
} from "../record/decode.ts";
import {
  type DictionaryEntry,
  ENTRY_SITE,
  ENTRY_STRING,
} from "../record/dictionary.ts";
import type { LogRecord } from "../record/values.ts";
import { readWtf8 } from "../record/wtf8.ts";
import { eventHeader, KIND_EVENT } from "../ring/ring.ts";
import { FLAG_COLUMNS } from "./format.ts";

/**
 * Decides, from a record's header alone, whether the record is decoded: its
 * values (message, fields) are decoded only when this returns true.
 * Records turned away are counted in their events item's `filtered`.
 *
 * @param level The numeric level: 0 trace, 1 debug, 2 info, 3 warn, 4 error,
 * 5 fatal.
 * @param target The target (`""` for the root logger).
 * @param time Milliseconds since the Unix epoch.
 * @param seq The producer's sequence number.
 * @returns Whether to decode the record and return it.
 */
export type TtlogRecordFilter = (
  level: LevelValue,
  target: string,
  time: number,
  seq: number,
) => boolean;

/** What one events chunk holds, decoded. */
export interface EventsChunk {
  /** The producer whose records these are. */
  readonly producer: number;
  /** The records, in the order they were written (oldest first). */
  readonly records: LogRecord[];
  /** Records whose framing was sound but whose content was not (skipped). */
  readonly undecodable: number;
  /** Records the filter turned away (never decoded). */
  readonly filtered: number;
}

/** How an {@link EventsDecoder} decodes. */
export interface EventsDecoderOptions {
  /** Called with each record's header; false skips the record. */
  readonly filter?: TtlogRecordFilter;
  /** Give each record its call site's `template`. */
  readonly templates?: boolean;
  /**
   * Throws the error for a malformed payload (naming the chunk's offset).
   * Must not return.
   */
  readonly fail: (what: string) => never;
}

/**
 * Bytes of a record's header in an events chunk of the "records as in the
 * ring" layout (the first files): length and kind, seq, float64 time,
 * level and target id, site id. Rings hold shorter headers since; chunks
 * of this layout are still read.
 */
const RECORD_HEADER_BYTES = 24;

function u32(u8: Uint8Array, at: number): number {
  return (u8[at] | (u8[at + 1] << 8) | (u8[at + 2] << 16) |
    (u8[at + 3] << 24)) >>> 0;
}

/**
 * Decodes events chunks, one {@link EventsDecoder.decode} call each. Keeps a
 * scratch header between calls, so one decoder serves one reader.
 *
 * @example Decode an events chunk's payload
 * ```ts
 * import { eventsChunk } from "./chunk_writer.ts";
 * import { EventsDecoder } from "./chunk_events.ts";
 * import { FLAG_COLUMNS } from "./format.ts";
 * import assert from "node:assert/strict";
 * import { writeHeader } from "../ring/ring.ts";
 * // One info event with an inline target "" and message "a".
 * const record = new Uint8Array(20);
 * const body = writeHeader(record, 0, 2, 0, 0, 1000, 0);
 * record.set([0x07, 0, 1, 0x07, 1, 0x61, 0], body);
 * new DataView(record.buffer).setUint32(0, (body + 7) | (1 << 24), true);
 * const decoder = new EventsDecoder({
 *   fail: (what) => {
 *     throw new Error(what);
 *   },
 * });
 * // Columns, the default layout; the records' sequence numbers and time base.
 * const payload = eventsChunk(3, [], { records: record, seqs: [0], timeBase: 0 });
 * const chunk = decoder.decode(payload, FLAG_COLUMNS, "api");
 * assert.equal(chunk.producer, 3);
 * assert.deepEqual(chunk.records.map((r) => [r.msg, r.service]), [["a", "api"]]);
 * ```
 */
export class EventsDecoder {
  readonly #filter: TtlogRecordFilter | undefined;
  readonly #templates: boolean;
  readonly #fail: (what: string) => never;
  /** The header of the record being decoded. */
  readonly #header = eventHeader();

  /**
   * Creates a decoder.
   *
   * @param options The filter, whether to keep templates, and how to fail.
   */
  constructor(options: EventsDecoderOptions) {
    this.#filter = options.filter;
    this.#templates = options.templates === true;
    this.#fail = options.fail;
  }

  /**
   * Decodes an events chunk's payload: the dictionary entries it carries,
   * then its records, stored as in the ring or (flags bit 0) as columns.
   *
   * @param payload The chunk's payload (its framing verified).
   * @param flags The chunk's flags.
   * @param service The service name to give the records.
   * @returns The producer, its records and what was skipped.
   * @throws {TtlogFormatError} Through `fail`, when the payload is malformed.
   * @throws {FilterFailure} Carrying what the filter threw.
   */
  decode(payload: Uint8Array, flags: number, service: string): EventsChunk {
    const end = payload.length;
    if (end < 12) this.#fail("an events chunk shorter than 12 bytes");
    const producer = u32(payload, 0);
    const count = u32(payload, 4);
    // Each entry takes 12 bytes at least: a hostile count stops here.
    if (count > (end - 12) / 12) {
      this.#fail(`${count} dictionary entries cannot fit in ${end} bytes`);
    }
    const entries = new Map<number, DictionaryEntry>();
    let at = 8;
    for (let i = 0; i < count; i++) {
      if (at + 16 > end) this.#fail("its dictionary entries overrun it");
      const id = u32(payload, at);
      const kind = payload[at + 4];
      const length = u32(payload, at + 8);
      if ((payload[at + 5] | payload[at + 6] | payload[at + 7]) !== 0) {
        this.#fail(`dictionary entry ${id} has non-zero reserved bytes`);
      }
      const start = at + 12;
      if (length > end - 4 - start) {
        this.#fail(`dictionary entry ${id} overruns the chunk`);
      }
      const entry = parseEntry(payload, start, start + length, kind);
      if (entry === undefined) {
        this.#fail(`dictionary entry ${id} (kind ${kind}) is malformed`);
      }
      entries.set(id, entry);
      at = start + ((length + 3) & ~3);
    }
    const lookup: DictionaryLookup = { get: (id) => entries.get(id) };
    const reader = new ValueReader(lookup);
    const out: EventsOut = {
      records: [],
      undecodable: 0,
      filtered: 0,
      service,
    };
    if ((flags & FLAG_COLUMNS) !== 0) this.#columns(payload, at, reader, out);
    else this.#records(payload, at, reader, out);
    return {
      producer,
      records: out.records,
      undecodable: out.undecodable,
      filtered: out.filtered,
    };
  }

  /** Records stored exactly as in the ring (flags 0). */
  #records(
    payload: Uint8Array,
    at: number,
    reader: ValueReader,
    out: EventsOut,
  ): void {
    const end = payload.length;
    if (at + 4 > end) this.#fail("its records length is missing");
    const recordsLength = u32(payload, at);
    at += 4;
    if (recordsLength !== end - at) {
      this.#fail(
        `its records claim ${recordsLength} bytes where ${end - at} remain`,
      );
    }
    const filter = guarded(this.#filter);
    while (at < end) {
      if (at + 4 > end) this.#fail(`a record at byte ${at} is cut`);
      const word = u32(payload, at);
      const content = word & 0xffffff;
      const aligned = (content + 3) & ~3;
      if (
        word >>> 24 !== KIND_EVENT || content < RECORD_HEADER_BYTES ||
        aligned > end - at
      ) {
        this.#fail(`the record at payload byte ${at} is malformed`);
      }
      // The header of a record as the first files hold it (docs/FORMAT.md,
      // "Records as in the ring").
      const h = this.#header;
      h.level = payload[at + 16];
      h.targetId = payload[at + 17] | (payload[at + 18] << 8) |
        (payload[at + 19] << 16);
      h.siteId = u32(payload, at + 20);
      f64Bytes.set(payload.subarray(at + 8, at + 16));
      h.time = f64[0];
      h.body = at + RECORD_HEADER_BYTES;
      const seq = u32(payload, at + 4);
      if (filter !== undefined) {
        const target = targetOf(
          reader,
          h.targetId,
          payload,
          h.body,
          at + content,
        );
        if (h.level > 5 || target === undefined) {
          out.undecodable++;
          at += aligned;
          continue;
        }
        if (!filter(h.level as LevelValue, target, h.time, seq)) {
          out.filtered++;
          at += aligned;
          continue;
        }
      }
      try {
        out.records.push(
          decodeWithHeader(
            reader,
            payload,
            h,
            at,
            at + content,
            out.service,
            seq,
            this.#templates,
          ),
        );
      } catch (error) {
        if (!(error instanceof TtlogFormatError)) throw error;
        out.undecodable++;
      }
      at += aligned;
    }
  }

  /**
   * Records stored as columns (flags bit 0): every count, size and varint is
   * checked against what remains before it is used, so hostile input fails
   * in linear time without allocating more than the payload's size.
   */
  #columns(
    payload: Uint8Array,
    start: number,
    reader: ValueReader,
    out: EventsOut,
  ): void {
    const end = payload.length;
    if (start + 20 > end) this.#fail("its columns' sizes are missing");
    const count = u32(payload, start);
    const shapes = u32(payload, start + 4);
    const shapeBytes = u32(payload, start + 8);
    const seqBytes = u32(payload, start + 12);
    const timeBytes = u32(payload, start + 16);
    const fail = (what: string): never => this.#fail(what);
    const cursor = new Cursor(payload, start + 20, end, fail);
    // Every record takes a byte in each column and in its stream at least;
    // every shape four bytes of the shape table and one record.
    if (
      shapeBytes > end || seqBytes > end || timeBytes > end ||
      count > shapeBytes || count > seqBytes || count > timeBytes ||
      shapes > count || shapes > (end - start - 20) / 4
    ) {
      this.#fail(
        `its columns claim ${count} records of ${shapes} shapes in ${shapeBytes}+${seqBytes}+${timeBytes} bytes, more than it holds`,
      );
    }
    const levels = new Uint8Array(shapes);
    const targetIds = new Uint32Array(shapes);
    const siteIds = new Uint32Array(shapes);
    const streamEnds = new Float64Array(shapes);
    for (let shape = 0; shape < shapes; shape++) {
      levels[shape] = cursor.byte();
      targetIds[shape] = cursor.varint(0xffffff, "a target id");
      siteIds[shape] = cursor.varint(0xffffffff, "a site id");
      streamEnds[shape] = cursor.varint(end, "a stream size");
    }
    const shapeColumn = new Cursor(
      payload,
      cursor.at,
      cursor.at + shapeBytes,
      fail,
    );
    const seqColumn = new Cursor(
      payload,
      shapeColumn.end,
      shapeColumn.end + seqBytes,
      fail,
    );
    const timeColumn = new Cursor(
      payload,
      seqColumn.end,
      seqColumn.end + timeBytes,
      fail,
    );
    const streamAt = new Float64Array(shapes);
    let streamStart = timeColumn.end;
    for (let shape = 0; shape < shapes; shape++) {
      streamAt[shape] = streamStart;
      streamStart += streamEnds[shape];
      streamEnds[shape] = streamStart;
    }
    if (timeColumn.end > end || streamStart !== end) {
      this.#fail(
        `its columns and streams take ${streamStart - start} bytes where ${
          end - start
        } remain`,
      );
    }
    // Targets by shape: undefined when the target is inline (read from each
    // body) or missing from the entries (its records are undecodable).
    const targets: (string | undefined)[] = [];
    for (let shape = 0; shape < shapes; shape++) {
      const entry = targetIds[shape] === 0
        ? undefined
        : lookupString(reader, targetIds[shape]);
      targets.push(entry);
    }
    const filter = guarded(this.#filter);
    const stream = new Cursor(payload, 0, 0, fail);
    let seq = 0xffffffff;
    let time = 0;
    for (let i = 0; i < count; i++) {
      const shape = shapeColumn.varint(shapes - 1, "a shape");
      const seqCode = seqColumn.varint(0xffffffff, "a sequence delta");
      seq = (seq + 1 + ((seqCode >>> 1) ^ -(seqCode & 1))) >>> 0;
      const timeCode = timeColumn.varint(Number.MAX_SAFE_INTEGER, "a time");
      if (timeCode === 1) time = timeColumn.f64();
      else time += timeCode % 2 === 0 ? timeCode / 2 : -(timeCode - 1) / 2;
      stream.at = streamAt[shape];
      stream.end = streamEnds[shape];
      const body = stream.varint(
        0xffffff - RECORD_HEADER_BYTES,
        "a record length",
      );
      const bodyStart = stream.at;
      if (body > stream.end - bodyStart) {
        this.#fail(`a record of shape ${shape} overruns its stream`);
      }
      const bodyEnd = bodyStart + body;
      streamAt[shape] = bodyEnd;
      const level = levels[shape];
      if (filter !== undefined) {
        const target = targetIds[shape] === 0
          ? inlineTarget(reader, payload, bodyStart, bodyEnd)
          : targets[shape];
        if (level > 5 || target === undefined) {
          out.undecodable++;
          continue;
        }
        if (!filter(level as LevelValue, target, time, seq)) {
          out.filtered++;
          continue;
        }
      }
      // The record decoder reads the body where it is, with the header
      // the columns give.
      const h = this.#header;
      h.level = level;
      h.targetId = targetIds[shape];
      h.siteId = siteIds[shape];
      h.time = time;
      h.body = bodyStart;
      try {
        out.records.push(
          decodeWithHeader(
            reader,
            payload,
            h,
            bodyStart,
            bodyEnd,
            out.service,
            seq,
            this.#templates,
          ),
        );
      } catch (error) {
        if (!(error instanceof TtlogFormatError)) throw error;
        out.undecodable++;
      }
    }
    if (shapeColumn.at !== shapeColumn.end || seqColumn.at !== seqColumn.end) {
      this.#fail("its shape or sequence column holds more than its records");
    }
    if (timeColumn.at !== timeColumn.end) {
      this.#fail("its time column holds more than its records");
    }
    for (let shape = 0; shape < shapes; shape++) {
      if (streamAt[shape] !== streamEnds[shape]) {
        this.#fail(`the stream of shape ${shape} holds more than its records`);
      }
    }
  }
}

/**
 * Carries what the user's filter threw out of the decoder, so the reader
 * can tell it from a malformed file and throw it as it is.
 */
export class FilterFailure {
  /** What the filter threw. */
  readonly cause: unknown;
  /** @param cause What the filter threw. */
  constructor(cause: unknown) {
    this.cause = cause;
  }
}

/** The filter, with what it throws wrapped in a {@link FilterFailure}. */
function guarded(
  filter: TtlogRecordFilter | undefined,
): TtlogRecordFilter | undefined {
  if (filter === undefined) return undefined;
  return (level, target, time, seq) => {
    try {
      return filter(level, target, time, seq);
    } catch (error) {
      throw new FilterFailure(error);
    }
  };
}

/** What decoding an events chunk gathers. */
interface EventsOut {
  readonly records: LogRecord[];
  undecodable: number;
  filtered: number;
  readonly service: string;
}

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** Reads varints and raw values from `u8[at, end)`; overruns fail the chunk. */
class Cursor {
  readonly u8: Uint8Array;
  at: number;
  end: number;
  readonly #fail: (what: string) => never;

  constructor(
    u8: Uint8Array,
    at: number,
    end: number,
    fail: (what: string) => never,
  ) {
    this.u8 = u8;
    this.at = at;
    this.end = end;
    this.#fail = fail;
  }

  byte(): number {
    if (this.at >= this.end) this.#fail("a column or table is cut");
    return this.u8[this.at++];
  }

  /** An unsigned LEB128 varint of at most 8 bytes, at most `max`. */
  varint(max: number, what: string): number {
    const u8 = this.u8;
    let at = this.at;
    if (at < this.end && u8[at] < 0x80) {
      const value = u8[at];
      this.at = at + 1;
      if (value > max) this.#fail(`${what} ${value} is out of range`);
      return value;
    }
    let value = 0;
    let scale = 1;
    for (let n = 0; n < 8; n++) {
      if (at >= this.end) this.#fail(`${what} is cut`);
      const b = u8[at++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.at = at;
        if (value > max) this.#fail(`${what} ${value} is out of range`);
        return value;
      }
      scale *= 128;
    }
    return this.#fail(`${what} is longer than 8 bytes`);
  }

  f64(): number {
    if (this.at + 8 > this.end) this.#fail("a time is cut");
    f64Bytes.set(this.u8.subarray(this.at, this.at + 8));
    this.at += 8;
    return f64[0];
  }
}

/** A dictionary string, or undefined when the id is missing or not a string. */
function lookupString(reader: ValueReader, id: number): string | undefined {
  const entry = reader.dictionary.get(id);
  return typeof entry === "string" ? entry : undefined;
}

/** The target string item that starts a body whose target is inline. */
function inlineTarget(
  reader: ValueReader,
  u8: Uint8Array,
  start: number,
  end: number,
): string | undefined {
  try {
    reader.reset(u8, start, end);
    return reader.string();
  } catch (error) {
    if (error instanceof TtlogFormatError) return undefined;
    throw error;
  }
}

/** A record's target: from the dictionary, or inline at the body's start. */
function targetOf(
  reader: ValueReader,
  targetId: number,
  u8: Uint8Array,
  bodyStart: number,
  bodyEnd: number,
): string | undefined {
  return targetId === 0
    ? inlineTarget(reader, u8, bodyStart, bodyEnd)
    : lookupString(reader, targetId);
}

/**
 * Parses one dictionary entry's payload `u8[start, end)` as the in-ring
 * dictionary lays it out (see `DictionaryReader`), checking every length.
 * Returns undefined when it is malformed.
 */
function parseEntry(
  u8: Uint8Array,
  start: number,
  end: number,
  kind: number,
): DictionaryEntry | undefined {
  if (kind === ENTRY_STRING) {
    if (end - start < 1 || u8[start] > 1) return undefined;
    return readWtf8(u8, start + 1, end, u8[start] === 1);
  }
  if (kind !== ENTRY_SITE || end - start < 4) return undefined;
  const count = u8[start] | (u8[start + 1] << 8) | (u8[start + 2] << 16);
  if (count > (end - start - 4) / 5) return undefined;
  const parts: string[] = [];
  let at = start + 4;
  for (let i = 0; i < count; i++) {
    if (at + 5 > end || u8[at] > 1) return undefined;
    const length = u32(u8, at + 1);
    if (length > end - at - 5) return undefined;
    parts.push(readWtf8(u8, at + 5, at + 5 + length, u8[at] === 1));
    at += 5 + length;
  }
  return at === end ? parts : undefined;
}
