/**
 * Reading `.ttlog` files into events, for the CLI and the dashboard: each
 * file streamed through a `TtlogReader` in 1 MiB pieces, each producer's
 * events kept in its own stream (in the order the producer wrote them),
 * filtered as they arrive, then merged by time across producers and files.
 *
 * The order is defined once, here, and `ttlog merge` writes files that keep
 * it: events by time; at equal times, the stream that comes first (files in
 * the order given, then producers by number) goes first; within one stream,
 * the producer's own order always holds (even if its clock stepped back).
 *
 * A loss chunk becomes a "lost N events" record (level warn, target `ttlog`,
 * fields `lost` and `reason`, sequence -1), as the drain writes them, placed
 * in its producer's stream just before the events that followed it, at the
 * time of the first of them (or, when none follows, after the producer's last
 * event at its time; for a producer without events, the file's newest time).
 * Filters apply to these records as to any event.
 *
 * Speed: a filter on level, target or absolute time is handed to the chunk
 * reader as its header `filter`, so the records it turns away are never
 * decoded; this is done only when the filter also hides loss records
 * (`--level error`, `--target db`), because a loss record's time comes from
 * the events after it, which must all be read.
 *
 * @module
 */

import type { LogRecord } from "../record/values.ts";
import { TtlogFormatError } from "../record/decode.ts";
import { nodeFs } from "../runtime/builtin.ts";
import { type TtlogItem, TtlogReader } from "../ttlog_file/chunk_reader.ts";
import { ReaderError } from "./errors.ts";
import type { HeaderTest } from "./filter.ts";

/** One producer's events in one file. */
export interface EventStream {
  /** The file's index in the command line. */
  readonly file: number;
  /** The producer's number in that file. */
  readonly producer: number;
  /** Its events that passed the filter, in the producer's order. */
  records: LogRecord[];
}

/** What was found in one file besides its events. */
export interface FileSummary {
  /** The path as given. */
  readonly path: string;
  /** The first header's metadata. */
  meta: Record<string, unknown>;
  /** Events read (before filtering; loss records not counted). */
  events: number;
  /** Records whose content could not be decoded (skipped). */
  undecodable: number;
  /** Loss chunks, in file order. */
  readonly losses: { producer: number; lost: number; reason: string }[];
  /** Where the whole chunks end, when the file ends inside one. */
  truncatedAt?: number;
  /** Set when a chunk is corrupt: reading stopped there. */
  error?: string;
}

/** Everything read from the files. */
export interface ReadResult {
  /** Per file. */
  readonly files: FileSummary[];
  /** Every stream, files in order, producers by number within a file. */
  readonly streams: EventStream[];
  /** The oldest and newest event time seen (before filtering); NaN when none. */
  readonly oldest: number;
  /** The newest event time. */
  readonly newest: number;
}

/** How {@link readFiles} reads. */
export interface ReadOptions {
  /**
   * Open without following a symbolic link in the last part of the path,
   * and read only a regular file: what is checked is what was opened (the
   * dashboard, where a link swapped in between a check and the read must
   * not be served).
   */
  readonly noFollow?: boolean;
  /** Keeps a record (after loss records are made); all when undefined. */
  readonly keep?: (record: LogRecord) => boolean;
  /** Keep at most this many of each stream's newest kept records. */
  readonly lastPerStream?: number;
  /**
   * What a record's header alone can turn away: given to a reader that takes
   * a `filter` (records it turns away are never decoded); `keep` must hold
   * the same test.
   */
  readonly header?: HeaderTest;
  /** Give records their call site's `template` (for `stats`). */
  readonly templates?: boolean;
}

const PIECE = 1 << 20;

/** A `lost N events` record, as the drain writes one. */
function lossRecord(
  time: number,
  lost: number,
  reason: string,
  service: string,
): LogRecord {
  return {
    time,
    level: "warn",
    target: "ttlog",
    msg: `lost ${lost} events`,
    fields: { lost, reason },
    service,
    seq: -1,
  };
}

/**
 * Collects the events of one file's chunks into per-producer streams,
 * turning loss chunks into loss records. Feed it items in file order.
 *
 * @example Two producers and a loss chunk
 * ```ts
 * import { StreamCollector } from "./read.ts";
 * import type { TtlogItem } from "../ttlog_file/chunk_reader.ts";
 * import assert from "node:assert/strict";
 * const record = (time: number, msg: string) =>
 *   ({ time, level: "info" as const, target: "", msg, fields: {}, service: "", seq: 0 });
 * const collector = new StreamCollector(0, "a.ttlog", {});
 * collector.add({ kind: "header", meta: { service: "api" } });
 * collector.add({ kind: "loss", producer: 1, lost: 3, reason: "dropped" });
 * const events = (producer: number, time: number, msg: string) =>
 *   ({ kind: "events", producer, records: [record(time, msg)], undecodable: 0 }) as TtlogItem;
 * collector.add(events(1, 5, "b"));
 * collector.add(events(0, 7, "a"));
 * const streams = collector.finish();
 * assert.deepEqual(streams.map((s) => s.records.map((r) => r.msg)), [["a"], ["lost 3 events", "b"]]);
 * assert.equal(collector.newest, 7);
 * ```
 */
export class StreamCollector {
  readonly #file: number;
  /** Keeps a record; may be replaced (tail -f fixes relative times later). */
  keep: ((record: LogRecord) => boolean) | undefined;
  /** How many of each stream's newest records to keep (0: none; tail -f). */
  last: number;
  readonly #streams = new Map<number, EventStream>();
  readonly #pendingLoss = new Map<
    number,
    { lost: number; reason: string; service: string }[]
  >();
  readonly #lastTime = new Map<number, number>();
  /** What was found in the file besides its events. */
  readonly summary: FileSummary;
  #service = "";
  /** The oldest event time read so far (NaN before the first). */
  oldest = NaN;
  /** The newest event time read so far (NaN before the first). */
  newest = NaN;

  /**
   * Creates a collector.
   *
   * @param file The file's index in the command line.
   * @param path The file's path, for messages.
   * @param options What to keep.
   */
  constructor(file: number, path: string, options: ReadOptions) {
    this.#file = file;
    this.keep = options.keep;
    this.last = options.lastPerStream ?? Infinity;
    this.summary = {
      path,
      meta: {},
      events: 0,
      undecodable: 0,
      losses: [],
    };
  }

  /**
   * A reader for this file. With a header test, the reader skips the records
   * it turns away without decoding them (its `filter` option), and this
   * collector still sees every record's time, for the oldest and newest.
   */
  reader(header: HeaderTest | undefined, templates = false): TtlogReader {
    if (header === undefined) return new TtlogReader({ templates });
    const filter = (level: number, target: string, time: number): boolean => {
      if (!(this.oldest <= time)) this.oldest = time;
      if (!(this.newest >= time)) this.newest = time;
      return header(level, target, time);
    };
    return new TtlogReader({ filter, templates });
  }

  /**
   * Takes one decoded chunk.
   *
   * @param item The chunk, in file order.
   * @returns The records it added that passed the filter (loss records
   * included); not to be kept (a stream may hold the same array).
   */
  add(item: TtlogItem): LogRecord[] {
    switch (item.kind) {
      case "header":
        if (Object.keys(this.summary.meta).length === 0) {
          this.summary.meta = item.meta;
        }
        if (typeof item.meta.service === "string") {
          this.#service = item.meta.service;
        }
        return [];
      case "loss": {
        this.summary.losses.push({
          producer: item.producer,
          lost: item.lost,
          reason: item.reason,
        });
        let pending = this.#pendingLoss.get(item.producer);
        if (pending === undefined) {
          this.#pendingLoss.set(item.producer, pending = []);
        }
        pending.push({
          lost: item.lost,
          reason: item.reason,
          service: this.#service,
        });
        return [];
      }
      case "events":
        return this.#events(
          item.producer,
          item.records,
          item.undecodable,
          item.filtered,
        );
      default:
        return [];
    }
  }

  #stream(producer: number): EventStream {
    let stream = this.#streams.get(producer);
    if (stream === undefined) {
      stream = { file: this.#file, producer, records: [] };
      this.#streams.set(producer, stream);
    }
    return stream;
  }

  #events(
    producer: number,
    records: LogRecord[],
    undecodable: number,
    filtered: number,
  ): LogRecord[] {
    const summary = this.summary;
    summary.events += records.length + filtered;
    summary.undecodable += undecodable;
    const n = records.length;
    if (n > 0) {
      let oldest = this.oldest;
      let newest = this.newest;
      // NaN compares false: the first record sets both.
      if (!(oldest <= records[0].time)) oldest = records[0].time;
      if (!(newest >= records[0].time)) newest = records[0].time;
      for (let i = 1; i < n; i++) {
        const time = records[i].time;
        if (time < oldest) oldest = time;
        else if (time > newest) newest = time;
      }
      this.oldest = oldest;
      this.newest = newest;
      this.#lastTime.set(producer, records[n - 1].time);
    }
    const pending = this.#pendingLoss.get(producer);
    if (pending !== undefined && n > 0) {
      this.#pendingLoss.delete(producer);
      const losses = pending.map((loss) =>
        lossRecord(records[0].time, loss.lost, loss.reason, loss.service)
      );
      records = [...losses, ...records];
    }
    const stream = this.#stream(producer);
    const keep = this.keep;
    let kept: LogRecord[];
    if (keep === undefined) kept = records;
    else {
      kept = [];
      for (let i = 0; i < records.length; i++) {
        if (keep(records[i])) kept.push(records[i]);
      }
    }
    if (this.last === 0) return kept;
    if (stream.records.length === 0) stream.records = kept;
    else appendAll(stream.records, kept);
    if (stream.records.length > 2 * this.last) {
      stream.records = stream.records.slice(-this.last);
    }
    return kept;
  }

  /**
   * Ends the file and returns its streams. Unless `keepPendingLosses` (tail
   * -f: the producer's next events may still come), losses with no event
   * after them become records at the producer's last time.
   *
   * @param keepPendingLosses Leave losses without a following event pending.
   * @returns The streams, producers by number.
   */
  finish(keepPendingLosses = false): EventStream[] {
    for (const [producer, pending] of this.#pendingLoss) {
      if (keepPendingLosses) break;
      const time = this.#lastTime.get(producer) ?? this.newest;
      for (const loss of pending) {
        const record = lossRecord(
          Number.isNaN(time) ? 0 : time,
          loss.lost,
          loss.reason,
          loss.service,
        );
        if (this.keep === undefined || this.keep(record)) {
          this.#stream(producer).records.push(record);
        }
      }
    }
    if (!keepPendingLosses) this.#pendingLoss.clear();
    const streams = [...this.#streams.values()].sort((a, b) =>
      a.producer - b.producer
    );
    if (Number.isFinite(this.last)) {
      for (const stream of streams) {
        if (stream.records.length > this.last) {
          stream.records = this.last === 0
            ? []
            : stream.records.slice(-this.last);
        }
      }
    }
    return streams;
  }
}

/** Appends without spreading (a chunk may hold hundreds of thousands of records). */
function appendAll(into: LogRecord[], from: readonly LogRecord[]): void {
  for (let i = 0; i < from.length; i++) into.push(from[i]);
}

/**
 * Opens `path` for reading; with `noFollow`, refusing a symbolic link as
 * the last part of the path (O_NOFOLLOW where the platform has it, and the
 * opened file's identity checked against the path's own either way) and
 * anything but a regular file, all judged on the opened handle.
 *
 * @param fs node:fs.
 * @param path The file.
 * @param noFollow Whether to refuse links and non-regular files.
 * @returns The file descriptor.
 * @throws {Error} When it cannot be opened or is refused.
 */
export function openForReading(
  fs: typeof import("node:fs"),
  path: string,
  noFollow: boolean,
): number {
  const noFollowFlag = (fs.constants as { O_NOFOLLOW?: number }).O_NOFOLLOW;
  const fd = noFollow && noFollowFlag !== undefined
    ? fs.openSync(path, fs.constants.O_RDONLY | noFollowFlag)
    : fs.openSync(path, "r");
  try {
    const opened = fs.fstatSync(fd);
    if (opened.isDirectory()) throw new Error("it is a directory");
    if (noFollow) {
      if (!opened.isFile()) throw new Error("it is not a regular file");
      // Without O_NOFOLLOW (or a link swapped in after the open): the path
      // must still name what was opened, and not as a link.
      const named = fs.lstatSync(path);
      if (
        named.isSymbolicLink() || named.ino !== opened.ino ||
        named.dev !== opened.dev
      ) {
        throw new Error("it changed while being opened");
      }
    }
    return fd;
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

/**
 * Reads the files, in the order given.
 *
 * @param paths The files.
 * @param options The filter and how many to keep.
 * @returns The streams and what was found.
 * @throws {ReaderError} When a file cannot be read or is not a .ttlog file
 * (kind `"file"`).
 *
 * @example Read a snapshot
 * ```ts
 * import { createLogger, memorySink } from "../../mod.ts";
 * import { readFiles } from "./read.ts";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * const dir = mkdtempSync(join(tmpdir(), "ttlog-doc-"));
 * const log = createLogger({ service: "api", sinks: [memorySink()], snapshot: { dir } });
 * log.debug("cache miss", { key: "user:7" });
 * log.warn("slow", { ms: 900 });
 * const path = await log.snapshot("example");
 * await log.close();
 * const read = readFiles([path], { keep: (record) => record.level === "warn" });
 * assert.deepEqual(read.streams[0].records.map((r) => r.msg), ["slow"]);
 * assert.equal(read.files[0].events, 2);
 * rmSync(dir, { recursive: true });
 * ```
 */
export function readFiles(
  paths: readonly string[],
  options: ReadOptions = {},
): ReadResult {
  const fs = nodeFs("ttlog");
  const files: FileSummary[] = [];
  const streams: EventStream[] = [];
  let oldest = NaN;
  let newest = NaN;
  for (const [index, path] of paths.entries()) {
    const collector = new StreamCollector(index, path, options);
    let fd: number;
    try {
      fd = openForReading(fs, path, options.noFollow === true);
    } catch (error) {
      throw new ReaderError(
        `ttlog: cannot read ${path}: ${(error as Error).message}`,
        "file",
      );
    }
    const reader = collector.reader(options.header, options.templates);
    let items = 0;
    try {
      const piece = new Uint8Array(PIECE);
      for (;;) {
        const n = fs.readSync(fd, piece, 0, PIECE, null);
        if (n === 0) break;
        for (const item of reader.push(piece.subarray(0, n))) {
          items++;
          collector.add(item);
        }
      }
      for (const item of reader.push(new Uint8Array(0))) collector.add(item);
      if (reader.pending > 0) collector.summary.truncatedAt = reader.offset;
      else reader.finish();
    } catch (error) {
      if (!(error instanceof TtlogFormatError)) throw error;
      if (items === 0) {
        throw new ReaderError(
          `ttlog: ${path} is not a .ttlog file (${error.message})`,
          "file",
        );
      }
      collector.summary.error = error.message;
    } finally {
      fs.closeSync(fd);
    }
    if (items === 0) {
      throw new ReaderError(
        `ttlog: ${path} is not a .ttlog file (${
          collector.summary.truncatedAt !== undefined
            ? "it ends inside its first chunk"
            : "it holds no chunk"
        })`,
        "file",
      );
    }
    files.push(collector.summary);
    for (const stream of collector.finish()) streams.push(stream);
    if (!(oldest <= collector.oldest)) oldest = collector.oldest;
    if (!(newest >= collector.newest)) newest = collector.newest;
  }
  return { files, streams, oldest, newest };
}

/**
 * Merges streams by time: at equal times the earlier stream first; each
 * stream's own order is kept. One stream is returned as it is.
 *
 * @param streams The streams, in their defined order.
 * @returns Every record, merged.
 *
 * @example Ties go to the earlier stream; a stream's own order holds
 * ```ts
 * import { mergeStreams } from "./read.ts";
 * import assert from "node:assert/strict";
 * const r = (time: number, msg: string) =>
 *   ({ time, level: "info" as const, target: "", msg, fields: {}, service: "", seq: 0 });
 * const merged = mergeStreams([
 *   { records: [r(2, "a"), r(1, "b")] },
 *   { records: [r(1, "c"), r(2, "d")] },
 * ]);
 * assert.deepEqual(merged.map((x) => x.msg), ["c", "a", "b", "d"]);
 * ```
 */
export function mergeStreams(
  streams: readonly { records: readonly LogRecord[] }[],
): LogRecord[] {
  const live = streams.filter((stream) => stream.records.length > 0);
  if (live.length === 0) return [];
  if (live.length === 1) return live[0].records as LogRecord[];
  let total = 0;
  for (const stream of live) total += stream.records.length;
  const out: LogRecord[] = new Array(total);
  // A binary heap of stream indexes keyed by (head time, stream index).
  const heads = new Int32Array(live.length);
  const heap: number[] = live.map((_, i) => i);
  const timeOf = (s: number) => live[s].records[heads[s]].time;
  const less = (a: number, b: number) => {
    const ta = timeOf(a);
    const tb = timeOf(b);
    return ta < tb || (ta === tb && a < b) ||
      // NaN times sort first, in stream order, rather than breaking the heap.
      (Number.isNaN(ta) && (!Number.isNaN(tb) || a < b));
  };
  const down = (at: number) => {
    const size = heap.length;
    for (;;) {
      const l = 2 * at + 1;
      if (l >= size) return;
      const r = l + 1;
      const c = r < size && less(heap[r], heap[l]) ? r : l;
      if (!less(heap[c], heap[at])) return;
      [heap[c], heap[at]] = [heap[at], heap[c]];
      at = c;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  let o = 0;
  while (heap.length > 0) {
    const s = heap[0];
    const records = live[s].records;
    // Take the run of this stream that stays at or before the next head.
    let limit = Infinity;
    let limitStream = Infinity;
    if (heap.length > 1) {
      const l = heap[1];
      const r = heap.length > 2 ? heap[2] : -1;
      const next = r >= 0 && less(r, l) ? r : l;
      limit = timeOf(next);
      limitStream = next;
    }
    let h = heads[s];
    do {
      out[o++] = records[h++];
    } while (
      h < records.length &&
      (records[h].time < limit ||
        (records[h].time === limit && s < limitStream))
    );
    heads[s] = h;
    if (h === records.length) {
      const lastIndex = heap.length - 1;
      heap[0] = heap[lastIndex];
      heap.pop();
    }
    if (heap.length > 0) down(0);
  }
  return out;
}
