/**
 * The drain: one loop that reads committed records from every producer ring,
 * applies the emit filter, accounts for every loss, and hands batches to the
 * sinks: decoded records to ordinary sinks, the records' bytes and the
 * dictionary entries they need to raw sinks (`writeRaw`), which then never
 * decode. The same code runs on the caller's thread (inline host) and in the
 * drain's worker.
 *
 * @module
 */

import type { LevelValue } from "../level.ts";
import { decodeEvent, decodeWithHeader } from "../record/decode.ts";
import type { LogRecord } from "../record/values.ts";
import {
  alignedLength,
  contentLength,
  CTL_COMMIT,
  CTL_DROPPED,
  CTL_READ,
  KIND_EVENT,
  KIND_PAD,
  MIN_HEADER_BYTES,
  readHeader,
  recordKind,
  ringTimeBase,
  S_DROPS_REPORTED,
  S_EMITTED,
  S_FILTERED,
  S_LOSS_RECORDS,
  S_LOST,
} from "../ring/ring.ts";
import type { RawBatch, RawLoss, Sink, SinkDelivery } from "../sinks/sink.ts";
import type { ReplayDelivery } from "../snapshot/replay.ts";
import { LinePass } from "./lines.ts";
import { mergeByTime, type ProducerSource, Source } from "./source.ts";

/** Records read from one ring per pass, at most (keeps each pass short). */
const BATCH_RECORDS = 4096;
/** Writes in flight per sink before the drain stops reading the rings. */
const MAX_IN_FLIGHT = 16;

/** Per-sink delivery counters. */
export interface SinkMetrics {
  /** Records the sink took (or, with `delivery`, that reached its destination). */
  written: number;
  /** Records lost: a write that failed for good, or what the sink gave up on. */
  dropped: number;
  /** Writes that threw or rejected, and the sink's own failures. */
  errors: number;
}

/** Reports a problem of ttlog itself (a failing sink, a corrupt record) to the user. */
export type Reporter = (message: string) => void;

interface SinkState {
  readonly sink: Sink;
  /** Whether it takes raw batches (`writeRaw`) instead of records. */
  readonly raw: boolean;
  /** Whether it takes NDJSON lines (`writeLines`) instead of records. */
  readonly lines: boolean;
  readonly metrics: SinkMetrics;
  pending: Set<Promise<void>>;
  lastReport: number;
}

/** The drain's counters. */
export interface DrainCounters {
  /** Events delivered to the sinks. */
  emitted: number;
  /** Events recorded but below their target's emit level. */
  filtered: number;
  /** Events overwritten (or torn) before the drain read them. */
  lost: number;
  /** Events that dropped under the `drop` or `block` policy, as the drain has seen them. */
  droppedSeen: number;
  /** "lost N events" records written. */
  lossRecords: number;
  /** Passes that read at least one record. */
  passes: number;
}

/** Pass durations kept for percentiles. */
export const PASS_TIMES = 256;

/** The p-th percentile (0-1) of the first `count` values (unsorted input). */
export function percentile(
  values: Float64Array,
  count: number,
  p: number,
): number {
  const n = Math.min(count, values.length);
  if (n === 0) return 0;
  const sorted = values.slice(0, n).sort();
  return sorted[Math.min(n - 1, Math.floor(p * n))];
}

/** A sink's own delivery counters, if it keeps them (never throws). */
function readDelivery(sink: Sink): SinkDelivery | undefined {
  try {
    const own = sink.delivery;
    return own === undefined || own === null ? undefined : {
      written: Number(own.written) || 0,
      dropped: Number(own.dropped) || 0,
      errors: Number(own.errors) || 0,
    };
  } catch {
    return undefined;
  }
}

/** Reads rings, filters, accounts, delivers. */
export class Drain {
  readonly counters: DrainCounters = {
    emitted: 0,
    filtered: 0,
    lost: 0,
    droppedSeen: 0,
    lossRecords: 0,
    passes: 0,
  };
  #sources: Source[] = [];
  #sinks: SinkState[];
  #service: string;
  #emitLevel: (target: string) => LevelValue;
  #report: Reporter;
  #emitCache = new Map<string, LevelValue>();
  /** Whether any sink takes decoded records; if none does, nothing is decoded. */
  #decode: boolean;
  /** Whether any sink takes raw batches. */
  #raw: boolean;
  /** The pass's NDJSON lines, when some sink takes them. */
  #lines: LinePass | undefined;

  constructor(options: {
    service: string;
    sinks: readonly Sink[];
    emitLevel: (target: string) => LevelValue;
    report: Reporter;
  }) {
    this.#service = options.service;
    this.#emitLevel = options.emitLevel;
    this.#report = options.report;
    this.#sinks = options.sinks.map((sink) => ({
      sink,
      raw: typeof sink.writeRaw === "function",
      lines: sink.lines === "ndjson" && typeof sink.writeLines === "function",
      metrics: { written: 0, dropped: 0, errors: 0 },
      pending: new Set(),
      lastReport: -Infinity,
    }));
    this.#decode = this.#sinks.some((state) => !state.raw && !state.lines);
    this.#lines = this.#sinks.some((state) => !state.raw && state.lines)
      ? new LinePass(this.#service)
      : undefined;
    this.#raw = this.#sinks.some((state) => state.raw);
  }

  /** Registers a producer's ring and dictionary. */
  add(source: ProducerSource): void {
    this.#sources.push(new Source(source, this.#sources.length));
  }

  /**
   * Per-sink counters, by position in the sinks list: a sink's own
   * `delivery` where it has one (what reached the destination), else what
   * the drain handed it.
   */
  sinkMetrics(): ({ name: string } & SinkMetrics)[] {
    return this.#sinks.map((s) => {
      const own = readDelivery(s.sink);
      // With its own counters a sink counts what it lost itself (a write
      // that threw lost what the sink says it lost, not the whole batch).
      return own === undefined ? { name: s.sink.name, ...s.metrics } : {
        name: s.sink.name,
        written: own.written,
        dropped: own.dropped,
        errors: s.metrics.errors + own.errors,
      };
    });
  }

  /** Each ring's commit position now: a flush is done once reading passes them. */
  marks(): number[] {
    return this.#sources.map((source) =>
      Atomics.load(source.ring.ctl, CTL_COMMIT)
    );
  }

  /** Whether reading has passed the positions `marks()` returned. */
  reached(marks: readonly number[]): boolean {
    for (let i = 0; i < marks.length && i < this.#sources.length; i++) {
      if (((marks[i] - this.#sources[i].read) | 0) > 0) return false;
    }
    return true;
  }

  /** Whether any ring has committed records not yet read. */
  hasPending(): boolean {
    for (const source of this.#sources) {
      if (Atomics.load(source.ring.ctl, CTL_COMMIT) !== source.read) {
        return true;
      }
    }
    return false;
  }

  /**
   * One pass: reads up to a batch from every ring and delivers it.
   * Returns the number of records read (0: nothing was pending).
   */
  pump(): number {
    const started = performance.now();
    let read = 0;
    let batch: LogRecord[];
    const raw: RawBatch[] = [];
    if (this.#sources.length === 1) {
      batch = [];
      read = this.#readSource(this.#sources[0], batch, raw);
    } else {
      const parts: LogRecord[][] = [];
      for (const source of this.#sources) {
        const part: LogRecord[] = [];
        read += this.#readSource(source, part, raw);
        if (part.length > 0) parts.push(part);
      }
      batch = parts.length === 1 ? parts[0] : mergeByTime(parts);
    }
    const lines = this.#lines?.take();
    if (batch.length > 0 || raw.length > 0 || lines !== undefined) {
      this.#deliver(batch, raw, lines);
    }
    if (read > 0) {
      const times = this.passTimes;
      times[this.counters.passes % times.length] = performance.now() - started;
      this.counters.passes++;
    }
    return read;
  }

  /** Durations of the most recent passes, in ms (a ring indexed by `passes`). */
  readonly passTimes: Float64Array = new Float64Array(PASS_TIMES);

  /** NDJSON lines written straight from record bytes, and by the formatter. */
  get lineCounts(): { fast: number; slow: number } {
    return this.#lines?.counts ?? { fast: 0, slow: 0 };
  }

  /** How many producers are registered. */
  get producers(): number {
    return this.#sources.length;
  }

  /**
   * Reads a batch of one ring: decoded records into `batch` (when some sink
   * takes them), the emitted records' bytes into a raw batch (when some sink
   * takes those). Returns the number of events read.
   */
  #readSource(source: Source, batch: LogRecord[], raw: RawBatch[]): number {
    const { ctl, u8, i32, mask } = source.ring;
    const commit = Atomics.load(ctl, CTL_COMMIT);
    // Loaded after the commit position: the base its records count from.
    const timeBase = ringTimeBase(source.ring);
    let read = source.read;
    let seq = source.expectedSeq;
    let lost = 0;
    const pair = source.pair;
    source.pairs.loadTail(pair);
    if (((pair.position - read) | 0) > 0) {
      // Overwritten before they were read: the tail's sequence number
      // says how many.
      lost = Math.max(0, (pair.seq - seq) | 0);
      read = pair.position;
      seq = pair.seq;
    }
    const first = batch.length;
    const begin = read;
    const decode = this.#decode;
    const copy = this.#raw;
    const lines = this.#lines;
    const lineCache = lines === undefined
      ? undefined
      : source.lineCache ??= lines.cache(source.reader.dictionary);
    lines?.beginSource(this.#sources.length > 1);
    const h = source.header;
    source.rawBytes = 0;
    source.rawCount = 0;
    source.rawSeqs.length = 0;
    let count = 0;
    let corrupt = false;
    let filtered = 0;
    let undecodable = 0;
    // A run of emitted records contiguous in the ring, copied in one go.
    let runStart = -1;
    let runEnd = -1;
    while (read !== commit && count < BATCH_RECORDS) {
      const index = read & mask;
      const word = i32[index >> 2];
      const kind = recordKind(word);
      const content = contentLength(word);
      const length = alignedLength(content);
      if (
        (kind !== KIND_EVENT && kind !== KIND_PAD) || length === 0 ||
        length > ((commit - read) | 0) ||
        (kind === KIND_EVENT && content < MIN_HEADER_BYTES)
      ) {
        corrupt = true;
        break;
      }
      if (kind === KIND_EVENT) {
        count++;
        const recordSeq = seq;
        seq = (seq + 1) | 0;
        const end = index + content;
        const fits = readHeader(u8, index, end, timeBase, h);
        const level = h.level;
        const emit = fits
          ? this.#emitLevelById(source, h.targetId, h.body, end)
          : undefined;
        let emitted = false;
        if (emit === undefined || level > 5) undecodable++;
        else if (level < emit) filtered++;
        else if (!decode && lines === undefined) emitted = true;
        else {
          try {
            let record: LogRecord | undefined;
            if (decode) {
              record = decodeWithHeader(
                source.reader,
                u8,
                h,
                index,
                end,
                this.#service,
                recordSeq >>> 0,
              );
              batch.push(record);
            }
            lines?.record(
              lineCache!,
              u8,
              index,
              end,
              h,
              record,
              recordSeq >>> 0,
              source.reader,
              this.#service,
            );
            emitted = true;
          } catch {
            // Sound framing, bad content: skip this record alone (its length
            // is known), and account for its event as lost.
            undecodable++;
          }
        }
        if (emitted && copy) {
          if (index !== runEnd) {
            if (runStart >= 0) this.#copyRaw(source, u8, runStart, runEnd);
            runStart = index;
          }
          runEnd = index + length;
          source.rawCount++;
          source.rawSeqs.push(recordSeq >>> 0);
        }
      }
      read = (read + length) | 0;
    }
    if (runStart >= 0) this.#copyRaw(source, u8, runStart, runEnd);
    // Anything that began before the tail as it is now may have been
    // overwritten while it was read: drop the pass and read again (from
    // the source's read state, untouched so far: the new tail's sequence
    // number counts every event lost since).
    source.pairs.loadTail(pair);
    if (((pair.position - begin) | 0) > 0) {
      batch.length = first;
      lines?.rewindSource();
      return this.#readSource(source, batch, raw);
    }
    if (undecodable > 0) {
      this.#report(
        `ttlog: ${undecodable} record(s) in the ring could not be decoded; counted as lost`,
      );
    }
    if (corrupt) {
      // The records read before this one are intact (the tail did not pass
      // them): keep them. What follows cannot be framed: skip to the newest
      // record. How many events that skips is not known (records carry no
      // sequence numbers): the skip is reported, not counted.
      this.#report(
        `ttlog: a record in the ring could not be decoded; skipping to the newest record`,
      );
      read = commit;
    }
    this.#account(
      source,
      batch,
      first,
      raw,
      lost,
      count,
      filtered,
      undecodable,
    );
    source.read = read;
    source.expectedSeq = seq;
    // The pair first: a drain that takes over this ring reads both.
    source.pairs.storeRead({ position: read, seq });
    Atomics.store(ctl, CTL_READ, read);
    // A producer blocked on a full ring waits on READ.
    if (count > 0) Atomics.notify(ctl, CTL_READ);
    return count;
  }

  /**
   * The emit level of a record's target, cached by target id; an inline
   * target (id 0) is read from the record. Undefined when the target cannot
   * be read (the record is undecodable).
   */
  #emitLevelById(
    source: Source,
    targetId: number,
    body: number,
    end: number,
  ): LevelValue | undefined {
    if (targetId !== 0) {
      const cached = source.emitById[targetId];
      if (cached !== undefined) return cached;
      const target = source.reader.dictionary.get(targetId);
      if (typeof target !== "string") return undefined;
      const level = this.#emitLevelOf(target);
      source.emitById[targetId] = level;
      return level;
    }
    const reader = source.reader;
    try {
      reader.reset(source.ring.u8, body, end);
      return this.#emitLevelOf(reader.string());
    } catch {
      return undefined;
    }
  }

  /** Appends ring bytes `[from, to)` to the source's raw records. */
  #copyRaw(source: Source, u8: Uint8Array, from: number, to: number): void {
    const need = source.rawBytes + to - from;
    if (source.raw.length < need) {
      const grown = new Uint8Array(Math.max(need, source.raw.length * 2, 4096));
      grown.set(source.raw.subarray(0, source.rawBytes));
      source.raw = grown;
    }
    source.raw.set(u8.subarray(from, to), source.rawBytes);
    source.rawBytes = need;
  }

  /**
   * Counts losses (sequence gaps, drops) and filtered events of a pass, and
   * adds the "lost N events" records (and raw losses) they call for.
   */
  #account(
    source: Source,
    batch: LogRecord[],
    first: number,
    raw: RawBatch[],
    lost: number,
    count: number,
    filtered: number,
    undecodable: number,
  ): void {
    const emitted = count - filtered - undecodable;
    this.counters.emitted += emitted;
    this.counters.filtered += filtered;
    const stats = source.ring.stats;
    stats[S_EMITTED] += emitted;
    stats[S_FILTERED] += filtered;
    stats[S_LOST] += lost + undecodable;
    stats[S_LOSS_RECORDS] += (lost > 0 ? 1 : 0) + (undecodable > 0 ? 1 : 0);
    const dropped = Atomics.load(source.ring.ctl, CTL_DROPPED);
    const newlyDropped = (dropped - source.droppedSeen) | 0;
    source.droppedSeen = dropped;
    stats[S_DROPS_REPORTED] = dropped;
    this.counters.droppedSeen += newlyDropped;
    const losses: RawLoss[] = [];
    if (lost > 0) {
      this.counters.lost += lost;
      losses.push({ lost, reason: "overwritten before the drain read them" });
    }
    if (undecodable > 0) {
      this.counters.lost += undecodable;
      losses.push({
        lost: undecodable,
        reason: "their records could not be decoded",
      });
    }
    if (newlyDropped > 0) {
      stats[S_LOSS_RECORDS]++;
      losses.push({ lost: newlyDropped, reason: "dropped: the ring was full" });
    }
    this.counters.lossRecords += losses.length;
    // Overwritten and undecodable events came before this batch's records;
    // drops are reported after them.
    const time = losses.length > 0 ? Date.now() : 0;
    const records = losses.map((loss) => this.#lossRecord(loss, time));
    const drop = newlyDropped > 0 ? records.pop() : undefined;
    records.reverse();
    if (losses.length > 0 && this.#decode) {
      if (drop !== undefined) batch.push(drop);
      batch.splice(first, 0, ...records);
    }
    this.#lines?.endSource(records, drop);
    if (this.#raw && (source.rawCount > 0 || losses.length > 0)) {
      raw.push({
        service: this.#service,
        producer: source.index,
        records: source.raw.slice(0, source.rawBytes),
        count: source.rawCount,
        seqs: Uint32Array.from(source.rawSeqs),
        timeBase: ringTimeBase(source.ring),
        entries: source.newEntries(),
        losses,
      });
    }
  }

  #lossRecord(loss: RawLoss, time: number): LogRecord {
    return {
      time,
      level: "warn",
      target: "ttlog",
      msg: `lost ${loss.lost} events`,
      fields: { lost: loss.lost, reason: loss.reason },
      service: this.#service,
      seq: -1,
    };
  }

  /**
   * Delivers a replay (see snapshot/replay.ts) to the sinks that take
   * decoded records: a summary event, then each replayed event as it was
   * recorded, with a `replay` field holding the reason. Raw sinks (.ttlog
   * files) get none: their readers have snapshots for this. Returns the
   * events delivered (the summary not included).
   */
  replay(delivery: ReplayDelivery): number {
    const { reason } = delivery;
    const records: LogRecord[] = [{
      time: delivery.time,
      level: "info",
      target: "ttlog",
      msg: `replay: ${reason}`,
      fields: { ...delivery.fields, replay: reason },
      service: this.#service,
      seq: -1,
    }];
    for (const batch of delivery.batches) {
      const source = this.#sources[batch.producer];
      if (source === undefined) continue;
      const u8 = batch.records;
      const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
      for (let at = 0, i = 0; at + MIN_HEADER_BYTES <= u8.length; i++) {
        const content = contentLength(view.getUint32(at, true));
        if (content < MIN_HEADER_BYTES || at + content > u8.length) break;
        try {
          const record = decodeEvent(
            source.reader,
            u8,
            at,
            at + content,
            this.#service,
            batch.seqs[i],
            batch.timeBase,
          );
          records.push({
            ...record,
            fields: { ...record.fields, replay: reason },
          });
        } catch {
          // Checked when it was selected: cannot happen short of a bug.
        }
        at += alignedLength(content);
      }
    }
    for (const state of this.#sinks) {
      if (!state.raw) this.#write(state, records, records.length, 1);
    }
    return records.length - 1;
  }

  #emitLevelOf(target: string): LevelValue {
    let level = this.#emitCache.get(target);
    if (level === undefined) {
      level = this.#emitLevel(target);
      if (this.#emitCache.size < 10000) this.#emitCache.set(target, level);
    }
    return level;
  }

  #deliver(
    batch: LogRecord[],
    raw: RawBatch[],
    lines: { bytes: Uint8Array; count: number } | undefined,
  ): void {
    let rawSize = 0;
    for (const part of raw) rawSize += part.count + part.losses.length;
    for (const state of this.#sinks) {
      if (state.raw) {
        if (raw.length > 0) this.#write(state, raw, rawSize, 1);
      } else if (state.lines) {
        if (lines !== undefined) {
          this.#write(state, lines.bytes, lines.count, 1);
        }
      } else if (batch.length > 0) this.#write(state, batch, batch.length, 1);
    }
  }

  /**
   * Writes a batch (records, or raw batches for a raw sink) to one sink; a
   * failure is retried if the sink asks for it. `size` is what the batch
   * counts for in the sink's `written`.
   */
  #write(
    state: SinkState,
    batch: LogRecord[] | RawBatch[] | Uint8Array,
    size: number,
    attempt: number,
  ): void {
    if (
      batch instanceof Uint8Array && attempt === 1 &&
      state.sink.retry !== undefined
    ) {
      // Lines are the pass's buffer, reused by the next pass: a write that
      // may be retried gets its own copy.
      batch = batch.slice();
    }
    const failed = (error: unknown) => {
      this.#sinkFailed(state, error);
      const retry = state.sink.retry;
      if (retry === undefined || attempt >= retry.attempts) {
        state.metrics.dropped += size;
        return;
      }
      const delay = retry.delayMs * 2 ** (attempt - 1);
      const again = new Promise<void>((resolve) => {
        setTimeout(() => {
          state.pending.delete(again);
          this.#write(state, batch, size, attempt + 1);
          resolve();
        }, delay);
      });
      state.pending.add(again);
    };
    try {
      const result = state.raw
        ? state.sink.writeRaw!(batch as RawBatch[])
        : batch instanceof Uint8Array
        ? state.sink.writeLines!(batch, size)
        : state.sink.write(batch as LogRecord[]);
      if (result instanceof Promise) {
        const tracked: Promise<void> = result.then(
          () => {
            state.pending.delete(tracked);
            state.metrics.written += size;
          },
          (error) => {
            state.pending.delete(tracked);
            failed(error);
          },
        );
        state.pending.add(tracked);
      } else {
        state.metrics.written += size;
      }
    } catch (error) {
      failed(error);
    }
  }

  /**
   * Whether a sink has so many writes in flight that the next pass should
   * wait: the ring then fills and its overflow policy applies, instead of
   * memory growing behind a slow sink.
   */
  backlogged(): boolean {
    for (const state of this.#sinks) {
      if (state.pending.size >= MAX_IN_FLIGHT) return true;
    }
    return false;
  }

  /** Resolves once every sink is back under its bound of writes in flight. */
  async unclog(): Promise<void> {
    for (const state of this.#sinks) {
      while (state.pending.size >= MAX_IN_FLIGHT) {
        await Promise.race(state.pending);
      }
    }
  }

  #sinkFailed(state: SinkState, error: unknown): void {
    state.metrics.errors++;
    const now = Date.now();
    if (now - state.lastReport < 10_000) return;
    state.lastReport = now;
    let text: string;
    try {
      text = error instanceof Error
        ? `${error.name}: ${error.message}`
        : String(error);
    } catch {
      text = "(unprintable error)";
    }
    this.#report(
      `ttlog: sink "${state.sink.name}" failed (${state.metrics.errors} errors so far): ${text}`,
    );
  }

  /** Waits for every pending sink write, then flushes every sink. */
  async settle(): Promise<void> {
    for (const state of this.#sinks) {
      while (state.pending.size > 0) await Promise.all([...state.pending]);
    }
    await Promise.all(this.#sinks.map(async (state) => {
      try {
        await state.sink.flush?.();
      } catch (error) {
        this.#sinkFailed(state, error);
      }
    }));
  }

  /** Asks every sink to flush without waiting (exit hooks); failures are counted. */
  flushSinksNow(): void {
    for (const state of this.#sinks) {
      try {
        const result = state.sink.flush?.();
        if (result instanceof Promise) {
          result.catch((error) => this.#sinkFailed(state, error));
        }
      } catch (error) {
        this.#sinkFailed(state, error);
      }
    }
  }

  /** Tells every sink to give up on what it has not delivered (see Sink.abort). */
  abortSinks(): void {
    for (const state of this.#sinks) {
      try {
        state.sink.abort?.();
      } catch (error) {
        this.#sinkFailed(state, error);
      }
    }
  }

  /** Closes every sink (once each); failures are counted and reported. */
  async closeSinks(): Promise<void> {
    await Promise.all(this.#sinks.map(async (state) => {
      try {
        await state.sink.close?.();
      } catch (error) {
        this.#sinkFailed(state, error);
      }
    }));
  }
}
