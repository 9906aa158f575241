/**
 * String bytes for records: UTF-8, extended to carry lone surrogates (WTF-8)
 * so that every JS string round-trips exactly. TextEncoder would replace a
 * lone surrogate with U+FFFD, and it cannot write into shared memory.
 *
 * @module
 */

/** Bytes `s` takes, and whether it holds a lone surrogate (then the result is negative). */
export function wtf8Length(s: string, from: number, to: number): number {
  let bytes = 0;
  let lone = false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < to ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
        lone = true;
      }
    } else {
      if (c >= 0xdc00 && c <= 0xdfff) lone = true;
      bytes += 3;
    }
  }
  return lone ? -bytes : bytes;
}

/** Writes `s[from, to)` at `u8[pos]`; returns the position after it. The caller made room. */
export function writeWtf8(
  u8: Uint8Array,
  pos: number,
  s: string,
  from: number,
  to: number,
): number {
  let p = pos;
  for (let i = from; i < to; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      u8[p++] = c;
    } else if (c < 0x800) {
      u8[p++] = 0xc0 | (c >> 6);
      u8[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          u8[p++] = 0xf0 | (c >> 18);
          u8[p++] = 0x80 | ((c >> 12) & 0x3f);
          u8[p++] = 0x80 | ((c >> 6) & 0x3f);
          u8[p++] = 0x80 | (c & 0x3f);
          continue;
        }
      }
      u8[p++] = 0xe0 | (c >> 12);
      u8[p++] = 0x80 | ((c >> 6) & 0x3f);
      u8[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p;
}

/** The largest `to` such that `s[from, to)` fits in `budget` bytes, not splitting a surrogate pair. */
export function wtf8Fit(s: string, from: number, budget: number): number {
  let bytes = 0;
  let i = from;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    let size = c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
    let units = 1;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        size = 4;
        units = 2;
      }
    }
    if (bytes + size > budget) break;
    bytes += size;
    i += units;
  }
  return i;
}

// ignoreBOM: a leading U+FEFF is part of the logged string, not a byte order mark.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
let scratch = new Uint8Array(1024);
let units = new Uint16Array(1024);

/**
 * Reads `u8[start, end)` as WTF-8. Malformed bytes (hostile input) become
 * U+FFFD; it never throws. Shared memory is copied first: TextDecoder
 * refuses views of a SharedArrayBuffer in some runtimes.
 */
export function readWtf8(
  u8: Uint8Array,
  start: number,
  end: number,
  mayHaveLoneSurrogates: boolean,
): string {
  const n = end - start;
  if (n <= 0) return "";
  if (n <= 24) {
    // Short ASCII (a method, a path, an id): concatenated by code, 2-4x
    // faster than filling code units and applying fromCharCode to them.
    let ascii = "";
    let i = start;
    for (; i < end; i++) {
      const b = u8[i];
      if (b >= 0x80) break;
      ascii += String.fromCharCode(b);
    }
    if (i === end) return ascii;
  } else if (!mayHaveLoneSurrogates) {
    if (scratch.length < n) {
      scratch = new Uint8Array(Math.max(n, scratch.length * 2));
    }
    scratch.set(u8.subarray(start, end));
    return decoder.decode(scratch.subarray(0, n));
  }
  if (units.length < n) units = new Uint16Array(Math.max(n, units.length * 2));
  let k = 0;
  let i = start;
  while (i < end) {
    const b = u8[i];
    if (b < 0x80) {
      units[k++] = b;
      i++;
      continue;
    }
    let cp = -1;
    let size = 1;
    if (b >= 0xc2 && b <= 0xdf && i + 1 < end && (u8[i + 1] & 0xc0) === 0x80) {
      cp = ((b & 0x1f) << 6) | (u8[i + 1] & 0x3f);
      size = 2;
    } else if (
      b >= 0xe0 && b <= 0xef && i + 2 < end && (u8[i + 1] & 0xc0) === 0x80 &&
      (u8[i + 2] & 0xc0) === 0x80
    ) {
      cp = ((b & 0x0f) << 12) | ((u8[i + 1] & 0x3f) << 6) | (u8[i + 2] & 0x3f);
      size = 3;
      if (cp < 0x800) cp = -1;
    } else if (
      b >= 0xf0 && b <= 0xf4 && i + 3 < end && (u8[i + 1] & 0xc0) === 0x80 &&
      (u8[i + 2] & 0xc0) === 0x80 && (u8[i + 3] & 0xc0) === 0x80
    ) {
      cp = ((b & 0x07) << 18) | ((u8[i + 1] & 0x3f) << 12) |
        ((u8[i + 2] & 0x3f) << 6) | (u8[i + 3] & 0x3f);
      size = 4;
      if (cp < 0x10000 || cp > 0x10ffff) cp = -1;
    }
    if (cp < 0) {
      units[k++] = 0xfffd;
      i++;
    } else if (cp >= 0x10000) {
      cp -= 0x10000;
      units[k++] = 0xd800 + (cp >> 10);
      units[k++] = 0xdc00 + (cp & 0x3ff);
      i += size;
    } else {
      units[k++] = cp;
      i += size;
    }
  }
  let out = "";
  for (let from = 0; from < k; from += 8192) {
    out += String.fromCharCode.apply(
      null,
      units.subarray(from, Math.min(k, from + 8192)) as unknown as number[],
    );
  }
  return out;
}
