/**
 * The standard LZ4 frame format
 * (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md), so that
 * `lz4 -dc` reads what ttlog writes and ttlog reads what `lz4` writes.
 *
 * Writing: independent blocks, a content checksum, optionally the content
 * size; a block that does not shrink is stored as it is.
 *
 * Reading: one or more concatenated frames, skippable frames skipped, every
 * flag of the format version 01 except dictionaries (linked blocks, block
 * checksums, content size and checksum). Input can arrive in pieces of any
 * size. Every checksum present is verified, and hostile input raises
 * {@link Lz4FrameError}, which says where and whether the input was merely
 * cut short: no hang, no crash, and no allocation beyond the frame's declared
 * block maximum (4 MiB at most) per block.
 *
 * @module
 */

import { TtlogConfigError } from "../errors.ts";
import { TtlogFormatError } from "../record/decode.ts";
import { lz4CompressBlockInto } from "./lz4.ts";
import { lz4DecompressBlockInto } from "./lz4_decompress.ts";
import { Xxhash32, xxhash32 } from "./xxhash32.ts";

/** The magic number that starts an LZ4 frame. */
export const LZ4_FRAME_MAGIC = 0x184d2204;

const SKIPPABLE_MAGIC = 0x184d2a50; // low 4 bits are free
const LEGACY_MAGIC = 0x184c2102;
const UNCOMPRESSED_BIT = 0x80000000;
/** How far back a match in a linked block may reach. */
const WINDOW = 65536;

/** Block maximum sizes the frame format allows, by their BD code. */
const BLOCK_SIZE_CODES: ReadonlyMap<number, number> = new Map([
  [65536, 4],
  [262144, 5],
  [1048576, 6],
  [4194304, 7],
]);

/** The block maximum sizes the frame format allows: 64 KiB to 4 MiB. */
export type Lz4BlockSize = 65536 | 262144 | 1048576 | 4194304;

/** How {@link encodeLz4Frame} writes a frame. */
export interface Lz4FrameOptions {
  /**
   * The most uncompressed bytes per block: 64 KiB (the default), 256 KiB,
   * 1 MiB or 4 MiB. Readers need that much memory per block.
   */
  blockSize?: Lz4BlockSize;
  /** Whether to record the data's size in the header; default false. */
  contentSize?: boolean;
  /**
   * Whether to end the frame with the xxHash32 of its content (default
   * true). Leave it out only when the content carries its own check, as a
   * .ttlog chunk does.
   */
  contentChecksum?: boolean;
}

/**
 * Thrown when bytes are not a valid LZ4 frame. Tells where, and whether the
 * input simply ended too soon (a file still being written or cut off by a
 * crash) rather than being corrupt.
 */
export class Lz4FrameError extends TtlogFormatError {
  /** The input offset of what was wrong (for truncation: the input's end). */
  readonly offset: number;
  /** True when the input ended inside a frame and was otherwise valid. */
  readonly truncated: boolean;

  /**
   * Creates the error.
   *
   * @param message What was wrong and where.
   * @param offset The input offset of the problem.
   * @param truncated Whether the input ended too soon.
   */
  constructor(message: string, offset: number, truncated: boolean) {
    super(message);
    this.name = "Lz4FrameError";
    this.offset = offset;
    this.truncated = truncated;
  }
}

function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value;
  out[at + 1] = value >>> 8;
  out[at + 2] = value >>> 16;
  out[at + 3] = value >>> 24;
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) |
    (bytes[at + 3] << 24)) >>> 0;
}

/**
 * Compresses bytes into one LZ4 frame that the `lz4` tool and every LZ4
 * library can read. Loads lz4-wasm on first use (see `initLz4`).
 *
 * @param data The data.
 * @param options The block size, and whether to record the content size
 * and its checksum.
 * @returns The frame, a new array.
 * @throws {TtlogConfigError} When `blockSize` is not one the format allows,
 * or lz4-wasm cannot be loaded.
 */
export function encodeLz4Frame(
  data: Uint8Array,
  options: Lz4FrameOptions = {},
): Uint8Array {
  const out = new Uint8Array(lz4FrameBound(data.length, options));
  return out.slice(0, encodeLz4FrameInto(data, out, options));
}

/**
 * The most bytes {@link encodeLz4FrameInto} may write for `length` bytes of
 * data: every block stored as it is.
 *
 * @throws {TtlogConfigError} When the block size is not one of LZ4's.
 */
export function lz4FrameBound(
  length: number,
  options: Lz4FrameOptions = {},
): number {
  const blockSize = options.blockSize ?? 65536;
  if (!BLOCK_SIZE_CODES.has(blockSize)) {
    throw new TtlogConfigError(
      `encodeLz4Frame: blockSize must be 65536, 262144, 1048576 or 4194304, got ${blockSize}`,
    );
  }
  const descriptorLength = options.contentSize === true ? 10 : 2;
  return 4 + descriptorLength + 1 + length +
    4 * Math.ceil(length / blockSize) + 4 + 4;
}

/**
 * Compresses `data` into one LZ4 frame written into `out`, which must hold
 * at least {@link lz4FrameBound} bytes; returns the frame's length. For
 * callers that compress one buffer after another into the same output (a
 * snapshot's chunks), so that no output is allocated per frame.
 *
 * @throws {TtlogConfigError} When the block size is not one of LZ4's.
 * @throws {RangeError} When `out` is smaller than the bound.
 */
export function encodeLz4FrameInto(
  data: Uint8Array,
  out: Uint8Array,
  options: Lz4FrameOptions = {},
): number {
  const length = data.length;
  const bound = lz4FrameBound(length, options);
  if (out.length < bound) {
    throw new RangeError(
      `encodeLz4FrameInto: out holds ${out.length} bytes; ${length} bytes of data need ${bound}`,
    );
  }
  const blockSize = options.blockSize ?? 65536;
  const code = BLOCK_SIZE_CODES.get(blockSize)!;
  const withSize = options.contentSize === true;
  const withChecksum = options.contentChecksum !== false;
  const descriptorLength = withSize ? 10 : 2;
  writeU32(out, 0, LZ4_FRAME_MAGIC);
  // Version 01, independent blocks, maybe content checksum and size.
  out[4] = 0x40 | 0x20 | (withChecksum ? 0x04 : 0) | (withSize ? 0x08 : 0);
  out[5] = code << 4;
  if (withSize) {
    writeU32(out, 6, length);
    writeU32(out, 10, Math.floor(length / 0x1_0000_0000));
  }
  let at = 4 + descriptorLength;
  out[at] = (xxhash32(out.subarray(4, at)) >>> 8) & 0xff;
  at++;
  for (let start = 0; start < length; start += blockSize) {
    const block = data.subarray(start, Math.min(start + blockSize, length));
    // Compressed only when that is smaller; else stored as it is.
    const size = lz4CompressBlockInto(
      block,
      out.subarray(at + 4, at + 4 + block.length - 1),
    );
    if (size < 0) {
      writeU32(out, at, (block.length | UNCOMPRESSED_BIT) >>> 0);
      out.set(block, at + 4);
      at += 4 + block.length;
    } else {
      writeU32(out, at, size);
      at += 4 + size;
    }
  }
  writeU32(out, at, 0);
  if (!withChecksum) return at + 4;
  writeU32(out, at + 4, xxhash32(data));
  return at + 8;
}

/** A piece of output from {@link Lz4FrameDecoder.push}. */
export interface Lz4Output {
  /** Decoded bytes (a block's worth at most; may be empty at a frame's end). */
  readonly data: Uint8Array;
  /** True when these are the last bytes of a frame, all of it verified. */
  readonly frameEnd: boolean;
}

/** Limits for decoding. */
export interface Lz4DecodeOptions {
  /**
   * The most decoded bytes to accept in total (a defence against
   * decompression bombs: 1 MB of LZ4 can claim 255 MB); default unlimited.
   */
  maxOutputSize?: number;
}

const Phase = {
  magic: 0,
  descriptor: 1,
  block: 2,
  skip: 3,
} as const;
type Phase = typeof Phase[keyof typeof Phase];

const EMPTY = new Uint8Array(0);

/** Decodes the first frame of the input; set by the decoder's static block. */
let readOne: (
  bytes: Uint8Array,
  options: Lz4DecodeOptions,
) => { data: Uint8Array; end: number };

/**
 * Decodes a stream of LZ4 frames that arrives in pieces of any size: feed
 * each piece to {@link Lz4FrameDecoder.push} and take the decoded bytes it
 * returns, then call {@link Lz4FrameDecoder.finish} at the end of the input.
 * Memory stays bounded by the frames' block maximum (4 MiB at most), however
 * long the stream. After an error, every call throws that error again.
 */
export class Lz4FrameDecoder {
  #maxOutputSize: number;
  #produced = 0;
  #error: Lz4FrameError | undefined;

  /** The input offset of the next unit to parse. */
  #offset = 0;
  #phase: Phase = Phase.magic;
  /** Bytes the unit at `#offset` needs in all, once known. */
  #need = 4;
  /** A unit that arrived in pieces, collected until complete. */
  #pending = EMPTY;
  #pendingLength = 0;
  #skipLeft = 0;
  #frames = 0;

  // The current frame.
  #frameStart = 0;
  #blockMax = 0;
  #linked = false;
  #blockChecksum = false;
  #contentChecksum = false;
  #contentSize = -1;
  #frameProduced = 0;
  #hash = new Xxhash32();
  /** Output of a block: for linked blocks, the last 64 KiB precede it. */
  #scratch = EMPTY;
  #windowLength = 0;

  /**
   * Creates a decoder.
   *
   * @param options The total output limit.
   * @throws {TtlogConfigError} When `maxOutputSize` is negative or not a
   * number.
   */
  constructor(options: Lz4DecodeOptions = {}) {
    const max = options.maxOutputSize ?? Infinity;
    if (typeof max !== "number" || Number.isNaN(max) || max < 0) {
      throw new TtlogConfigError(
        `Lz4FrameDecoder: maxOutputSize must be a number of bytes >= 0, got ${max}`,
      );
    }
    this.#maxOutputSize = max;
  }

  /** How many input bytes have been parsed and verified so far. */
  get offset(): number {
    return this.#offset;
  }

  /** How many frames have been decoded completely so far. */
  get frames(): number {
    return this.#frames;
  }

  /** True between frames: the input so far ends where a frame ended. */
  get atFrameBoundary(): boolean {
    return this.#phase === Phase.magic && this.#pendingLength === 0;
  }

  /**
   * Feeds the next piece of input.
   *
   * @param chunk The next input bytes (not kept after the call returns).
   * @returns The bytes decoded from it, in order, with frame ends marked.
   * @throws {Lz4FrameError} When the input is not valid LZ4 frames, a
   * checksum does not match, or the output limit is exceeded.
   */
  push(chunk: Uint8Array): Lz4Output[] {
    const out: Lz4Output[] = [];
    this.#run(chunk, out, false);
    return out;
  }

  /**
   * Declares the end of the input.
   *
   * @throws {Lz4FrameError} With `truncated` set when the input ended inside
   * a frame (or before any frame); with the same error as before when
   * decoding already failed.
   */
  finish(): void {
    if (this.#error !== undefined) throw this.#error;
    if (this.#frames === 0 && this.#offset + this.#pendingLength === 0) {
      throw this.#fail("the input is empty; expected an LZ4 frame", 0, true);
    }
    if (this.atFrameBoundary) return;
    const end = this.#offset + this.#pendingLength;
    const where = this.#phase === Phase.skip
      ? `a skippable frame at byte ${this.#frameStart}`
      : this.#phase === Phase.magic
      ? "a frame's magic number"
      : this.#phase === Phase.descriptor
      ? `the header of the frame at byte ${this.#frameStart}`
      : `the frame at byte ${this.#frameStart} (the unit at byte ${this.#offset} needs ${
        this.#need - this.#pendingLength
      } more bytes)`;
    throw this.#fail(
      `truncated: the input ends at byte ${end}, inside ${where}`,
      end,
      true,
    );
  }

  /**
   * Parses `chunk`; with `oneFrame`, stops after the first frame's end and
   * returns the chunk offset just past it (or -1 when it did not end).
   */
  #run(chunk: Uint8Array, out: Lz4Output[], oneFrame: boolean): number {
    if (this.#error !== undefined) throw this.#error;
    try {
      return this.#parse(chunk, out, oneFrame);
    } catch (error) {
      if (error instanceof Lz4FrameError) this.#error = error;
      throw error;
    }
  }

  #parse(chunk: Uint8Array, out: Lz4Output[], oneFrame: boolean): number {
    let pos = 0;
    const end = chunk.length;
    const frames = this.#frames;
    // First complete a unit left over from earlier pieces.
    while (this.#pendingLength > 0) {
      const take = Math.min(this.#need - this.#pendingLength, end - pos);
      this.#pending.set(chunk.subarray(pos, pos + take), this.#pendingLength);
      this.#pendingLength += take;
      pos += take;
      if (this.#pendingLength < this.#need) return -1;
      const used = this.#step(this.#pending, 0, this.#pendingLength, out);
      if (used < 0) {
        this.#reserve(this.#need);
        continue;
      }
      // Units are taken whole, so a completed unit uses all of `pending`.
      this.#pendingLength = 0;
      if (oneFrame && this.#frames > frames) return pos;
    }
    while (pos < end) {
      const used = this.#step(chunk, pos, end, out);
      if (used < 0) {
        this.#reserve(this.#need);
        this.#pending.set(chunk.subarray(pos, end));
        this.#pendingLength = end - pos;
        return -1;
      }
      pos += used;
      if (oneFrame && this.#frames > frames) return pos;
    }
    return -1;
  }

  #reserve(size: number): void {
    if (this.#pending.length < size) {
      const grown = new Uint8Array(Math.max(size, 64));
      grown.set(this.#pending.subarray(0, this.#pendingLength));
      this.#pending = grown;
    }
  }

  #fail(what: string, offset: number, truncated = false): Lz4FrameError {
    return new Lz4FrameError(`LZ4: ${what}`, offset, truncated);
  }

  /**
   * Parses the unit at `buf[pos]` if `buf` holds all of it: returns the
   * bytes it used, or -1 with `#need` set to the unit's full size.
   */
  #step(buf: Uint8Array, pos: number, end: number, out: Lz4Output[]): number {
    const available = end - pos;
    switch (this.#phase) {
      case Phase.magic: {
        if (available < 4) return this.#wait(4);
        const magic = readU32(buf, pos);
        if (magic === LZ4_FRAME_MAGIC) {
          this.#frameStart = this.#offset;
          this.#phase = Phase.descriptor;
          return this.#advance(4, 2);
        }
        if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE_MAGIC) {
          if (available < 8) return this.#wait(8);
          this.#frameStart = this.#offset;
          this.#skipLeft = readU32(buf, pos + 4);
          this.#phase = this.#skipLeft > 0 ? Phase.skip : Phase.magic;
          return this.#advance(8, 4);
        }
        throw this.#fail(
          magic === LEGACY_MAGIC
            ? `byte ${this.#offset}: the legacy LZ4 format (lz4 -l) is not supported`
            : `byte ${this.#offset}: not an LZ4 frame (magic 0x${
              magic.toString(16).padStart(8, "0")
            }, expected 0x184d2204)`,
          this.#offset,
        );
      }
      case Phase.descriptor:
        return this.#descriptor(buf, pos, available);
      case Phase.block:
        return this.#block(buf, pos, available, out);
      default: {
        const used = Math.min(available, this.#skipLeft);
        this.#skipLeft -= used;
        if (this.#skipLeft === 0) this.#phase = Phase.magic;
        return this.#advance(used, 4);
      }
    }
  }

  #wait(need: number): number {
    this.#need = need;
    return -1;
  }

  #advance(used: number, next: number): number {
    this.#offset += used;
    this.#need = next;
    return used;
  }

  #descriptor(buf: Uint8Array, pos: number, available: number): number {
    if (available < 2) return this.#wait(2);
    const at = this.#offset;
    const flags = buf[pos];
    const bd = buf[pos + 1];
    if (flags >>> 6 !== 1) {
      throw this.#fail(
        `frame at byte ${this.#frameStart}: version ${
          flags >>> 6
        } is not supported (only 01)`,
        at,
      );
    }
    const hasSize = (flags & 0x08) !== 0;
    const hasDictionary = (flags & 0x01) !== 0;
    const length = 2 + (hasSize ? 8 : 0) + (hasDictionary ? 4 : 0);
    if (available < length + 1) return this.#wait(length + 1);
    const checksum = (xxhash32(buf.subarray(pos, pos + length)) >>> 8) & 0xff;
    if (checksum !== buf[pos + length]) {
      throw this.#fail(
        `frame at byte ${this.#frameStart}: header checksum mismatch (0x${
          buf[pos + length].toString(16)
        } stored, 0x${checksum.toString(16)} computed): corrupt`,
        at + length,
      );
    }
    if ((flags & 0x02) !== 0 || (bd & 0x8f) !== 0) {
      throw this.#fail(
        `frame at byte ${this.#frameStart}: reserved header bits are set`,
        at,
      );
    }
    if (hasDictionary) {
      throw this.#fail(
        `frame at byte ${this.#frameStart}: it needs dictionary ${
          readU32(buf, pos + length - 4)
        }, which ttlog cannot supply`,
        at,
      );
    }
    const code = (bd >>> 4) & 7;
    if (code < 4) {
      throw this.#fail(
        `frame at byte ${this.#frameStart}: block maximum code ${code} is not defined (4 to 7)`,
        at + 1,
      );
    }
    this.#blockMax = 1 << (2 * code + 8);
    this.#linked = (flags & 0x20) === 0;
    this.#blockChecksum = (flags & 0x10) !== 0;
    this.#contentChecksum = (flags & 0x04) !== 0;
    this.#contentSize = hasSize
      ? readU32(buf, pos + 2) + readU32(buf, pos + 6) * 0x1_0000_0000
      : -1;
    if (this.#contentSize > this.#maxOutputSize - this.#produced) {
      throw this.#fail(
        `frame at byte ${this.#frameStart}: its content size ${this.#contentSize} exceeds the ${this.#maxOutputSize}-byte output limit`,
        at + 2,
      );
    }
    this.#frameProduced = 0;
    this.#windowLength = 0;
    this.#hash.reset();
    const scratchSize = (this.#linked ? WINDOW : 0) + this.#blockMax;
    if (this.#scratch.length < scratchSize) {
      this.#scratch = new Uint8Array(scratchSize);
    }
    this.#phase = Phase.block;
    return this.#advance(length + 1, 4);
  }

  #block(
    buf: Uint8Array,
    pos: number,
    available: number,
    out: Lz4Output[],
  ): number {
    if (available < 4) return this.#wait(4);
    const at = this.#offset;
    const word = readU32(buf, pos);
    if (word === 0) return this.#frameEnd(buf, pos, available, out);
    const stored = (word & UNCOMPRESSED_BIT) !== 0;
    const size = (word & ~UNCOMPRESSED_BIT) >>> 0;
    if (size > this.#blockMax) {
      throw this.#fail(
        `frame at byte ${this.#frameStart}: the block at byte ${at} declares ${size} bytes, more than the frame's ${this.#blockMax}-byte block maximum: corrupt`,
        at,
      );
    }
    const unit = 4 + size + (this.#blockChecksum ? 4 : 0);
    if (available < unit) return this.#wait(unit);
    const block = buf.subarray(pos + 4, pos + 4 + size);
    if (this.#blockChecksum) {
      const expected = readU32(buf, pos + 4 + size);
      const actual = xxhash32(block);
      if (expected !== actual) {
        throw this.#fail(
          `frame at byte ${this.#frameStart}: block checksum mismatch in the block at byte ${at}: corrupt`,
          at,
        );
      }
    }
    const scratch = this.#scratch;
    const start = this.#linked ? WINDOW : 0;
    let blockEnd: number;
    if (stored && !this.#linked) {
      blockEnd = size;
    } else if (stored) {
      scratch.set(block, start);
      blockEnd = start + size;
    } else {
      try {
        blockEnd = lz4DecompressBlockInto(
          block,
          scratch.subarray(0, start + this.#blockMax),
          start - this.#windowLength,
          start,
        );
      } catch (error) {
        if (!(error instanceof TtlogFormatError)) throw error;
        throw this.#fail(
          `frame at byte ${this.#frameStart}, block at byte ${at}: ${error.message}`,
          at,
        );
      }
    }
    const produced = blockEnd - start;
    if (produced > this.#maxOutputSize - this.#produced) {
      throw this.#fail(
        `the output exceeds the ${this.#maxOutputSize}-byte limit at the block at byte ${at}`,
        at,
      );
    }
    if (
      this.#contentSize >= 0 &&
      this.#frameProduced + produced > this.#contentSize
    ) {
      throw this.#fail(
        `frame at byte ${this.#frameStart}: more data than its content size ${this.#contentSize}: corrupt`,
        at,
      );
    }
    const data = stored && !this.#linked
      ? block.slice()
      : scratch.slice(start, blockEnd);
    if (this.#linked) {
      // Keep the last 64 KiB of output in front for the next block's matches.
      const keep = Math.min(this.#windowLength + produced, WINDOW);
      scratch.copyWithin(WINDOW - keep, blockEnd - keep, blockEnd);
      this.#windowLength = keep;
    }
    if (this.#contentChecksum) this.#hash.update(data);
    this.#frameProduced += produced;
    this.#produced += produced;
    out.push({ data, frameEnd: false });
    return this.#advance(unit, 4);
  }

  #frameEnd(
    buf: Uint8Array,
    pos: number,
    available: number,
    out: Lz4Output[],
  ): number {
    const at = this.#offset;
    const unit = this.#contentChecksum ? 8 : 4;
    if (available < unit) return this.#wait(unit);
    if (this.#contentChecksum) {
      const expected = readU32(buf, pos + 4);
      const actual = this.#hash.digest();
      if (expected !== actual) {
        throw this.#fail(
          `frame at byte ${this.#frameStart}: content checksum mismatch (0x${
            expected.toString(16)
          } stored, 0x${actual.toString(16)} computed): corrupt`,
          at + 4,
        );
      }
    }
    if (this.#contentSize >= 0 && this.#frameProduced !== this.#contentSize) {
      throw this.#fail(
        `frame at byte ${this.#frameStart}: ${this.#frameProduced} bytes decoded but the header says ${this.#contentSize}: corrupt`,
        at,
      );
    }
    const last = out[out.length - 1];
    if (last !== undefined && !last.frameEnd && this.#frameProduced > 0) {
      // The previous item holds this frame's last block: mark it.
      out[out.length - 1] = { data: last.data, frameEnd: true };
    } else {
      out.push({ data: EMPTY, frameEnd: true });
    }
    this.#frames++;
    this.#phase = Phase.magic;
    return this.#advance(unit, 4);
  }

  static {
    readOne = (bytes, options) => {
      const decoder = new Lz4FrameDecoder(options);
      const out: Lz4Output[] = [];
      const end = decoder.#run(bytes, out, true);
      if (end < 0) {
        decoder.finish();
        throw decoder.#fail(
          `no LZ4 frame in the input, only skippable frames up to byte ${decoder.#offset}`,
          decoder.#offset,
          true,
        );
      }
      return { data: concat(out), end };
    };
  }
}

function concat(pieces: readonly Lz4Output[]): Uint8Array {
  if (pieces.length === 1) return pieces[0].data;
  let length = 0;
  for (const piece of pieces) length += piece.data.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece.data, at);
    at += piece.data.length;
  }
  return out;
}

/**
 * Decodes all the LZ4 frames in `bytes` (concatenated, as `lz4 -dc` reads
 * them; skippable frames are skipped) into one array.
 *
 * @param bytes One or more whole frames.
 * @param options The total output limit.
 * @returns Everything the frames hold, joined.
 * @throws {Lz4FrameError} When the input is empty, truncated (`truncated` is
 * then set) or corrupt, a checksum does not match, or the output exceeds
 * `maxOutputSize`.
 */
export function decodeLz4Frame(
  bytes: Uint8Array,
  options: Lz4DecodeOptions = {},
): Uint8Array {
  const decoder = new Lz4FrameDecoder(options);
  const out = decoder.push(bytes);
  decoder.finish();
  return concat(out);
}

/**
 * Decodes the first LZ4 frame in `bytes` and says where it ended, for
 * reading a file of frames one at a time (skippable frames before it are
 * skipped).
 *
 * @param bytes Input starting with a frame; bytes after it are not read.
 * @param options The output limit.
 * @returns The frame's data and the offset in `bytes` just past the frame.
 * @throws {Lz4FrameError} When the frame is truncated (`truncated` is then
 * set) or corrupt, a checksum does not match, or the output exceeds
 * `maxOutputSize`.
 */
export function readLz4Frame(
  bytes: Uint8Array,
  options: Lz4DecodeOptions = {},
): { data: Uint8Array; end: number } {
  return readOne(bytes, options);
}
