/**
 * The drain: one loop that reads committed records from every producer ring,
 * decodes them, applies the emit filter, accounts for every loss, and hands
 * batches to the sinks. The same code runs on the caller's thread (inline
 * host) and, later, in a worker.
 *
 * @module
 */

import type { LevelValue } from "../level.ts";
import {
  type DictionaryMemory,
  DictionaryReader,
} from "../record/dictionary.ts";
import { decodeEvent, ValueReader } from "../record/decode.ts";
import type { LogRecord } from "../record/values.ts";
import {
  alignedLength,
  CTL_COMMIT,
  CTL_DROPPED,
  CTL_READ,
  CTL_REGISTERED,
  CTL_TAIL,
  KIND_EVENT,
  KIND_PAD,
  type RingMemory,
  S_DROPS_REPORTED,
  S_EMITTED,
  S_FILTERED,
  S_LOSS_RECORDS,
  S_LOST,
} from "../ring/ring.ts";
import type { Sink } from "../sinks/sink.ts";

/** Records read from one ring per pass, at most (keeps each pass short). */
const BATCH_RECORDS = 4096;
/** Writes in flight per sink before the drain stops reading the rings. */
const MAX_IN_FLIGHT = 16;

/**
 * Stand-ins, in a batch, for events whose record is framed but could not be
 * decoded: accounting counts each as lost, and none reaches a sink.
 */
const UNDECODABLE = new WeakSet<LogRecord>();

/** Per-sink delivery counters. */
export interface SinkMetrics {
  /** Records handed to the sink. */
  written: number;
  /** Writes that threw or rejected. */
  errors: number;
}

/** Reports a problem of ttlog itself (a failing sink, a corrupt record) to the user. */
export type Reporter = (message: string) => void;

/** What the drain needs to know about one producer. */
export interface ProducerSource {
  /** The producer's ring. */
  readonly ring: RingMemory;
  /** The producer's dictionary. */
  readonly dictionary: DictionaryMemory;
}

class Source {
  readonly ring: RingMemory;
  readonly reader: ValueReader;
  read = 0;
  expectedSeq = 0;
  droppedSeen = 0;

  constructor(source: ProducerSource) {
    this.ring = source.ring;
    this.reader = new ValueReader(new DictionaryReader(source.dictionary));
    // A drain that takes over a ring (the worker failed) starts where the
    // last one stopped, and counts drops from there.
    this.read = Atomics.load(source.ring.ctl, CTL_READ);
    this.expectedSeq = this.read === 0 ? 0 : -1;
    // Drops are reported from what earlier drains reported (kept in the
    // ring), not from now: drops before this drain existed count too.
    this.droppedSeen = source.ring.stats[S_DROPS_REPORTED];
    Atomics.store(source.ring.ctl, CTL_REGISTERED, 1);
    Atomics.notify(source.ring.ctl, CTL_REGISTERED);
  }
}

interface SinkState {
  readonly sink: Sink;
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

/**
 * Merges per-producer batches by time. Each producer's own order is kept
 * even if its clock stepped back: only the heads are compared.
 */
function mergeByTime(parts: LogRecord[][]): LogRecord[] {
  const out: LogRecord[] = [];
  const heads = parts.map(() => 0);
  for (;;) {
    let best = -1;
    for (let i = 0; i < parts.length; i++) {
      if (
        heads[i] < parts[i].length &&
        (best < 0 || parts[i][heads[i]].time < parts[best][heads[best]].time)
      ) best = i;
    }
    if (best < 0) return out;
    out.push(parts[best][heads[best]++]);
  }
}

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
      metrics: { written: 0, errors: 0 },
      pending: new Set(),
      lastReport: -Infinity,
    }));
  }

  /** Registers a producer's ring and dictionary. */
  add(source: ProducerSource): void {
    this.#sources.push(new Source(source));
  }

  /** Per-sink counters, by position in the sinks list. */
  sinkMetrics(): { name: string; written: number; errors: number }[] {
    return this.#sinks.map((s) => ({ name: s.sink.name, ...s.metrics }));
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
    if (this.#sources.length === 1) {
      batch = [];
      read = this.#readSource(this.#sources[0], batch);
    } else {
      const parts: LogRecord[][] = [];
      for (const source of this.#sources) {
        const part: LogRecord[] = [];
        read += this.#readSource(source, part);
        if (part.length > 0) parts.push(part);
      }
      batch = parts.length === 1 ? parts[0] : mergeByTime(parts);
    }
    if (batch.length > 0) this.#deliver(batch);
    if (read > 0) {
      const times = this.passTimes;
      times[this.counters.passes % times.length] = performance.now() - started;
      this.counters.passes++;
    }
    return read;
  }

  /** Durations of the most recent passes, in ms (a ring indexed by `passes`). */
  readonly passTimes: Float64Array = new Float64Array(PASS_TIMES);

  /** How many producers are registered. */
  get producers(): number {
    return this.#sources.length;
  }

  #readSource(source: Source, batch: LogRecord[]): number {
    const { ctl, u8, i32, mask } = source.ring;
    const commit = Atomics.load(ctl, CTL_COMMIT);
    let read = source.read;
    const tail = Atomics.load(ctl, CTL_TAIL);
    if (((tail - read) | 0) > 0) read = tail;
    const first = batch.length;
    const begin = read;
    let count = 0;
    let corrupt = false;
    let undecodable = 0;
    while (read !== commit && count < BATCH_RECORDS) {
      const index = read & mask;
      const word = i32[index >> 2];
      const kind = word >>> 24;
      const length = alignedLength(word & 0xffffff);
      if (
        (kind !== KIND_EVENT && kind !== KIND_PAD) || length === 0 ||
        length > ((commit - read) | 0)
      ) {
        corrupt = true;
        break;
      }
      if (kind === KIND_EVENT) {
        try {
          batch.push(
            decodeEvent(
              source.reader,
              u8,
              index,
              index + (word & 0xffffff),
              this.#service,
            ),
          );
        } catch {
          // Sound framing, bad content: skip this record alone (its length
          // is known), and account for its event as lost.
          undecodable++;
          batch.push(this.#undecodable(u8, index));
        }
        count++;
      }
      read = (read + length) | 0;
    }
    // Anything that began before the tail as it is now may have been
    // overwritten while it was read: drop the pass and restart at the tail.
    const tailAfter = Atomics.load(ctl, CTL_TAIL);
    if (((tailAfter - begin) | 0) > 0) {
      batch.length = first;
      source.read = tailAfter;
      Atomics.store(ctl, CTL_READ, tailAfter);
      return this.#readSource(source, batch);
    }
    if (undecodable > 0) {
      this.#report(
        `ttlog: ${undecodable} record(s) in the ring could not be decoded; counted as lost`,
      );
    }
    if (corrupt) {
      // The records read before this one are intact (the tail did not pass
      // them): keep them. What follows cannot be framed: skip to the newest
      // record; the next event's sequence gap counts what was skipped.
      this.#report(
        `ttlog: a record in the ring could not be decoded; skipping to the newest record`,
      );
      read = commit;
    }
    this.#account(source, batch, first);
    source.read = read;
    Atomics.store(ctl, CTL_READ, read);
    // A producer blocked on a full ring waits on READ.
    if (count > 0) Atomics.notify(ctl, CTL_READ);
    return count;
  }

  /** Counts losses (sequence gaps, drops), filters below emit level, in place. */
  #account(source: Source, batch: LogRecord[], first: number): void {
    let lost = 0;
    let undecodable = 0;
    let kept = first;
    for (let i = first; i < batch.length; i++) {
      const record = batch[i];
      const gap = source.expectedSeq === -1
        ? 0
        : (record.seq - source.expectedSeq) | 0;
      if (gap > 0) lost += gap;
      source.expectedSeq = (record.seq + 1) | 0;
      if (UNDECODABLE.has(record)) undecodable++;
      else if (this.#emitLevelOf(record.target) <= levelValue(record.level)) {
        batch[kept++] = record;
      } else this.counters.filtered++;
    }
    const stats = source.ring.stats;
    stats[S_EMITTED] += kept - first;
    stats[S_FILTERED] += batch.length - kept - undecodable;
    stats[S_LOST] += lost + undecodable;
    stats[S_LOSS_RECORDS] += (lost > 0 ? 1 : 0) + (undecodable > 0 ? 1 : 0);
    batch.length = kept;
    const dropped = Atomics.load(source.ring.ctl, CTL_DROPPED);
    const newlyDropped = (dropped - source.droppedSeen) | 0;
    source.droppedSeen = dropped;
    stats[S_DROPS_REPORTED] = dropped;
    this.counters.droppedSeen += newlyDropped;
    if (lost > 0) {
      this.counters.lost += lost;
      batch.splice(
        first,
        0,
        this.#lossRecord(lost, "overwritten before the drain read them"),
      );
    }
    if (undecodable > 0) {
      this.counters.lost += undecodable;
      batch.splice(
        first,
        0,
        this.#lossRecord(undecodable, "their records could not be decoded"),
      );
    }
    if (newlyDropped > 0) {
      stats[S_LOSS_RECORDS]++;
      batch.push(this.#lossRecord(newlyDropped, "dropped: the ring was full"));
    }
  }

  /** A stand-in for the event of an undecodable record, carrying its sequence number. */
  #undecodable(u8: Uint8Array, index: number): LogRecord {
    const seq = (u8[index + 4] | (u8[index + 5] << 8) | (u8[index + 6] << 16) |
      (u8[index + 7] << 24)) >>> 0;
    const record: LogRecord = {
      time: Date.now(),
      level: "warn",
      target: "ttlog",
      msg: "",
      fields: {},
      service: this.#service,
      seq,
    };
    UNDECODABLE.add(record);
    return record;
  }

  #lossRecord(count: number, reason: string): LogRecord {
    this.counters.lossRecords++;
    return {
      time: Date.now(),
      level: "warn",
      target: "ttlog",
      msg: `lost ${count} events`,
      fields: { lost: count, reason },
      service: this.#service,
      seq: -1,
    };
  }

  #emitLevelOf(target: string): LevelValue {
    let level = this.#emitCache.get(target);
    if (level === undefined) {
      level = this.#emitLevel(target);
      if (this.#emitCache.size < 10000) this.#emitCache.set(target, level);
    }
    return level;
  }

  #deliver(batch: LogRecord[]): void {
    let events = 0;
    for (const record of batch) if (record.seq !== -1) events++;
    this.counters.emitted += events;
    for (const state of this.#sinks) this.#write(state, batch, 1);
  }

  /** Writes a batch to one sink; a failure is retried if the sink asks for it. */
  #write(state: SinkState, batch: LogRecord[], attempt: number): void {
    const failed = (error: unknown) => {
      this.#sinkFailed(state, error);
      const retry = state.sink.retry;
      if (retry === undefined || attempt >= retry.attempts) return;
      const delay = retry.delayMs * 2 ** (attempt - 1);
      const again = new Promise<void>((resolve) => {
        setTimeout(() => {
          state.pending.delete(again);
          this.#write(state, batch, attempt + 1);
          resolve();
        }, delay);
      });
      state.pending.add(again);
    };
    try {
      const result = state.sink.write(batch);
      if (result instanceof Promise) {
        const tracked: Promise<void> = result.then(
          () => {
            state.pending.delete(tracked);
            state.metrics.written += batch.length;
          },
          (error) => {
            state.pending.delete(tracked);
            failed(error);
          },
        );
        state.pending.add(tracked);
      } else {
        state.metrics.written += batch.length;
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

const LEVEL_VALUES: Record<string, LevelValue> = {
  trace: 0,
  debug: 1,
  info: 2,
  warn: 3,
  error: 4,
  fatal: 5,
};

function levelValue(name: string): LevelValue {
  return LEVEL_VALUES[name] ?? 6;
}
