/**
 * The dictionary: id -> string (field keys, targets) and id -> call site
 * (message parts). Append-only and never overwritten, so every record in the
 * ring, or in a snapshot, can be decoded. Bounded: when it is full, `intern`
 * returns 0 and the caller writes the string inline instead.
 *
 * Layout: two control words (entries committed, bytes used), then entries,
 * each a word `length | kind << 24` and its payload, 4-byte aligned. Ids start
 * at 1 in the order entries were added.
 *
 * @module
 */

import { alignedLength, MAX_CONTENT_BYTES } from "../ring/ring.ts";
import { readWtf8, writeWtf8, wtf8Length } from "./wtf8.ts";

const DICT_CONTROL_BYTES = 16;
const DCTL_COUNT = 0;
const DCTL_BYTES = 1;

/** Dictionary entry: a string (field key or target). */
export const ENTRY_STRING = 1;
/** Dictionary entry: a call site (message parts of a template or a message). */
export const ENTRY_SITE = 2;

/** The largest id a dictionary hands out (targets carry 24-bit ids in records). */
export const MAX_DICTIONARY_ID = 0xffffff;

/**
 * The bytes a dictionary entry takes: its 4-byte head (payload length in 24
 * bits, kind in the top byte) and its payload, rounded up to 4 bytes.
 *
 * @param payloadBytes The payload's length.
 * @returns The entry's size.
 */
export function entryLength(payloadBytes: number): number {
  return 4 + alignedLength(payloadBytes);
}

/** A decoded dictionary entry. */
export type DictionaryEntry = string | readonly string[];

/** The dictionary's memory, shareable with the drain's thread. */
export interface DictionaryMemory {
  /** The whole buffer (control words, then entries). */
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
}

/** Allocates dictionary memory of `bytes` bytes. */
export function allocateDictionary(bytes: number): DictionaryMemory {
  const size = DICT_CONTROL_BYTES + alignedLength(bytes);
  return {
    buffer: typeof SharedArrayBuffer === "function"
      ? new SharedArrayBuffer(size)
      : new ArrayBuffer(size),
  };
}

/**
 * A call site's part: a tagged template's part is undefined where it holds an
 * invalid escape (`\u` in `C:\users`): its raw text stands in for it.
 */
function partText(parts: readonly string[], i: number): string {
  const part = parts[i];
  if (typeof part === "string") return part;
  const raw = (parts as { raw?: readonly unknown[] }).raw?.[i];
  return typeof raw === "string" ? raw : "";
}

/** The producer's side: appends entries. One writer per dictionary. */
export class DictionaryWriter {
  #ctl: Int32Array;
  #u8: Uint8Array;
  #used = 0;
  #count = 0;

  constructor(memory: DictionaryMemory) {
    this.#ctl = new Int32Array(memory.buffer, 0, DICT_CONTROL_BYTES >> 2);
    this.#u8 = new Uint8Array(memory.buffer, DICT_CONTROL_BYTES);
  }

  /** Entries so far. */
  get count(): number {
    return this.#count;
  }

  /** Bytes used so far. */
  get bytes(): number {
    return this.#used;
  }

  /** Adds a string; returns its id, or 0 when the dictionary is full. */
  addString(value: string): number {
    const length = wtf8Length(value, 0, value.length);
    const bytes = 1 + Math.abs(length);
    const start = this.#reserve(bytes);
    if (start < 0) return 0;
    this.#u8[start] = length < 0 ? 1 : 0;
    writeWtf8(this.#u8, start + 1, value, 0, value.length);
    return this.#commit(ENTRY_STRING, bytes);
  }

  /** Adds a call site made of message parts; returns its id, or 0 when full. */
  addSite(parts: readonly string[]): number {
    let bytes = 4;
    const lengths: number[] = [];
    const texts: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      const part = partText(parts, i);
      texts.push(part);
      const length = wtf8Length(part, 0, part.length);
      lengths.push(length);
      bytes += 5 + Math.abs(length);
    }
    const start = this.#reserve(bytes);
    if (start < 0) return 0;
    const u8 = this.#u8;
    let p = start;
    u8[p++] = parts.length & 0xff;
    u8[p++] = (parts.length >> 8) & 0xff;
    u8[p++] = (parts.length >> 16) & 0xff;
    u8[p++] = 0;
    for (let i = 0; i < parts.length; i++) {
      const length = lengths[i];
      u8[p++] = length < 0 ? 1 : 0;
      const n = Math.abs(length);
      u8[p++] = n & 0xff;
      u8[p++] = (n >> 8) & 0xff;
      u8[p++] = (n >> 16) & 0xff;
      u8[p++] = (n >>> 24) & 0xff;
      p = writeWtf8(u8, p, texts[i], 0, texts[i].length);
    }
    return this.#commit(ENTRY_SITE, p - start);
  }

  /** Where a payload of `bytes` goes, or -1 when it does not fit. */
  #reserve(bytes: number): number {
    if (bytes > MAX_CONTENT_BYTES || this.#count >= MAX_DICTIONARY_ID) {
      return -1;
    }
    const need = entryLength(bytes);
    if (this.#used + need > this.#u8.length) return -1;
    return this.#used + 4;
  }

  #commit(kind: number, bytes: number): number {
    const at = this.#used;
    this.#u8[at] = bytes & 0xff;
    this.#u8[at + 1] = (bytes >> 8) & 0xff;
    this.#u8[at + 2] = (bytes >> 16) & 0xff;
    this.#u8[at + 3] = kind;
    this.#used = at + entryLength(bytes);
    this.#count++;
    // Entry bytes first, then the size that makes them visible to the drain.
    Atomics.store(this.#ctl, DCTL_BYTES, this.#used);
    Atomics.store(this.#ctl, DCTL_COUNT, this.#count);
    return this.#count;
  }
}

/** The drain's side: reads entries as they appear. */
export class DictionaryReader {
  #ctl: Int32Array;
  #u8: Uint8Array;
  #parsed = 0;
  /** Decoded entries; index 0 is unused (ids start at 1). */
  readonly entries: DictionaryEntry[] = [""];

  constructor(memory: DictionaryMemory) {
    this.#ctl = new Int32Array(memory.buffer, 0, DICT_CONTROL_BYTES >> 2);
    this.#u8 = new Uint8Array(memory.buffer, DICT_CONTROL_BYTES);
  }

  /** The entry with this id, or `undefined` if there is none. */
  get(id: number): DictionaryEntry | undefined {
    if (id >= this.entries.length) this.#sync();
    return this.entries[id];
  }

  /** The entries from `from` (an id) on, reading any new ones first. */
  since(from: number): DictionaryEntry[] {
    this.#sync();
    return this.entries.slice(Math.max(1, from));
  }

  #sync(): void {
    const used = Atomics.load(this.#ctl, DCTL_BYTES);
    const u8 = this.#u8;
    let p = this.#parsed;
    while (p + 4 <= used) {
      const bytes = u8[p] | (u8[p + 1] << 8) | (u8[p + 2] << 16);
      const kind = u8[p + 3];
      const start = p + 4;
      if (kind === ENTRY_STRING) {
        this.entries.push(
          readWtf8(u8, start + 1, start + bytes, u8[start] === 1),
        );
      } else {
        const count = u8[start] | (u8[start + 1] << 8) | (u8[start + 2] << 16);
        const parts: string[] = [];
        let q = start + 4;
        for (let i = 0; i < count; i++) {
          const lone = u8[q] === 1;
          const n = u8[q + 1] | (u8[q + 2] << 8) | (u8[q + 3] << 16) |
            (u8[q + 4] << 24);
          parts.push(readWtf8(u8, q + 5, q + 5 + n, lone));
          q += 5 + n;
        }
        this.entries.push(parts);
      }
      p = start + alignedLength(bytes);
    }
    this.#parsed = p;
  }
}
