/**
 * Writing `.ttlog` chunks (docs/FORMAT.md, ".ttlog files"). Synchronous and
 * allocation-light, because the crash path writes snapshots synchronously
 * from the caller's thread.
 *
 * `headerChunk`, `eventsChunk`, `lossChunk` and `endChunk` build a payload;
 * {@link encodeChunk} frames it (magic, version, kind, length, checksum) and
 * compresses it into one LZ4 frame or one gzip member. A file is these
 * pieces concatenated.
 *
 * @module
 */

import { encodeLz4Frame } from "../codec/lz4_frame.ts";
import { gzipSync } from "../codec/gzip.ts";
import { xxhash32 } from "../codec/xxhash32.ts";
import { TtlogConfigError } from "../level.ts";
import {
  CHUNK_HEADER_BYTES,
  CHUNK_MAGIC,
  CHUNK_TRAILER_BYTES,
  CHUNK_VERSION,
  type ChunkEntry,
  ChunkKind,
  GZIP_SUBFIELD,
  MAX_CHUNK_PAYLOAD,
  type TtlogCompression,
} from "./format.ts";

const encoder = new TextEncoder();

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
  const chunk = new Uint8Array(
    CHUNK_HEADER_BYTES + payload.length + CHUNK_TRAILER_BYTES,
  );
  chunk.set(CHUNK_MAGIC, 0);
  chunk[4] = CHUNK_VERSION;
  chunk[5] = kind;
  // bytes 6-7: flags, 0 in version 1.
  writeU32(chunk, 8, payload.length);
  chunk.set(payload, CHUNK_HEADER_BYTES);
  writeU32(chunk, CHUNK_HEADER_BYTES + payload.length, xxhash32(payload));
  switch (compression) {
    case "none":
      return chunk;
    case "lz4":
      return encodeLz4Frame(chunk);
    case "gzip":
      return withLengthField(gzipSync(chunk));
    default:
      throw new TtlogConfigError(
        `encodeChunk: compression must be "none", "lz4" or "gzip", got ${
          String(compression)
        }`,
      );
  }
}

/**
 * Adds an FEXTRA field (subfield "TL", 4 bytes: the member's whole length)
 * to a gzip member, so that readers find where each member ends without
 * inflating it. Standard gzip tools skip the field.
 */
function withLengthField(member: Uint8Array): Uint8Array {
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

/**
 * The payload of an events chunk: a producer's dictionary entries, then its
 * records.
 *
 * @param producer The producer's id (0 for the main thread's logger).
 * @param entries The dictionary entries the records use, payloads exactly as
 * the in-ring dictionary stores them.
 * @param records Whole event records exactly as they sit in the ring (24-byte
 * header and body, 4-byte aligned), oldest first, without pad records.
 * @returns The payload.
 * @throws {TtlogConfigError} When an id, kind or length does not fit the
 * format, or `records` is not a whole number of words.
 */
export function eventsChunk(
  producer: number,
  entries: readonly ChunkEntry[],
  records: Uint8Array,
): Uint8Array {
  if (!isU32(producer)) {
    throw new TtlogConfigError(
      `eventsChunk: producer must be an integer from 0 to 2^32-1, got ${producer}`,
    );
  }
  if ((records.length & 3) !== 0) {
    throw new TtlogConfigError(
      `eventsChunk: records must be whole 4-byte aligned records, got ${records.length} bytes`,
    );
  }
  let size = 8 + 4 + records.length;
  for (const entry of entries) {
    if (!isU32(entry.id) || (entry.kind !== 1 && entry.kind !== 2)) {
      throw new TtlogConfigError(
        `eventsChunk: an entry needs an id from 0 to 2^32-1 and kind 1 or 2, got id ${entry.id} kind ${entry.kind}`,
      );
    }
    size += 12 + ((entry.payload.length + 3) & ~3);
  }
  const out = new Uint8Array(size);
  writeU32(out, 0, producer);
  writeU32(out, 4, entries.length);
  let at = 8;
  for (const entry of entries) {
    writeU32(out, at, entry.id);
    out[at + 4] = entry.kind;
    writeU32(out, at + 8, entry.payload.length);
    out.set(entry.payload, at + 12);
    at += 12 + ((entry.payload.length + 3) & ~3);
  }
  writeU32(out, at, records.length);
  out.set(records, at + 4);
  return out;
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
