/**
 * NDJSON written straight from record bytes: the drain's fast path for
 * sinks that write {@link ndjsonFormatter} lines. A record's line is built
 * byte by byte from the ring: the constant parts (`{"time":`,
 * `,"level":"info","target":"db","msg":"...","service":"api"`, `,"rows":`)
 * prepared once per dictionary entry, strings copied with escaping only
 * where needed, integers written as digits, into one reusable buffer. No
 * record object, no string, no TextEncoder.
 *
 * The output is byte for byte what `ndjsonFormatter()(decodeEvent(...))`
 * gives. Where a record holds something the fast path does not write the
 * same way by itself (an Error, a Map or Set, a Date, a bigint, a marker, a
 * cut string or list, a key that collides with a top-level key or repeats,
 * an integer-like key, which objects order first, a lone surrogate), the
 * whole record falls back to that formatter: correct first, fast for the
 * common records.
 *
 * Internal: not exported from mod.ts.
 *
 * @module
 */

import type { DictionaryLookup } from "../record/decode.ts";
import {
  K_END,
  K_ID_BASE,
  T_ARRAY,
  T_END,
  T_F64,
  T_FALSE,
  T_INT,
  T_NULL,
  T_OBJECT,
  T_STR,
  T_TRUE,
  T_UNDEFINED,
} from "../record/tags.ts";
import { jsonString } from "./ndjson.ts";
import type { EventHeader } from "../ring/ring.ts";
import { MAX_VALUES } from "./walk.ts";

const encoder = new TextEncoder();
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** The level names' parts of a line, by level value. */
const LEVEL_PARTS = ["trace", "debug", "info", "warn", "error", "fatal"].map(
  (name) => encoder.encode(`,"level":"${name}","target":`),
);
const TIME_OPEN = encoder.encode('{"time":');
const MSG_OPEN = encoder.encode(',"msg":');
const UNDEFINED_JSON = encoder.encode('{"$undefined":true}');
const TRUE_JSON = encoder.encode("true");
const FALSE_JSON = encoder.encode("false");
const NULL_JSON = encoder.encode("null");
const UNDEFINED_TEXT = encoder.encode("undefined");
const HEX = encoder.encode("0123456789abcdef");

/** The top-level keys a field may not keep as is (ndjsonFormatter renames it). */
const TOP_KEYS = new Set(["time", "level", "target", "msg", "service"]);
/** Deepest nesting the fast path writes (the encoder records at most 16). */
const MAX_NESTING = 64;

/** Not writable by the fast path: the record falls back. */
const NO: Uint8Array = new Uint8Array(0);

/** A key JavaScript orders before the others (an array index). */
function isIndexKey(key: string): boolean {
  if (key === "" || key.length > 10) return false;
  if (key !== "0" && (key[0] === "0" || !/^\d+$/.test(key))) return false;
  return Number(key) < 4294967295;
}

const LONE_SURROGATE =
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * `before`, the formatter's JSON literal of `text` (jsonString, so the
 * escaping rules live in one place), then `after`, as bytes.
 */
function quoted(text: string, before = "", after = ""): Uint8Array {
  return encoder.encode(before + jsonString(text) + after);
}

/**
 * A call site's part, escaped, without its quotes; NO when it has a lone
 * surrogate: a message is escaped whole, and such a part could pair with
 * the next one across an empty value, which escaping piece by piece would
 * not see.
 */
function escapedPart(part: string): Uint8Array {
  if (LONE_SURROGATE.test(part)) return NO;
  return encoder.encode(jsonString(part).slice(1, -1));
}

/** What one producer's dictionary ids become in a line, built on first use. */
export class LineCache {
  readonly dictionary: DictionaryLookup;
  /** `,"key":` at the top level, by key id (NO: falls back). */
  readonly topKeys: Uint8Array[] = [];
  /** `"key":` inside a nested object, by key id (NO: falls back). */
  readonly nestedKeys: Uint8Array[] = [];
  /** `"target"`, by target id. */
  readonly targets: Uint8Array[] = [];
  /** A call site's parts, escaped, without quotes (one part: no values). */
  readonly sites: (Uint8Array[] | null)[] = [];
  /**
   * Per call site without values: the middle of its last line, from
   * `,"level":` to the service, and the level and target it was made for.
   */
  readonly middles: ({ level: number; target: number; bytes: Uint8Array })[] =
    [];
  /** The record in which a top-level key was last seen, by key id. */
  readonly seen: Int32Array[] = [new Int32Array(256)];

  constructor(dictionary: DictionaryLookup) {
    this.dictionary = dictionary;
  }

  topKey(id: number): Uint8Array {
    let bytes = this.topKeys[id];
    if (bytes === undefined) {
      const key = this.dictionary.get(id);
      bytes = typeof key !== "string" || TOP_KEYS.has(key) || isIndexKey(key)
        ? NO
        : quoted(key, ",", ":");
      this.topKeys[id] = bytes;
    }
    return bytes;
  }

  nestedKey(id: number): Uint8Array {
    let bytes = this.nestedKeys[id];
    if (bytes === undefined) {
      const key = this.dictionary.get(id);
      // A lone `$` key makes the formatter wrap its object: not here.
      bytes = typeof key !== "string" || key.charCodeAt(0) === 36 ||
          isIndexKey(key)
        ? NO
        : quoted(key, "", ":");
      this.nestedKeys[id] = bytes;
    }
    return bytes;
  }

  target(id: number): Uint8Array {
    let bytes = this.targets[id];
    if (bytes === undefined) {
      const target = this.dictionary.get(id);
      bytes = typeof target === "string" ? quoted(target) : NO;
      this.targets[id] = bytes;
    }
    return bytes;
  }

  site(id: number): Uint8Array[] | null {
    let parts = this.sites[id];
    if (parts === undefined) {
      const entry = this.dictionary.get(id);
      parts = null;
      if (Array.isArray(entry) && entry.length > 0) {
        const escaped = entry.map(escapedPart);
        if (!escaped.includes(NO)) parts = escaped;
      }
      this.sites[id] = parts;
    }
    return parts;
  }
}

/** Thrown inside the fast path where a record must fall back. */
const FALLBACK = Symbol("fallback");

/**
 * Writes NDJSON lines into one growing buffer. `line()` appends one
 * record's line and its `\n`; `take()` hands the bytes over.
 */
export class NdjsonLines {
  out: Uint8Array = new Uint8Array(1 << 16);
  pos = 0;
  readonly #service: Uint8Array;
  #u8: Uint8Array = new Uint8Array(0);
  #at = 0;
  #end = 0;
  #cache: LineCache | undefined;
  #values = 0;
  #stamp = 0;
  /** The last line's time, and its digits. */
  #lastTime = NaN;
  #lastDigits: Uint8Array = NO;
  /** Records written by the fast path, and those that fell back. */
  fast = 0;
  slow = 0;

  constructor(service: string) {
    this.#service = quoted(service, ',"service":', "");
  }

  /** Makes room for `n` more bytes. */
  #room(n: number): void {
    if (this.pos + n <= this.out.length) return;
    const grown = new Uint8Array(
      Math.max(this.pos + n, this.out.length * 2),
    );
    grown.set(this.out.subarray(0, this.pos));
    this.out = grown;
  }

  #put(bytes: Uint8Array): void {
    const n = bytes.length;
    this.#room(n);
    const out = this.out;
    let p = this.pos;
    if (n < 32) { for (let i = 0; i < n; i++) out[p++] = bytes[i]; }
    else {
      out.set(bytes, p);
      p += n;
    }
    this.pos = p;
  }

  /**
   * Appends the line of the event record ending at `end` whose header `h`
   * was read (with `readHeader`), then `\n`; returns false, having appended
   * nothing, where the record must be formatted the formatter's way (see
   * {@link text}).
   */
  line(cache: LineCache, u8: Uint8Array, h: EventHeader, end: number): boolean {
    const begin = this.pos;
    try {
      if (this.#fastLine(cache, u8, h, end)) {
        this.fast++;
        return true;
      }
    } catch (error) {
      if (error !== FALLBACK) throw error;
    }
    this.pos = begin;
    return false;
  }

  /** Appends a line formatted elsewhere, then `\n`. */
  text(line: string): void {
    const text = line + "\n";
    this.#room(text.length * 3);
    this.pos += encoder.encodeInto(text, this.out.subarray(this.pos)).written;
  }

  /**
   * The buffer's bytes `[from, to)`, without a copy, and the buffer emptied:
   * they are valid until the next line is written.
   */
  handOver(from: number, to: number): Uint8Array {
    const bytes = this.out.subarray(from, to);
    this.pos = 0;
    return bytes;
  }

  #fastLine(
    cache: LineCache,
    u8: Uint8Array,
    h: EventHeader,
    end: number,
  ): boolean {
    const { level, targetId, siteId, time } = h;
    if (level > 5 || targetId === 0 || siteId === 0) return false;
    this.#u8 = u8;
    this.#at = h.body;
    this.#end = end;
    this.#cache = cache;
    this.#values = 0;
    this.#put(TIME_OPEN);
    if (time === this.#lastTime && time > 0) {
      // Events come many to a millisecond: the last time's digits again.
      this.#put(this.#lastDigits);
    } else {
      const from = this.pos;
      // Epoch ms are past int32: whole ones as digits, without a string.
      if (time > 0 && Number.isSafeInteger(time)) this.#whole(time);
      else this.#number(time);
      this.#lastTime = time;
      this.#lastDigits = this.out.slice(from, this.pos);
    }
    const middle = cache.middles[siteId];
    if (
      middle !== undefined && middle.level === level &&
      middle.target === targetId
    ) {
      // The usual record: its call site's last line had this level and
      // target, so all from `,"level":` to the service is one copy.
      this.#put(middle.bytes);
    } else {
      const target = cache.target(targetId);
      const parts = cache.site(siteId);
      if (target === NO || parts === null) return false;
      const from = this.pos;
      this.#put(LEVEL_PARTS[level]);
      this.#put(target);
      this.#put(MSG_OPEN);
      this.#room(1);
      this.out[this.pos++] = 0x22;
      this.#put(parts[0]);
      if (parts.length === 1) {
        this.#room(1);
        this.out[this.pos++] = 0x22;
        this.#put(this.#service);
        cache.middles[siteId] = {
          level,
          target: targetId,
          bytes: this.out.slice(from, this.pos),
        };
      } else {
        for (let i = 1; i < parts.length; i++) {
          if (this.#at >= end) return false; // values cut: "…"
          this.#rendered();
          this.#put(parts[i]);
        }
        this.#room(1);
        this.out[this.pos++] = 0x22;
        this.#put(this.#service);
      }
    }
    if (!this.#topFields()) return false;
    this.#room(2);
    this.out[this.pos++] = 0x7d;
    this.out[this.pos++] = 0x0a;
    return true;
  }

  #varint(): number {
    const u8 = this.#u8;
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.#at >= this.#end) throw FALLBACK;
      const b = u8[this.#at++];
      if (shift === 28) {
        if (b > 0x0f) throw FALLBACK;
        return result + b * 0x10000000;
      }
      result |= (b & 0x7f) << shift;
      if (b < 0x80) return result >>> 0;
      shift += 7;
    }
  }

  /** The top-level fields: `,"key":value` pairs to the end of the record. */
  #topFields(): boolean {
    const cache = this.#cache!;
    // Stamps tell a key repeated in one record (a bound field and the
    // call's own): the formatter keeps the later value in the earlier place.
    let seen = cache.seen[0];
    if (this.#stamp === 0x7fffffff) {
      this.#stamp = 0;
      seen.fill(0);
    }
    const stamp = ++this.#stamp;
    while (this.#at < this.#end) {
      const k = this.#varint();
      if (k === K_END) break;
      if (k < K_ID_BASE + 1) return false; // cut keys, inline keys
      const id = k - K_ID_BASE;
      const key = cache.topKey(id);
      if (key === NO) return false;
      if (id >= seen.length) {
        const grown = new Int32Array(Math.max(id + 1, seen.length * 2));
        grown.set(seen);
        seen = cache.seen[0] = grown;
      }
      if (seen[id] === stamp) return false;
      seen[id] = stamp;
      this.#put(key);
      this.#value(0);
    }
    return true;
  }

  /** One value item, as JSON. */
  #value(depth: number): void {
    if (this.#at >= this.#end) throw FALLBACK;
    const tag = this.#u8[this.#at++];
    switch (tag) {
      case T_STR:
        this.#room(2);
        this.out[this.pos++] = 0x22;
        this.#string();
        this.#room(1);
        this.out[this.pos++] = 0x22;
        return;
      case T_INT: {
        const z = this.#varint();
        this.#integer((z >>> 1) ^ -(z & 1));
        return;
      }
      case T_F64:
        this.#number(this.#f64());
        return;
      case T_TRUE:
        this.#put(TRUE_JSON);
        return;
      case T_FALSE:
        this.#put(FALSE_JSON);
        return;
      case T_NULL:
        this.#put(NULL_JSON);
        return;
      case T_UNDEFINED:
        this.#put(UNDEFINED_JSON);
        return;
      case T_OBJECT:
        this.#object(depth + 1);
        return;
      case T_ARRAY:
        this.#array(depth + 1);
        return;
      default:
        throw FALLBACK;
    }
  }

  #container(depth: number): void {
    if (depth > MAX_NESTING || ++this.#values > MAX_VALUES) throw FALLBACK;
  }

  #object(depth: number): void {
    this.#container(depth);
    const cache = this.#cache!;
    this.#room(1);
    this.out[this.pos++] = 0x7b;
    let first = true;
    for (;;) {
      const k = this.#varint();
      if (k === K_END) break;
      if (k < K_ID_BASE + 1) throw FALLBACK;
      const key = cache.nestedKey(k - K_ID_BASE);
      if (key === NO) throw FALLBACK;
      if (!first) {
        this.#room(1);
        this.out[this.pos++] = 0x2c;
      }
      first = false;
      this.#put(key);
      this.#value(depth);
    }
    this.#room(1);
    this.out[this.pos++] = 0x7d;
  }

  #array(depth: number): void {
    this.#container(depth);
    this.#room(1);
    this.out[this.pos++] = 0x5b;
    let first = true;
    for (;;) {
      if (this.#at >= this.#end) throw FALLBACK;
      if (this.#u8[this.#at] === T_END) {
        this.#at++;
        break;
      }
      if (!first) {
        this.#room(1);
        this.out[this.pos++] = 0x2c;
      }
      first = false;
      this.#value(depth);
    }
    this.#room(1);
    this.out[this.pos++] = 0x5d;
  }

  /** A template value as the message renders it (renderValue), escaped. */
  #rendered(): void {
    const tag = this.#u8[this.#at++];
    switch (tag) {
      case T_STR:
        this.#string();
        return;
      case T_INT: {
        const z = this.#varint();
        this.#integer((z >>> 1) ^ -(z & 1));
        return;
      }
      case T_F64: {
        const n = this.#f64();
        this.#ascii(Object.is(n, -0) ? "-0" : String(n));
        return;
      }
      case T_TRUE:
        this.#put(TRUE_JSON);
        return;
      case T_FALSE:
        this.#put(FALSE_JSON);
        return;
      case T_NULL:
        this.#put(NULL_JSON);
        return;
      case T_UNDEFINED:
        this.#put(UNDEFINED_TEXT);
        return;
      default:
        throw FALLBACK;
    }
  }

  #f64(): number {
    if (this.#at + 8 > this.#end) throw FALLBACK;
    const u8 = this.#u8;
    for (let i = 0; i < 8; i++) f64Bytes[i] = u8[this.#at + i];
    this.#at += 8;
    return f64[0];
  }

  /** A number as numberJson writes it. */
  #number(n: number): void {
    if (n === (n | 0) && (n !== 0 || 1 / n > 0)) this.#integer(n);
    else if (n === 0) this.#ascii('{"$float":"-0"}');
    else if (Number.isFinite(n)) this.#ascii(String(n));
    else this.#ascii('{"$float":"' + n + '"}');
  }

  /** An int32 as digits. */
  #integer(n: number): void {
    this.#room(12);
    const out = this.out;
    let p = this.pos;
    if (n < 0) {
      out[p++] = 0x2d;
      if (n === -2147483648) {
        this.pos = p;
        this.#ascii("2147483648");
        return;
      }
      n = -n;
    }
    if (n < 10) out[p++] = 0x30 + n;
    else {
      let digits = 1;
      for (let m = n; m >= 10; m = (m / 10) | 0) digits++;
      p += digits;
      for (let i = p - 1; digits > 0; digits--, i--) {
        out[i] = 0x30 + n % 10;
        n = (n / 10) | 0;
      }
    }
    this.pos = p;
  }

  /** A positive safe integer as digits. */
  #whole(n: number): void {
    if (n < 2147483648) {
      this.#integer(n);
      return;
    }
    // Two int32 halves: the digits above the last eight, then eight.
    const high = Math.floor(n / 1e8);
    let low = n - high * 1e8;
    if (high < 2147483648) this.#integer(high);
    else this.#ascii(String(high));
    this.#room(8);
    const out = this.out;
    const p = this.pos;
    for (let i = p + 7; i >= p; i--) {
      const q = (low / 10) | 0;
      out[i] = 0x30 + (low - q * 10);
      low = q;
    }
    this.pos = p + 8;
  }

  /** ASCII text (a number's digits), as bytes. */
  #ascii(text: string): void {
    this.#room(text.length);
    const out = this.out;
    let p = this.pos;
    for (let i = 0; i < text.length; i++) out[p++] = text.charCodeAt(i);
    this.pos = p;
  }

  /**
   * A T_STR payload (length, UTF-8), escaped as jsonString escapes it: C0
   * controls, `"` and `\` as JSON.stringify does, DEL, C1 and
   * U+2028/U+2029 as `\u00XX`. Bytes that are not well-formed UTF-8 fall
   * back (the decoder would have replaced them).
   */
  #string(): void {
    const n = this.#varint();
    const u8 = this.#u8;
    let i = this.#at;
    const stop = i + n;
    if (stop > this.#end) throw FALLBACK;
    this.#room(6 * n);
    const out = this.out;
    let p = this.pos;
    while (i < stop) {
      const b = u8[i];
      if (b >= 0x20 && b < 0x7f) {
        if (b === 0x22 || b === 0x5c) {
          out[p++] = 0x5c;
        }
        out[p++] = b;
        i++;
        continue;
      }
      if (b < 0x80) {
        p = escapeControl(out, p, b);
        i++;
        continue;
      }
      // Multi-byte: checked, then copied, C1 and U+2028/9 escaped.
      if (b >= 0xc2 && b <= 0xdf) {
        const c = u8[i + 1];
        if (i + 1 >= stop || (c & 0xc0) !== 0x80) throw FALLBACK;
        if (b === 0xc2 && c < 0xa0) p = escapeUnit(out, p, c);
        else {
          out[p++] = b;
          out[p++] = c;
        }
        i += 2;
      } else if (b >= 0xe0 && b <= 0xef) {
        const c = u8[i + 1];
        const d = u8[i + 2];
        if (
          i + 2 >= stop || (c & 0xc0) !== 0x80 || (d & 0xc0) !== 0x80 ||
          (b === 0xe0 && c < 0xa0) || (b === 0xed && c >= 0xa0)
        ) throw FALLBACK;
        if (b === 0xe2 && c === 0x80 && (d === 0xa8 || d === 0xa9)) {
          p = escapeUnit(out, p, d === 0xa8 ? 0x2028 : 0x2029);
        } else {
          out[p++] = b;
          out[p++] = c;
          out[p++] = d;
        }
        i += 3;
      } else if (b >= 0xf0 && b <= 0xf4) {
        const c = u8[i + 1];
        if (
          i + 3 >= stop || (c & 0xc0) !== 0x80 ||
          (u8[i + 2] & 0xc0) !== 0x80 || (u8[i + 3] & 0xc0) !== 0x80 ||
          (b === 0xf0 && c < 0x90) || (b === 0xf4 && c >= 0x90)
        ) throw FALLBACK;
        out[p++] = b;
        out[p++] = c;
        out[p++] = u8[i + 2];
        out[p++] = u8[i + 3];
        i += 4;
      } else throw FALLBACK;
    }
    this.pos = p;
    this.#at = stop;
  }
}

/** `\b`, `\t`, `\n`, `\f`, `\r` or `\u00XX` for a C0 control or DEL. */
function escapeControl(out: Uint8Array, p: number, b: number): number {
  out[p++] = 0x5c;
  switch (b) {
    case 0x08:
      out[p++] = 0x62;
      return p;
    case 0x09:
      out[p++] = 0x74;
      return p;
    case 0x0a:
      out[p++] = 0x6e;
      return p;
    case 0x0c:
      out[p++] = 0x66;
      return p;
    case 0x0d:
      out[p++] = 0x72;
      return p;
  }
  return hex4(out, p, b);
}

/** `\uXXXX` for a code unit. */
function escapeUnit(out: Uint8Array, p: number, unit: number): number {
  out[p++] = 0x5c;
  return hex4(out, p, unit);
}

function hex4(out: Uint8Array, p: number, unit: number): number {
  out[p++] = 0x75;
  out[p++] = HEX[(unit >> 12) & 15];
  out[p++] = HEX[(unit >> 8) & 15];
  out[p++] = HEX[(unit >> 4) & 15];
  out[p++] = HEX[unit & 15];
  return p;
}
