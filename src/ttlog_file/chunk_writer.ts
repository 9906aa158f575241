/**
 * Writing `.ttlog` chunks (docs/FORMAT.md, ".ttlog files"). Synchronous and
 * allocation-light, because the crash path writes snapshots synchronously
 * from the caller's thread.
 *
 * `headerChunk`, `eventsChunk`, `lossChunk` and `endChunk` build a payload;
 * {@link encodeChunk} frames it (magic, version, kind, flags, length,
 * checksum) and compresses it into one LZ4 frame or one gzip member. A file
 * is these pieces concatenated.
 *
 * Events chunks store their records as columns (docs/FORMAT.md, "Events,
 * columns"): the 24-byte headers become a column of call-site "shapes" and
 * columns of sequence and time deltas, and the values are grouped by shape,
 * so that LZ4 finds long repeats. The transform is two linear passes.
 *
 * @module
 */

import {
  encodeLz4Frame,
  encodeLz4FrameInto,
  lz4FrameBound,
} from "../codec/lz4_frame.ts";
import { gzipSync } from "../codec/gzip.ts";
import { xxhash32 } from "../codec/xxhash32.ts";
import { TtlogConfigError } from "../errors.ts";
import { ColumnScratch, toColumns } from "./columns_writer.ts";
import {
  alignedLength,
  contentLength,
  eventHeader,
  KIND_EVENT,
  MIN_HEADER_BYTES,
  readHeader,
  recordKind,
  recordWord,
} from "../ring/ring.ts";
import {
  CHUNK_HEADER_BYTES,
  CHUNK_MAGIC,
  CHUNK_TRAILER_BYTES,
  CHUNK_VERSION,
  type ChunkEntry,
  ChunkKind,
  FLAG_COLUMNS,
  GZIP_SUBFIELD,
  MAX_CHUNK_PAYLOAD,
  type TtlogCompression,
} from "./format.ts";

const encoder = new TextEncoder();

/**
 * The flags of the payloads {@link eventsChunk} built, so that
 * {@link encodeChunk} frames each payload with the flags its layout needs
 * without its callers passing them.
 */
const payloadFlags = new WeakMap<Uint8Array, number>();

/**
 * Payloads built with room for the chunk's header before them and its
 * checksum after them, in the same buffer: a compressed chunk is framed
 * there instead of in a copy (a snapshot's events chunk is tens of MiB).
 */
const framable = new WeakSet<Uint8Array>();

function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value;
  out[at + 1] = value >>> 8;
  out[at + 2] = value >>> 16;
  out[at + 3] = value >>> 24;
}

/**
 * Frames a payload as one chunk and compresses it.
 *
 * @param kind The chunk kind ({@link ChunkKind}).
 * @param payload The payload, from `headerChunk`, `eventsChunk`, `lossChunk`
 * or `endChunk`.
 * @param compression "none", "lz4" (one LZ4 frame) or "gzip" (one gzip member
 * whose FEXTRA field carries its length).
 * @param flags The chunk's flags; by default those the payload's layout
 * needs (an events payload from `eventsChunk` is flagged as columns), else 0.
 * @returns The bytes to append to the file.
 * @throws {TtlogConfigError} When the kind or compression is unknown, the
 * payload is larger than {@link MAX_CHUNK_PAYLOAD} (split the events into
 * several chunks), or the codec is not available in this runtime.
 *
 * @example Write a header chunk and read it back
 * ```ts
 * import { ChunkKind } from "./format.ts";
 * import { encodeChunk, headerChunk } from "./chunk_writer.ts";
 * import { readTtlog } from "./chunk_reader.ts";
 * import assert from "node:assert/strict";
 * const bytes = encodeChunk(ChunkKind.header, headerChunk({ service: "api" }), "lz4");
 * const { items } = readTtlog(bytes);
 * assert.deepEqual(items, [{ kind: "header", meta: { service: "api" } }]);
 * ```
 */
export function encodeChunk(
  kind: ChunkKind,
  payload: Uint8Array,
  compression: TtlogCompression,
  flags: number = payloadFlags.get(payload) ?? 0,
): Uint8Array {
  const chunk = frameChunk(kind, payload, compression, flags, false);
  if (compression === "none") return chunk;
  return compression === "lz4"
    // The chunk ends with its own xxHash32: no second one over the frame.
    ? encodeLz4Frame(chunk, { contentChecksum: false })
    : withLengthField(gzipSync(chunk));
}

/**
 * Checks a chunk's parts and frames the payload (magic, version, kind,
 * flags, length, checksum): in the payload's own buffer when it was built
 * with room for that and the result is only read (compressed, or
 * `transient`), else in a new array.
 */
function frameChunk(
  kind: ChunkKind,
  payload: Uint8Array,
  compression: TtlogCompression,
  flags: number,
  transient: boolean,
): Uint8Array {
  if (kind < ChunkKind.header || kind > ChunkKind.end || kind % 1 !== 0) {
    throw new TtlogConfigError(
      `encodeChunk: kind must be 1 (header), 2 (events), 3 (loss) or 4 (end), got ${kind}`,
    );
  }
  if (payload.length > MAX_CHUNK_PAYLOAD) {
    throw new TtlogConfigError(
      `encodeChunk: a ${payload.length}-byte payload is over the ${MAX_CHUNK_PAYLOAD}-byte chunk limit; split the records into several events chunks`,
    );
  }
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffff) {
    throw new TtlogConfigError(
      `encodeChunk: flags must be an integer from 0 to 0xffff, got ${flags}`,
    );
  }
  if (
    compression !== "none" && compression !== "lz4" && compression !== "gzip"
  ) {
    throw new TtlogConfigError(
      `encodeChunk: compression must be "none", "lz4" or "gzip", got ${
        String(compression)
      }`,
    );
  }
  const size = CHUNK_HEADER_BYTES + payload.length + CHUNK_TRAILER_BYTES;
  // An uncompressed chunk is returned, so it must not share the payload's
  // buffer unless the caller is done with it first; a compressed one is
  // only read, to compress it.
  const inPlace = (compression !== "none" || transient) &&
    framable.has(payload) &&
    payload.byteOffset >= CHUNK_HEADER_BYTES &&
    payload.buffer.byteLength - payload.byteOffset >=
      payload.length + CHUNK_TRAILER_BYTES;
  const chunk = inPlace
    ? new Uint8Array(
      payload.buffer,
      payload.byteOffset - CHUNK_HEADER_BYTES,
      size,
    )
    : new Uint8Array(size);
  chunk.set(CHUNK_MAGIC, 0);
  chunk[4] = CHUNK_VERSION;
  chunk[5] = kind;
  chunk[6] = flags;
  chunk[7] = flags >>> 8;
  writeU32(chunk, 8, payload.length);
  if (!inPlace) chunk.set(payload, CHUNK_HEADER_BYTES);
  writeU32(chunk, CHUNK_HEADER_BYTES + payload.length, xxhash32(payload));
  return chunk;
}

/**
 * Adds an FEXTRA field (subfield "TL", 4 bytes: the member's whole length)
 * to a gzip member, so that readers find where each member ends without
 * inflating it. Standard gzip tools skip the field.
 */
export function withLengthField(member: Uint8Array): Uint8Array {
  const flags = member[3];
  if (member.length < 18 || (flags & 0x04) !== 0) {
    throw new TtlogConfigError(
      "encodeChunk: node:zlib produced an unexpected gzip header; use lz4 compression",
    );
  }
  const extra = 2 + 4 + 4; // XLEN, then SI1 SI2 LEN and 4 bytes of data
  const out = new Uint8Array(member.length + extra);
  out.set(member.subarray(0, 10), 0);
  out[3] = flags | 0x04;
  out[10] = extra - 2;
  out[11] = 0;
  out[12] = GZIP_SUBFIELD[0];
  out[13] = GZIP_SUBFIELD[1];
  out[14] = 4;
  out[15] = 0;
  writeU32(out, 16, out.length);
  out.set(member.subarray(10), 20);
  return out;
}

/** JSON for metadata: bigints, Maps, Sets and errors written readably. */
function metaReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack };
  }
  return value;
}

function jsonPayload(what: string, value: unknown): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, metaReplacer);
  } catch (error) {
    throw new TtlogConfigError(
      `${what}: the value cannot be written as JSON (${
        error instanceof Error ? error.message : String(error)
      }); pass plain data without cycles`,
    );
  }
  return encoder.encode(text ?? "null");
}

/**
 * The payload of a header chunk: the metadata as UTF-8 JSON.
 *
 * @param meta Service, host, pid, runtime, runtimeVersion, reason, time,
 * counters, trigger: whatever describes the file; readers get it back parsed.
 * @returns The payload.
 * @throws {TtlogConfigError} When `meta` is not a plain object or has cycles.
 */
export function headerChunk(meta: object): Uint8Array {
  if (meta === null || typeof meta !== "object" || Array.isArray(meta)) {
    throw new TtlogConfigError("headerChunk: meta must be a plain object");
  }
  return jsonPayload("headerChunk", meta);
}

/** How {@link eventsChunk} lays out the records. */
export interface EventsChunkOptions {
  /**
   * `"columns"` (the default; the chunk is flagged {@link FLAG_COLUMNS}):
   * headers as columns, values grouped by call site, about a third smaller
   * raw and twice as compressible. `"records"`: whole records with the
   * 24-byte headers the first .ttlog files hold (flags 0), for tools and
   * tests that write that layout.
   */
  readonly layout?: "columns" | "records";
}

/**
 * Event records as a ring holds them, with what the records themselves do
 * not carry: their sequence numbers, and the time base of the ring.
 */
export interface RingRecords {
  /**
   * Whole event records exactly as in the ring (docs/FORMAT.md, "Record"),
   * back to back, 4-byte aligned, oldest first, without pad records.
   */
  readonly records: Uint8Array;
  /** Each record's sequence number, in order (one per record). */
  readonly seqs: ArrayLike<number>;
  /** The time base of the ring the records were written in. */
  readonly timeBase: number;
}

/** Bytes of a record header in the "records" layout (the first files). */
const RECORD_HEADER_BYTES = 24;

/**
 * The payload of an events chunk: a producer's dictionary entries, then its
 * records. {@link encodeChunk} frames it with the flags its layout needs.
 *
 * @param producer The producer's id (0 for the main thread's logger).
 * @param entries The dictionary entries the records use, payloads exactly as
 * the in-ring dictionary stores them.
 * @param records The records, their sequence numbers and time base.
 * @param options The layout (default: columns).
 * @returns The payload.
 * @throws {TtlogConfigError} When an id, kind or length does not fit the
 * format, or `records` is not a sequence of whole event records.
 *
 * @example Records from a ring (here, one built by hand) read back
 * ```ts
 * import { ChunkKind } from "./format.ts";
 * import { encodeChunk, eventsChunk } from "./chunk_writer.ts";
 * import { readTtlog } from "./chunk_reader.ts";
 * import assert from "node:assert/strict";
 * import { writeHeader } from "../ring/ring.ts";
 * // One info event, seq 0, time 1000 ms, target "" inline, message "hi" inline.
 * const record = new Uint8Array(20);
 * const body = writeHeader(record, 0, 2, 0, 0, 1000, 0); // info, ids 0, base 0
 * record.set([0x07, 0, 1, 0x07, 2, 0x68, 0x69, 0], body); // "", 1 part: "hi", no fields
 * new DataView(record.buffer).setUint32(0, (body + 8) | (1 << 24), true);
 * const payload = eventsChunk(0, [], { records: record, seqs: [0], timeBase: 0 });
 * const { items } = readTtlog(encodeChunk(ChunkKind.events, payload, "lz4"));
 * assert.equal(items[0].kind === "events" && items[0].records[0].msg, "hi");
 * ```
 */
export function eventsChunk(
  producer: number,
  entries: readonly ChunkEntry[],
  records: RingRecords,
  options: EventsChunkOptions = {},
): Uint8Array {
  const shaped = shapeEvents(producer, entries, records, options.layout);
  // Room for the chunk's header and checksum around the payload.
  const out = new Uint8Array(
    new ArrayBuffer(CHUNK_HEADER_BYTES + shaped.size + CHUNK_TRAILER_BYTES),
    CHUNK_HEADER_BYTES,
    shaped.size,
  );
  shaped.write(out, 0);
  framable.add(out);
  payloadFlags.set(out, shaped.flags);
  return out;
}

/**
 * Encodes a snapshot's events chunks one after another into two buffers it
 * reuses (the payload, and the compressed frame), so that a snapshot of a
 * 64 MiB ring touches a chunk's worth of fresh memory instead of the whole
 * ring's twice over: on a crash, the page faults of fresh memory cost as
 * much as the work. Each chunk returned is valid until the next call.
 */
export class EventsChunkEncoder {
  readonly #compression: TtlogCompression;
  #payload: ArrayBuffer = new ArrayBuffer(0);
  #frame: Uint8Array = new Uint8Array(0);
  readonly #columns = new ColumnScratch();

  /** @param compression The chunks' compression. */
  constructor(compression: TtlogCompression) {
    this.#compression = compression;
  }

  /**
   * The events chunk of `records`, in the columns layout, framed and
   * compressed: the bytes to append to the file, until the next call.
   */
  encode(
    producer: number,
    entries: readonly ChunkEntry[],
    records: RingRecords,
  ): Uint8Array {
    const shaped = shapeEvents(
      producer,
      entries,
      records,
      "columns",
      this.#columns,
    );
    const need = CHUNK_HEADER_BYTES + shaped.size + CHUNK_TRAILER_BYTES;
    if (this.#payload.byteLength < need) {
      this.#payload = new ArrayBuffer(need + (need >> 3));
    }
    const payload = new Uint8Array(
      this.#payload,
      CHUNK_HEADER_BYTES,
      shaped.size,
    );
    shaped.write(payload, 0);
    framable.add(payload);
    const compression = this.#compression;
    const chunk = frameChunk(
      ChunkKind.events,
      payload,
      compression,
      shaped.flags,
      true,
    );
    if (compression !== "lz4") {
      return compression === "none" ? chunk : withLengthField(gzipSync(chunk));
    }
    const options = { contentChecksum: false };
    const bound = lz4FrameBound(chunk.length, options);
    if (this.#frame.length < bound) {
      this.#frame = new Uint8Array(bound + (bound >> 3));
    }
    return this.#frame.subarray(
      0,
      encodeLz4FrameInto(chunk, this.#frame, options),
    );
  }
}

/** Checks an events payload's parts and measures it in its layout. */
function shapeEvents(
  producer: number,
  entries: readonly ChunkEntry[],
  records: RingRecords,
  layout: "columns" | "records" = "columns",
  scratch?: ColumnScratch,
): { size: number; flags: number; write(out: Uint8Array, at: number): void } {
  if (!isU32(producer)) {
    throw new TtlogConfigError(
      `eventsChunk: producer must be an integer from 0 to 2^32-1, got ${producer}`,
    );
  }
  if ((records.records.length & 3) !== 0) {
    throw new TtlogConfigError(
      `eventsChunk: records must be whole 4-byte aligned records, got ${records.records.length} bytes`,
    );
  }
  if (layout !== "columns" && layout !== "records") {
    throw new TtlogConfigError(
      `eventsChunk: layout must be "columns" or "records", got ${
        String(layout)
      }`,
    );
  }
  let entriesSize = 0;
  for (const entry of entries) {
    if (!isU32(entry.id) || (entry.kind !== 1 && entry.kind !== 2)) {
      throw new TtlogConfigError(
        `eventsChunk: an entry needs an id from 0 to 2^32-1 and kind 1 or 2, got id ${entry.id} kind ${entry.kind}`,
      );
    }
    entriesSize += 12 + ((entry.payload.length + 3) & ~3);
  }
  const shaped = layout === "columns"
    ? toColumns(records, scratch)
    : toFirstRecords(records);
  return {
    size: 8 + entriesSize + shaped.size,
    flags: layout === "columns" ? FLAG_COLUMNS : 0,
    write(out: Uint8Array, start: number): void {
      writeU32(out, start, producer);
      writeU32(out, start + 4, entries.length);
      let at = start + 8;
      for (const entry of entries) {
        writeU32(out, at, entry.id);
        out[at + 4] = entry.kind;
        out[at + 5] = out[at + 6] = out[at + 7] = 0;
        writeU32(out, at + 8, entry.payload.length);
        out.set(entry.payload, at + 12);
        const end = at + 12 + entry.payload.length;
        at += 12 + ((entry.payload.length + 3) & ~3);
        out.fill(0, end, at);
      }
      shaped.write(out, at);
    },
  };
}

/** The records' headers, read and checked once for either layout. */
function readRecords(records: RingRecords): {
  count: number;
  /** Per record: its body's start and end in `records.records`. */
  bodies: Int32Array;
  /** Per record: level | target id << 8. */
  levelTargets: Uint32Array;
  sites: Uint32Array;
  times: Float64Array;
} {
  const bytes = records.records;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const end = bytes.length;
  let count = 0;
  for (let at = 0; at < end; count++) {
    const word = view.getUint32(at, true);
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
  if (records.seqs.length !== count) {
    throw new TtlogConfigError(
      `eventsChunk: ${count} records need ${count} sequence numbers, got ${records.seqs.length}`,
    );
  }
  const bodies = new Int32Array(2 * count);
  const levelTargets = new Uint32Array(count);
  const sites = new Uint32Array(count);
  const times = new Float64Array(count);
  const h = eventHeader();
  for (let i = 0, at = 0; i < count; i++) {
    const content = contentLength(view.getUint32(at, true));
    if (
      !readHeader(bytes, at, at + content, records.timeBase, h) ||
      at + content - h.body > 0xffffff - RECORD_HEADER_BYTES
    ) {
      throw new TtlogConfigError(
        `eventsChunk: the header of the record at byte ${at} does not fit it`,
      );
    }
    bodies[2 * i] = h.body;
    bodies[2 * i + 1] = at + content;
    levelTargets[i] = h.level | (h.targetId << 8);
    sites[i] = h.siteId;
    times[i] = h.time;
    at += alignedLength(content);
  }
  return { count, bodies, levelTargets, sites, times };
}

/**
 * The records with the 24-byte headers of the first .ttlog files: length
 * and kind, seq, float64 time, level | target id << 8, site id.
 */
function toFirstRecords(
  records: RingRecords,
): { size: number; write(out: Uint8Array, at: number): void } {
  const { count, bodies, levelTargets, sites, times } = readRecords(records);
  let size = 0;
  for (let i = 0; i < count; i++) {
    size += alignedLength(
      RECORD_HEADER_BYTES + bodies[2 * i + 1] - bodies[2 * i],
    );
  }
  return {
    size: 4 + size,
    write(out: Uint8Array, start: number): void {
      const view = new DataView(out.buffer, out.byteOffset, out.length);
      writeU32(out, start, size);
      let at = start + 4;
      for (let i = 0; i < count; i++) {
        const body = bodies[2 * i + 1] - bodies[2 * i];
        const content = RECORD_HEADER_BYTES + body;
        view.setUint32(at, recordWord(KIND_EVENT, content), true);
        view.setUint32(at + 4, records.seqs[i] >>> 0, true);
        view.setFloat64(at + 8, times[i], true);
        view.setUint32(at + 16, levelTargets[i], true);
        view.setUint32(at + 20, sites[i], true);
        out.set(
          records.records.subarray(bodies[2 * i], bodies[2 * i + 1]),
          at + RECORD_HEADER_BYTES,
        );
        out.fill(0, at + content, at + alignedLength(content));
        at += alignedLength(content);
      }
    },
  };
}

function isU32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

/**
 * The payload of a loss chunk: events a producer lost before the records
 * that follow.
 *
 * @param producer The producer's id.
 * @param lost How many events were lost.
 * @param reason Why, for example "overwritten" or "dropped".
 * @returns The payload.
 */
export function lossChunk(
  producer: number,
  lost: number,
  reason: string,
): Uint8Array {
  return jsonPayload("lossChunk", { producer, lost, reason });
}

/**
 * The payload of the end chunk, written last: a reader that sees it knows the
 * file is whole.
 *
 * @param chunks Chunks written before this one.
 * @param events Events in those chunks.
 * @returns The payload.
 */
export function endChunk(chunks: number, events: number): Uint8Array {
  return jsonPayload("endChunk", { chunks, events });
}
