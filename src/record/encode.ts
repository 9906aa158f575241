/**
 * The hot path: a producer thread's recorder. It encodes each event straight
 * into the ring's memory (no intermediate object, no JSON, no string
 * concatenation) and commits it with one atomic store. The record framing
 * (room, header, commit) is in src/record/ring_writer.ts; this file is the
 * interning and the value encoding.
 *
 * Any change here comes with a bench/hot_path.ts number before and after.
 *
 * @module
 */

import type { RingMemory } from "../ring/ring.ts";
import type { DictionaryWriter } from "./dictionary.ts";
import {
  K_END,
  K_ID_BASE,
  K_INLINE,
  K_MORE,
  M_CIRCULAR,
  M_DEPTH,
  M_FUNCTION,
  M_OPAQUE,
  M_REDACTED,
  M_SYMBOL,
  M_THROWN,
  M_TRUNCATED,
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
import { writeWtf8, wtf8Fit, wtf8Length } from "./wtf8.ts";
import { RingWriter } from "./ring_writer.ts";

/**
 * Size limits applied while encoding; past them values are cut with a visible marker.
 *
 * @example Cut long strings and big arrays
 * ```ts
 * import { createLogger, type EncodeLimits, memorySink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const limits: Partial<EncodeLimits> = { string: 10, items: 3 };
 * const log = createLogger({ sinks: [sink], limits });
 * log.info("upload", { body: "x".repeat(50), ids: [1, 2, 3, 4, 5] });
 * await log.flush();
 * assert.equal(
 *   JSON.stringify(sink.records[0].fields),
 *   '{"body":"xxxxxxxxxx…[40 more chars]","ids":[1,2,3,"[2 more items]"]}',
 * );
 * await log.close();
 * ```
 */
export interface EncodeLimits {
  /** Longest string kept, in UTF-16 units (default 8192). */
  readonly string: number;
  /** Deepest nesting of objects, arrays and errors kept (default 6). */
  readonly depth: number;
  /** Most keys or items kept per object, array, Map or Set (default 100). */
  readonly items: number;
}

/** The default {@link EncodeLimits}. */
export const DEFAULT_LIMITS: EncodeLimits = {
  string: 8192,
  depth: 6,
  items: 100,
};

/** Room a container needs before it starts another item. */
const ITEM_ROOM = 24;
/** A key that is neither interned nor redacted: write it inline. */
const KEY_INLINE = 0;
/** A key that is not interned but is redacted. */
const KEY_INLINE_REDACTED = -0x80000000;
/** Messages interned by value, at most: past this they are written inline. */
const MAX_MESSAGE_SITES = 4096;
/** Longest key or message interned; longer ones are written inline. */
const MAX_INTERNED_LENGTH = 256;

const OBJECT_PROTO = Object.prototype;
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** The keys a call site logged last, in order, and their codes. */
interface KeyShape {
  keys: string[];
  codes: number[];
}

/**
 * Encodes events into one ring. Single producer: only its own thread calls it.
 * Where each record goes (room, header, commit) is {@link RingWriter}'s; what
 * is in it (interned sites and keys, typed values, limits, redaction) is
 * this class's.
 */
export class Recorder extends RingWriter {
  /** Encoding limits. */
  readonly limits: EncodeLimits;
  /** The dictionary this ring's records refer to. */
  readonly dictionary: DictionaryWriter;

  #keyIds = new Map<string, number>();
  #messageSites = new Map<string, number>();
  #recentMessages: (string | undefined)[] = new Array(64).fill(undefined);
  #recentSites = new Int32Array(64);
  #shapes: (KeyShape | undefined)[] = [];
  #templateSites = new WeakMap<TemplateStringsArray, number>();
  #redact: ReadonlySet<string>;
  #stack: unknown[] = [];
  #depth = 0;

  constructor(
    memory: RingMemory,
    dictionary: DictionaryWriter,
    options: {
      maxRecord: number;
      policy: number;
      limits: EncodeLimits;
      redact: readonly string[];
    },
  ) {
    super(memory, options.maxRecord, options.policy);
    this.limits = options.limits;
    this.dictionary = dictionary;
    this.#redact = new Set(options.redact.map((key) => key.toLowerCase()));
  }

  // ---- call sites and interning (a Map or WeakMap read per event) ----

  /** The site id of a message string, interning it the first time; 0 means inline. */
  messageSite(msg: string): number {
    // A direct-mapped cache in front of the Map: a hit is one identity
    // comparison (log messages are usually the same string object).
    const slot = msg.length & 63;
    if (this.#recentMessages[slot] === msg) return this.#recentSites[slot];
    let id = this.#messageSites.get(msg);
    if (id === undefined) {
      if (
        this.#messageSites.size >= MAX_MESSAGE_SITES ||
        msg.length > MAX_INTERNED_LENGTH
      ) return 0;
      id = this.dictionary.addSite([msg]);
      if (id === 0) return 0;
      this.#messageSites.set(msg, id);
    }
    this.#recentMessages[slot] = msg;
    this.#recentSites[slot] = id;
    return id;
  }

  /** The site id of a template, interning it the first time; 0 means inline. */
  templateSite(strings: TemplateStringsArray): number {
    const id = this.#templateSites.get(strings);
    if (id !== undefined) return id;
    const added = this.dictionary.addSite(strings);
    this.#templateSites.set(strings, added);
    return added;
  }

  /** The dictionary id of a target; 0 when it must be written inline. */
  targetId(target: string): number {
    return target.length > MAX_INTERNED_LENGTH
      ? 0
      : this.dictionary.addString(target);
  }

  // ---- values ----

  /**
   * Whether nothing written in this record so far can have been cut for
   * room: every cut for room (a string, a container, the rest of the keys)
   * happens with less than `2 * ITEM_ROOM` bytes left, and leaves less.
   */
  uncut(): boolean {
    return this.pos <= this.end - 2 * ITEM_ROOM;
  }

  /** Writes raw bytes (a bound-fields blob), if they fit. */
  bytes(blob: Uint8Array): void {
    if (this.pos + blob.length > this.end) return;
    this.u8.set(blob, this.pos);
    this.pos += blob.length;
  }

  /** Writes an unsigned varint (0 to 2^32 - 1). */
  varint(n: number): void {
    const u8 = this.u8;
    let p = this.pos;
    while (n > 0x7f) {
      u8[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    u8[p++] = n;
    this.pos = p;
  }

  /** Writes a string item, cut to the string limit and to the room left. */
  str(s: string): void {
    const n = s.length;
    const u8 = this.u8;
    let p = this.pos;
    if (n < 128 && n <= this.limits.string && p + n + 2 <= this.end) {
      u8[p] = T_STR;
      u8[p + 1] = n;
      p += 2;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) return this.#strSlow(s);
        u8[p + i] = c;
      }
      this.pos = p + n;
      return;
    }
    this.#strSlow(s);
  }

  #strSlow(s: string): void {
    let to = s.length;
    let cut = false;
    if (to > this.limits.string) {
      to = this.limits.string;
      const c = s.charCodeAt(to - 1);
      if (c >= 0xd800 && c <= 0xdbff) to--;
      cut = true;
    }
    let length = wtf8Length(s, 0, to);
    // tag, original length, tag, byte length: at most 16 bytes of framing
    const room = this.end - this.pos - 16;
    if (Math.abs(length) > room) {
      to = room > 0 ? wtf8Fit(s, 0, room) : 0;
      length = wtf8Length(s, 0, to);
      cut = true;
    }
    if (cut) {
      this.u8[this.pos++] = T_STR_TRUNC;
      this.varint(s.length);
    }
    this.u8[this.pos++] = length < 0 ? T_STR_WTF8 : T_STR;
    this.varint(Math.abs(length));
    this.pos = writeWtf8(this.u8, this.pos, s, 0, to);
  }

  /** Writes a number item: int32 as a varint, anything else as a float64. */
  num(n: number): void {
    if ((n | 0) === n && (n !== 0 || 1 / n > 0)) {
      this.u8[this.pos++] = T_INT;
      this.varint(((n << 1) ^ (n >> 31)) >>> 0);
    } else {
      this.u8[this.pos++] = T_F64;
      this.#f64(n);
    }
  }

  #f64(n: number): void {
    f64[0] = n;
    const u8 = this.u8;
    const p = this.pos;
    for (let i = 0; i < 8; i++) u8[p + i] = f64Bytes[i];
    this.pos = p + 8;
  }

  #marker(kind: number, text: string): void {
    this.u8[this.pos++] = T_MARKER;
    this.u8[this.pos++] = kind;
    this.str(text);
  }

  /** Writes any value as a typed item. Never throws: what cannot be read becomes a marker. */
  value(v: unknown): void {
    switch (typeof v) {
      case "string":
        return this.str(v);
      case "number":
        return this.num(v);
      case "boolean":
        this.u8[this.pos++] = v ? T_TRUE : T_FALSE;
        return;
      case "undefined":
        this.u8[this.pos++] = T_UNDEFINED;
        return;
      case "bigint":
        this.u8[this.pos++] = T_BIGINT;
        return this.str(v.toString());
      case "symbol":
        return this.#marker(M_SYMBOL, v.toString());
      case "function":
        return this.#marker(M_FUNCTION, functionText(v));
      default:
        if (v === null) {
          this.u8[this.pos++] = T_NULL;
          return;
        }
        return this.#object(v as object);
    }
  }

  #object(v: object): void {
    const depth = this.#depth;
    const stack = this.#stack;
    for (let i = 0; i < depth; i++) {
      if (stack[i] === v) return this.#marker(M_CIRCULAR, "[Circular]");
    }
    if (depth >= this.limits.depth) {
      return this.#marker(M_DEPTH, isArraySafe(v) ? "[Array]" : "[Object]");
    }
    if (this.pos > this.end - ITEM_ROOM) {
      return this.#marker(M_TRUNCATED, isArraySafe(v) ? "[Array]" : "[Object]");
    }
    stack[depth] = v;
    this.#depth = depth + 1;
    const at = this.pos;
    try {
      if (Array.isArray(v)) this.#array(v);
      else if (v instanceof Date) {
        this.u8[this.pos++] = T_DATE;
        this.#f64(Date.prototype.getTime.call(v));
      } else if (v instanceof Error) this.#error(v);
      else if (v instanceof Map) this.#map(v);
      else if (v instanceof Set) this.#set(v);
      else if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
        this.#marker(M_OPAQUE, opaqueText(v));
      } else if (typeof (v as { toJSON?: unknown }).toJSON === "function") {
        this.#toJSON(v as { toJSON(): unknown });
      } else if (
        v instanceof Promise || v instanceof WeakMap || v instanceof WeakSet
      ) {
        this.#marker(M_OPAQUE, opaqueText(v));
      } else {
        this.u8[this.pos++] = T_OBJECT;
        this.#body(v as Record<string, unknown>, false);
        this.u8[this.pos++] = K_END;
      }
    } catch (error) {
      // Only reading a hostile value (a Proxy trap, say) throws here: items
      // inside handle their own, so the marker replaces this value whole.
      this.pos = at;
      this.#marker(M_THROWN, thrownText(error));
    } finally {
      this.#depth = depth;
      stack[depth] = undefined;
    }
  }

  #toJSON(v: { toJSON(): unknown }): void {
    let json: unknown;
    try {
      json = v.toJSON();
    } catch (error) {
      return this.#marker(M_THROWN, thrownText(error));
    }
    if (
      json !== null && typeof json === "object" &&
      typeof (json as { toJSON?: unknown }).toJSON === "function"
    ) {
      return this.#marker(M_OPAQUE, opaqueText(v));
    }
    this.value(json);
  }

  #array(v: readonly unknown[]): void {
    const u8 = this.u8;
    u8[this.pos++] = T_ARRAY;
    const n = v.length;
    const limit = this.limits.items;
    for (let i = 0; i < n; i++) {
      if (i >= limit || this.pos > this.end - ITEM_ROOM) {
        u8[this.pos++] = T_MORE;
        return this.varint(n - i);
      }
      let item: unknown;
      try {
        item = v[i];
      } catch (error) {
        this.#marker(M_THROWN, thrownText(error));
        continue;
      }
      this.value(item);
    }
    u8[this.pos++] = T_END;
  }

  #map(v: Map<unknown, unknown>): void {
    this.u8[this.pos++] = T_MAP;
    let i = 0;
    const limit = this.limits.items;
    for (const [key, item] of v) {
      if (i >= limit || this.pos > this.end - 2 * ITEM_ROOM) {
        this.u8[this.pos++] = T_MORE;
        return this.varint(v.size - i);
      }
      this.value(key);
      // A string key named like a redacted field hides its value, as an
      // object's key does.
      if (
        typeof key === "string" && this.#redact.size > 0 &&
        this.#redact.has(key.toLowerCase())
      ) this.#marker(M_REDACTED, "[Redacted]");
      else this.value(item);
      i++;
    }
    this.u8[this.pos++] = T_END;
  }

  #set(v: Set<unknown>): void {
    this.u8[this.pos++] = T_SET;
    let i = 0;
    const limit = this.limits.items;
    for (const item of v) {
      if (i >= limit || this.pos > this.end - ITEM_ROOM) {
        this.u8[this.pos++] = T_MORE;
        return this.varint(v.size - i);
      }
      this.value(item);
      i++;
    }
    this.u8[this.pos++] = T_END;
  }

  #error(e: Error): void {
    const name = readString(e, "name", "Error");
    const message = readString(e, "message", "");
    let stack: unknown;
    let cause: unknown;
    let hasCause = false;
    try {
      stack = e.stack;
      hasCause = "cause" in e;
      if (hasCause) cause = e.cause;
    } catch (error) {
      stack = thrownText(error);
    }
    this.u8[this.pos++] = T_ERROR;
    this.str(name);
    this.str(message);
    if (typeof stack === "string") this.str(stack);
    else this.u8[this.pos++] = T_UNDEFINED;
    if (hasCause) this.value(cause);
    else this.u8[this.pos++] = T_UNDEFINED;
    // Most errors have no enumerable props of their own. Walking one anyway
    // puts Error maps into #body's for-in, which sent V8's Maglev (Deno)
    // into a deoptimization loop that slowed every later log call 2.7x.
    let props = true;
    try {
      props = Object.keys(e).length > 0;
    } catch { /* a Proxy: let #body say what threw */ }
    if (props) this.#body(e as unknown as Record<string, unknown>, true);
    this.u8[this.pos++] = K_END;
  }

  /**
   * Writes the keys and values of `fields` (an object body without its end).
   * `plain`: the caller already knows its prototype is Object.prototype.
   * Redacted keys get a marker: their value is never read.
   */
  fields(fields: object, siteId = 0, plain?: boolean): void {
    const depth = this.#depth;
    this.#stack[depth] = fields;
    this.#depth = depth + 1;
    let shape: KeyShape | undefined;
    if (siteId !== 0) {
      shape = this.#shapes[siteId];
      if (shape === undefined) {
        this.#shapes[siteId] = shape = { keys: [], codes: [] };
      }
    }
    try {
      this.#body(fields as Record<string, unknown>, false, shape, plain);
    } catch (error) {
      this.#marker(M_THROWN, thrownText(error));
    } finally {
      this.#depth = depth;
      this.#stack[depth] = undefined;
    }
  }

  /** Writes one field (a key and its value, or `[Redacted]`). */
  field(key: string, value: unknown): void {
    if (this.pos > this.end - ITEM_ROOM) return;
    if (this.#key(key)) this.value(value);
    else this.#marker(M_REDACTED, "[Redacted]");
  }

  #body(
    v: Record<string, unknown>,
    isError: boolean,
    shape?: KeyShape,
    plain?: boolean,
  ): void {
    const limit = this.limits.items;
    let count = 0;
    let left = 0;
    try {
      // for-in also walks inherited enumerable keys: only own ones count.
      // A plain object inherits none (unless Object.prototype itself was
      // polluted), so the per-key check is paid only by class instances.
      const own = plain ?? Object.getPrototypeOf(v) === OBJECT_PROTO;
      for (const key in v) {
        if (!own && !Object.hasOwn(v, key)) continue;
        if (
          isError &&
          (key === "stack" || key === "message" || key === "name" ||
            key === "cause")
        ) continue;
        if (count >= limit || this.pos > this.end - ITEM_ROOM) {
          left++;
          continue;
        }
        // The keys a call site logs are usually the same strings in the
        // same order: compare by identity before paying for a Map lookup.
        let code: number;
        if (shape !== undefined && shape.keys[count] === key) {
          code = shape.codes[count];
        } else {
          code = this.#keyCode(key);
          if (shape !== undefined && count < 16) {
            shape.keys[count] = key;
            shape.codes[count] = code;
          }
        }
        count++;
        if (code > 0 && code < 0x7e) {
          // An interned, unredacted key (nearly always): one byte.
          this.u8[this.pos++] = code + K_ID_BASE;
        } else if (!this.#writeKey(key, code)) {
          this.#marker(M_REDACTED, "[Redacted]");
          continue;
        }
        let item: unknown;
        try {
          item = v[key];
        } catch (error) {
          this.#marker(M_THROWN, thrownText(error));
          continue;
        }
        this.value(item);
      }
    } catch (error) {
      // The enumeration itself threw (a Proxy's ownKeys trap): say so, end here.
      this.varint(K_INLINE);
      this.str("[keys]");
      this.#marker(M_THROWN, thrownText(error));
    }
    if (left > 0) {
      this.varint(K_MORE);
      this.varint(left);
    }
  }

  /** Writes a key; returns false when its value must be redacted. */
  #key(key: string): boolean {
    return this.#writeKey(key, this.#keyCode(key));
  }

  #keyCode(key: string): number {
    const id = this.#keyIds.get(key);
    return id === undefined ? this.#internKey(key) : id;
  }

  /** Writes a key by its code; returns false when its value must be redacted. */
  #writeKey(key: string, id: number): boolean {
    if (id > 0) {
      this.varint(id + K_ID_BASE);
      return true;
    }
    if (id === KEY_INLINE || id === KEY_INLINE_REDACTED) {
      this.varint(K_INLINE);
      this.str(key);
      return id === KEY_INLINE;
    }
    this.varint(-id + K_ID_BASE);
    return false;
  }

  #internKey(key: string): number {
    const redacted = this.#redact.size > 0 &&
      this.#redact.has(key.toLowerCase());
    const id = key.length > MAX_INTERNED_LENGTH
      ? 0
      : this.dictionary.addString(key);
    if (id === 0) return redacted ? KEY_INLINE_REDACTED : KEY_INLINE;
    const code = redacted ? -id : id;
    this.#keyIds.set(key, code);
    return code;
  }
}

/** `Array.isArray` that never throws (a revoked Proxy throws). */
function isArraySafe(v: unknown): boolean {
  try {
    return Array.isArray(v);
  } catch {
    return false;
  }
}

function readString(o: object, key: string, fallback: string): string {
  try {
    const value = (o as Record<string, unknown>)[key];
    return typeof value === "string"
      ? value
      : value === undefined
      ? fallback
      : safeString(value);
  } catch (error) {
    return `[${key} threw: ${thrownText(error)}]`;
  }
}

/** `String(value)` that never throws. */
export function safeString(value: unknown): string {
  try {
    if (typeof value === "symbol") return value.toString();
    if (typeof value === "function") return functionText(value);
    return String(value);
  } catch (error) {
    return `[unprintable: ${thrownText(error)}]`;
  }
}

function functionText(fn: unknown): string {
  let name = "";
  try {
    const value = (fn as { name?: unknown }).name;
    if (typeof value === "string") name = value;
  } catch { /* a throwing name getter: keep the function anonymous */ }
  return name === "" ? "[Function (anonymous)]" : `[Function: ${name}]`;
}

function opaqueText(v: object): string {
  try {
    const name = v.constructor?.name ?? "Object";
    const length = (v as { byteLength?: unknown }).byteLength;
    return typeof length === "number" ? `[${name}(${length})]` : `[${name}]`;
  } catch {
    return "[Object]";
  }
}

function thrownText(error: unknown): string {
  try {
    if (error instanceof Error) {
      return `[Threw: ${error.name}: ${error.message}]`;
    }
    return `[Threw: ${String(error)}]`;
  } catch {
    return "[Threw]";
  }
}
