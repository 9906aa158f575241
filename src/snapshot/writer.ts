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
import {
  type Capture,
  type CapturedEntry,
  captureRing,
  type CaptureRun,
  viewRingRecords,
} from "./capture.ts";
import {
  encodeChunk,
  endChunk,
  EventsChunkEncoder,
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
  /**
   * Whether only the thread taking snapshots writes this ring (the
   * logger's own ring): a snapshot then reads the records where they are
   * instead of copying them first.
   */
  readonly local?: boolean;
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
 * Each chunk goes to the file as soon as it is made, so that the snapshot
 * of a full ring needs a chunk's worth of memory, not the file's.
 */
export function writeSnapshotSync(
  producers: readonly SnapshotProducer[],
  meta: { service: string; reason: string } & Record<string, unknown>,
  options: SnapshotWriteOptions,
): string {
  const time = Date.now();
  const name = snapshotName(meta.service, meta.reason, time);
  return writeFileWith(name, meta.service, options, (write) => {
    makeChunks(producers, meta, options, time, write);
  });
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
  const name = snapshotName(meta.service, meta.reason, time);
  const chunks: Uint8Array[] = [];
  const events = makeChunks(
    producers,
    meta,
    options,
    time,
    (chunk) => chunks.push(chunk.slice()),
  );
  return { name, service: meta.service, chunks, events };
}

/** The process id, or 0 where there is none. */
function processId(): number {
  return tryBuiltin<{ pid?: number }>("node:process")?.pid ?? 0;
}

/** `ttlog-<service>-<pid>-<UTC time>-<reason>[-N].ttlog`. */
function snapshotName(service: string, reason: string, time: number): string {
  // Two snapshots in one millisecond must not share a name: a store would
  // keep only the last (files get a "-N" suffix from the directory too).
  const base = `ttlog-${safePart(service)}-${processId()}-${stamp(time)}-${
    safePart(reason)
  }`;
  repeats = base === lastBase ? repeats + 1 : 0;
  lastBase = base;
  return repeats === 0 ? `${base}.ttlog` : `${base}-${repeats}.ttlog`;
}

/** The records of one producer, as runs: in place or copied. */
interface Held {
  readonly runs: readonly CaptureRun[];
  readonly count: number;
  readonly timeBase: number;
  readonly entries: readonly CapturedEntry[];
  /** The copy, for the trigger's event. */
  readonly capture?: Capture;
}

/** What each producer holds within the window. */
function hold(
  producers: readonly SnapshotProducer[],
  options: SnapshotBuildOptions,
  now: number,
): Held[] {
  const window = { ms: options.ms, bytes: options.bytes, now };
  return producers.map((producer) => {
    if (producer.local === true && options.where === undefined) {
      return viewRingRecords(producer.ring, producer.dictionary, window);
    }
    const copied = captureRing(producer.ring, producer.dictionary, window);
    const capture = options.where === undefined
      ? copied
      : select(copied, producer.dictionary, options.where);
    return {
      runs: [{ records: capture.records, seqs: capture.seqs }],
      count: capture.count,
      timeBase: capture.timeBase,
      entries: capture.entries,
      capture,
    };
  });
}

/**
 * Makes a snapshot's chunks, in file order, handing each to `emit` (which
 * must be done with it when it returns: events chunks share buffers).
 * Returns the number of events.
 */
function makeChunks(
  producers: readonly SnapshotProducer[],
  meta: { service: string; reason: string } & Record<string, unknown>,
  options: SnapshotBuildOptions,
  time: number,
  emit: (chunk: Uint8Array) => void,
): number {
  const held = hold(producers, options, time);
  let chunks = 0;
  const put = (chunk: Uint8Array) => {
    emit(chunk);
    chunks++;
  };
  put(encodeChunk(
    ChunkKind.header,
    headerChunk({
      ...meta,
      trigger: withEvent(meta.trigger, held, producers, meta.service),
      host: hostName(),
      pid: processId(),
      time,
      producers: producers.length,
    }),
    options.compression,
  ));
  const encoder = new EventsChunkEncoder(options.compression);
  let events = 0;
  held.forEach((producer, index) => {
    events += producer.count;
    for (const run of producer.runs) {
      const records = run.records;
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
          to < records.length &&
          (to === from || to - from < CHUNK_RECORD_BYTES)
        ) {
          to += alignedLength(contentLength(words[to >> 2]));
          toRecord++;
        }
        put(encoder.encode(index, producer.entries, {
          records: records.subarray(from, to),
          seqs: run.seqs.subarray(fromRecord, toRecord),
          timeBase: producer.timeBase,
        }));
        from = to;
        fromRecord = toRecord;
      }
    }
  });
  put(encodeChunk(
    ChunkKind.end,
    endChunk(chunks + 1, events),
    options.compression,
  ));
  return events;
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
  return writeFileWith(snapshot.name, snapshot.service, options, (write) => {
    for (const chunk of snapshot.chunks) write(chunk);
  });
}

/**
 * Creates a snapshot file named `name` in `dir` with what `fill` writes:
 * to a temporary name, fsynced, renamed (a `-N` suffix when the name is
 * taken), mode 0600; then prunes the service's oldest snapshots past
 * `keep`. Returns the path. When `fill` throws, the temporary file is
 * removed and the error goes on.
 */
function writeFileWith(
  snapshotName: string,
  service: string,
  options: { readonly dir: string; readonly keep: number },
  fill: (write: (chunk: Uint8Array) => void) => void,
): string {
  const fs = nodeFs("snapshot");
  fs.mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const base = snapshotName.slice(0, -".ttlog".length);
  let name = snapshotName;
  for (let n = 1; fs.existsSync(`${options.dir}/${name}`); n++) {
    name = `${base}-${n}.ttlog`;
  }
  const path = `${options.dir}/${name}`;
  const temporary = `${options.dir}/.${name}.${
    Math.random().toString(36).slice(2)
  }.tmp`;
  const fd = fs.openSync(temporary, "wx", 0o600);
  try {
    try {
      fill((chunk) => {
        let written = 0;
        while (written < chunk.length) {
          written += fs.writeSync(fd, chunk, written, chunk.length - written);
        }
      });
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    try {
      fs.unlinkSync(temporary);
    } catch { /* already gone */ }
    throw error;
  }
  fs.renameSync(temporary, path);
  prune(options.dir, service, options.keep);
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
  held: readonly Held[],
  producers: readonly SnapshotProducer[],
  service: string,
): unknown {
  if (typeof trigger !== "object" || trigger === null) return trigger;
  const { producer, seq } = trigger as { producer?: unknown; seq?: unknown };
  const holding = typeof producer === "number" ? held[producer] : undefined;
  if (holding === undefined || typeof seq !== "number") return trigger;
  // Keep the last match (sequence numbers wrap after 2^32 events).
  let found: Uint8Array | undefined;
  let foundAt = -1;
  let foundEnd = 0;
  for (const run of holding.runs) {
    const u8 = run.records;
    const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    for (let at = 0, i = 0; at + 4 <= u8.length; i++) {
      const content = contentLength(view.getUint32(at, true));
      if (content < MIN_HEADER_BYTES || at + content > u8.length) break;
      if (run.seqs[i] === seq >>> 0) {
        found = u8;
        foundAt = at;
        foundEnd = at + content;
      }
      at += alignedLength(content);
    }
  }
  if (found === undefined) return trigger;
  try {
    const reader = new ValueReader(
      new DictionaryReader(producers[producer as number].dictionary),
    );
    const record = decodeEvent(
      reader,
      found,
      foundAt,
      foundEnd,
      service,
      seq >>> 0,
      holding.timeBase,
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
