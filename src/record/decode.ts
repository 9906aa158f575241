/**
 * Decoding records back into {@link LogRecord}s. Runs in the drain, never on
 * the caller's hot path. Bounds-checked: a torn or hostile record raises
 * {@link TtlogFormatError}, never a crash, a hang or a huge allocation.
 *
 * @module
 */

import type { LevelName } from "../level.ts";
import { LEVEL_NAMES } from "../level.ts";
import type { DictionaryEntry } from "./dictionary.ts";
import {
  K_END,
  K_ID_BASE,
  K_INLINE,
  K_MORE,
  MARKER_KINDS,
  T_ARRAY,
  T_BIGINT,
  T_DATE,
  T_END,
  T_ERROR,
  T_F64,
  T_FALSE,
  T_INT,
  T_MAP,
  T_MARKER,
  T_MORE,
  T_NULL,
  T_OBJECT,
  T_SET,
  T_STR,
  T_STR_TRUNC,
  T_STR_WTF8,
  T_TRUE,
  T_UNDEFINED,
} from "./tags.ts";
import {
  type FieldValues,
  LoggedError,
  type LogRecord,
  Marker,
} from "./values.ts";
import { readWtf8 } from "./wtf8.ts";
import {
  type EventHeader,
  eventHeader,
  MIN_HEADER_BYTES,
  readHeader,
} from "../ring/ring.ts";

/**
 * Thrown when bytes are not a valid record: a torn read, a corrupt or hostile
 * file. The message says what was wrong and where.
 *
 * @example Catch a format error
 * ```ts
 * import { TtlogFormatError } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * const err = new TtlogFormatError("record at 12: unknown value tag 0xff");
 * assert.ok(err instanceof Error);
 * assert.equal(err.name, "TtlogFormatError");
 * ```
 */
export class TtlogFormatError extends Error {
  /**
   * Creates the error.
   *
   * @param message What was wrong and where.
   */
  constructor(message: string) {
    super(message);
    this.name = "TtlogFormatError";
  }
}

/** Looks up dictionary entries by id. */
export interface DictionaryLookup {
  /** The entry with this id, or undefined. */
  get(id: number): DictionaryEntry | undefined;
}

const MAX_NESTING = 64;
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** Reads typed values from a byte range. */
export class ValueReader {
  u8: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;
  dictionary: DictionaryLookup;
  #nesting = 0;

  constructor(dictionary: DictionaryLookup) {
    this.dictionary = dictionary;
  }

  /** Points the reader at `u8[pos, end)`. */
  reset(u8: Uint8Array, pos: number, end: number): void {
    this.u8 = u8;
    this.pos = pos;
    this.end = end;
    this.#nesting = 0;
  }

  #fail(what: string): never {
    throw new TtlogFormatError(`${what} at byte ${this.pos}`);
  }

  byte(): number {
    if (this.pos >= this.end) this.#fail("record ends inside a value");
    return this.u8[this.pos++];
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      if (shift === 28) {
        if (b > 0x0f) this.#fail("varint too large");
        return result + b * 0x10000000;
      }
      result |= (b & 0x7f) << shift;
      if (b < 0x80) return result >>> 0;
      shift += 7;
    }
  }

  #f64(): number {
    if (this.pos + 8 > this.end) this.#fail("record ends inside a number");
    for (let i = 0; i < 8; i++) f64Bytes[i] = this.u8[this.pos + i];
    this.pos += 8;
    return f64[0];
  }

  #rawString(tag: number): string {
    const n = this.varint();
    if (n > this.end - this.pos) this.#fail("string longer than its record");
    const start = this.pos;
    this.pos += n;
    return readWtf8(this.u8, start, start + n, tag === T_STR_WTF8);
  }

  /** Reads a string item (or any item, rendered as a string). */
  string(): string {
    const value = this.value();
    return typeof value === "string" ? value : renderValue(value);
  }

  /** Reads one item. */
  value(): unknown {
    const tag = this.byte();
    switch (tag) {
      case T_STR:
      case T_STR_WTF8:
        return this.#rawString(tag);
      case T_INT: {
        const z = this.varint();
        return (z >>> 1) ^ -(z & 1);
      }
      case T_F64:
        return this.#f64();
      case T_TRUE:
        return true;
      case T_FALSE:
        return false;
      case T_NULL:
        return null;
      case T_UNDEFINED:
        return undefined;
      case T_STR_TRUNC:
        this.pos--;
        return this.#stringItem();
      case T_BIGINT: {
        const digits = this.#stringItem();
        try {
          return BigInt(digits);
        } catch {
          return new Marker("truncated", `[BigInt ${digits}]`);
        }
      }
      case T_DATE:
        return new Date(this.#f64());
      case T_MARKER: {
        const kind = MARKER_KINDS[this.byte()] ?? "opaque";
        return new Marker(kind, this.#stringItem());
      }
      case T_ARRAY:
      case T_SET:
      case T_MAP:
      case T_OBJECT:
      case T_ERROR:
        return this.#nested(tag);
      default:
        return this.#fail(`unknown value tag 0x${tag.toString(16)}`);
    }
  }

  /**
   * Reads a string item where only a string may stand (a key, a marker's
   * text, a bigint's digits): the encoder cuts those too, so a cut string
   * (T_STR_TRUNC around a plain one) is read with its visible marker.
   */
  #stringItem(): string {
    const tag = this.byte();
    if (tag === T_STR_TRUNC) {
      const original = this.varint();
      const kept = this.#plainString();
      return `${kept}…[${original - kept.length} more chars]`;
    }
    if (tag !== T_STR && tag !== T_STR_WTF8) this.#fail("expected a string");
    return this.#rawString(tag);
  }

  #plainString(): string {
    const tag = this.byte();
    if (tag !== T_STR && tag !== T_STR_WTF8) this.#fail("expected a string");
    return this.#rawString(tag);
  }

  #nested(tag: number): unknown {
    if (++this.#nesting > MAX_NESTING) this.#fail("values nested too deep");
    try {
      switch (tag) {
        case T_ARRAY:
          return this.#items([]);
        case T_SET:
          return new Set(this.#items([]));
        case T_MAP: {
          const flat = this.#items([]);
          const map = new Map<unknown, unknown>();
          for (let i = 0; i + 1 < flat.length; i += 2) {
            map.set(flat[i], flat[i + 1]);
          }
          // A cut Map ends with one marker after its pairs: keep it, as an object's "…" key.
          if (flat.length % 2 === 1) map.set("…", flat[flat.length - 1]);
          return map;
        }
        case T_OBJECT: {
          const object: FieldValues = {};
          this.body(object);
          return object;
        }
        default: {
          const name = this.string();
          const message = this.string();
          const stack = this.value();
          const cause = this.value();
          const props: FieldValues = {};
          this.body(props);
          return new LoggedError(
            name,
            message,
            typeof stack === "string" ? stack : undefined,
            cause,
            props,
          );
        }
      }
    } finally {
      this.#nesting--;
    }
  }

  #items(into: unknown[]): unknown[] {
    for (;;) {
      if (this.pos >= this.end) this.#fail("record ends inside a list");
      const tag = this.u8[this.pos];
      if (tag === T_END) {
        this.pos++;
        return into;
      }
      if (tag === T_MORE) {
        this.pos++;
        const left = this.varint();
        into.push(new Marker("truncated", `[${left} more items]`));
        return into;
      }
      into.push(this.value());
    }
  }

  /** Reads an object body into `into`, up to its end key or the end of the range. */
  body(into: FieldValues): void {
    while (this.pos < this.end) {
      const k = this.varint();
      if (k === K_END) return;
      if (k === K_MORE) {
        const left = this.varint();
        setField(into, "…", new Marker("truncated", `[${left} more keys]`));
        continue;
      }
      let key: string;
      if (k === K_INLINE) key = this.#stringItem();
      else {
        const entry = this.dictionary.get(k - K_ID_BASE);
        if (typeof entry !== "string") {
          this.#fail(`unknown key id ${k - K_ID_BASE}`);
        }
        key = entry;
      }
      setField(into, key, this.value());
    }
  }
}

/** Sets a field without ever invoking a setter (`__proto__` stays a plain key). */
function setField(into: FieldValues, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(into, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else into[key] = value;
}

/** Renders a decoded value into a message (a template's `${value}`). */
export function renderValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
    case "boolean":
    case "undefined":
      return String(value);
    default:
      if (value === null) return "null";
      if (value instanceof Date) {
        return Number.isNaN(value.getTime())
          ? "Invalid Date"
          : value.toISOString();
      }
      if (value instanceof LoggedError || value instanceof Marker) {
        return value.toString();
      }
      try {
        return JSON.stringify(value, jsonReplacer) ?? String(value);
      } catch {
        return String(value);
      }
  }
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (value instanceof LoggedError) return value.toString();
  if (typeof value === "number" && !Number.isFinite(value)) {
    return String(value);
  }
  if (value === undefined) return "undefined";
  return value;
}

/**
 * Decodes one event record whose content is `u8[start, end)` (its header
 * included). Sequence numbers are not in the record: the reader counts
 * them (a ring's tail pair, a .ttlog file's column) and passes `seq`.
 * With `withTemplate`, the record also gets its call site's text parts as
 * `template`.
 */
export function decodeEvent(
  reader: ValueReader,
  u8: Uint8Array,
  start: number,
  end: number,
  service: string,
  seq: number,
  timeBase: number,
  withTemplate = false,
): LogRecord {
  if (
    !(start >= 0 && start + MIN_HEADER_BYTES <= end && end <= u8.length) ||
    !readHeader(u8, start, end, timeBase, header)
  ) {
    throw new TtlogFormatError(
      `record at byte ${start} (to ${end}) does not fit its header and buffer (${u8.length} bytes)`,
    );
  }
  return decodeWithHeader(
    reader,
    u8,
    header,
    start,
    end,
    service,
    seq,
    withTemplate,
  );
}

const header = eventHeader();

/**
 * {@link decodeEvent} for a record whose header `h` was read already
 * (with {@link readHeader}).
 */
export function decodeWithHeader(
  reader: ValueReader,
  u8: Uint8Array,
  h: EventHeader,
  start: number,
  end: number,
  service: string,
  seq: number,
  withTemplate = false,
): LogRecord {
  const { time, level, targetId, siteId } = h;
  reader.reset(u8, h.body, end);
  const levelName: LevelName | undefined = LEVEL_NAMES[level];
  if (levelName === undefined) {
    throw new TtlogFormatError(`unknown level ${level} at byte ${start}`);
  }
  let target: string;
  if (targetId === 0) target = reader.string();
  else {
    const entry = reader.dictionary.get(targetId);
    if (typeof entry !== "string") {
      throw new TtlogFormatError(
        `unknown target id ${targetId} at byte ${start}`,
      );
    }
    target = entry;
  }
  let parts: readonly string[];
  let cut = false;
  if (siteId === 0) {
    const count = reader.varint();
    // Parts that did not fit the record were left out (each part is at
    // least one byte, so this loop is bounded by the record).
    const inline: string[] = [];
    for (let i = 0; i < count && reader.pos < end; i++) {
      inline.push(reader.string());
    }
    cut = inline.length < count;
    parts = inline;
  } else {
    const entry = reader.dictionary.get(siteId);
    if (!Array.isArray(entry)) {
      throw new TtlogFormatError(`unknown site id ${siteId} at byte ${start}`);
    }
    parts = entry;
  }
  let msg = parts[0] ?? "";
  for (let i = 1; i < parts.length; i++) {
    // Values that did not fit the record were left out: the content ends.
    msg += (reader.pos < end ? renderValue(reader.value()) : "…") + parts[i];
  }
  if (cut) msg += "…";
  const fields: FieldValues = {};
  reader.body(fields);
  return withTemplate
    ? {
      time,
      level: levelName,
      target,
      msg,
      fields,
      service,
      seq,
      template: parts,
    }
    : { time, level: levelName, target, msg, fields, service, seq };
}
