/**
 * One event of the live tail as it crosses the tail ring (./tail_ring.ts)
 * from the dashboard sink to the dashboard handler: the line the page gets
 * (ndjson, formatted once, by the sink, from the decoded record) and beside
 * it what the tail's filters test (time, level, target, message, and where
 * the fields start in the line), taken from the record too. The handler
 * reads these without parsing the line.
 *
 * Layout, little-endian: f64 time; u8 level (0 trace to 5 fatal); 3 zero
 * bytes; u32 target bytes; u32 message bytes; u32 the UTF-16 index in the
 * line where its fields start (the `,` before the first, or the closing
 * `}`); then the target, the message and the line, in UTF-8.
 *
 * @module
 */

import { Level, LEVEL_NAMES, type LevelName } from "../level.ts";
import type { EventText } from "../reader/filter.ts";

/** Bytes before the strings. */
const HEAD_BYTES = 24;

/** What the sink puts into an entry. */
export interface TailEvent {
  /** Milliseconds since the Unix epoch. */
  readonly time: number;
  /** The level name. */
  readonly level: LevelName;
  /** The target. */
  readonly target: string;
  /** The message. */
  readonly msg: string;
  /** The line sent to the page: one JSON object. */
  readonly line: string;
  /** Where its fields start in `line` (a UTF-16 index). */
  readonly fieldsAt: number;
}

/**
 * Writes tail entries into one reused buffer.
 *
 * @example Encode an entry and read it back
 * ```ts
 * import { decodeTailEntry, TailEntryWriter } from "./tail_entry.ts";
 * import assert from "node:assert/strict";
 * const line = '{"time":1,"level":"warn","target":"db","msg":"slow","service":"s","seq":0,"ms":900}';
 * const writer = new TailEntryWriter();
 * const { bytes, lineBytes } = writer.encode({
 *   time: 1, level: "warn", target: "db", msg: "slow", line, fieldsAt: line.indexOf(',"ms"'),
 * });
 * assert.equal(lineBytes, line.length);
 * const entry = decodeTailEntry(7, bytes)!;
 * assert.deepEqual([entry.id, entry.level, entry.target, entry.msg], [7, "warn", "db", "slow"]);
 * assert.equal(entry.line, line);
 * assert.equal(entry.fieldsJson, '{"ms":900}');
 * ```
 */
export class TailEntryWriter {
  readonly #encoder = new TextEncoder();
  #buffer = new Uint8Array(4096);

  /**
   * Encodes one entry.
   *
   * @param event What the entry holds.
   * @returns Its bytes (a view of the writer's buffer, valid until the next
   * call) and how many of them the line takes.
   */
  encode(event: TailEvent): { bytes: Uint8Array; lineBytes: number } {
    const { target, msg, line } = event;
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const most = HEAD_BYTES + 3 * (target.length + msg.length + line.length);
    if (this.#buffer.length < most) {
      this.#buffer = new Uint8Array(Math.max(most, this.#buffer.length * 2));
    }
    const buffer = this.#buffer;
    const view = new DataView(buffer.buffer);
    view.setFloat64(0, event.time, true);
    view.setUint32(8, Level[event.level], true);
    let at = HEAD_BYTES;
    const targetBytes = this.#encoder.encodeInto(target, buffer.subarray(at))
      .written;
    at += targetBytes;
    const msgBytes = this.#encoder.encodeInto(msg, buffer.subarray(at))
      .written;
    at += msgBytes;
    const lineBytes = this.#encoder.encodeInto(line, buffer.subarray(at))
      .written;
    at += lineBytes;
    view.setUint32(12, targetBytes, true);
    view.setUint32(16, msgBytes, true);
    view.setUint32(20, event.fieldsAt, true);
    return { bytes: buffer.subarray(0, at), lineBytes };
  }
}

const decoder = new TextDecoder();

/**
 * One event of the tail, as the handler keeps it: numbered, with the line
 * for the page and what the filters test.
 */
export class TailEntry implements EventText {
  /** 1 and up, in the order the hub read the entries. */
  readonly id: number;
  /** The line for the page: one JSON object. */
  readonly line: string;
  /** Milliseconds since the Unix epoch. */
  readonly time: number;
  /** The level name. */
  readonly level: LevelName;
  /** The target. */
  readonly target: string;
  /** The message. */
  readonly msg: string;
  readonly #fieldsAt: number;

  /**
   * Creates an entry.
   *
   * @param id Its number.
   * @param event What it holds.
   */
  constructor(id: number, event: TailEvent) {
    this.id = id;
    this.line = event.line;
    this.time = event.time;
    this.level = event.level;
    this.target = event.target;
    this.msg = event.msg;
    this.#fieldsAt = event.fieldsAt;
  }

  /** The fields, as the text of one JSON object (cut from the line). */
  get fieldsJson(): string {
    return "{" + this.line.slice(this.#fieldsAt + 1);
  }
}

/**
 * Reads an entry that {@link TailEntryWriter} wrote.
 *
 * @param id The number to give it.
 * @param bytes The entry's bytes.
 * @returns The entry, or undefined when the bytes are not one.
 */
export function decodeTailEntry(
  id: number,
  bytes: Uint8Array,
): TailEntry | undefined {
  if (bytes.length < HEAD_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const level = LEVEL_NAMES[view.getUint32(8, true)];
  const targetEnd = HEAD_BYTES + view.getUint32(12, true);
  const msgEnd = targetEnd + view.getUint32(16, true);
  if (level === undefined || msgEnd > bytes.length) return undefined;
  const line = decoder.decode(bytes.subarray(msgEnd));
  const fieldsAt = view.getUint32(20, true);
  if (fieldsAt >= line.length) return undefined;
  return new TailEntry(id, {
    time: view.getFloat64(0, true),
    level,
    target: decoder.decode(bytes.subarray(HEAD_BYTES, targetEnd)),
    msg: decoder.decode(bytes.subarray(targetEnd, msgEnd)),
    line,
    fieldsAt,
  });
}
