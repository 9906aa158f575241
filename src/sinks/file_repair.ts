/**
 * Repairing a line file (NDJSON or text, plain, gzip or LZ4) that a crash
 * or a full disk left with a cut last line or chunk, before the file sink
 * appends to it: what follows a cut gzip member or LZ4 frame could not be
 * read (`gzip -t` and `lz4 -t` fail), and a partial line fuses with the
 * next one. The file is cut back to its last whole line, member or frame;
 * nothing is decompressed, and memory stays bounded whatever the file's
 * size.
 *
 * @module
 */

import type * as Fs from "node:fs";
import { GZIP_SUBFIELD } from "../ttlog_file/format.ts";

/** What a repair did. */
export interface LineFileRepair {
  /** The file's size after it. */
  readonly size: number;
  /** Bytes cut off the end. */
  readonly cut: number;
  /**
   * Set when the end of a gzip file could not be found without inflating
   * it (members written by another tool, without ttlog's length field):
   * the caller moves the file aside rather than append after a cut.
   */
  readonly unknown?: boolean;
}

const NEWLINE = 0x0a;
const WINDOW = 64 * 1024;

/**
 * Cuts a line file back to its last whole line (plain), gzip member or LZ4
 * frame. `fd` is open for reading and writing (`a+`); `size` its size.
 */
export function repairLineFile(
  fs: typeof Fs,
  fd: number,
  size: number,
  compression: "none" | "gzip" | "lz4",
): LineFileRepair {
  if (size === 0) return { size, cut: 0 };
  const end = compression === "none"
    ? lastLineEnd(fs, fd, size)
    : compression === "lz4"
    ? lz4FramesEnd(fs, fd, size)
    : gzipMembersEnd(fs, fd, size);
  if (end === undefined) return { size, cut: 0, unknown: true };
  if (end === size) return { size, cut: 0 };
  fs.ftruncateSync(fd, end);
  return { size: end, cut: size - end };
}

/** Just past the file's last newline (0 when it has none). */
function lastLineEnd(fs: typeof Fs, fd: number, size: number): number {
  const buffer = new Uint8Array(Math.min(WINDOW, size));
  let to = size;
  while (to > 0) {
    const from = Math.max(0, to - buffer.length);
    const n = readAt(fs, fd, buffer, to - from, from);
    for (let i = n - 1; i >= 0; i--) {
      if (buffer[i] === NEWLINE) return from + i + 1;
    }
    to = from;
  }
  return 0;
}

/** Reads `length` bytes at `position` into `buffer`; returns how many. */
function readAt(
  fs: typeof Fs,
  fd: number,
  buffer: Uint8Array,
  length: number,
  position: number,
): number {
  let got = 0;
  while (got < length) {
    const n = fs.readSync(fd, buffer, got, length - got, position + got);
    if (n <= 0) break;
    got += n;
  }
  return got;
}

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) |
    (bytes[at + 3] << 24)) >>> 0;
}

/**
 * Just past the last whole LZ4 frame (or skippable frame), walking frame
 * and block headers only; where the frames stop making sense, that is the
 * end.
 */
function lz4FramesEnd(fs: typeof Fs, fd: number, size: number): number {
  const head = new Uint8Array(19);
  let at = 0;
  while (at < size) {
    if (readAt(fs, fd, head, 8, at) < 8) return at;
    const magic = u32(head, 0);
    if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
      const next = at + 8 + u32(head, 4);
      if (next > size) return at;
      at = next;
      continue;
    }
    if (magic !== 0x184d2204) return at;
    const flags = head[4];
    const headerBytes = 4 + 2 + ((flags & 0x08) ? 8 : 0) +
      ((flags & 0x01) ? 4 : 0) + 1;
    const blockChecksum = (flags & 0x10) !== 0;
    const contentChecksum = (flags & 0x04) !== 0;
    let position = at + headerBytes;
    let whole = false;
    const word = new Uint8Array(4);
    while (position + 4 <= size) {
      readAt(fs, fd, word, 4, position);
      const block = u32(word, 0);
      position += 4;
      if (block === 0) {
        if (contentChecksum) position += 4;
        whole = position <= size;
        break;
      }
      position += (block & 0x7fffffff) + (blockChecksum ? 4 : 0);
    }
    if (!whole) return at;
    at = position;
  }
  return at;
}

/**
 * Just past the last whole gzip member, found by ttlog's length field
 * (FEXTRA subfield "TL"); undefined when a member has none (another tool
 * wrote it) and the end cannot be found without inflating.
 */
function gzipMembersEnd(
  fs: typeof Fs,
  fd: number,
  size: number,
): number | undefined {
  const head = new Uint8Array(20);
  let at = 0;
  while (at < size) {
    const n = readAt(fs, fd, head, 20, at);
    if (n < 20 || head[0] !== 0x1f || head[1] !== 0x8b) {
      return n < 20 && n >= 2 && head[0] === 0x1f && head[1] === 0x8b
        ? at
        : at === 0
        ? undefined
        : at;
    }
    const tagged = (head[3] & 0x04) !== 0 && head[12] === GZIP_SUBFIELD[0] &&
      head[13] === GZIP_SUBFIELD[1] && head[14] === 4;
    if (!tagged) return undefined;
    const next = at + u32(head, 16);
    if (next > size) return at;
    at = next;
  }
  return at;
}
