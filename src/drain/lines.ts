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
import type { DictionaryLookup } from "../record/decode.ts";
import type { LogRecord } from "../record/values.ts";

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** The lines of one pass, across its producers. */
export class LinePass {
  readonly #writer: NdjsonLines;
  readonly #format = ndjsonFormatter();
  #starts: number[] = [];
  #ends: number[] = [];
  #times: number[] = [];
  /** Per producer with lines this pass: its line indices, in order. */
  #parts: number[][] = [];
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
   * The line of the event record `u8[start, end)`. `slow` gives the
   * record decoded, for the records the fast path leaves to the formatter;
   * when it throws (the record cannot be decoded) nothing is added and the
   * error is thrown on.
   */
  record(
    cache: LineCache,
    u8: Uint8Array,
    start: number,
    end: number,
    slow: () => LogRecord,
  ): void {
    const at = this.#writer.pos;
    this.#writer.line(cache, u8, start, end, () => this.#format(slow()));
    this.#starts.push(at);
    this.#ends.push(this.#writer.pos);
    if (this.#withTimes) {
      for (let i = 0; i < 8; i++) f64Bytes[i] = u8[start + 8 + i];
      this.#times[this.#starts.length - 1] = f64[0];
    }
  }

  /**
   * Ends the producer's lines: `front` (loss records) go before its event
   * lines, `after` (a drop record) after them, as in the decoded batch.
   */
  endSource(front: readonly LogRecord[], after: LogRecord | undefined): void {
    const events: number[] = [];
    for (let i = this.#sourceFirst; i < this.#starts.length; i++) {
      events.push(i);
    }
    const order = [
      ...front.map((record) => this.#loss(record)),
      ...events,
      ...(after === undefined ? [] : [this.#loss(after)]),
    ];
    if (order.length > 0) this.#parts.push(order);
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
    if (parts.length === 1 && isRun(parts[0])) {
      // One producer, lines in buffer order: the buffer as it is.
      const bytes = this.#writer.out.slice(
        this.#starts[parts[0][0]],
        this.#ends[parts[0].at(-1)!],
      );
      result = { bytes, count: parts[0].length };
    } else if (parts.length > 0) {
      const order = parts.length === 1 ? parts[0] : this.#merge(parts);
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

function isRun(order: readonly number[]): boolean {
  for (let i = 1; i < order.length; i++) {
    if (order[i] !== order[i - 1] + 1) return false;
  }
  return true;
}
