/**
 * Which dictionary entries a run of records uses: their targets, call sites
 * and field keys, found by walking the records' values without decoding
 * them (docs/FORMAT.md, "Record" and "Values"). A writer of self-contained
 * chunks (the file sink's `.ttlog` format) puts just those into each chunk,
 * however large the producer's dictionary has grown.
 *
 * @module
 */

import type { ChunkEntry } from "./format.ts";
import {
  contentLength,
  eventHeader,
  MIN_HEADER_BYTES,
  readHeader,
} from "../ring/ring.ts";

const T_INT = 0x05;
const T_F64 = 0x06;
const T_STR = 0x07;
const T_STR_WTF8 = 0x08;
const T_STR_TRUNC = 0x09;
const T_BIGINT = 0x0a;
const T_DATE = 0x0b;
const T_ERROR = 0x0c;
const T_ARRAY = 0x0d;
const T_OBJECT = 0x0e;
const T_MAP = 0x0f;
const T_SET = 0x10;
const T_END = 0x11;
const T_MORE = 0x12;
const T_MARKER = 0x13;
const K_END = 0;
const K_MORE = 1;
const K_INLINE = 2;
const K_ID_BASE = 2;
const MAX_NESTING = 64;

/** Thrown inside the walk when a record does not parse. */
class Malformed extends Error {}

/** Walks one record's values, marking the dictionary ids it meets. */
class Walker {
  u8: Uint8Array;
  pos = 0;
  end = 0;
  depth = 0;
  readonly used: Uint8Array;

  constructor(u8: Uint8Array, used: Uint8Array) {
    this.u8 = u8;
    this.used = used;
  }

  mark(id: number): void {
    if (id < this.used.length) this.used[id] = 1;
  }

  byte(): number {
    if (this.pos >= this.end) throw new Malformed();
    return this.u8[this.pos++];
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let n = 0; n < 5; n++) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw new Malformed();
  }

  skip(bytes: number): void {
    if (bytes > this.end - this.pos) throw new Malformed();
    this.pos += bytes;
  }

  value(): void {
    const tag = this.byte();
    switch (tag) {
      case T_INT:
        this.varint();
        return;
      case T_F64:
      case T_DATE:
        this.skip(8);
        return;
      case T_STR:
      case T_STR_WTF8:
        this.skip(this.varint());
        return;
      case T_STR_TRUNC:
        this.varint();
        this.value();
        return;
      case T_BIGINT:
        this.value();
        return;
      case T_MARKER:
        this.byte();
        this.value();
        return;
      case T_ARRAY:
      case T_MAP:
      case T_SET:
      case T_OBJECT:
      case T_ERROR:
        if (++this.depth > MAX_NESTING) throw new Malformed();
        if (tag === T_OBJECT) this.body();
        else if (tag === T_ERROR) {
          for (let i = 0; i < 4; i++) this.value();
          this.body();
        } else this.items();
        this.depth--;
        return;
      default:
        if (tag < 0x01 || tag > T_MARKER) throw new Malformed();
    }
  }

  items(): void {
    for (;;) {
      if (this.pos >= this.end) throw new Malformed();
      const tag = this.u8[this.pos];
      if (tag === T_END) {
        this.pos++;
        return;
      }
      if (tag === T_MORE) {
        this.pos++;
        this.varint();
        return;
      }
      this.value();
    }
  }

  /** An object body: up to its end key, or the end of the record. */
  body(): void {
    for (;;) {
      if (this.pos >= this.end) return;
      const key = this.varint();
      if (key === K_END) return;
      if (key === K_MORE) {
        this.varint();
        continue;
      }
      if (key === K_INLINE) this.value();
      else this.mark(key - K_ID_BASE);
      this.value();
    }
  }
}

/**
 * The entries of `entries` that the records use.
 *
 * @param records Whole event records as in a ring (docs/FORMAT.md,
 * "Record"; 4-byte aligned), without pads.
 * @param entries The producer's dictionary so far, by id: `entries[id]`
 * (index 0 unused); holes are allowed.
 * @returns The used entries, in id order. When a record cannot be walked
 * (it is malformed, which a ring's records are not), every entry is
 * returned, so that nothing the record may need is left out.
 *
 * @example A record whose target is entry 1 and whose field key is entry 3
 * ```ts
 * import { usedEntries } from "./used_entries.ts";
 * import assert from "node:assert/strict";
 * const text = (s: string) => new Uint8Array([0, ...new TextEncoder().encode(s)]);
 * const entries = [undefined, "db", "unused", "rows"].map((s, id) =>
 *   s === undefined ? undefined : { id, kind: 1, payload: text(s) }
 * );
 * import { writeHeader } from "../ring/ring.ts";
 * const record = new Uint8Array(20);
 * const body = writeHeader(record, 0, 2, 1, 0, 1000, 0); // info, target id 1
 * // Site 0 (inline): 1 part "", then the field: key id 3 (varint 3 + 2), int 7.
 * record.set([1, 0x07, 0, 5, 0x05, 14, 0], body);
 * new DataView(record.buffer).setUint32(0, (body + 7) | (1 << 24), true);
 * assert.deepEqual(usedEntries(record, entries).map((e) => e.id), [1, 3]);
 * ```
 */
export function usedEntries(
  records: Uint8Array,
  entries: readonly (ChunkEntry | undefined)[],
): ChunkEntry[] {
  const used = new Uint8Array(entries.length);
  const walker = new Walker(records, used);
  const u8 = records;
  try {
    const h = eventHeader();
    for (let at = 0; at + MIN_HEADER_BYTES <= records.length;) {
      const content = contentLength(
        u8[at] | (u8[at + 1] << 8) | (u8[at + 2] << 16),
      );
      if (
        content < MIN_HEADER_BYTES || content > records.length - at ||
        // The time base does not matter here: only the ids are used.
        !readHeader(u8, at, at + content, 0, h)
      ) throw new Malformed();
      const target = h.targetId;
      const site = h.siteId;
      walker.pos = h.body;
      walker.end = at + content;
      walker.depth = 0;
      if (target === 0) walker.value();
      else walker.mark(target);
      let values = 0;
      if (site === 0) {
        const parts = walker.varint();
        for (let i = 0; i < parts && walker.pos < walker.end; i++) {
          walker.value();
        }
        values = Math.max(0, parts - 1);
      } else {
        walker.mark(site);
        const entry = entries[site];
        if (entry !== undefined && entry.payload.length >= 3) {
          const p = entry.payload;
          values = Math.max(0, (p[0] | (p[1] << 8) | (p[2] << 16)) - 1);
        }
      }
      for (let i = 0; i < values && walker.pos < walker.end; i++) {
        walker.value();
      }
      walker.body();
      at += (content + 3) & ~3;
    }
  } catch (error) {
    if (!(error instanceof Malformed)) throw error;
    return entries.filter((entry) => entry !== undefined);
  }
  const out: ChunkEntry[] = [];
  for (let id = 1; id < entries.length; id++) {
    const entry = entries[id];
    if (used[id] === 1 && entry !== undefined) out.push(entry);
  }
  return out;
}
