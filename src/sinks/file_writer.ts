/**
 * The file under a file sink: appends (whole chunks or nothing, counted),
 * compression of buffered lines, rotation, and the checks made when a file
 * is opened (a .ttlog file's last chunk, a line file's last line or chunk)
 * or written (deleted under us). Used by `fileSink` (file.ts).
 *
 * @module
 */

import type * as Fs from "node:fs";
import type * as Path from "node:path";
import { gunzipSync, gzipSync } from "../codec/gzip.ts";
import { encodeLz4Frame } from "../codec/lz4_frame.ts";
import { TtlogConfigError } from "../errors.ts";
import { TtlogFormatError } from "../record/decode.ts";
import { runtime } from "../runtime/mod.ts";
import { TtlogReader } from "../ttlog_file/chunk_reader.ts";
import { withLengthField } from "../ttlog_file/chunk_writer.ts";
import { describeError } from "../validate.ts";
import { repairLineFile } from "./file_repair.ts";

/** Uncompressed text gathered before one compressed chunk is written. */
const COMPRESS_CHUNK = 64 * 1024;
/** Buffered compressed lines older than this go out at the next write. */
export const COMPRESS_DELAY_MS = 1000;
const NEWLINE = 0x0a;

/** The options after validation, with defaults filled in: plain data. */
export interface Settings {
  path: string;
  format: "text" | "ndjson" | "ttlog";
  compression: "none" | "gzip" | "lz4";
  rotate?: { bytes?: number; interval?: number; keep: number };
  mode: number;
  mkdir: boolean;
}

/** Untagged gzip files bigger than this are not inflated to be checked. */
const CHECK_BY_INFLATING = 16 * 1024 * 1024;

/**
 * Whether a gzip file without length fields inflates whole (every member
 * complete), for files up to CHECK_BY_INFLATING.
 */
function wholeGzip(fs: typeof Fs, fd: number, size: number): boolean {
  if (size > CHECK_BY_INFLATING) return false;
  const bytes = new Uint8Array(size);
  let got = 0;
  while (got < size) {
    const n = fs.readSync(fd, bytes, got, size - got, got);
    if (n <= 0) return false;
    got += n;
  }
  try {
    gunzipSync(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Newlines in `bytes` from `from` on: the lines a failed write lost. */
function linesIn(bytes: Uint8Array, from: number): number {
  let n = 0;
  for (let i = from; i < bytes.length; i++) if (bytes[i] === NEWLINE) n++;
  return n;
}

/** Says something about the file on stderr (a repair, a deleted file). */
function report(message: string): void {
  runtime.write("stderr", `ttlog: ${message}\n`);
}

/** The open file: appends, compression buffer, rotation. */
export class FileWriter {
  readonly #fs: typeof Fs;
  readonly #pathModule: typeof Path;
  readonly #settings: Settings;
  readonly #encoder = new TextEncoder();
  readonly #chunkBytes: number;
  #fd = -1;
  /** Bytes in the current file. */
  #size = 0;
  /** Files opened so far (the current file's number, from 1). */
  #generation = 0;
  /** When the sink opened the current file (Date.now()). */
  #openedAt = 0;
  #closed = false;
  /** Whether anything was written yet (see `prepare`). */
  #used = false;
  /**
   * Lines waiting to be compressed, UTF-8, in one buffer reused from chunk
   * to chunk: the bytes, how many, and how many lines.
   */
  #pending: Uint8Array = new Uint8Array(0);
  #pendingBytes = 0;
  #pendingLines = 0;
  #pendingSince = 0;
  /** Records whose bytes reached the file, and those a failed write lost. */
  delivered = 0;
  lost = 0;
  /** When the file was last checked for having been deleted under us. */
  #checkedAt = 0;

  constructor(fs: typeof Fs, pathModule: typeof Path, settings: Settings) {
    this.#fs = fs;
    this.#pathModule = pathModule;
    this.#settings = settings;
    this.#chunkBytes = Math.min(
      COMPRESS_CHUNK,
      settings.rotate?.bytes ?? COMPRESS_CHUNK,
    );
    try {
      this.#open();
    } catch (error) {
      const failure = new TtlogConfigError(openMessage(settings.path, error));
      Object.defineProperty(failure, "cause", {
        value: error,
        configurable: true,
        writable: true,
      });
      throw failure;
    }
  }

  /** Called at the start of every write. */
  prepare(): void {
    if (this.#closed) {
      throw new Error(
        `fileSink "${this.#settings.path}": write after close()`,
      );
    }
    if (this.#used) return;
    this.#used = true;
    // The sink may have been created long before its first write, and when
    // a drain worker (writing through its own copy of this sink) fails, this
    // copy takes over: by then the worker may have rotated the file this
    // one opened. Reopening finds the current file and its size.
    const fd = this.#fd;
    this.#fd = -1;
    if (fd >= 0) this.#fs.closeSync(fd);
    this.#openForWrite();
  }

  /**
   * Writes uncompressed text, cutting it at line ends where rotation falls.
   * `count` records (one line each) are counted delivered or, for the lines
   * a failed write did not finish, lost.
   */
  writeText(text: string, count: number): void {
    this.writeBytes(this.#encoder.encode(text), count);
  }

  /** As {@link writeText}, for lines already UTF-8. */
  writeBytes(all: Uint8Array, count: number): void {
    try {
      this.#writeText(all);
      this.delivered += count;
    } catch (error) {
      const lost = Math.min(count, linesIn(all, this.#textSent));
      this.delivered += count - lost;
      this.lost += lost;
      throw error;
    }
  }

  /** Bytes of the current writeText already in the file. */
  #textSent = 0;

  #writeText(all: Uint8Array): void {
    this.#textSent = 0;
    this.#rotateIfOld();
    let bytes = all;
    const limit = this.#settings.rotate?.bytes;
    while (limit !== undefined && this.#size + bytes.length > limit) {
      // The most whole lines that still fit; at least one line into an empty file.
      const room = limit - this.#size;
      let cut = room > 0 ? bytes.lastIndexOf(NEWLINE, room - 1) + 1 : 0;
      if (cut === 0) {
        if (this.#size > 0) {
          this.#rotate();
          continue;
        }
        cut = bytes.indexOf(NEWLINE) + 1 || bytes.length;
      }
      this.#append(bytes.subarray(0, cut));
      this.#textSent += cut;
      bytes = bytes.subarray(cut);
      if (bytes.length === 0) return;
      this.#rotate();
    }
    this.#append(bytes);
  }

  /** Buffers lines for compression; compresses full chunks. */
  bufferLines(lines: readonly string[]): void {
    // Lines of this batch not buffered yet when a write fails are lost too.
    let taken = 0;
    try {
      const now = this.#startBuffering();
      for (const line of lines) {
        if (this.#pendingLines === 0) this.#pendingSince = now;
        this.#room(line.length * 3);
        this.#pendingBytes += this.#encoder.encodeInto(
          line,
          this.#pending.subarray(this.#pendingBytes),
        ).written;
        this.#pendingLines++;
        taken++;
        if (this.#pendingBytes >= this.#chunkBytes) this.#emitPending();
      }
    } catch (error) {
      this.lost += lines.length - taken;
      throw error;
    }
  }

  /**
   * As {@link bufferLines}, for `count` lines already UTF-8: a chunk still
   * ends after the line that fills it.
   */
  bufferBytes(bytes: Uint8Array, count: number): void {
    let taken = 0;
    try {
      this.#startBuffering();
      let rest = bytes;
      while (rest.length > 0) {
        if (this.#pendingLines === 0) this.#pendingSince = Date.now();
        const room = this.#chunkBytes - this.#pendingBytes;
        let cut = rest.length;
        if (room <= rest.length) {
          const end = rest.indexOf(NEWLINE, Math.max(0, room - 1));
          cut = end < 0 ? rest.length : end + 1;
        }
        const piece = rest.subarray(0, cut);
        const lines = cut === rest.length ? count - taken : linesIn(piece, 0);
        // Copied: the drain reuses its buffer once this call returns.
        this.#room(piece.length);
        this.#pending.set(piece, this.#pendingBytes);
        this.#pendingBytes += piece.length;
        this.#pendingLines += lines;
        taken += lines;
        rest = rest.subarray(cut);
        if (this.#pendingBytes >= this.#chunkBytes) this.#emitPending();
      }
    } catch (error) {
      this.lost += count - taken;
      throw error;
    }
  }

  /** Room for `n` more pending bytes. */
  #room(n: number): void {
    const need = this.#pendingBytes + n;
    if (need <= this.#pending.length) return;
    const grown = new Uint8Array(
      Math.max(need, this.#pending.length * 2, 64 * 1024),
    );
    grown.set(this.#pending.subarray(0, this.#pendingBytes));
    this.#pending = grown;
  }

  /** Before lines are buffered: rotation, and a chunk that waited long enough. */
  #startBuffering(): number {
    if (this.#rotateDue()) {
      this.#emitPending();
      this.#rotateIfOld();
    }
    const now = Date.now();
    if (
      this.#pendingLines > 0 &&
      now - this.#pendingSince >= COMPRESS_DELAY_MS
    ) {
      this.#emitPending();
    }
    return now;
  }

  flush(): void {
    if (!this.#closed) this.#emitPending();
  }

  /** Bytes in the current file. */
  get size(): number {
    return this.#size;
  }

  /** Which file is open: changes whenever a file is (re)opened. */
  get generation(): number {
    return this.#generation;
  }

  /** Whether the current file is old enough to rotate by interval. */
  rotateDue(): boolean {
    return this.#rotateDue();
  }

  /** Starts the rotation clock again (an empty file is not rotated). */
  restartInterval(): void {
    this.#openedAt = Date.now();
  }

  /**
   * Appends bytes to the current file; `count` records they hold are
   * counted delivered, or lost when the write fails.
   */
  append(bytes: Uint8Array, count = 0): void {
    try {
      this.#append(bytes);
    } catch (error) {
      this.lost += count;
      throw error;
    }
    this.delivered += count;
  }

  /** Rotates now: path -> path.1 ..., then a fresh path. */
  rotate(): void {
    this.#rotate();
  }

  close(): void {
    if (this.#closed) return;
    try {
      this.#emitPending();
    } finally {
      this.#closed = true;
      if (this.#fd >= 0) {
        const fd = this.#fd;
        this.#fd = -1;
        this.#fs.closeSync(fd);
      }
    }
  }

  /** Compresses the buffered lines into one gzip member or LZ4 frame. */
  #emitPending(): void {
    if (this.#pendingLines === 0) return;
    const count = this.#pendingLines;
    // Compressed into a new chunk below, so the buffer can be reused.
    const data = this.#pending.subarray(0, this.#pendingBytes);
    this.#pendingLines = 0;
    this.#pendingBytes = 0;
    // gzip members carry their length (as .ttlog's do), so that a member a
    // crash cut can be found and cut off before appending (file_repair.ts).
    const chunk = this.#settings.compression === "gzip"
      ? withLengthField(gzipSync(data))
      : encodeLz4Frame(data);
    const limit = this.#settings.rotate?.bytes;
    if (
      limit !== undefined && this.#size > 0 &&
      this.#size + chunk.length > limit
    ) {
      try {
        this.#rotate();
      } catch (error) {
        this.lost += count;
        throw error;
      }
    }
    this.append(chunk, count);
  }

  #rotateDue(): boolean {
    const interval = this.#settings.rotate?.interval;
    return interval !== undefined && Date.now() - this.#openedAt >= interval;
  }

  #rotateIfOld(): void {
    if (!this.#rotateDue()) return;
    if (this.#size > 0) this.#rotate();
    else this.#openedAt = Date.now();
  }

  #open(): void {
    const fs = this.#fs;
    const ttlog = this.#settings.format === "ttlog";
    // Files are checked once when opened: a .ttlog file (see repairTtlog)
    // or a line file (see file_repair.ts) that a crash or a full disk cut
    // is cut back to its last whole chunk or line.
    let fd = fs.openSync(this.#settings.path, "a+", this.#settings.mode);
    try {
      this.#size = fs.fstatSync(fd).size;
      if (ttlog && this.#size > 0) {
        this.#size = repairTtlog(fs, fd, this.#size, this.#settings);
      } else if (this.#size > 0) {
        const repair = repairLineFile(
          fs,
          fd,
          this.#size,
          this.#settings.compression,
        );
        if (repair.unknown && wholeGzip(fs, fd, this.#size)) {
          // Members without ttlog's length field (an older ttlog, another
          // writer), and whole: append after them.
        } else if (repair.unknown) {
          // Untagged and cut (or too big to check by inflating): where the
          // cut member starts cannot be told. Keep the file as it is, under
          // another name, and start a new one.
          fs.closeSync(fd);
          const aside = `${this.#settings.path}.${Date.now()}.old`;
          fs.renameSync(this.#settings.path, aside);
          report(
            `fileSink "${this.#settings.path}": its gzip members have no length field to check them by; moved it to ${aside} and started a new file`,
          );
          fd = fs.openSync(this.#settings.path, "a+", this.#settings.mode);
          this.#size = 0;
        } else {
          this.#size = repair.size;
          if (repair.cut > 0) {
            report(
              `fileSink "${this.#settings.path}": cut off ${repair.cut} bytes of an unfinished last ${
                this.#settings.compression === "none" ? "line" : "chunk"
              } (a crash or a full disk) before appending`,
            );
          }
        }
      }
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
    this.#fd = fd;
    this.#generation++;
    this.#openedAt = Date.now();
  }

  /** Opens the file while writing: a failure is a write error. */
  #openForWrite(): void {
    try {
      this.#open();
    } catch (error) {
      throw new Error(openMessage(this.#settings.path, error), {
        cause: error,
      });
    }
  }

  /** Appends all of `bytes`, reopening first if a rotation failed half-way. */
  #append(bytes: Uint8Array): void {
    const fs = this.#fs;
    const path = this.#settings.path;
    if (this.#fd < 0) this.#openForWrite();
    this.#checkDeleted();
    let written = 0;
    const before = this.#size;
    try {
      while (written < bytes.length) {
        written += fs.writeSync(this.#fd, bytes, written);
      }
      this.#size += written;
    } catch (error) {
      // A full disk (or another failure) mid-chunk: cut the file back to
      // where this write began, so that it stays whole up to its last
      // chunk and later writes, once there is room, append to a valid
      // file. If even that fails, reopen later, which repairs it.
      // Always cut back: a runtime's writeSync may have written part of
      // the bytes before it threw, without saying how many.
      let restored = false;
      try {
        fs.ftruncateSync(this.#fd, before);
        restored = true;
      } catch { /* see below */ }
      if (restored) this.#size = before;
      else {
        const fd = this.#fd;
        this.#fd = -1;
        try {
          fs.closeSync(fd);
        } catch { /* already unusable */ }
      }
      throw new Error(
        `fileSink "${path}": write failed after ${written} of ${bytes.length} bytes${
          written > 0 && restored ? " (cut back to the last whole chunk)" : ""
        }: ${describeError(error)}`,
        { cause: error },
      );
    }
  }

  /**
   * At most once a second: whether the file was deleted under us (its link
   * count is 0), in which case writing on would reach nobody. A new file is
   * opened at the path, and that is said once.
   */
  #checkDeleted(): void {
    const now = Date.now();
    if (now - this.#checkedAt < 1000) return;
    this.#checkedAt = now;
    let links: number;
    try {
      links = this.#fs.fstatSync(this.#fd).nlink;
    } catch {
      return;
    }
    if (links !== 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    try {
      this.#fs.closeSync(fd);
    } catch { /* gone anyway */ }
    report(
      `fileSink "${this.#settings.path}": the file was deleted while open; writing to a new one`,
    );
    this.#openForWrite();
  }

  /** path -> path.1 -> ... -> path.<keep>, then a fresh path. */
  #rotate(): void {
    const fs = this.#fs;
    const path = this.#settings.path;
    const keep = this.#settings.rotate?.keep ?? 1;
    if (this.#fd >= 0) {
      const fd = this.#fd;
      this.#fd = -1;
      fs.closeSync(fd);
    }
    try {
      // One directory read rather than `keep` failing renames.
      const prefix = this.#pathModule.basename(path) + ".";
      const rotated: number[] = [];
      for (const name of fs.readdirSync(this.#pathModule.dirname(path))) {
        if (!name.startsWith(prefix)) continue;
        const suffix = name.slice(prefix.length);
        if (!/^[1-9][0-9]*$/.test(suffix)) continue;
        const index = Number(suffix);
        if (index <= keep) rotated.push(index);
      }
      rotated.sort((a, b) => b - a);
      for (const index of rotated) {
        if (index === keep) fs.rmSync(`${path}.${keep}`, { force: true });
        else renameIfExists(fs, `${path}.${index}`, `${path}.${index + 1}`);
      }
      renameIfExists(fs, path, `${path}.1`);
      this.#open();
    } catch (error) {
      throw new Error(
        `fileSink "${path}": rotation failed: ${describeError(error)}`,
        { cause: error },
      );
    }
  }
}

/** The first bytes of each form of .ttlog file (docs/FORMAT.md, "Compression"). */
function ttlogForm(head: Uint8Array): "none" | "lz4" | "gzip" | undefined {
  const word =
    (head[0] | (head[1] << 8) | (head[2] << 16) | (head[3] << 24)) >>>
    0;
  if (head[0] === 0x54 && head[1] === 0x54 && head[2] === 0x4c) return "none";
  if (word === 0x184d2204 || (word & 0xfffffff0) >>> 0 === 0x184d2a50) {
    return "lz4";
  }
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  return undefined;
}

/**
 * Checks that an existing file is a .ttlog file this sink can append to
 * (the same compression, whole chunks), reading it once with bounded memory
 * and decoding no record; cuts off a last chunk that a crash left unfinished.
 * Returns the file's size after that.
 */
function repairTtlog(
  fs: typeof Fs,
  fd: number,
  size: number,
  settings: Settings,
): number {
  const piece = new Uint8Array(Math.min(size, 1 << 20));
  const reader = new TtlogReader({ filter: () => false });
  let position = 0;
  try {
    while (position < size) {
      const n = fs.readSync(
        fd,
        piece,
        0,
        Math.min(piece.length, size - position),
        position,
      );
      if (n <= 0) break;
      if (position === 0) {
        const form = ttlogForm(piece.subarray(0, n));
        if (form !== settings.compression) {
          throw new TtlogFormatError(
            form === undefined
              ? "it is not a .ttlog file"
              : `it holds ${form} chunks and this sink writes ${settings.compression}`,
          );
        }
      }
      reader.push(piece.subarray(0, n));
      position += n;
    }
  } catch (error) {
    if (!(error instanceof TtlogFormatError)) throw error;
    throw new Error(
      `${error.message}; a .ttlog file sink appends only to a .ttlog file of its own compression: move the file away or choose another path`,
    );
  }
  if (reader.pending === 0) return size;
  // A chunk cut short (the writer was killed): readers would stop there,
  // so nothing appended after it could be read. Cut it off.
  fs.ftruncateSync(fd, reader.offset);
  return reader.offset;
}

function renameIfExists(fs: typeof Fs, from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (error) {
    if ((error as { code?: unknown })?.code !== "ENOENT") throw error;
  }
}

/** Why a file could not be opened, with a hint where there is one. */
export function openMessage(path: string, error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const hint = code === "ENOENT"
    ? " (its directory does not exist: pass mkdir: true to create it)"
    : code === "EACCES" || code === "EPERM"
    ? " (permission denied)"
    : code === "EISDIR"
    ? " (it is a directory)"
    : "";
  return `fileSink: cannot open ${JSON.stringify(path)} for appending${hint}: ${
    describeError(error)
  }`;
}
