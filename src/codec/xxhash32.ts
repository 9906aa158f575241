/**
 * xxHash32 (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md),
 * the checksum of the LZ4 frame format, in plain TypeScript: one-shot over a
 * byte view, or incremental for data that arrives in pieces.
 *
 * Words are assembled from bytes (little-endian by definition) instead of
 * read through a DataView, which is slow in Bun, or a Uint32Array, which
 * needs 4-byte alignment.
 *
 * @module
 */

const PRIME1 = 0x9e3779b1;
const PRIME2 = 0x85ebca77;
const PRIME3 = 0xc2b2ae3d;
const PRIME4 = 0x27d4eb2f;
const PRIME5 = 0x165667b1;

/** Whether 32-bit words in memory are little-endian, as the hash reads them. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** One accumulator round on a 32-bit lane. */
function round(acc: number, lane: number): number {
  acc = (acc + Math.imul(lane, PRIME2)) | 0;
  acc = (acc << 13) | (acc >>> 19);
  return Math.imul(acc, PRIME1);
}

/** Reads the little-endian u32 at `at` as an int32. */
function word(bytes: Uint8Array, at: number): number {
  return bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) |
    (bytes[at + 3] << 24);
}

/** Consumes the tail (fewer than 16 bytes) and applies the avalanche. */
function finish(
  acc: number,
  bytes: Uint8Array,
  at: number,
  end: number,
): number {
  while (at + 4 <= end) {
    acc = (acc + Math.imul(word(bytes, at), PRIME3)) | 0;
    acc = Math.imul((acc << 17) | (acc >>> 15), PRIME4);
    at += 4;
  }
  while (at < end) {
    acc = (acc + Math.imul(bytes[at], PRIME5)) | 0;
    acc = Math.imul((acc << 11) | (acc >>> 21), PRIME1);
    at++;
  }
  acc ^= acc >>> 15;
  acc = Math.imul(acc, PRIME2);
  acc ^= acc >>> 13;
  acc = Math.imul(acc, PRIME3);
  acc ^= acc >>> 16;
  return acc >>> 0;
}

/** Merges the four lanes into one accumulator. */
function merge(v1: number, v2: number, v3: number, v4: number): number {
  return (((v1 << 1) | (v1 >>> 31)) + ((v2 << 7) | (v2 >>> 25)) +
    ((v3 << 12) | (v3 >>> 20)) + ((v4 << 18) | (v4 >>> 14))) | 0;
}

/**
 * Computes the xxHash32 of every byte in the view.
 *
 * @param bytes The data; pass a `subarray` to hash part of a buffer.
 * @param seed The seed, an unsigned 32-bit integer (LZ4 frames use 0).
 * @returns The hash, an unsigned 32-bit integer.
 */
export function xxhash32(bytes: Uint8Array, seed = 0): number {
  const end = bytes.length;
  let at = 0;
  let acc: number;
  if (end >= 16) {
    let v1 = (seed + PRIME1 + PRIME2) | 0;
    let v2 = (seed + PRIME2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - PRIME1) | 0;
    const limit = end - 16;
    if ((bytes.byteOffset & 3) === 0 && LITTLE_ENDIAN) {
      // Aligned: the stripes straight from 32-bit words (a .ttlog chunk's
      // payload is aligned, and tens of MiB in a snapshot).
      const words = new Int32Array(bytes.buffer, bytes.byteOffset, end >> 2);
      const stripes = end >> 4;
      for (let w = 0; w < stripes << 2; w += 4) {
        v1 = round(v1, words[w]);
        v2 = round(v2, words[w + 1]);
        v3 = round(v3, words[w + 2]);
        v4 = round(v4, words[w + 3]);
      }
      at = stripes << 4;
    } else {
      while (at <= limit) {
        v1 = round(v1, word(bytes, at));
        v2 = round(v2, word(bytes, at + 4));
        v3 = round(v3, word(bytes, at + 8));
        v4 = round(v4, word(bytes, at + 12));
        at += 16;
      }
    }
    acc = merge(v1, v2, v3, v4);
  } else {
    acc = (seed + PRIME5) | 0;
  }
  acc = (acc + end) | 0;
  return finish(acc, bytes, at, end);
}

/**
 * An incremental xxHash32: feed the data in pieces with
 * {@link Xxhash32.update}, read the hash with {@link Xxhash32.digest}. The
 * result equals {@link xxhash32} of all the pieces joined.
 */
export class Xxhash32 {
  #seed: number;
  #v1 = 0;
  #v2 = 0;
  #v3 = 0;
  #v4 = 0;
  /** Total bytes seen, kept exact past 4 GiB (the spec uses it mod 2^32). */
  #length = 0;
  /** Up to 15 bytes that do not yet fill a 16-byte stripe. */
  #tail = new Uint8Array(16);
  #tailLength = 0;

  /**
   * Starts a hash.
   *
   * @param seed The seed, an unsigned 32-bit integer (LZ4 frames use 0).
   */
  constructor(seed = 0) {
    this.#seed = seed | 0;
    this.reset();
  }

  /**
   * Forgets all data fed so far, keeping the seed.
   *
   * @returns This hash, for chaining.
   */
  reset(): this {
    const seed = this.#seed;
    this.#v1 = (seed + PRIME1 + PRIME2) | 0;
    this.#v2 = (seed + PRIME2) | 0;
    this.#v3 = seed;
    this.#v4 = (seed - PRIME1) | 0;
    this.#length = 0;
    this.#tailLength = 0;
    return this;
  }

  /**
   * Feeds more data.
   *
   * @param bytes The next piece; its bytes are read now, not kept.
   * @returns This hash, for chaining.
   */
  update(bytes: Uint8Array): this {
    const end = bytes.length;
    this.#length += end;
    let at = 0;
    const tail = this.#tail;
    if (this.#tailLength > 0) {
      while (this.#tailLength < 16 && at < end) {
        tail[this.#tailLength++] = bytes[at++];
      }
      if (this.#tailLength < 16) return this;
      this.#stripe(tail, 0);
      this.#tailLength = 0;
    }
    const limit = end - 16;
    if (at <= limit) {
      let v1 = this.#v1;
      let v2 = this.#v2;
      let v3 = this.#v3;
      let v4 = this.#v4;
      while (at <= limit) {
        v1 = round(v1, word(bytes, at));
        v2 = round(v2, word(bytes, at + 4));
        v3 = round(v3, word(bytes, at + 8));
        v4 = round(v4, word(bytes, at + 12));
        at += 16;
      }
      this.#v1 = v1;
      this.#v2 = v2;
      this.#v3 = v3;
      this.#v4 = v4;
    }
    while (at < end) tail[this.#tailLength++] = bytes[at++];
    return this;
  }

  /**
   * Computes the hash of everything fed so far; more data may follow.
   *
   * @returns The hash, an unsigned 32-bit integer.
   */
  digest(): number {
    let acc = this.#length >= 16
      ? merge(this.#v1, this.#v2, this.#v3, this.#v4)
      : (this.#seed + PRIME5) | 0;
    acc = (acc + (this.#length % 0x1_0000_0000)) | 0;
    return finish(acc, this.#tail, 0, this.#tailLength);
  }

  #stripe(bytes: Uint8Array, at: number): void {
    this.#v1 = round(this.#v1, word(bytes, at));
    this.#v2 = round(this.#v2, word(bytes, at + 4));
    this.#v3 = round(this.#v3, word(bytes, at + 8));
    this.#v4 = round(this.#v4, word(bytes, at + 12));
  }
}
