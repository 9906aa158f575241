/**
 * A sink that appends formatted lines to a file, optionally compressed and
 * rotated.
 *
 * Every write is synchronous (`fs.writeSync`): the drain may run in a worker
 * that the main thread waits for synchronously while the process exits, and
 * an asynchronous write would never complete there. It also means that once
 * `write()` or `flush()` returns, the bytes are in the operating system's
 * hands (not fsynced).
 *
 * @module
 */

import type * as Fs from "node:fs";
import type * as Path from "node:path";
import { gzipSync } from "../codec/gzip.ts";
import { encodeLz4Frame } from "../codec/lz4_frame.ts";
import { initLz4Sync } from "../codec/lz4.ts";
import { ndjsonFormatter } from "../format/ndjson.ts";
import { textFormatter } from "../format/text.ts";
import { TtlogConfigError } from "../level.ts";
import type { LogRecord } from "../record/values.ts";
import { builtin, nodeFs, nodeZlib } from "../runtime/builtin.ts";
import type { Formatter, Sink, SinkSpec } from "./sink.ts";

/** When and how {@link fileSink} rotates its file. */
export interface FileRotateOptions {
  /**
   * Rotate before the file would grow past this many bytes (as written to
   * disk: compressed bytes when compressed). A single line, or a single
   * compressed chunk, larger than this gets a file of its own.
   */
  readonly bytes?: number;
  /**
   * Rotate at the first write at least this many milliseconds after the
   * sink opened the current file (an empty file is not rotated).
   */
  readonly interval?: number;
  /** How many rotated files to keep: `path.1` (newest) to `path.<keep>` (default 5). */
  readonly keep?: number;
}

/** Options of {@link fileSink}; plain data, so a worker can rebuild the sink. */
export interface FileSinkOptions {
  /** The file to append to. Its directory must exist. */
  readonly path: string;
  /** `"ndjson"` (default) or `"text"` (never coloured). */
  readonly format?: "text" | "ndjson";
  /**
   * `"none"` (default), `"gzip"` (one gzip member per chunk) or `"lz4"` (one
   * LZ4 frame per chunk): the whole file always reads with `gzip -dc` or
   * `lz4 -dc`. Compressed lines are buffered up to 64 KiB (or
   * `rotate.bytes`), and written when that fills, when a write comes a second
   * or more after the oldest buffered line, and on `flush()` and `close()`.
   */
  readonly compression?: "none" | "gzip" | "lz4";
  /** Rotation by size and/or age; none by default. */
  readonly rotate?: FileRotateOptions;
  /** Permission bits of a file the sink creates (default `0o600`; the umask applies). */
  readonly mode?: number;
  /** Text lines in a file are never coloured: only `false` is accepted. */
  readonly color?: false;
}

/** Uncompressed text gathered before one compressed chunk is written. */
const COMPRESS_CHUNK = 64 * 1024;
/** Buffered compressed lines older than this go out at the next write. */
const COMPRESS_DELAY_MS = 1000;
const NEWLINE = 0x0a;

const OPTION_KEYS = [
  "path",
  "format",
  "compression",
  "rotate",
  "mode",
  "color",
];
const ROTATE_KEYS = ["bytes", "interval", "keep"];

/** The options after validation, with defaults filled in: plain data. */
interface Settings {
  path: string;
  format: "text" | "ndjson";
  compression: "none" | "gzip" | "lz4";
  rotate?: { bytes?: number; interval?: number; keep: number };
  mode: number;
}

/**
 * Creates a sink that appends one line per record to a file: NDJSON or text,
 * optionally gzip- or LZ4-compressed, optionally rotated by size or age.
 *
 * The file is opened (created with `mode`, appended to if it exists) when the
 * sink is created, so a bad path fails here rather than at the first event
 * (and again at the first write, so that a copy of the sink that was idle
 * while another copy rotated the file writes to the current one).
 * Writes, rotation and compression are synchronous. Rotation renames `path`
 * to `path.1`, `path.1` to `path.2` and so on, deletes what would become
 * `path.<keep+1>`, and opens a fresh `path`; a line is never split across
 * two files. The sink has a `spec`, so a drain running in a worker can
 * rebuild it there. Errors of the file system while writing (a full disk,
 * a permission taken away) are thrown from `write()`, and the drain counts
 * and reports them.
 *
 * @param options The path, format, compression, rotation and file mode.
 * @returns The sink, named `file:<path>`.
 * @throws {TtlogConfigError} When an option is invalid (the message names
 * it), when the file cannot be opened (such as a missing directory), or
 * when the runtime has no `node:fs`.
 *
 * @example Log to an NDJSON file and read it back
 * ```ts
 * import { createLogger, fileSink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, readFileSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "ttlog-"));
 * const path = join(dir, "app.ndjson");
 * const log = createLogger({
 *   service: "checkout",
 *   sinks: [fileSink({ path, rotate: { bytes: 10_000_000, keep: 3 } })],
 * });
 * log.info("order placed", { id: 7 });
 * await log.close();
 * const lines = readFileSync(path, "utf8").trimEnd().split("\n");
 * assert.equal(JSON.parse(lines[0]).msg, "order placed");
 * assert.equal(JSON.parse(lines[0]).id, 7);
 * rmSync(dir, { recursive: true });
 * ```
 */
export function fileSink(options: FileSinkOptions): Sink {
  const settings = validate(options);
  const fs = nodeFs("fileSink");
  const pathModule = builtin<typeof Path>("node:path", "fileSink");
  // Fail now, not at the first chunk, where compression is unavailable.
  if (settings.compression === "gzip") nodeZlib("fileSink");
  if (settings.compression === "lz4") initLz4Sync();
  const spec: SinkSpec = {
    module: import.meta.url,
    factory: "fileSink",
    // Absolute, in case the working directory changes before a worker
    // rebuilds the sink.
    options: { ...settings, path: pathModule.resolve(settings.path) },
  };
  const writer = new FileWriter(fs, pathModule, settings);
  const formatter: Formatter = settings.format === "text"
    ? textFormatter({ color: false })
    : ndjsonFormatter();
  return {
    name: `file:${settings.path}`,
    spec,
    write(records: readonly LogRecord[]): void {
      writer.prepare();
      if (records.length === 0) return;
      if (settings.compression === "none") {
        let text = "";
        for (const record of records) text += formatter(record) + "\n";
        writer.writeText(text);
      } else {
        const lines: string[] = [];
        for (const record of records) lines.push(formatter(record) + "\n");
        writer.bufferLines(lines);
      }
    },
    flush(): void {
      writer.flush();
    },
    close(): void {
      writer.close();
    },
  };
}

/** The open file: appends, compression buffer, rotation. */
class FileWriter {
  readonly #fs: typeof Fs;
  readonly #pathModule: typeof Path;
  readonly #settings: Settings;
  readonly #encoder = new TextEncoder();
  readonly #chunkChars: number;
  #fd = -1;
  /** Bytes in the current file. */
  #size = 0;
  /** When the sink opened the current file (Date.now()). */
  #openedAt = 0;
  #closed = false;
  /** Whether anything was written yet (see `prepare`). */
  #used = false;
  /** Lines waiting to be compressed, and their length in UTF-16 units. */
  #pending: string[] = [];
  #pendingChars = 0;
  #pendingSince = 0;

  constructor(fs: typeof Fs, pathModule: typeof Path, settings: Settings) {
    this.#fs = fs;
    this.#pathModule = pathModule;
    this.#settings = settings;
    this.#chunkChars = Math.min(
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

  /** Writes uncompressed text, cutting it at line ends where rotation falls. */
  writeText(text: string): void {
    this.#rotateIfOld();
    let bytes = this.#encoder.encode(text);
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
      bytes = bytes.subarray(cut);
      if (bytes.length === 0) return;
      this.#rotate();
    }
    this.#append(bytes);
  }

  /** Buffers lines for compression; compresses full chunks. */
  bufferLines(lines: readonly string[]): void {
    if (this.#rotateDue()) {
      this.#emitPending();
      this.#rotateIfOld();
    }
    const now = Date.now();
    if (
      this.#pending.length > 0 && now - this.#pendingSince >= COMPRESS_DELAY_MS
    ) {
      this.#emitPending();
    }
    for (const line of lines) {
      if (this.#pending.length === 0) this.#pendingSince = now;
      this.#pending.push(line);
      this.#pendingChars += line.length;
      if (this.#pendingChars >= this.#chunkChars) this.#emitPending();
    }
  }

  flush(): void {
    if (!this.#closed) this.#emitPending();
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
    if (this.#pending.length === 0) return;
    const text = this.#pending.join("");
    this.#pending = [];
    this.#pendingChars = 0;
    const data = this.#encoder.encode(text);
    const chunk = this.#settings.compression === "gzip"
      ? gzipSync(data)
      : encodeLz4Frame(data);
    const limit = this.#settings.rotate?.bytes;
    if (
      limit !== undefined && this.#size > 0 &&
      this.#size + chunk.length > limit
    ) {
      this.#rotate();
    }
    this.#append(chunk);
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
    const fd = fs.openSync(this.#settings.path, "a", this.#settings.mode);
    try {
      this.#size = fs.fstatSync(fd).size;
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
    this.#fd = fd;
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
    let written = 0;
    try {
      while (written < bytes.length) {
        written += fs.writeSync(this.#fd, bytes, written);
      }
    } catch (error) {
      throw new Error(
        `fileSink "${path}": write failed after ${written} of ${bytes.length} bytes: ${
          describeError(error)
        }`,
        { cause: error },
      );
    } finally {
      this.#size += written;
    }
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

function renameIfExists(fs: typeof Fs, from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (error) {
    if ((error as { code?: unknown })?.code !== "ENOENT") throw error;
  }
}

function describeError(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return "unknown error";
  }
}

function openMessage(path: string, error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const hint = code === "ENOENT"
    ? " (its directory does not exist: fileSink does not create directories)"
    : code === "EACCES" || code === "EPERM"
    ? " (permission denied)"
    : code === "EISDIR"
    ? " (it is a directory)"
    : "";
  return `fileSink: cannot open ${JSON.stringify(path)} for appending${hint}: ${
    describeError(error)
  }`;
}

function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}

function isPositiveInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

function validate(options: FileSinkOptions): Settings {
  if (typeof options !== "object" || options === null) {
    throw new TtlogConfigError(
      `fileSink: options must be an object with a path, got ${
        describeValue(options)
      }`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) {
      throw new TtlogConfigError(
        `fileSink: unknown option ${JSON.stringify(key)} (known: ${
          OPTION_KEYS.join(", ")
        })`,
      );
    }
  }
  const { path, rotate, mode, color } = options;
  if (typeof path !== "string" || path === "") {
    throw new TtlogConfigError(
      `fileSink: path must be a non-empty string, got ${describeValue(path)}`,
    );
  }
  const format = options.format ?? "ndjson";
  if ((format as string) === "ttlog") {
    throw new TtlogConfigError(
      `fileSink: format "ttlog" (the binary .ttlog chunk format) is not available yet: it comes with snapshots and the ttlog CLI; use "ndjson" or "text"`,
    );
  }
  if (format !== "ndjson" && format !== "text") {
    throw new TtlogConfigError(
      `fileSink: format must be "ndjson" or "text", got ${
        describeValue(format)
      }`,
    );
  }
  const compression = options.compression ?? "none";
  if (
    compression !== "none" && compression !== "gzip" && compression !== "lz4"
  ) {
    throw new TtlogConfigError(
      `fileSink: compression must be "none", "gzip" or "lz4", got ${
        describeValue(compression)
      }`,
    );
  }
  if (
    mode !== undefined &&
    !(Number.isInteger(mode) && mode >= 0 && mode <= 0o7777)
  ) {
    throw new TtlogConfigError(
      `fileSink: mode must be an integer from 0 to 0o7777 (such as 0o600), got ${
        describeValue(mode)
      }`,
    );
  }
  if (color !== undefined && color !== false) {
    throw new TtlogConfigError(
      `fileSink: color must be false or left out (files are never coloured), got ${
        describeValue(color)
      }`,
    );
  }
  const settings: Settings = { path, format, compression, mode: mode ?? 0o600 };
  if (rotate !== undefined) {
    if (
      typeof rotate !== "object" || rotate === null || Array.isArray(rotate)
    ) {
      throw new TtlogConfigError(
        `fileSink: rotate must be an object ({ bytes, interval, keep }), got ${
          describeValue(rotate)
        }`,
      );
    }
    for (const key of Object.keys(rotate)) {
      if (!ROTATE_KEYS.includes(key)) {
        throw new TtlogConfigError(
          `fileSink: unknown rotate option ${JSON.stringify(key)} (known: ${
            ROTATE_KEYS.join(", ")
          })`,
        );
      }
    }
    for (const key of ["bytes", "interval"] as const) {
      const value = rotate[key];
      if (value !== undefined && !isPositiveInteger(value)) {
        throw new TtlogConfigError(
          `fileSink: rotate.${key} must be a positive integer${
            key === "bytes" ? "" : " (milliseconds)"
          }, got ${describeValue(value)}`,
        );
      }
    }
    const keep = rotate.keep ?? 5;
    if (!isPositiveInteger(keep)) {
      throw new TtlogConfigError(
        `fileSink: rotate.keep must be an integer of at least 1, got ${
          describeValue(rotate.keep)
        }`,
      );
    }
    if (rotate.bytes === undefined && rotate.interval === undefined) {
      throw new TtlogConfigError(
        `fileSink: rotate needs bytes, interval or both, got neither`,
      );
    }
    settings.rotate = { keep };
    if (rotate.bytes !== undefined) settings.rotate.bytes = rotate.bytes;
    if (rotate.interval !== undefined) {
      settings.rotate.interval = rotate.interval;
    }
  }
  return settings;
}
