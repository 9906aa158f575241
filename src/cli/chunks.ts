/**
 * A `.ttlog` file split into its chunks as stored (one raw chunk, LZ4 frame
 * or gzip member each), with each chunk's uncompressed bytes: what `merge`
 * copies and re-frames, and what tests append one at a time to a file that
 * `tail -f` follows. The framing is in docs/FORMAT.md (".ttlog files"); the
 * chunks' contents are left to the chunk reader.
 *
 * @module
 */

import { gunzipSync } from "../codec/gzip.ts";
import { Lz4FrameError, readLz4Frame } from "../codec/lz4_frame.ts";
import { TtlogFormatError } from "../record/decode.ts";
import {
  CHUNK_HEADER_BYTES,
  CHUNK_MAGIC,
  CHUNK_TRAILER_BYTES,
  MAX_CHUNK_PAYLOAD,
  type TtlogCompression,
} from "../snapshot/format.ts";

/** One chunk of a file. */
export interface StoredChunk {
  /** Its offset in the file. */
  readonly offset: number;
  /** The bytes as stored (compressed when the file is). */
  readonly stored: Uint8Array;
  /** The chunk uncompressed: `TTLG`, version, kind, length, payload, hash. */
  readonly raw: Uint8Array;
}

/** What {@link splitChunks} found. */
export interface SplitResult {
  /** How the file is stored. */
  readonly compression: TtlogCompression;
  /** Every whole chunk, in order. */
  readonly chunks: StoredChunk[];
  /** Set when the file ends inside a chunk: where the whole chunks end. */
  readonly truncatedAt?: number;
  /** Set when the bytes at `chunks`' end are not a chunk. */
  readonly error?: TtlogFormatError;
}

const LIMIT = CHUNK_HEADER_BYTES + MAX_CHUNK_PAYLOAD + CHUNK_TRAILER_BYTES;

function u32(u8: Uint8Array, at: number): number {
  return (u8[at] | (u8[at + 1] << 8) | (u8[at + 2] << 16) |
    (u8[at + 3] << 24)) >>> 0;
}

function compressionOf(bytes: Uint8Array): TtlogCompression | undefined {
  if (bytes.length < 4) return undefined;
  if (CHUNK_MAGIC.every((b, i) => bytes[i] === b)) return "none";
  const word = u32(bytes, 0);
  if (word === 0x184d2204 || (word & 0xfffffff0) >>> 0 === 0x184d2a50) {
    return "lz4";
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return "gzip";
  return undefined;
}

/**
 * Splits a whole `.ttlog` file into its chunks. Chunks are not verified here
 * beyond their framing: decode `raw` with `readTtlog` for that.
 *
 * @param bytes The file.
 * @returns The chunks, and where and why splitting stopped early.
 *
 * @example Split a file written in LZ4 form
 * ```ts
 * import { ChunkKind } from "../snapshot/format.ts";
 * import { encodeChunk, endChunk, headerChunk } from "../snapshot/chunk_writer.ts";
 * import { splitChunks } from "./chunks.ts";
 * import assert from "node:assert/strict";
 * const header = encodeChunk(ChunkKind.header, headerChunk({ pid: 1 }), "lz4");
 * const end = encodeChunk(ChunkKind.end, endChunk(1, 0), "lz4");
 * const split = splitChunks(new Uint8Array([...header, ...end]));
 * assert.equal(split.compression, "lz4");
 * assert.deepEqual(split.chunks.map((c) => c.raw[5]), [ChunkKind.header, ChunkKind.end]);
 * assert.deepEqual(split.chunks[1].stored, end);
 * ```
 */
export function splitChunks(bytes: Uint8Array): SplitResult {
  const compression = compressionOf(bytes);
  const chunks: StoredChunk[] = [];
  if (compression === undefined) {
    return {
      compression: "none",
      chunks,
      ...(bytes.length < 4 ? { truncatedAt: 0 } : {
        error: new TtlogFormatError(
          'ttlog: not a .ttlog file (expected "TTLG", an LZ4 frame or a gzip member)',
        ),
      }),
    };
  }
  let at = 0;
  try {
    while (at < bytes.length) {
      const rest = bytes.subarray(at);
      let size: number;
      let raw: Uint8Array;
      if (compression === "none") {
        if (rest.length < CHUNK_HEADER_BYTES) {
          return { compression, chunks, truncatedAt: at };
        }
        if (!CHUNK_MAGIC.every((b, i) => rest[i] === b)) {
          throw new TtlogFormatError(
            `ttlog: the chunk at byte ${at} does not start with TTLG`,
          );
        }
        size = CHUNK_HEADER_BYTES + u32(rest, 8) + CHUNK_TRAILER_BYTES;
        if (size > LIMIT) {
          throw new TtlogFormatError(
            `ttlog: the chunk at byte ${at} claims ${size} bytes, over the limit`,
          );
        }
        if (rest.length < size) return { compression, chunks, truncatedAt: at };
        raw = rest.subarray(0, size);
      } else if (compression === "lz4") {
        try {
          const frame = readLz4Frame(rest, { maxOutputSize: LIMIT });
          size = frame.end;
          raw = frame.data;
        } catch (error) {
          if (error instanceof Lz4FrameError && error.truncated) {
            return { compression, chunks, truncatedAt: at };
          }
          throw error;
        }
        // A file that ends with skippable frames only.
        if (raw.length === 0) {
          at += size;
          continue;
        }
      } else {
        if (rest.length < 12) return { compression, chunks, truncatedAt: at };
        size = gzipMemberLength(rest, at);
        if (rest.length < size) return { compression, chunks, truncatedAt: at };
        raw = gunzipSync(rest.subarray(0, size), { maxOutputSize: LIMIT });
      }
      chunks.push({ offset: at, stored: rest.subarray(0, size), raw });
      at += size;
    }
  } catch (error) {
    if (!(error instanceof TtlogFormatError)) throw error;
    return {
      compression,
      chunks,
      error: new TtlogFormatError(
        `ttlog: the chunk at byte ${at}: ${error.message}`,
      ),
    };
  }
  return { compression, chunks };
}

/** The length of the gzip member at the start of `u8`, from ttlog's TL field. */
function gzipMemberLength(u8: Uint8Array, at: number): number {
  if (u8[0] !== 0x1f || u8[1] !== 0x8b || (u8[3] & 0x04) === 0) {
    throw new TtlogFormatError(
      `ttlog: the chunk at byte ${at} is not a gzip member with ttlog's length field`,
    );
  }
  const xlen = u8[10] | (u8[11] << 8);
  let p = 12;
  while (p + 4 <= 12 + xlen && p + 4 <= u8.length) {
    const length = u8[p + 2] | (u8[p + 3] << 8);
    if (u8[p] === 0x54 && u8[p + 1] === 0x4c && length === 4) {
      if (p + 8 > u8.length) break;
      return u32(u8, p + 4);
    }
    p += 4 + length;
  }
  if (u8.length < 12 + xlen) return 12 + xlen; // wait for the rest of the header
  throw new TtlogFormatError(
    `ttlog: the gzip member at byte ${at} has no ttlog length field`,
  );
}
