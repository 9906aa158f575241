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
  entryLength,
} from "../record/dictionary.ts";
import type { RawEntry } from "../sinks/sink.ts";
import { ValueReader } from "../record/decode.ts";
import type { LogRecord } from "../record/values.ts";
import {
  CTL_REGISTERED,
  type EventHeader,
  eventHeader,
  type RingMemory,
  RingPairs,
  S_DROPS_REPORTED,
  type SeqPosition,
} from "../ring/ring.ts";
import type { LevelValue } from "../level.ts";

/** Bytes before a dictionary's entries: its control words. */
const DICTIONARY_CONTROL_BYTES = 16;
/** The dictionary's control word holding the bytes used. */
const DICTIONARY_BYTES_WORD = 1;

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
  /** Sequence number of the event at `read`. */
  expectedSeq = 0;
  /** The ring's tail and read pairs. */
  readonly pairs: RingPairs;
  /** Scratch for a loaded pair. */
  readonly pair: SeqPosition = { position: 0, seq: 0 };
  /** Scratch for the header of the record being read. */
  readonly header: EventHeader = eventHeader();
  droppedSeen = 0;
  /** Emit levels by target id (targets of records the drain has read). */
  readonly emitById: (LevelValue | undefined)[] = [];
  /** Sequence numbers of the records in `raw`. */
  readonly rawSeqs: number[] = [];
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
    this.pairs = new RingPairs(source.ring);
    this.pairs.loadRead(this.pair);
    this.read = this.pair.position;
    this.expectedSeq = this.pair.seq;
    // Drops are reported from what earlier drains reported (kept in the
    // ring), not from now: drops before this drain existed count too.
    this.droppedSeen = source.ring.stats[S_DROPS_REPORTED];
    Atomics.store(source.ring.ctl, CTL_REGISTERED, 1);
    Atomics.notify(source.ring.ctl, CTL_REGISTERED);
  }

  /** The dictionary entries added since the last raw batch. */
  newEntries(): RawEntry[] {
    const buffer = this.dictionary.buffer;
    const used = Atomics.load(
      new Int32Array(buffer, 0, DICTIONARY_CONTROL_BYTES >> 2),
      DICTIONARY_BYTES_WORD,
    );
    const entries: RawEntry[] = [];
    if (used === this.entryBytesSent) return entries;
    const u8 = new Uint8Array(buffer, DICTIONARY_CONTROL_BYTES);
    let p = this.entryBytesSent;
    while (p + 4 <= used) {
      const bytes = u8[p] | (u8[p + 1] << 8) | (u8[p + 2] << 16);
      if (p + 4 + bytes > used) break;
      entries.push({
        id: ++this.entriesSent,
        kind: u8[p + 3],
        payload: u8.slice(p + 4, p + 4 + bytes),
      });
      p += entryLength(bytes);
    }
    this.entryBytesSent = p;
    return entries;
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
