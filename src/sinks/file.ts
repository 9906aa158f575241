/**
 * A sink that appends formatted lines to a file, or `.ttlog` chunks of the
 * records as they are, optionally compressed and rotated.
 *
 * Every write is synchronous (`fs.writeSync`): the drain may run in a worker
 * that the main thread waits for synchronously while the process exits, and
 * an asynchronous write would never complete there. It also means that once
 * `write()` or `flush()` returns, the bytes are in the operating system's
 * hands (not fsynced).
 *
 * @module
 */

import type * as Path from "node:path";
import { initLz4Sync } from "../codec/lz4.ts";
import { ndjsonFormatter } from "../format/ndjson.ts";
import { textFormatter } from "../format/text.ts";
import { TtlogConfigError } from "../errors.ts";
import type { LogRecord } from "../record/values.ts";
import { builtin, nodeFs, nodeZlib, tryBuiltin } from "../runtime/builtin.ts";
import { runtime } from "../runtime/mod.ts";
import {
  alignedLength,
  contentLength,
  MIN_HEADER_BYTES,
} from "../ring/ring.ts";
import {
  encodeChunk,
  endChunk,
  eventsChunk,
  headerChunk,
  lossChunk,
} from "../ttlog_file/chunk_writer.ts";
import { type ChunkEntry, ChunkKind } from "../ttlog_file/format.ts";
import { usedEntries } from "../ttlog_file/used_entries.ts";
import { describeError, describeValue } from "../validate.ts";
import { COMPRESS_DELAY_MS, FileWriter, type Settings } from "./file_writer.ts";
import {
  BUILTIN_SINK_MODULE,
  type Formatter,
  type RawBatch,
  type Sink,
  type SinkSpec,
} from "./sink.ts";

/**
 * When and how {@link fileSink} rotates its file.
 *
 * @example Rotate by size and keep two old files
 * ```ts
 * import { createLogger, type FileRotateOptions, fileSink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, readdirSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * const dir = mkdtempSync(join(tmpdir(), "ttlog-doc-"));
 * const rotate: FileRotateOptions = { bytes: 1024, keep: 2 };
 * const log = createLogger({ sinks: [fileSink({ path: join(dir, "app.ndjson"), rotate })] });
 * for (let i = 0; i < 200; i++) log.info("tick", { i }); // about 10 KiB
 * await log.close();
 * assert.deepEqual(readdirSync(dir).sort(), ["app.ndjson", "app.ndjson.1", "app.ndjson.2"]);
 * rmSync(dir, { recursive: true });
 * ```
 */
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

/**
 * Options of {@link fileSink}; plain data, so a worker can rebuild the sink.
 *
 * @example Write gzip-compressed text lines
 * ```ts
 * import { createLogger, fileSink, type FileSinkOptions } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, readFileSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { gunzipSync } from "node:zlib";
 * const dir = mkdtempSync(join(tmpdir(), "ttlog-doc-"));
 * const options: FileSinkOptions = {
 *   path: join(dir, "app.log.gz"),
 *   format: "text",
 *   compression: "gzip",
 * };
 * const log = createLogger({ sinks: [fileSink(options)] });
 * log.warn("disk almost full", { free: 3 });
 * await log.close();
 * const text = gunzipSync(readFileSync(options.path)).toString("utf8");
 * assert.match(text, /WARN.*disk almost full/);
 * rmSync(dir, { recursive: true });
 * ```
 */
export interface FileSinkOptions {
  /** The file to append to. Its directory must exist. */
  readonly path: string;
  /**
   * `"ndjson"` (default), `"text"` (never coloured), or `"ttlog"`: the
   * binary `.ttlog` format (docs/FORMAT.md) that `ttlog view` and the other
   * CLI commands read. A `.ttlog` file starts with a header chunk (service,
   * host, pid, runtime, start time), then self-contained events chunks
   * (each carries the dictionary entries its records use) and loss chunks,
   * and ends with an end chunk when the sink closes or rotates it. The drain
   * hands this sink the records' bytes as they sit in the ring: nothing is
   * decoded or formatted. An existing file is appended to after a check
   * that it is a `.ttlog` file of the same compression (it is read once,
   * and a chunk cut short by a crash is cut off).
   */
  readonly format?: "text" | "ndjson" | "ttlog";
  /**
   * `"none"` (default), `"gzip"` (one gzip member per chunk) or `"lz4"` (one
   * LZ4 frame per chunk): the whole file always reads with `gzip -dc` or
   * `lz4 -dc`. Compressed lines are buffered up to 64 KiB (or
   * `rotate.bytes`), and written when that fills, when a write comes a second
   * or more after the oldest buffered line, and on `flush()` and `close()`.
   * In the `"ttlog"` format every write is a chunk when uncompressed; when
   * compressed, records are buffered up to 1 MiB per chunk (or
   * `rotate.bytes`) on the same terms.
   */
  readonly compression?: "none" | "gzip" | "lz4";
  /** Rotation by size and/or age; none by default. */
  readonly rotate?: FileRotateOptions;
  /** Permission bits of a file the sink creates (default `0o600`; the umask applies). */
  readonly mode?: number;
  /**
   * Creates the file's directory, and its parents, when missing, with mode
   * `0o700` (default `false`: a missing directory is an error).
   */
  readonly mkdir?: boolean;
  /** Text lines in a file are never coloured: only `false` is accepted. */
  readonly color?: false;
}

/** Record bytes gathered before one compressed `.ttlog` events chunk is written. */
const TTLOG_CHUNK = 1024 * 1024;
/** Room kept for the end chunk when rotating `.ttlog` files by size. */
const END_CHUNK_RESERVE = 128;

const OPTION_KEYS = [
  "path",
  "format",
  "compression",
  "rotate",
  "mode",
  "mkdir",
  "color",
];
const ROTATE_KEYS = ["bytes", "interval", "keep"];
/** The most rotated files kept: past that, rotation no longer bounds the disk. */
const MAX_KEEP = 1000;

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
 * `path.<keep+1>`, and opens a fresh `path`; a line (or a `.ttlog` chunk) is
 * never split across two files, and each `.ttlog` file is complete in
 * itself. The sink has a `spec`, so a drain running in a worker can
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
 *
 * @example Log to a .ttlog file and read it back
 * ```ts
 * import { createLogger, fileSink } from "@ttlog/ttlog";
 * import { readTtlog } from "../ttlog_file/chunk_reader.ts";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, readFileSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "ttlog-"));
 * const path = join(dir, "app.ttlog");
 * const log = createLogger({
 *   service: "checkout",
 *   sinks: [fileSink({ path, format: "ttlog", compression: "lz4" })],
 * });
 * log.info("order placed", { id: 7 });
 * await log.close();
 * const { items } = readTtlog(new Uint8Array(readFileSync(path)));
 * assert.deepEqual(items.map((item) => item.kind), ["header", "events", "end"]);
 * const events = items[1].kind === "events" ? items[1].records : [];
 * assert.equal(events[0].msg, "order placed");
 * assert.deepEqual(events[0].fields, { id: 7 });
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
    module: BUILTIN_SINK_MODULE,
    factory: "fileSink",
    // Absolute, in case the working directory changes before a worker
    // rebuilds the sink.
    options: { ...settings, path: pathModule.resolve(settings.path) },
  };
  if (settings.mkdir) {
    const dir = pathModule.dirname(pathModule.resolve(settings.path));
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new TtlogConfigError(
        `fileSink: cannot create the directory ${JSON.stringify(dir)}: ${
          describeError(error)
        }`,
      );
    }
  }
  const writer = new FileWriter(fs, pathModule, settings);
  if (settings.format === "ttlog") {
    return ttlogSink(writer, settings, spec);
  }
  const formatter: Formatter = settings.format === "text"
    ? textFormatter({ color: false })
    : ndjsonFormatter();
  return {
    name: `file:${settings.path}`,
    spec,
    // NDJSON lines come written by the drain, straight from the ring.
    ...(settings.format === "ndjson"
      ? {
        lines: "ndjson" as const,
        writeLines(bytes: Uint8Array, count: number): void {
          try {
            writer.prepare();
          } catch (error) {
            writer.lost += count;
            throw error;
          }
          if (settings.compression === "none") writer.writeBytes(bytes, count);
          else writer.bufferBytes(bytes, count);
        },
      }
      : {}),
    write(records: readonly LogRecord[]): void {
      try {
        writer.prepare();
      } catch (error) {
        // The file cannot be opened (or the sink is closed): all lost.
        writer.lost += records.length;
        throw error;
      }
      if (records.length === 0) return;
      if (settings.compression === "none") {
        let text = "";
        for (const record of records) text += formatter(record) + "\n";
        writer.writeText(text, records.length);
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
    get delivery() {
      return { written: writer.delivered, dropped: writer.lost, errors: 0 };
    },
  };
}

/** Records waiting to become one events chunk. */
interface PendingRecords {
  pieces: Uint8Array[];
  bytes: number;
  count: number;
  /** The records' sequence numbers. */
  seqs: number[];
  /** Their ring's time base. */
  timeBase: number;
}

/**
 * The `.ttlog` form of the file sink: it takes raw batches from the drain
 * (`writeRaw`) and writes them as chunks, each events chunk carrying the
 * dictionary entries its records use.
 */
function ttlogSink(file: FileWriter, settings: Settings, spec: SinkSpec): Sink {
  const compression = settings.compression;
  const chunkBytes = Math.min(
    TTLOG_CHUNK,
    settings.rotate?.bytes ?? TTLOG_CHUNK,
  );
  const limit = settings.rotate?.bytes;
  /** Every dictionary entry of each producer, by id. */
  const dictionaries = new Map<number, (ChunkEntry | undefined)[]>();
  const pending = new Map<number, PendingRecords>();
  let pendingSince = 0;
  let service = "";
  /** The file our header chunk went into, and what followed it. */
  let headerIn = -1;
  let chunks = 0;
  let events = 0;
  let closed = false;

  const endChunkBytes = () =>
    encodeChunk(ChunkKind.end, endChunk(chunks, events), compression);

  /**
   * Appends one chunk, after the header (new file) or a rotation (full
   * file): `count` events, `records` records for the delivery counters (a
   * loss chunk is one record, as the drain hands it over, and no event).
   */
  const appendChunk = (chunk: Uint8Array, count: number, records = count) => {
    let header: Uint8Array | undefined;
    if (headerIn !== file.generation) {
      header = headerBytes(service, compression);
    }
    const size = chunk.length + (header?.length ?? 0) + END_CHUNK_RESERVE;
    try {
      if (limit !== undefined && file.size > 0 && file.size + size > limit) {
        rotate();
        header = headerBytes(service, compression);
      }
      if (header !== undefined) {
        file.append(header);
        headerIn = file.generation;
        chunks = 0;
        events = 0;
      }
    } catch (error) {
      // No rotation or header: the chunk cannot go after them.
      file.lost += records;
      throw error;
    }
    file.append(chunk, records);
    chunks++;
    events += count;
  };

  const rotate = () => {
    if (headerIn === file.generation) file.append(endChunkBytes());
    file.rotate();
  };

  const emit = (producer: number) => {
    const records = pending.get(producer);
    if (records === undefined || records.count === 0) return;
    pending.delete(producer);
    const bytes = records.pieces.length === 1
      ? records.pieces[0]
      : concat(records.pieces, records.bytes);
    const entries = usedEntries(bytes, dictionaries.get(producer) ?? []);
    appendChunk(
      encodeChunk(
        ChunkKind.events,
        eventsChunk(producer, entries, {
          records: bytes,
          seqs: records.seqs,
          timeBase: records.timeBase,
        }),
        compression,
      ),
      records.count,
    );
  };

  /** Buffers records, cut into chunks of about `chunkBytes` at record ends. */
  const add = (producer: number, batch: RawBatch, now: number) => {
    const data = batch.records;
    const { seqs, timeBase } = batch;
    let records = pending.get(producer);
    if (records !== undefined && records.timeBase !== timeBase) {
      emit(producer);
      records = undefined;
    }
    if (records === undefined) {
      if (pending.size === 0) pendingSince = now;
      records = { pieces: [], bytes: 0, count: 0, seqs: [], timeBase };
      pending.set(producer, records);
    }
    let from = 0;
    let count = 0;
    let record = 0;
    for (let at = 0; at < data.length; record++) {
      const length = alignedLength(
        contentLength(data[at] | (data[at + 1] << 8) | (data[at + 2] << 16)),
      );
      // Never so from the drain; eventsChunk rejects the rest as it is.
      if (length < MIN_HEADER_BYTES) break;
      if (
        records.bytes + at - from + length > chunkBytes &&
        records.bytes + at - from > 0
      ) {
        if (at > from) {
          records.pieces.push(data.subarray(from, at));
          records.bytes += at - from;
          records.count += count;
        }
        emit(producer);
        records = { pieces: [], bytes: 0, count: 0, seqs: [], timeBase };
        pending.set(producer, records);
        from = at;
        count = 0;
      }
      records.seqs.push(seqs[record]);
      at += length;
      count++;
    }
    if (data.length > from) {
      // A cut record would count as one (eventsChunk then refuses it).
      if (count === 0) count = 1;
      records.pieces.push(data.subarray(from));
      records.bytes += data.length - from;
      records.count += count;
    }
  };

  const emitAll = () => {
    for (const producer of [...pending.keys()]) emit(producer);
  };

  return {
    name: `file:${settings.path}`,
    spec,
    write(): void {
      throw new Error(
        `fileSink "${settings.path}": the "ttlog" format takes records as ttlog's drain hands them over (writeRaw), not decoded records`,
      );
    },
    writeRaw(batches: readonly RawBatch[]): void {
      try {
        file.prepare();
      } catch (error) {
        // The file cannot be opened (or the sink is closed): all lost, each
        // event and each loss record as the drain counts them.
        for (const batch of batches) {
          file.lost += batch.count + batch.losses.length;
        }
        throw error;
      }
      // Entries first: a write that fails below must not cost later chunks
      // the entries these batches brought.
      for (const batch of batches) {
        service = batch.service;
        let dictionary = dictionaries.get(batch.producer);
        if (dictionary === undefined) {
          dictionary = [undefined];
          dictionaries.set(batch.producer, dictionary);
        }
        for (const entry of batch.entries) dictionary[entry.id] = entry;
      }
      if (file.rotateDue()) {
        // What is buffered belongs to the file it was logged in.
        emitAll();
        if (file.size > 0) rotate();
        else file.restartInterval();
      }
      const now = Date.now();
      for (const batch of batches) {
        if (batch.losses.length > 0) {
          // Keep the order: records before the losses, then the losses.
          emit(batch.producer);
          for (const loss of batch.losses) {
            appendChunk(
              encodeChunk(
                ChunkKind.loss,
                lossChunk(batch.producer, loss.lost, loss.reason),
                compression,
              ),
              0,
              1,
            );
          }
        }
        if (batch.count > 0) add(batch.producer, batch, now);
      }
      if (compression === "none" || now - pendingSince >= COMPRESS_DELAY_MS) {
        emitAll();
      }
    },
    flush(): void {
      if (!closed) emitAll();
    },
    get delivery() {
      return { written: file.delivered, dropped: file.lost, errors: 0 };
    },
    close(): void {
      if (closed) return;
      try {
        emitAll();
        if (headerIn === file.generation) file.append(endChunkBytes());
      } finally {
        closed = true;
        file.close();
      }
    },
  };
}

/** The header chunk of a new .ttlog file. */
function headerBytes(
  service: string,
  compression: "none" | "gzip" | "lz4",
): Uint8Array {
  const proc = tryBuiltin<{ pid?: number }>("node:process");
  const os = tryBuiltin<{ hostname?: () => string }>("node:os");
  let hostname = "";
  try {
    hostname = os?.hostname?.() ?? "";
  } catch { /* no host name */ }
  return encodeChunk(
    ChunkKind.header,
    headerChunk({
      service,
      host: hostname,
      pid: proc?.pid ?? 0,
      runtime: runtime.name,
      runtimeVersion: runtime.version,
      time: Date.now(),
      writer: "fileSink",
    }),
    compression,
  );
}

function concat(pieces: readonly Uint8Array[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
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
  const { path, rotate, mode, color, mkdir } = options;
  if (typeof path !== "string" || path === "") {
    throw new TtlogConfigError(
      `fileSink: path must be a non-empty string, got ${describeValue(path)}`,
    );
  }
  const format = options.format ?? "ndjson";
  if (format !== "ndjson" && format !== "text" && format !== "ttlog") {
    throw new TtlogConfigError(
      `fileSink: format must be "ndjson", "text" or "ttlog", got ${
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
  if (mkdir !== undefined && typeof mkdir !== "boolean") {
    throw new TtlogConfigError(
      `fileSink: mkdir must be true or false, got ${describeValue(mkdir)}`,
    );
  }
  const settings: Settings = {
    path,
    format,
    compression,
    mode: mode ?? 0o600,
    mkdir: mkdir ?? false,
  };
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
    if (!isPositiveInteger(keep) || keep > MAX_KEEP) {
      throw new TtlogConfigError(
        `fileSink: rotate.keep must be an integer from 1 to ${MAX_KEEP}, got ${
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
