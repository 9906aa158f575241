/**
 * Framing of `.ttlog` input (docs/FORMAT.md, ".ttlog files"): finds the
 * chunks in a byte stream that arrives in pieces of any size, raw, LZ4 or
 * gzip (told apart by their first bytes), decompresses each, and verifies
 * its header and checksum. What a chunk's payload means is decoded by
 * ./chunk_reader.ts (and ./chunk_events.ts for events).
 *
 * Memory stays bounded whatever the input claims: the framer holds at most
 * one chunk (its compressed bytes, then its decompressed bytes), and rejects
 * a chunk that declares more than its payload limit before allocating
 * anything for it. Bad input raises {@link TtlogFormatError}.
 *
 * @module
 */

import { gunzipSync } from "../codec/gzip.ts";
import { readLz4Frame } from "../codec/lz4_frame.ts";
import { xxhash32 } from "../codec/xxhash32.ts";
import { TtlogConfigError } from "../errors.ts";
import { TtlogFormatError } from "../record/decode.ts";
import {
  CHUNK_HEADER_BYTES,
  CHUNK_MAGIC,
  CHUNK_TRAILER_BYTES,
  CHUNK_VERSION,
  ChunkKind,
  FLAG_COLUMNS,
  GZIP_SUBFIELD,
  type TtlogCompression,
} from "./format.ts";

/**
 * Called with each whole chunk the framer finds, before the framer moves
 * past it (so a {@link ChunkFramer.fail} from inside names its offset).
 *
 * @param stored The chunk's bytes as stored (an LZ4 frame or gzip member
 * when compressed); a view of the framer's buffer, valid during the call.
 * @param raw The chunk uncompressed (`stored` itself when it is raw).
 */
export type ChunkSink = (stored: Uint8Array, raw: Uint8Array) => void;

/** A chunk whose framing and checksum are sound. */
export interface VerifiedChunk {
  /** Its kind: a {@link ChunkKind} value, or one this reader does not know. */
  readonly kind: number;
  /** Its flags (only {@link FLAG_COLUMNS}, on events chunks, is known). */
  readonly flags: number;
  /** Its payload: a view of the chunk's bytes. */
  readonly payload: Uint8Array;
}

const EMPTY = new Uint8Array(0);
const LZ4_MAGIC = 0x184d2204;
const LZ4_SKIPPABLE = 0x184d2a50; // low 4 bits are free
const GZIP_MAGIC = 0x8b1f;

/** What the bytes being collected are. */
const Stage = {
  magic: 0,
  rawHeader: 1,
  lz4Descriptor: 2,
  lz4Block: 3,
  skippable: 4,
  gzipHeader: 5,
  gzipExtra: 6,
  body: 7,
} as const;
type Stage = typeof Stage[keyof typeof Stage];

const Mode = { unknown: 0, raw: 1, lz4: 2, gzip: 3 } as const;
type Mode = typeof Mode[keyof typeof Mode];
const MODE_NAMES = ["", "uncompressed", "LZ4", "gzip"] as const;
const COMPRESSIONS = [undefined, "none", "lz4", "gzip"] as const;

function u32(u8: Uint8Array, at: number): number {
  return (u8[at] | (u8[at + 1] << 8) | (u8[at + 2] << 16) |
    (u8[at + 3] << 24)) >>> 0;
}

/**
 * Cuts a `.ttlog` stream into its chunks: {@link ChunkFramer.feed} it the
 * input piece by piece, and it hands each whole chunk, decompressed, to the
 * given sink. Skippable LZ4 frames are passed over.
 *
 * @example Two raw chunks fed a byte at a time
 * ```ts
 * import { ChunkKind } from "./format.ts";
 * import { encodeChunk, endChunk, headerChunk } from "./chunk_writer.ts";
 * import { ChunkFramer } from "./chunk_frames.ts";
 * import assert from "node:assert/strict";
 * const file = new Uint8Array([
 *   ...encodeChunk(ChunkKind.header, headerChunk({ pid: 1 }), "none"),
 *   ...encodeChunk(ChunkKind.end, endChunk(1, 0), "none"),
 * ]);
 * const framer = new ChunkFramer(1024);
 * const sizes: number[] = [];
 * for (let at = 0; at < file.length; at++) {
 *   framer.feed(file.subarray(at, at + 1), (stored) => sizes.push(stored.length));
 * }
 * assert.equal(sizes.length, 2);
 * assert.equal(framer.pending, 0);
 * assert.equal(framer.compression, "none");
 * ```
 */
export class ChunkFramer {
  readonly #maxPayload: number;
  readonly #maxUnit: number;
  #mode: Mode = Mode.unknown;
  #stage: Stage = Stage.magic;
  /** The file offset where the unit being collected starts. */
  #offset = 0;
  /** Bytes of the current unit collected so far, and how many it needs. */
  #buf = EMPTY;
  #have = 0;
  #need = 4;
  #skip = 0;
  #pushed = 0;
  // The LZ4 frame being collected.
  #blockMax = 0;
  #blockChecksum = false;
  #contentChecksum = false;

  /**
   * Creates a framer.
   *
   * @param maxPayload The largest chunk payload to accept, in bytes (the
   * caller checks it is an integer from 1 to 2^30).
   */
  constructor(maxPayload: number) {
    this.#maxPayload = maxPayload;
    // A chunk compressed: LZ4 and deflate grow incompressible data by well
    // under 1/256, plus their headers.
    this.#maxUnit = CHUNK_HEADER_BYTES + maxPayload + CHUNK_TRAILER_BYTES +
      Math.ceil(maxPayload / 256) + 1024;
  }

  /** How the input is stored, once its first chunk has begun. */
  get compression(): TtlogCompression | undefined {
    return COMPRESSIONS[this.#mode];
  }

  /**
   * The input offset just past the last whole chunk (or skipped frame):
   * while a sink runs, where its chunk starts.
   */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes held of a chunk that has not arrived whole yet. */
  get pending(): number {
    return this.#have + this.#skip;
  }

  /** How many bytes have been fed in all. */
  get pushed(): number {
    return this.#pushed;
  }

  /**
   * Throws a {@link TtlogFormatError} that names the chunk at
   * {@link ChunkFramer.offset}.
   *
   * @param what What is wrong with the chunk.
   * @throws {TtlogFormatError} Always.
   */
  fail(what: string): never {
    throw new TtlogFormatError(
      `ttlog: the chunk at byte ${this.#offset}: ${what}`,
    );
  }

  /**
   * Feeds the next piece of input; calls `sink` with each chunk it
   * completes, in order.
   *
   * @param bytes The next bytes (not kept after the call returns).
   * @param sink Takes each whole chunk; what it throws stops the framer
   * there and goes out as it is.
   * @throws {TtlogFormatError} When the input is not a valid .ttlog stream.
   */
  feed(bytes: Uint8Array, sink: ChunkSink): void {
    this.#pushed += bytes.length;
    let pos = 0;
    const end = bytes.length;
    while (pos < end) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, end - pos);
        this.#skip -= n;
        this.#offset += n;
        pos += n;
        continue;
      }
      const take = Math.min(this.#need - this.#have, end - pos);
      this.#reserve(this.#need);
      this.#buf.set(bytes.subarray(pos, pos + take), this.#have);
      this.#have += take;
      pos += take;
      while (this.#have === this.#need) this.#step(sink);
    }
  }

  #reserve(size: number): void {
    if (this.#buf.length >= size) return;
    const grown = new Uint8Array(
      Math.min(Math.max(size, this.#buf.length * 2, 64), this.#maxUnit),
    );
    grown.set(this.#buf.subarray(0, this.#have));
    this.#buf = grown;
  }

  /** Sets how many bytes the unit needs in all; refuses more than the bound. */
  #needAll(total: number): void {
    if (total > this.#maxUnit) {
      this.fail(
        `it claims more than ${this.#maxUnit} bytes (the limit for ${this.#maxPayload}-byte payloads); the file is corrupt, or was written with a larger maxPayloadBytes`,
      );
    }
    this.#need = total;
  }

  /** Acts on a unit's bytes once `#need` of them are there. */
  #step(sink: ChunkSink): void {
    const buf = this.#buf;
    switch (this.#stage) {
      case Stage.magic:
        return this.#magic();
      case Stage.rawHeader: {
        const length = u32(buf, 8);
        if (length > this.#maxPayload) {
          this.fail(
            `its payload claims ${length} bytes, over the ${this.#maxPayload}-byte limit`,
          );
        }
        this.#stage = Stage.body;
        return this.#needAll(
          CHUNK_HEADER_BYTES + length + CHUNK_TRAILER_BYTES,
        );
      }
      case Stage.lz4Descriptor: {
        const flags = buf[4];
        const code = (buf[5] >> 4) & 7;
        if ((flags >> 6) !== 1 || (flags & 0x02) !== 0 || code < 4) {
          this.fail("not a valid LZ4 frame descriptor");
        }
        this.#blockMax = 1 << (2 * code + 8);
        this.#blockChecksum = (flags & 0x10) !== 0;
        this.#contentChecksum = (flags & 0x04) !== 0;
        this.#stage = Stage.lz4Block;
        // Magic, FLG, BD, content size?, dictionary id?, HC; then a block word.
        return this.#needAll(
          7 + ((flags & 0x08) !== 0 ? 8 : 0) + ((flags & 0x01) !== 0 ? 4 : 0) +
            4,
        );
      }
      case Stage.lz4Block: {
        const word = u32(buf, this.#need - 4);
        if (word === 0) {
          this.#stage = Stage.body;
          return this.#needAll(this.#need + (this.#contentChecksum ? 4 : 0));
        }
        const size = word & 0x7fffffff;
        if (size > this.#blockMax) {
          this.fail(
            `an LZ4 block claims ${size} bytes, over its frame's ${this.#blockMax}-byte maximum`,
          );
        }
        return this.#needAll(
          this.#need + size + (this.#blockChecksum ? 4 : 0) + 4,
        );
      }
      case Stage.skippable: {
        this.#skip = u32(buf, 4);
        this.#offset += 8;
        return this.#reset();
      }
      case Stage.gzipHeader: {
        if (buf[2] !== 8 || (buf[3] & 0x04) === 0 || (buf[3] & 0xe0) !== 0) {
          this.fail(
            "a gzip member without ttlog's length field (FEXTRA subfield TL); only files written by ttlog can be read in gzip form: decompress it with gzip -dc first",
          );
        }
        this.#stage = Stage.gzipExtra;
        return this.#needAll(12 + (buf[10] | (buf[11] << 8)));
      }
      case Stage.gzipExtra:
        return this.#gzipExtra();
      default:
        sink(...this.#unit());
        this.#offset += this.#need;
        return this.#reset();
    }
  }

  #reset(): void {
    this.#have = 0;
    this.#need = 4;
    this.#stage = Stage.magic;
    // Do not keep a large buffer between chunks.
    if (this.#buf.length > 1 << 22) this.#buf = EMPTY;
  }

  #magic(): void {
    const buf = this.#buf;
    const word = u32(buf, 0);
    let mode: Mode;
    if (
      buf[0] === CHUNK_MAGIC[0] && buf[1] === CHUNK_MAGIC[1] &&
      buf[2] === CHUNK_MAGIC[2] && buf[3] === CHUNK_MAGIC[3]
    ) {
      mode = Mode.raw;
      this.#stage = Stage.rawHeader;
      this.#need = CHUNK_HEADER_BYTES;
    } else if (word === LZ4_MAGIC) {
      mode = Mode.lz4;
      this.#stage = Stage.lz4Descriptor;
      this.#need = 6;
    } else if (((word & 0xfffffff0) >>> 0) === LZ4_SKIPPABLE) {
      mode = Mode.lz4;
      this.#stage = Stage.skippable;
      this.#need = 8;
    } else if ((word & 0xffff) === GZIP_MAGIC) {
      mode = Mode.gzip;
      this.#stage = Stage.gzipHeader;
      this.#need = 12;
    } else {
      return this.fail(
        this.#mode === Mode.unknown
          ? `not a .ttlog file (it starts with ${
            [...buf.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0"))
              .join(" ")
          }; expected "TTLG", an LZ4 frame or a gzip member)`
          : `expected another ${
            MODE_NAMES[this.#mode]
          } chunk; the file is corrupt here`,
      );
    }
    if (this.#mode === Mode.unknown) this.#mode = mode;
    else if (mode !== this.#mode) {
      this.fail(
        `a ${MODE_NAMES[mode]} chunk in a ${
          MODE_NAMES[this.#mode]
        } file; a file uses one compression throughout`,
      );
    }
  }

  #gzipExtra(): void {
    const buf = this.#buf;
    const end = this.#need;
    let at = 12;
    let member = -1;
    while (at + 4 <= end) {
      const length = buf[at + 2] | (buf[at + 3] << 8);
      if (
        buf[at] === GZIP_SUBFIELD[0] && buf[at + 1] === GZIP_SUBFIELD[1] &&
        length === 4 && at + 8 <= end
      ) {
        member = u32(buf, at + 4);
        break;
      }
      at += 4 + length;
    }
    if (member < 0) {
      this.fail(
        "a gzip member without ttlog's length field (FEXTRA subfield TL); only files written by ttlog can be read in gzip form: decompress it with gzip -dc first",
      );
    }
    // The smallest deflate stream is 2 bytes, then CRC32 and ISIZE.
    if (member < end + 10) {
      this.fail(`its gzip length field says ${member} bytes, too few`);
    }
    this.#stage = Stage.body;
    this.#needAll(member);
  }

  /** The unit in `#buf[0, #need)`: as stored, and decompressed. */
  #unit(): [stored: Uint8Array, raw: Uint8Array] {
    const unit = this.#buf.subarray(0, this.#need);
    if (this.#mode === Mode.raw) return [unit, unit];
    const limit = CHUNK_HEADER_BYTES + this.#maxPayload + CHUNK_TRAILER_BYTES;
    try {
      if (this.#mode === Mode.lz4) {
        const frame = readLz4Frame(unit, { maxOutputSize: limit });
        if (frame.end !== unit.length) this.fail("the LZ4 frame is corrupt");
        return [unit, frame.data];
      }
      return [unit, gunzipSync(unit, { maxOutputSize: limit })];
    } catch (error) {
      return this.fail(
        `${error instanceof Error ? error.message : String(error)}${
          error instanceof TtlogConfigError ? "" : " (the file is corrupt)"
        }`,
      );
    }
  }

  /**
   * Verifies one uncompressed chunk, all of `raw`: its magic, version,
   * flags, length and checksum.
   *
   * @param chunk The chunk's bytes, uncompressed (as a {@link ChunkSink}
   * gets them).
   * @returns Its kind, its flags and a view of its payload.
   * @throws {TtlogFormatError} When any of them is wrong.
   */
  verify(chunk: Uint8Array): VerifiedChunk {
    if (
      chunk.length < CHUNK_HEADER_BYTES + CHUNK_TRAILER_BYTES ||
      chunk[0] !== CHUNK_MAGIC[0] || chunk[1] !== CHUNK_MAGIC[1] ||
      chunk[2] !== CHUNK_MAGIC[2] || chunk[3] !== CHUNK_MAGIC[3]
    ) {
      this.fail("its data does not start with a chunk header (TTLG)");
    }
    if (chunk[4] !== CHUNK_VERSION) {
      this.fail(
        `format version ${
          chunk[4]
        }; this reader knows version ${CHUNK_VERSION} (a newer ttlog may read it)`,
      );
    }
    const kind = chunk[5];
    const flags = chunk[6] | (chunk[7] << 8);
    if ((flags & ~(kind === ChunkKind.events ? FLAG_COLUMNS : 0)) !== 0) {
      this.fail(
        `unknown flags 0x${
          flags.toString(16)
        } for a chunk of kind ${kind} (a newer ttlog may read it)`,
      );
    }
    const length = u32(chunk, 8);
    if (
      length > this.#maxPayload ||
      chunk.length !== CHUNK_HEADER_BYTES + length + CHUNK_TRAILER_BYTES
    ) {
      this.fail(
        `its payload length ${length} does not match its ${chunk.length} bytes`,
      );
    }
    const payload = chunk.subarray(
      CHUNK_HEADER_BYTES,
      CHUNK_HEADER_BYTES + length,
    );
    if (xxhash32(payload) !== u32(chunk, CHUNK_HEADER_BYTES + length)) {
      this.fail("its checksum does not match: the file is corrupt");
    }
    return { kind, flags, payload };
  }
}
