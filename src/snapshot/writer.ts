/**
 * Writing a snapshot: the last events of every producer ring, debug
 * included, as a .ttlog file. Synchronous, from shared memory alone, so the
 * same code serves `log.snapshot()` and a crash. The file is written to a
 * temporary name, fsynced, then renamed: a reader never sees half a
 * snapshot. Files are created with mode 0600.
 *
 * @module
 */

import { ndjsonFormatter } from "../format/ndjson.ts";
import { decodeEvent, ValueReader } from "../record/decode.ts";
import {
  type DictionaryMemory,
  DictionaryReader,
} from "../record/dictionary.ts";
import {
  alignedLength,
  contentLength,
  MIN_HEADER_BYTES,
  type RingMemory,
} from "../ring/ring.ts";
import { nodeFs, tryBuiltin } from "../runtime/builtin.ts";
import { type Capture, captureRing } from "./capture.ts";
import {
  encodeChunk,
  endChunk,
  eventsChunk,
  headerChunk,
} from "../ttlog_file/chunk_writer.ts";
import { ChunkKind, type TtlogCompression } from "../ttlog_file/format.ts";

/** What a snapshot holds and how it is compressed. */
export interface SnapshotBuildOptions {
  /** Keep events at most this many ms old (default: all the ring holds). */
  readonly ms?: number;
  /** Keep at most this many bytes of records per producer, the newest (default: all). */
  readonly bytes?: number;
  /** Chunk compression (default `"lz4"`). */
  readonly compression: TtlogCompression;
  /**
   * Keep only events whose fields hold each of these (compared with
   * `Object.is`): one request's events, by its `request_id`, for example.
   */
  readonly where?: Readonly<Record<string, unknown>>;
}

/** Where and how snapshot files are written. */
export interface SnapshotWriteOptions extends SnapshotBuildOptions {
  /** The directory (created if missing; default `"ttlog-snapshots"`). */
  readonly dir: string;
  /** How many snapshot files of this service to keep, newest first (default 20). */
  readonly keep: number;
}

/** A snapshot made in memory: its file name and the whole file's bytes. */
export interface BuiltSnapshot {
  /** `ttlog-<service>-<pid>-<UTC time>-<reason>.ttlog`. */
  readonly name: string;
  /** The service, for the file name's prefix. */
  readonly service: string;
  /** The whole .ttlog file, as its chunks (see {@link snapshotBytes}). */
  readonly chunks: readonly Uint8Array[];
  /** Events in it. */
  readonly events: number;
}

/** A built snapshot's chunks as one array, for a store. */
export function snapshotBytes(snapshot: BuiltSnapshot): Uint8Array {
  let size = 0;
  for (const chunk of snapshot.chunks) size += chunk.length;
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of snapshot.chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/** The host's name, or "" where it cannot be read (Deno without --allow-sys). */
function hostName(): string {
  try {
    return tryBuiltin<{ hostname?: () => string }>("node:os")?.hostname?.() ??
      "";
  } catch {
    return "";
  }
}

let lastBase = "";
let repeats = 0;

/** One producer's memory. */
export interface SnapshotProducer {
  /** Its ring. */
  readonly ring: RingMemory;
  /** Its dictionary. */
  readonly dictionary: DictionaryMemory;
}

/** Records per events chunk, at most, in bytes (chunks stay well under the format's cap). */
const CHUNK_RECORD_BYTES = 8 * 1024 * 1024;

/** Characters allowed in a file name part; anything else becomes `_`. */
function safePart(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 64) || "_";
}

/** `2026-11-25T16:55:12.123Z` as `20261125T165512.123Z`. */
function stamp(time: number): string {
  return new Date(time).toISOString().replace(/[-:]/g, "");
}

/**
 * Writes a snapshot of `producers` and returns its path. `meta` goes into
 * the header chunk beside what the writer adds (host, pid, reason, time).
 */
export function writeSnapshotSync(
  producers: readonly SnapshotProducer[],
  meta: { service: string; reason: string } & Record<string, unknown>,
  options: SnapshotWriteOptions,
): string {
  return writeSnapshotFile(buildSnapshot(producers, meta, options), options);
}

/**
 * Makes a snapshot of `producers` in memory (no file system needed): the
 * bytes a file would hold, and the name it would have.
 */
export function buildSnapshot(
  producers: readonly SnapshotProducer[],
  meta: { service: string; reason: string } & Record<string, unknown>,
  options: SnapshotBuildOptions,
): BuiltSnapshot {
  const time = Date.now();
  const pid = tryBuiltin<{ pid?: number }>("node:process")?.pid ?? 0;
  const host = hostName();
  const chunks: Uint8Array[] = [];
  let events = 0;
  const captures = producers.map((producer) => {
    const capture = captureRing(producer.ring, producer.dictionary, {
      ms: options.ms,
      bytes: options.bytes,
      now: time,
    });
    return options.where === undefined
      ? capture
      : select(capture, producer.dictionary, options.where);
  });
  chunks.push(encodeChunk(
    ChunkKind.header,
    headerChunk({
      ...meta,
      trigger: withEvent(meta.trigger, captures, producers, meta.service),
      host,
      pid,
      time,
      producers: producers.length,
    }),
    options.compression,
  ));
  captures.forEach((capture, producer) => {
    events += capture.count;
    const records = capture.records;
    // Split at record boundaries so every chunk stays a bounded size.
    const words = new Int32Array(
      records.buffer,
      records.byteOffset,
      records.length >> 2,
    );
    let from = 0;
    let fromRecord = 0;
    while (from < records.length) {
      let to = from;
      let toRecord = fromRecord;
      while (
        to < records.length && (to === from || to - from < CHUNK_RECORD_BYTES)
      ) {
        to += alignedLength(contentLength(words[to >> 2]));
        toRecord++;
      }
      chunks.push(encodeChunk(
        ChunkKind.events,
        eventsChunk(producer, capture.entries, {
          records: records.subarray(from, to),
          seqs: capture.seqs.subarray(fromRecord, toRecord),
          timeBase: capture.timeBase,
        }),
        options.compression,
      ));
      from = to;
      fromRecord = toRecord;
    }
  });
  chunks.push(
    encodeChunk(
      ChunkKind.end,
      endChunk(chunks.length + 1, events),
      options.compression,
    ),
  );

  // Two snapshots in one millisecond must not share a name: a store would
  // keep only the last (files get a "-N" suffix from the directory too).
  const base = `ttlog-${safePart(meta.service)}-${pid}-${stamp(time)}-${
    safePart(meta.reason)
  }`;
  repeats = base === lastBase ? repeats + 1 : 0;
  lastBase = base;
  return {
    name: repeats === 0 ? `${base}.ttlog` : `${base}-${repeats}.ttlog`,
    service: meta.service,
    chunks,
    events,
  };
}

/**
 * Writes a snapshot made by {@link buildSnapshot} into `dir`: to a
 * temporary name, fsynced, renamed (a `-N` suffix when the name is taken),
 * mode 0600; then prunes the service's oldest snapshots past `keep`.
 * Returns the path.
 */
export function writeSnapshotFile(
  snapshot: BuiltSnapshot,
  options: { readonly dir: string; readonly keep: number },
): string {
  const fs = nodeFs("snapshot");
  fs.mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const base = snapshot.name.slice(0, -".ttlog".length);
  let name = snapshot.name;
  for (let n = 1; fs.existsSync(`${options.dir}/${name}`); n++) {
    name = `${base}-${n}.ttlog`;
  }
  const path = `${options.dir}/${name}`;
  const temporary = `${options.dir}/.${name}.${
    Math.random().toString(36).slice(2)
  }.tmp`;
  const fd = fs.openSync(temporary, "wx", 0o600);
  try {
    for (const chunk of snapshot.chunks) {
      let written = 0;
      while (written < chunk.length) {
        written += fs.writeSync(fd, chunk, written, chunk.length - written);
      }
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, path);
  prune(options.dir, snapshot.service, options.keep);
  return path;
}

/** Regular-expression text matching `text` literally. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
}

/**
 * A snapshot file of `service` exactly: `ttlog-<service>-<pid>-<time>-...`.
 * "api" must not match "api-admin"'s files, nor "api-1"'s: the pid and the
 * time after the service pin where the service ends.
 */
function ownFiles(service: string): RegExp {
  return new RegExp(
    `^ttlog-${
      literal(safePart(service))
    }-\\d+-\\d{8}T\\d{6}\\.\\d{3}Z-[A-Za-z0-9_.-]*\\.ttlog$`,
  );
}

/** A writer's temporary file: `.ttlog-<service>-<pid>-...ttlog.<random>.tmp`. */
const TEMPORARY =
  /^\.ttlog-[A-Za-z0-9_.-]+?-(\d+)-\d{8}T\d{6}\.\d{3}Z-[A-Za-z0-9_.-]*\.ttlog\.[a-z0-9]+\.tmp$/;

/** A temporary file this old is stale, whoever wrote it. */
const STALE_MS = 5 * 60_000;

/** Whether a process with this id runs (or may: another user's). */
function running(pid: number): boolean {
  const proc = tryBuiltin<{ kill?: (pid: number, signal: number) => void }>(
    "node:process",
  );
  if (proc?.kill === undefined) return true;
  try {
    proc.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/** The records of `capture` whose fields match `where`. */
function select(
  capture: Capture,
  dictionary: DictionaryMemory,
  where: Readonly<Record<string, unknown>>,
): Capture {
  const u8 = capture.records;
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const reader = new ValueReader(new DictionaryReader(dictionary));
  const keys = Object.keys(where);
  const out = new Uint8Array(u8.length);
  const seqs = new Uint32Array(capture.count);
  let size = 0;
  let count = 0;
  for (let at = 0, i = 0; at + 4 <= u8.length; i++) {
    const content = contentLength(view.getUint32(at, true));
    const aligned = alignedLength(content);
    if (content < MIN_HEADER_BYTES || at + aligned > u8.length) break;
    let keep = false;
    try {
      const { fields } = decodeEvent(
        reader,
        u8,
        at,
        at + content,
        "",
        capture.seqs[i],
        capture.timeBase,
      );
      keep = keys.every((key) => Object.is(fields[key], where[key]));
    } catch {
      // Overwritten during the copy: not one of the events asked for.
    }
    if (keep) {
      out.set(u8.subarray(at, at + aligned), size);
      seqs[count] = capture.seqs[i];
      size += aligned;
      count++;
    }
    at += aligned;
  }
  return {
    ...capture,
    records: out.subarray(0, size),
    count,
    seqs: seqs.subarray(0, count),
  };
}

/**
 * A trigger that names an event (`producer` and `seq`) gets the event itself
 * as `event`, in the ndjson formatter's shape, when the capture holds it.
 */
function withEvent(
  trigger: unknown,
  captures: readonly Capture[],
  producers: readonly SnapshotProducer[],
  service: string,
): unknown {
  if (typeof trigger !== "object" || trigger === null) return trigger;
  const { producer, seq } = trigger as { producer?: unknown; seq?: unknown };
  const capture = typeof producer === "number" ? captures[producer] : undefined;
  if (capture === undefined || typeof seq !== "number") return trigger;
  const u8 = capture.records;
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  // Keep the last match (sequence numbers wrap after 2^32 events).
  let found = -1;
  let foundEnd = 0;
  for (let at = 0, i = 0; at + 4 <= u8.length; i++) {
    const content = contentLength(view.getUint32(at, true));
    if (content < MIN_HEADER_BYTES || at + content > u8.length) break;
    if (capture.seqs[i] === seq >>> 0) {
      found = at;
      foundEnd = at + content;
    }
    at += alignedLength(content);
  }
  if (found < 0) return trigger;
  try {
    const reader = new ValueReader(
      new DictionaryReader(producers[producer as number].dictionary),
    );
    const record = decodeEvent(
      reader,
      u8,
      found,
      foundEnd,
      service,
      seq >>> 0,
      capture.timeBase,
    );
    return {
      ...trigger,
      event: JSON.parse(ndjsonFormatter({ seq: true })(record)),
    };
  } catch {
    // A record another thread overwrote during the copy: no text, the
    // trigger's kind and seq still say which event it was.
    return trigger;
  }
}

/**
 * Deletes the oldest snapshots of a service past `keep` (its own files only,
 * matched exactly), and temporary files left by writers that died mid-write
 * (their process is gone, or they are over five minutes old).
 */
function prune(dir: string, service: string, keep: number): void {
  const fs = nodeFs("snapshot");
  const names = fs.readdirSync(dir);
  const now = Date.now();
  for (const name of names) {
    const match = TEMPORARY.exec(name);
    if (match === null) continue;
    try {
      const age = now - fs.statSync(`${dir}/${name}`).mtimeMs;
      if (age > STALE_MS || !running(Number(match[1]))) {
        fs.unlinkSync(`${dir}/${name}`);
      }
    } catch { /* gone meanwhile */ }
  }
  const own = ownFiles(service);
  const files = names
    .filter((name) => own.test(name))
    .flatMap((name) => {
      try {
        return [{ name, time: fs.statSync(`${dir}/${name}`).mtimeMs }];
      } catch {
        return []; // removed meanwhile
      }
    })
    .sort((a, b) => b.time - a.time || (a.name < b.name ? 1 : -1));
  for (const file of files.slice(keep)) {
    try {
      fs.unlinkSync(`${dir}/${file.name}`);
    } catch { /* already gone */ }
  }
}
