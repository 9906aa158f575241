/**
 * Replay, the producer's half: finding in the rings the events of one piece
 * of work (a request) that were recorded but never emitted (below their
 * target's emit level), each at most once, so the drain can deliver them
 * to the sinks after the fact. Nothing here runs until a replay is asked
 * for: logging pays nothing for it.
 *
 * @module
 */

import { Level, type LevelValue } from "../level.ts";
import { decodeEvent, ValueReader } from "../record/decode.ts";
import { DictionaryReader } from "../record/dictionary.ts";
import {
  alignedLength,
  contentLength,
  KIND_EVENT,
  MIN_HEADER_BYTES,
  recordKind,
  type RingMemory,
  RingPairs,
  ringTimeBase,
  type SeqPosition,
} from "../ring/ring.ts";
import { captureRing } from "./capture.ts";
import type { SnapshotProducer } from "./writer.ts";

/** One producer's records to replay, back to back as in its ring. */
export interface ReplayBatch {
  /** The producer's index (0: the logger's own ring, then port() rings). */
  readonly producer: number;
  /** The records' bytes. */
  readonly records: Uint8Array;
  /** How many records. */
  readonly count: number;
  /** Each record's sequence number. */
  readonly seqs: Uint32Array;
  /** The time base of the ring they were written in. */
  readonly timeBase: number;
}

/** What a replay found. */
export interface ReplaySelection {
  /** The records to deliver, per producer. */
  readonly batches: ReplayBatch[];
  /** Events to replay (recorded, matching, never emitted, not replayed before). */
  readonly replayed: number;
  /** Matching events that were emitted live (not replayed). */
  readonly emitted: number;
  /**
   * Events of the own ring recorded since the start asked for that it no
   * longer holds.
   */
  readonly overwritten: number;
}

/**
 * Where to start in the logger's own ring: its absolute write position and
 * its recorded count at that moment (for a request: when it began).
 */
export interface ReplayStart {
  /** The ring's write position then (wraps at 2^32, as the ring's do). */
  readonly position: number | undefined;
  /** Events recorded before then (`metrics().recorded`). */
  readonly recorded: number;
}

/**
 * Sequence numbers already replayed, per producer, so that an event is
 * replayed at most once. Bounded: numbers the ring no longer holds are
 * forgotten (they cannot come back).
 */
export class ReplayMemory {
  readonly #seen: Set<number>[] = [];
  readonly #readers: ValueReader[] = [];

  /**
   * The records of every producer whose fields match `where` and whose
   * level is below their target's emit level, not replayed before; they
   * are marked replayed. The own ring (producer 0), which only this thread
   * writes, is read in place from `start` (headers only up to there);
   * others' rings, written by other threads, are copied first.
   */
  select(
    producers: readonly SnapshotProducer[],
    where: Readonly<Record<string, unknown>>,
    emitLevelFor: (target: string) => LevelValue,
    own: { readonly write: number; readonly recorded: number },
    start: ReplayStart,
  ): ReplaySelection {
    const keys = Object.keys(where);
    const batches: ReplayBatch[] = [];
    let replayed = 0;
    let emitted = 0;
    let overwritten = 0;
    for (let p = 0; p < producers.length; p++) {
      const { ring, dictionary } = producers[p];
      let u8: Uint8Array;
      let from: number;
      let to: number;
      let mask: number;
      let seqFrom: number | undefined;
      // The sequence number of the first event from `from`, and the time
      // base, for the records there (a copy's come with it).
      let seq: number;
      let seqs: Uint32Array | undefined;
      let timeBase: number;
      if (p === 0) {
        u8 = ring.u8;
        mask = ring.mask;
        to = own.write;
        timeBase = ringTimeBase(ring);
        const tail = tailPair(ring);
        from = tail.position;
        seq = tail.seq;
        if (start.position !== undefined) {
          if (((start.position - tail.position) | 0) >= 0) {
            from = start.position;
            seq = start.recorded | 0;
          }
        } else if (start.recorded > 0) {
          seqFrom = start.recorded >>> 0;
        }
        // What was recorded since the start and is gone: the first record
        // held tells how many came before it.
        const held = own.recorded -
          (((own.recorded >>> 0) - (seq >>> 0)) >>> 0);
        overwritten = Math.max(0, held - start.recorded);
      } else {
        const capture = captureRing(ring, dictionary, { entries: false });
        u8 = capture.records;
        mask = -1;
        from = 0;
        to = u8.length;
        seqs = capture.seqs;
        seq = 0;
        timeBase = capture.timeBase;
      }
      const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
      const reader = this.#readers[p] ??= new ValueReader(
        new DictionaryReader(dictionary),
      );
      const seen = this.#seen[p] ??= new Set();
      const out: Uint8Array[] = [];
      const outSeqs: number[] = [];
      let count = 0;
      for (let position = from, i = 0; position !== to;) {
        const at = position & mask;
        const word = view.getUint32(at, true);
        const kind = recordKind(word);
        const content = contentLength(word);
        const length = alignedLength(content);
        if (
          length === 0 || ((to - position) | 0) < length ||
          (kind === KIND_EVENT && content < MIN_HEADER_BYTES)
        ) break;
        position = (position + length) | 0;
        if (kind !== KIND_EVENT) continue;
        const recordSeq = seqs === undefined ? seq >>> 0 : seqs[i];
        seq = (seq + 1) | 0;
        i++;
        if (seqFrom !== undefined && ((recordSeq - seqFrom) | 0) < 0) continue;
        let record;
        try {
          record = decodeEvent(
            reader,
            u8,
            at,
            at + content,
            "",
            recordSeq,
            timeBase,
          );
        } catch {
          // Overwritten during the copy: not one of the events asked for.
          continue;
        }
        if (!keys.every((key) => Object.is(record.fields[key], where[key]))) {
          continue;
        }
        if (Level[record.level] >= emitLevelFor(record.target)) emitted++;
        else if (!seen.has(recordSeq)) {
          seen.add(recordSeq);
          out.push(u8.slice(at, at + length));
          outSeqs.push(recordSeq);
          count++;
        }
      }
      if (seen.size > 4096) forget(seen, ring);
      if (count > 0) {
        batches.push({
          producer: p,
          records: concat(out),
          count,
          seqs: Uint32Array.from(outSeqs),
          timeBase,
        });
        replayed += count;
      }
    }
    return { batches, replayed, emitted, overwritten };
  }
}

/**
 * Forgets the replayed numbers a ring no longer holds (they cannot come
 * back). They were added in sequence order, so the walk stops at the first
 * one still held: each number is looked at about once.
 */
function forget(seen: Set<number>, ring: RingMemory): void {
  const first = tailPair(ring).seq;
  for (const seq of seen) {
    if (((seq - first) | 0) >= 0) break;
    seen.delete(seq);
  }
}

/** A ring's tail and the sequence number of the event there. */
function tailPair(ring: RingMemory): SeqPosition {
  const pair = { position: 0, seq: 0 };
  new RingPairs(ring).loadTail(pair);
  return pair;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** What the drain gets to replay: the records, and the summary event's parts. */
export interface ReplayDelivery {
  /** Why (each replayed event's `replay` field). */
  readonly reason: string;
  /** The records, per producer. */
  readonly batches: readonly ReplayBatch[];
  /** When the replay was asked for (the summary event's time). */
  readonly time: number;
  /** The summary event's fields. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * Options of {@link Logger.replay}.
 *
 * @example The events of one request, and what the ring lost since it began
 * ```ts
 * import { createLogger, memorySink, type ReplayRequest } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const log = createLogger({ sinks: [memorySink()] });
 * const request: ReplayRequest = { where: { request_id: "r-1" }, since: log.metrics().recorded };
 * assert.equal(log.replay("failed", request).replayed, 0);
 * await log.close();
 * ```
 */
export interface ReplayRequest {
  /** Replay only events whose fields have these values (`Object.is`): required. */
  readonly where: Readonly<Record<string, unknown>>;
  /**
   * `metrics().recorded` when the work began: `overwritten` then counts the
   * events recorded since that the ring no longer holds (default 0: since
   * the logger began).
   */
  readonly since?: number;
}

/**
 * What {@link Logger.replay} did; also the summary event's fields.
 *
 * @example Read the counts
 * ```ts
 * import { createLogger, memorySink, type ReplayResult } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const log = createLogger({ sinks: [memorySink()] });
 * log.child({ task: "a" }).debug("step 1");
 * const result: ReplayResult = log.replay("task a failed", { where: { task: "a" } });
 * assert.equal(result.replayed, 1);
 * await log.close();
 * ```
 */
export interface ReplayResult {
  /** Events replayed now (matching, recorded, never emitted, not replayed before). */
  readonly replayed: number;
  /** Matching events the ring holds that were emitted live (so not replayed). */
  readonly emitted: number;
  /**
   * Events recorded since `since` (by any code, not only the matching) that
   * the ring no longer holds: 0 means nothing of the lead-up was lost; more
   * is an upper bound on the matching events lost.
   */
  readonly overwritten: number;
}
