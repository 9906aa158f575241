/**
 * A drain pass's NDJSON lines, for the sinks that take them (`writeLines`):
 * each emitted record's line written straight from the ring's bytes (see
 * format/ndjson_lines.ts), the "lost N events" lines placed where the
 * decoded batch has its loss records, and the producers' lines merged by
 * time exactly as their records are. What a lines sink gets is, byte for
 * byte, what `ndjsonFormatter()` makes of the batch the other sinks get.
 *
 * @module
 */

import { ndjsonFormatter } from "../format/ndjson.ts";
import { LineCache, NdjsonLines } from "../format/ndjson_lines.ts";
import {
  decodeWithHeader,
  type DictionaryLookup,
  type ValueReader,
} from "../record/decode.ts";
import type { LogRecord } from "../record/values.ts";
import type { EventHeader } from "../ring/ring.ts";

/** The lines of one pass, across its producers. */
export class LinePass {
  readonly #writer: NdjsonLines;
  readonly #format = ndjsonFormatter();
  #starts: number[] = [];
  #ends: number[] = [];
  #times: number[] = [];
  /**
   * Per producer with lines this pass: its loss lines before its event
   * lines (a range of line indices), and a drop line after them (-1: none).
   */
  #parts: Part[] = [];
  #sourceFirst = 0;
  #posFirst = 0;
  #withTimes = false;

  constructor(service: string) {
    this.#writer = new NdjsonLines(service);
  }

  /** A producer's line cache (its dictionary's ids as bytes). */
  cache(dictionary: DictionaryLookup): LineCache {
    return new LineCache(dictionary);
  }

  /** Starts a producer's lines; `times`: lines are merged with other producers'. */
  beginSource(times: boolean): void {
    this.#sourceFirst = this.#starts.length;
    this.#posFirst = this.#writer.pos;
    this.#withTimes = times;
  }

  /** Forgets the current producer's lines (its pass is read again). */
  rewindSource(): void {
    this.#starts.length = this.#sourceFirst;
    this.#ends.length = this.#sourceFirst;
    this.#times.length = Math.min(this.#times.length, this.#sourceFirst);
    this.#writer.pos = this.#posFirst;
  }

  /**
   * The line of the event record `u8[start, end)`, whose header `h` was
   * read. The records the fast path leaves to the formatter are formatted
   * from `decoded`, or decoded with `reader` here; when that throws (the
   * record cannot be decoded) nothing is added and the error is thrown on.
   */
  record(
    cache: LineCache,
    u8: Uint8Array,
    start: number,
    end: number,
    h: EventHeader,
    decoded: LogRecord | undefined,
    seq: number,
    reader: ValueReader,
    service: string,
  ): void {
    const at = this.#writer.pos;
    const writer = this.#writer;
    if (!writer.line(cache, u8, h, end)) {
      const record = decoded ??
        decodeWithHeader(reader, u8, h, start, end, service, seq);
      writer.text(this.#format(record));
      writer.slow++;
    }
    this.#starts.push(at);
    this.#ends.push(this.#writer.pos);
    if (this.#withTimes) this.#times[this.#starts.length - 1] = h.time;
  }

  /**
   * Ends the producer's lines: `front` (loss records) go before its event
   * lines, `after` (a drop record) after them, as in the decoded batch.
   */
  endSource(front: readonly LogRecord[], after: LogRecord | undefined): void {
    const from = this.#sourceFirst;
    const to = this.#starts.length;
    const part: Part = {
      front: front.map((record) => this.#loss(record)),
      from,
      to,
      after: after === undefined ? -1 : this.#loss(after),
    };
    if (part.front.length + to - from + (part.after < 0 ? 0 : 1) > 0) {
      this.#parts.push(part);
    }
  }

  #loss(record: LogRecord): number {
    const at = this.#writer.pos;
    this.#writer.text(this.#format(record));
    const index = this.#starts.length;
    this.#starts.push(at);
    this.#ends.push(this.#writer.pos);
    this.#times[index] = record.time;
    return index;
  }

  /** The pass's lines, merged, and how many; undefined when there are none. */
  take(): { bytes: Uint8Array; count: number } | undefined {
    const parts = this.#parts;
    let result: { bytes: Uint8Array; count: number } | undefined;
    const only = parts.length === 1 ? parts[0] : undefined;
    if (
      only !== undefined && only.front.length === 0 && only.after < 0
    ) {
      // One producer, no losses: its lines as they sit in the buffer.
      result = {
        bytes: this.#writer.handOver(
          this.#starts[only.from],
          this.#ends[only.to - 1],
        ),
        count: only.to - only.from,
      };
    } else if (parts.length > 0) {
      const order = parts.length === 1
        ? lineOrder(parts[0])
        : this.#merge(parts.map(lineOrder));
      let size = 0;
      for (const i of order) size += this.#ends[i] - this.#starts[i];
      const bytes = new Uint8Array(size);
      const out = this.#writer.out;
      let p = 0;
      for (const i of order) {
        bytes.set(out.subarray(this.#starts[i], this.#ends[i]), p);
        p += this.#ends[i] - this.#starts[i];
      }
      result = { bytes, count: order.length };
    }
    this.#parts = [];
    this.#starts.length = 0;
    this.#ends.length = 0;
    this.#times.length = 0;
    this.#writer.pos = 0;
    return result;
  }

  /** As the drain's mergeByTime: only the heads are compared. */
  #merge(parts: number[][]): number[] {
    const times = this.#times;
    const out: number[] = [];
    const heads = parts.map(() => 0);
    for (;;) {
      let best = -1;
      for (let i = 0; i < parts.length; i++) {
        if (
          heads[i] < parts[i].length &&
          (best < 0 ||
            times[parts[i][heads[i]]] < times[parts[best][heads[best]]])
        ) best = i;
      }
      if (best < 0) return out;
      out.push(parts[best][heads[best]++]);
    }
  }

  /** Records written by the fast path and by the formatter, so far. */
  get counts(): { fast: number; slow: number } {
    return { fast: this.#writer.fast, slow: this.#writer.slow };
  }
}

/** One producer's lines in a pass. */
interface Part {
  /** Loss lines, before the events. */
  readonly front: readonly number[];
  /** Its event lines: indices `[from, to)`. */
  readonly from: number;
  readonly to: number;
  /** A drop line after them, or -1. */
  readonly after: number;
}

/** A part's line indices, in order. */
function lineOrder(part: Part): number[] {
  const order = [...part.front];
  for (let i = part.from; i < part.to; i++) order.push(i);
  if (part.after >= 0) order.push(part.after);
  return order;
}
