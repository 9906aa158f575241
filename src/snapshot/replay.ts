/**
 * Replay, the producer's half: finding in the rings the events of one piece
 * of work (a request) that were recorded but never emitted (below their
 * target's emit level), each at most once, so the drain can deliver them
 * to the sinks after the fact. Nothing here runs until a replay is asked
 * for: logging pays nothing for it.
 *
 * @module
 */

import type { LevelValue } from "../level.ts";
import { decodeEvent, ValueReader } from "../record/decode.ts";
import { DictionaryReader } from "../record/dictionary.ts";
import { alignedLength, HEADER_BYTES } from "../ring/ring.ts";
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
}

/** What a replay found. */
export interface ReplaySelection {
  /** The records to deliver, per producer. */
  readonly batches: ReplayBatch[];
  /** Events to replay (recorded, matching, never emitted, not replayed before). */
  readonly replayed: number;
  /** Matching events that were emitted live (not replayed). */
  readonly emitted: number;
  /** The first sequence number the logger's own ring still held. */
  readonly firstSeq: number | undefined;
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
   * are marked replayed.
   */
  select(
    producers: readonly SnapshotProducer[],
    where: Readonly<Record<string, unknown>>,
    emitLevelFor: (target: string) => LevelValue,
  ): ReplaySelection {
    const keys = Object.keys(where);
    const batches: ReplayBatch[] = [];
    let replayed = 0;
    let emitted = 0;
    let firstSeq: number | undefined;
    for (let p = 0; p < producers.length; p++) {
      const { ring, dictionary } = producers[p];
      const capture = captureRing(ring, dictionary, { entries: false });
      const u8 = capture.records;
      const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
      if (p === 0 && capture.count > 0) firstSeq = view.getUint32(4, true);
      const reader = this.#readers[p] ??= new ValueReader(
        new DictionaryReader(dictionary),
      );
      const before = this.#seen[p];
      if (before !== undefined && before.size > 4096 + capture.count) {
        this.#forget(p, view, u8.length);
      }
      const seen = this.#seen[p] ??= new Set();
      const out = new Uint8Array(u8.length);
      let size = 0;
      let count = 0;
      for (let at = 0; at + HEADER_BYTES <= u8.length;) {
        const content = view.getUint32(at, true) & 0xffffff;
        const length = alignedLength(content);
        if (content < HEADER_BYTES || at + length > u8.length) break;
        let record;
        try {
          record = decodeEvent(reader, u8, at, at + content, "");
        } catch {
          // Overwritten during the copy: not one of the events asked for.
          at += length;
          continue;
        }
        if (keys.every((key) => Object.is(record.fields[key], where[key]))) {
          const level = u8[at + 16] as LevelValue;
          if (level >= emitLevelFor(record.target)) emitted++;
          else {
            const seq = view.getUint32(at + 4, true);
            if (!seen.has(seq)) {
              seen.add(seq);
              out.set(u8.subarray(at, at + length), size);
              size += length;
              count++;
            }
          }
        }
        at += length;
      }
      if (count > 0) {
        batches.push({ producer: p, records: out.slice(0, size), count });
        replayed += count;
      }
    }
    return { batches, replayed, emitted, firstSeq };
  }

  /** Forgets the replayed numbers of producer `p` its ring no longer holds. */
  #forget(p: number, view: DataView, length: number): void {
    const old = this.#seen[p];
    const kept = new Set<number>();
    for (let at = 0; at + HEADER_BYTES <= length;) {
      const content = view.getUint32(at, true) & 0xffffff;
      if (content < HEADER_BYTES) break;
      const seq = view.getUint32(at + 4, true);
      if (old.has(seq)) kept.add(seq);
      at += alignedLength(content);
    }
    this.#seen[p] = kept;
  }
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
