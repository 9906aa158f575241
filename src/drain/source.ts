/**
 * One producer as the drain sees it: its ring and dictionary, where the
 * drain has read to, the sequence it expects next, and what it caches per
 * producer (emit levels by target id, the NDJSON bytes of its dictionary
 * ids); and how the producers' batches are merged by time.
 *
 * @module
 */

import type { LineCache } from "../format/ndjson_lines.ts";
import {
  type DictionaryMemory,
  DictionaryReader,
} from "../record/dictionary.ts";
import { ValueReader } from "../record/decode.ts";
import type { LogRecord } from "../record/values.ts";
import {
  CTL_READ,
  CTL_REGISTERED,
  type RingMemory,
  S_DROPS_REPORTED,
} from "../ring/ring.ts";
import type { LevelValue } from "../level.ts";

/** What the drain needs to know about one producer. */
export interface ProducerSource {
  /** The producer's ring. */
  readonly ring: RingMemory;
  /** The producer's dictionary. */
  readonly dictionary: DictionaryMemory;
}

/** A producer's read state. */
export class Source {
  readonly ring: RingMemory;
  readonly reader: ValueReader;
  readonly dictionary: DictionaryMemory;
  /** The producer's index: its position among the drain's sources. */
  readonly index: number;
  read = 0;
  expectedSeq = 0;
  droppedSeen = 0;
  /** Emit levels by target id (targets of records the drain has read). */
  readonly emitById: (LevelValue | undefined)[] = [];
  /** Sequence numbers of the events of the pass being read. */
  readonly seqs: number[] = [];
  /** For raw sinks: emitted records copied out of the ring this pass. */
  raw: Uint8Array = new Uint8Array(0);
  rawBytes = 0;
  rawCount = 0;
  /** Dictionary bytes and entries already handed to raw sinks. */
  entryBytesSent = 0;
  entriesSent = 0;
  /** Its dictionary's ids as NDJSON bytes, for lines sinks. */
  lineCache: LineCache | undefined;

  constructor(source: ProducerSource, index: number) {
    this.ring = source.ring;
    this.dictionary = source.dictionary;
    this.index = index;
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

/**
 * Merges per-producer batches by time. Each producer's own order is kept
 * even if its clock stepped back: only the heads are compared.
 */
export function mergeByTime(parts: LogRecord[][]): LogRecord[] {
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
