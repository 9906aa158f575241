/**
 * gzip (RFC 1952) two ways: asynchronously through the Web standard
 * `CompressionStream` / `DecompressionStream` (Deno, Bun, Node, Cloudflare
 * Workers), and synchronously through `node:zlib` (Deno, Bun, Node), which the
 * crash path needs. `node:zlib` is loaded on first use, so importing this file
 * works where it does not exist.
 *
 * Differences between runtimes, measured: Deno's `DecompressionStream`
 * rejects input holding several gzip members, Bun's and Node's decode them
 * all (the synchronous functions decode them all everywhere); and Deno's
 * `CompressionStream` never settles when given a view of a
 * `SharedArrayBuffer`, which is why such input is copied first.
 *
 * @module
 */

import { TtlogConfigError } from "../errors.ts";
import { TtlogFormatError } from "../record/decode.ts";
import { tryBuiltin } from "../runtime/builtin.ts";

/** How {@link gzipSync} compresses. */
export interface GzipOptions {
  /**
   * zlib's level, from 0 (stored) to 9 (smallest, slowest); default 6, as
   * `gzip` and `CompressionStream`.
   */
  level?: number;
}

/** Limits for decompression. */
export interface GunzipOptions {
  /**
   * The most decompressed bytes to accept (a defence against decompression
   * bombs: gzip can shrink data 1000-fold); default unlimited.
   */
  maxOutputSize?: number;
}

/** The part of `node:zlib` used here. */
interface ZlibLike {
  gzipSync(data: Uint8Array, options: { level: number }): Uint8Array;
  gunzipSync(
    data: Uint8Array,
    options: { maxOutputLength?: number },
  ): Uint8Array;
}

function loadZlib(what: string): ZlibLike {
  const module = tryBuiltin<Partial<ZlibLike>>("node:zlib");
  if (
    typeof module?.gzipSync !== "function" ||
    typeof module.gunzipSync !== "function"
  ) {
    throw new TtlogConfigError(
      `${what} needs node:zlib, which this runtime does not provide; use the asynchronous ${
        what.replace("Sync", "Async")
      } (CompressionStream) or LZ4 frames instead`,
    );
  }
  return module as ZlibLike;
}

/** Input for a stream: a copy when it views shared memory (see the module doc). */
function unshared(data: Uint8Array): Uint8Array<ArrayBuffer> {
  return data.buffer instanceof ArrayBuffer
    ? data as Uint8Array<ArrayBuffer>
    : data.slice() as Uint8Array<ArrayBuffer>;
}

/**
 * A plain Uint8Array over a Node Buffer's bytes: a Buffer's `slice` shares
 * memory instead of copying, a trap for callers.
 */
function plain(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

function checkMax(what: string, max: number | undefined): number {
  if (max === undefined) return Infinity;
  if (typeof max !== "number" || Number.isNaN(max) || max < 0) {
    throw new TtlogConfigError(
      `${what}: maxOutputSize must be a number of bytes >= 0, got ${max}`,
    );
  }
  return max;
}

function join(pieces: Uint8Array[], length: number): Uint8Array {
  if (pieces.length === 1 && pieces[0].length === length) return pieces[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/**
 * Runs `data` through a compression or decompression stream and collects
 * its output, giving up once it exceeds `max` bytes.
 */
async function pipe(
  stream: CompressionStream | DecompressionStream,
  data: Uint8Array,
  max: number,
): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  // Write without waiting: the output must be read meanwhile, or a large
  // input stalls on backpressure. The reader sees any error too.
  writer.write(unshared(data)).catch(() => {});
  writer.close().catch(() => {});
  const reader = stream.readable.getReader();
  const pieces: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.length;
    if (length > max) {
      reader.cancel().catch(() => {});
      throw new TtlogFormatError(
        `gzip: the data decompresses to more than the ${max}-byte limit`,
      );
    }
    pieces.push(value);
  }
  return join(pieces, length);
}

/**
 * Compresses bytes into one gzip member with `CompressionStream` (level 6;
 * no other level is offered by the standard).
 *
 * @param data The data.
 * @returns A promise of the gzip bytes.
 * @throws {TtlogConfigError} (as a rejection) When the runtime has no
 * `CompressionStream` (Vercel Edge): use LZ4 frames there.
 */
export async function gzipAsync(data: Uint8Array): Promise<Uint8Array> {
  if (typeof CompressionStream !== "function") {
    throw new TtlogConfigError(
      "gzipAsync: this runtime has no CompressionStream; use LZ4 frames instead",
    );
  }
  return await pipe(new CompressionStream("gzip"), data, Infinity);
}

/**
 * Decompresses gzip with `DecompressionStream`. Several concatenated members
 * decode on Bun and Node but are rejected on Deno; {@link gunzipSync} decodes
 * them everywhere.
 *
 * @param data The gzip bytes.
 * @param options The output limit.
 * @returns A promise of the original data.
 * @throws {TtlogFormatError} (as a rejection) When the input is truncated or
 * corrupt (the runtimes do not tell which), or decompresses to more than
 * `maxOutputSize`.
 * @throws {TtlogConfigError} (as a rejection) When the runtime has no
 * `DecompressionStream`, or `maxOutputSize` is invalid.
 */
export async function gunzipAsync(
  data: Uint8Array,
  options: GunzipOptions = {},
): Promise<Uint8Array> {
  const max = checkMax("gunzipAsync", options.maxOutputSize);
  if (typeof DecompressionStream !== "function") {
    throw new TtlogConfigError(
      "gunzipAsync: this runtime has no DecompressionStream",
    );
  }
  try {
    return await pipe(new DecompressionStream("gzip"), data, max);
  } catch (error) {
    if (error instanceof TtlogFormatError) throw error;
    throw new TtlogFormatError(
      `gzip: corrupt or truncated input (${
        error instanceof Error ? error.message : error
      })`,
    );
  }
}

/**
 * Compresses bytes into one gzip member synchronously with `node:zlib`.
 *
 * @param data The data.
 * @param options The compression level.
 * @returns The gzip bytes.
 * @throws {TtlogConfigError} When the runtime has no `node:zlib` (edge
 * platforms), or `level` is not an integer from 0 to 9.
 */
export function gzipSync(
  data: Uint8Array,
  options: GzipOptions = {},
): Uint8Array {
  const level = options.level ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new TtlogConfigError(
      `gzipSync: level must be an integer from 0 to 9, got ${level}`,
    );
  }
  return plain(loadZlib("gzipSync").gzipSync(data, { level }));
}

/**
 * Decompresses gzip synchronously with `node:zlib`; several concatenated
 * members decode as one.
 *
 * @param data The gzip bytes.
 * @param options The output limit.
 * @returns The original data.
 * @throws {TtlogFormatError} When the input is truncated (the message says
 * so) or corrupt, or decompresses to more than `maxOutputSize`.
 * @throws {TtlogConfigError} When the runtime has no `node:zlib`, or
 * `maxOutputSize` is invalid.
 */
export function gunzipSync(
  data: Uint8Array,
  options: GunzipOptions = {},
): Uint8Array {
  const max = checkMax("gunzipSync", options.maxOutputSize);
  const zlib = loadZlib("gunzipSync");
  let out: Uint8Array;
  try {
    // zlib takes limits of 1 byte up to its largest buffer; past 2 GiB the
    // limit cannot bind anyway on some runtimes, so none is passed.
    out = zlib.gunzipSync(
      data,
      max < 2 ** 31 ? { maxOutputLength: Math.max(1, max) } : {},
    );
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const detail = error instanceof Error ? error.message : String(error);
    throw new TtlogFormatError(
      code === "Z_BUF_ERROR"
        ? `gzip: truncated input (${detail})`
        : code === "ERR_BUFFER_TOO_LARGE"
        ? `gzip: the data decompresses to more than the ${max}-byte limit`
        : `gzip: corrupt input (${detail})`,
    );
  }
  if (out.length > max) {
    throw new TtlogFormatError(
      `gzip: the data decompresses to more than the ${max}-byte limit`,
    );
  }
  return plain(out);
}
