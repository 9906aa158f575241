/**
 * LZ4 block decompression
 * (https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md) in plain
 * TypeScript. Decoding needs no WebAssembly, so it works everywhere without
 * initialization, and it is bounds-checked throughout: hostile input raises
 * {@link TtlogFormatError} and never reads or writes outside the given
 * buffers, allocates by a size it read, or loops longer than its input.
 *
 * @module
 */

import { TtlogFormatError } from "../record/decode.ts";

/** Below this many bytes a plain loop beats `set`/`copyWithin` and their views. */
const SHORT_COPY = 32;

/** The largest input an LZ4 block can describe (LZ4_MAX_INPUT_SIZE). */
export const LZ4_MAX_INPUT_SIZE = 0x7e000000;

function fail(what: string, at: number): TtlogFormatError {
  return new TtlogFormatError(`LZ4 block, byte ${at}: ${what}`);
}

/**
 * Decodes one LZ4 block into `dst` at `dstStart`, letting matches reach back
 * to `windowStart` (earlier output of linked blocks, or a dictionary); the
 * output may fill `dst` up to its end and no further.
 *
 * @param src The compressed block, exactly (its view is the block).
 * @param dst The output buffer, holding any window before `dstStart`.
 * @param windowStart The lowest index a match may copy from.
 * @param dstStart Where the block's output starts; `windowStart <= dstStart`.
 * @returns The index in `dst` just past the block's output.
 * @throws {TtlogFormatError} When the block is empty, truncated, ends with a
 * match instead of literals, has a zero offset or one reaching before
 * `windowStart`, or decodes to more than `dst` can hold.
 */
export function lz4DecompressBlockInto(
  src: Uint8Array,
  dst: Uint8Array,
  windowStart: number,
  dstStart: number,
): number {
  const srcEnd = src.length;
  const dstEnd = dst.length;
  let ip = 0;
  let op = dstStart;
  for (;;) {
    if (ip >= srcEnd) {
      throw fail(
        ip === 0
          ? "the block is empty"
          : "the block ends with a match; its last sequence must be literals only",
        ip,
      );
    }
    const token = src[ip++];
    let literalLength = token >>> 4;
    if (literalLength === 15) {
      let extra: number;
      do {
        if (ip >= srcEnd) {
          throw fail("the literal length runs past the end of the block", ip);
        }
        extra = src[ip++];
        literalLength += extra;
      } while (extra === 255);
    }
    if (literalLength > srcEnd - ip) {
      throw fail(
        `${literalLength} literals but only ${
          srcEnd - ip
        } bytes left: truncated or corrupt`,
        ip,
      );
    }
    if (literalLength > dstEnd - op) {
      throw fail(
        `the output would exceed its ${dstEnd - dstStart}-byte limit`,
        ip,
      );
    }
    if (literalLength < SHORT_COPY) {
      for (let n = literalLength; n > 0; n--) dst[op++] = src[ip++];
    } else {
      dst.set(src.subarray(ip, ip + literalLength), op);
      ip += literalLength;
      op += literalLength;
    }
    if (ip === srcEnd) return op;

    if (srcEnd - ip < 2) {
      throw fail("the match offset is cut off: truncated or corrupt", ip);
    }
    const offset = src[ip] | (src[ip + 1] << 8);
    if (offset === 0) throw fail("match offset 0 is invalid", ip);
    ip += 2;
    let matchLength = (token & 15) + 4;
    if (matchLength === 19) {
      let extra: number;
      do {
        if (ip >= srcEnd) {
          throw fail("the match length runs past the end of the block", ip);
        }
        extra = src[ip++];
        matchLength += extra;
      } while (extra === 255);
    }
    let from = op - offset;
    if (from < windowStart) {
      throw fail(
        `match offset ${offset} reaches before the start of the output`,
        ip,
      );
    }
    if (matchLength > dstEnd - op) {
      throw fail(
        `the output would exceed its ${dstEnd - dstStart}-byte limit`,
        ip,
      );
    }
    if (matchLength >= SHORT_COPY && offset >= matchLength) {
      dst.copyWithin(op, from, from + matchLength);
      op += matchLength;
    } else {
      // Overlapping copies repeat the last `offset` bytes: copy forward.
      for (let n = matchLength; n > 0; n--) dst[op++] = dst[from++];
    }
  }
}

/**
 * Decompresses one raw LZ4 block (no frame, no size prefix).
 *
 * @param block The compressed block.
 * @param uncompressedSize The exact size of the original data, known from
 * elsewhere (LZ4 blocks do not record it).
 * @returns The original data, a new array of `uncompressedSize` bytes.
 * @throws {RangeError} When `uncompressedSize` is not an integer from 0 to
 * {@link LZ4_MAX_INPUT_SIZE}.
 * @throws {TtlogFormatError} When the block is corrupt or truncated, or
 * decodes to a size other than `uncompressedSize` (also when that size is
 * more than such a block could ever expand to, checked before allocating).
 */
export function lz4DecompressBlock(
  block: Uint8Array,
  uncompressedSize: number,
): Uint8Array {
  if (
    !Number.isInteger(uncompressedSize) || uncompressedSize < 0 ||
    uncompressedSize > LZ4_MAX_INPUT_SIZE
  ) {
    throw new RangeError(
      `lz4DecompressBlock: uncompressedSize must be an integer from 0 to ${LZ4_MAX_INPUT_SIZE}, got ${uncompressedSize}`,
    );
  }
  // Each input byte yields at most 255 output bytes (a run of 255s in a match
  // length), so a larger claim is corrupt: refuse it before allocating.
  if (uncompressedSize > block.length * 255 + 16) {
    throw new TtlogFormatError(
      `LZ4 block: ${block.length} bytes cannot decode to ${uncompressedSize} bytes`,
    );
  }
  const out = new Uint8Array(uncompressedSize);
  const end = lz4DecompressBlockInto(block, out, 0, 0);
  if (end !== uncompressedSize) {
    throw new TtlogFormatError(
      `LZ4 block: decoded ${end} bytes, expected ${uncompressedSize}`,
    );
  }
  return out;
}
