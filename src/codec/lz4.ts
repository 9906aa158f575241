/**
 * LZ4 block compression through the `lz4-wasm` package's WebAssembly (the
 * lz4_flex Rust crate), loaded without a bundler: that package's JavaScript
 * entry imports the `.wasm` as an ES module, which no runtime does, so this
 * file instantiates the `.wasm` itself and speaks wasm-bindgen's calling
 * convention directly.
 *
 * Loading, in order of preference:
 * - `initLz4({ module })` with a precompiled `WebAssembly.Module`: the only
 *   way on Cloudflare Workers and Vercel Edge, which refuse to compile
 *   WebAssembly from bytes.
 * - `initLz4({ bytes })` or `initLz4({ url })`.
 * - Nothing: the first call (or `initLz4Sync()`) compiles the copy of
 *   lz4-wasm 0.9.2's `lz4_wasm_bg.wasm` embedded in `lz4_wasm.ts` (25 KB,
 *   written by scripts/embed_lz4.mjs), so there is no file to find at run
 *   time, whether ttlog came from JSR, npm or a plain checkout. `node:fs`
 *   (for a `file:` url) is loaded lazily, so importing this file never fails
 *   where it does not exist.
 *
 * Compression is synchronous once loaded, so the crash path can use it.
 * Decompression is in `lz4_decompress.ts`, in plain TypeScript.
 *
 * @module
 */

import { TtlogConfigError } from "../errors.ts";
import { tryBuiltin } from "../runtime/builtin.ts";
import { LZ4_MAX_INPUT_SIZE } from "./lz4_decompress.ts";
import { LZ4_WASM_BASE64 } from "./lz4_wasm.ts";

/** The exports of lz4_wasm_bg.wasm (checked when it is instantiated). */
interface Lz4Wasm {
  readonly memory: WebAssembly.Memory;
  compress(retptr: number, ptr: number, len: number): void;
  __wbindgen_add_to_stack_pointer(delta: number): number;
  __wbindgen_malloc(size: number): number;
  __wbindgen_free(ptr: number, size: number): void;
}

/**
 * Where to get lz4-wasm's WebAssembly from; give at most one.
 *
 * @example Load the WebAssembly from bytes you read yourself
 * ```ts
 * import { initLz4, type Lz4InitOptions, TtlogConfigError } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * import { readFileSync } from "node:fs";
 * const url = new URL(import.meta.resolve("lz4-wasm/lz4_wasm_bg.wasm"));
 * const options: Lz4InitOptions = { bytes: readFileSync(url) };
 * await initLz4(options);
 * await assert.rejects(initLz4({ ...options, url }), TtlogConfigError); // only one
 * ```
 */
export interface Lz4InitOptions {
  /**
   * A compiled module, such as a `.wasm` import on Cloudflare Workers or
   * Vercel Edge.
   */
  module?: WebAssembly.Module;
  /** The bytes of `lz4_wasm_bg.wasm`. */
  bytes?: Uint8Array | ArrayBuffer;
  /**
   * The location of `lz4_wasm_bg.wasm`: a `file:` URL (read with `node:fs`),
   * or, for `initLz4` only, any URL `fetch` can read.
   */
  url?: string | URL;
}

/** The part of `node:fs` used here. */
interface FsLike {
  readFileSync(path: URL): Uint8Array;
}

let compiled: WebAssembly.Module | undefined;
let wasm: Lz4Wasm | undefined;
let memoryBytes: Uint8Array = new Uint8Array(0);
let memoryWords: Int32Array = new Int32Array(0);

/**
 * Strings the module hands to JavaScript (wasm-bindgen's heap). Only its
 * `decompress` creates any, for errors, and it is not called; the import must
 * exist all the same.
 */
const strings: string[] = [];
const decoder = new TextDecoder();

function stringNew(ptr: number, len: number): number {
  strings.push(decoder.decode(memory().subarray(ptr, ptr + len)));
  return strings.length - 1;
}

/** The module's memory as bytes; re-created whenever the memory has grown. */
function memory(): Uint8Array {
  const buffer = wasm!.memory.buffer;
  if (memoryBytes.buffer !== buffer) {
    memoryBytes = new Uint8Array(buffer);
    memoryWords = new Int32Array(buffer);
  }
  return memoryBytes;
}

function imports(): WebAssembly.Imports {
  return { "./lz4_wasm_bg.js": { __wbindgen_string_new: stringNew } };
}

function adopt(module: WebAssembly.Module, instance: WebAssembly.Instance) {
  const exports = instance.exports as unknown as Partial<Lz4Wasm>;
  for (
    const name of [
      "compress",
      "__wbindgen_add_to_stack_pointer",
      "__wbindgen_malloc",
      "__wbindgen_free",
    ] as const
  ) {
    if (typeof exports[name] !== "function") {
      throw new TtlogConfigError(
        `initLz4: the WebAssembly module has no "${name}" export; pass lz4-wasm 0.9.2's lz4_wasm_bg.wasm`,
      );
    }
  }
  if (!(exports.memory instanceof WebAssembly.Memory)) {
    throw new TtlogConfigError(
      "initLz4: the WebAssembly module exports no memory; pass lz4-wasm 0.9.2's lz4_wasm_bg.wasm",
    );
  }
  compiled = module;
  wasm = exports as Lz4Wasm;
  strings.length = 0;
}

/** The embedded lz4_wasm_bg.wasm. */
function embeddedBytes(): Uint8Array {
  const text = atob(LZ4_WASM_BASE64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function loadFs(): FsLike | undefined {
  const fs = tryBuiltin<Partial<FsLike>>("node:fs");
  return typeof fs?.readFileSync === "function" ? fs as FsLike : undefined;
}

function readFileUrl(url: URL): Uint8Array {
  const fs = loadFs();
  if (fs === undefined) {
    throw new TtlogConfigError(
      `initLz4: node:fs is not available here to read ${url.href}; pass { module } (a compiled WebAssembly.Module) or { bytes }`,
    );
  }
  try {
    return fs.readFileSync(url);
  } catch (error) {
    throw new TtlogConfigError(
      `initLz4: cannot read ${url.href} (${error}); pass a readable { url }, { module } or { bytes }, or no option for the copy embedded in ttlog`,
    );
  }
}

function compile(bytes: Uint8Array | ArrayBuffer): WebAssembly.Module {
  try {
    return new WebAssembly.Module(bytes as BufferSource);
  } catch (error) {
    throw new TtlogConfigError(
      `initLz4: cannot compile the WebAssembly (${error}); where compiling from bytes is forbidden (Cloudflare Workers, Vercel Edge), pass { module }`,
    );
  }
}

function checkOptions(options: Lz4InitOptions): void {
  const given = [options.module, options.bytes, options.url].filter((value) =>
    value !== undefined
  );
  if (given.length > 1) {
    throw new TtlogConfigError(
      "initLz4: give at most one of module, bytes and url",
    );
  }
}

/**
 * Loads and instantiates lz4-wasm synchronously; without options, does
 * nothing when it is already loaded. Works in Deno, Bun and Node; on
 * platforms that refuse to compile WebAssembly from bytes, pass `module`.
 *
 * @param options Where to get the WebAssembly; by default the copy of
 * lz4-wasm 0.9.2's embedded in ttlog.
 * @throws {TtlogConfigError} When the WebAssembly cannot be found, read,
 * compiled or instantiated, or is not lz4-wasm's.
 *
 * @example Load LZ4 synchronously (a crash path cannot await)
 * ```ts
 * import { initLz4Sync } from "@ttlog/ttlog/sink";
 * initLz4Sync();
 * ```
 */
export function initLz4Sync(options: Lz4InitOptions = {}): void {
  checkOptions(options);
  let module = options.module;
  if (module === undefined) {
    if (options.bytes !== undefined) {
      module = compile(options.bytes);
    } else if (options.url !== undefined) {
      module = compile(readFileUrl(new URL(options.url)));
    } else if (wasm !== undefined) {
      return;
    } else {
      module = compiled ?? compile(embeddedBytes());
    }
  }
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(module, imports());
  } catch (error) {
    throw new TtlogConfigError(
      `initLz4: cannot instantiate the WebAssembly (${error}); pass lz4-wasm 0.9.2's lz4_wasm_bg.wasm`,
    );
  }
  adopt(module, instance);
}

/**
 * Loads and instantiates lz4-wasm; without options, does nothing when it is
 * already loaded. Unlike {@link initLz4Sync} it can `fetch` a non-file URL.
 *
 * @param options Where to get the WebAssembly; by default the copy of
 * lz4-wasm 0.9.2's embedded in ttlog.
 * @returns A promise that settles once compression is ready.
 * @throws {TtlogConfigError} (as a rejection) When the WebAssembly cannot be
 * found, read, compiled or instantiated, or is not lz4-wasm's.
 *
 * @example Load LZ4 before logging to an LZ4 file
 * ```ts
 * import { initLz4 } from "@ttlog/ttlog";
 * // On Cloudflare Workers or Vercel Edge, pass the compiled module instead:
 * // import wasm from "lz4-wasm/lz4_wasm_bg.wasm"; await initLz4({ module: wasm });
 * await initLz4();
 * ```
 */
export async function initLz4(options: Lz4InitOptions = {}): Promise<void> {
  checkOptions(options);
  if (options.url === undefined) return initLz4Sync(options);
  const url = new URL(options.url);
  if (url.protocol === "file:" && loadFs() !== undefined) {
    return initLz4Sync({ bytes: readFileUrl(url) });
  }
  let bytes: ArrayBuffer;
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    bytes = await response.arrayBuffer();
  } catch (error) {
    throw new TtlogConfigError(
      `initLz4: cannot fetch ${url.href} (${error}); pass { module } or { bytes }`,
    );
  }
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes);
  } catch (error) {
    throw new TtlogConfigError(
      `initLz4: cannot compile the WebAssembly (${error}); where compiling from bytes is forbidden (Cloudflare Workers, Vercel Edge), pass { module }`,
    );
  }
  initLz4Sync({ module });
}

/**
 * Compresses `input` with lz4-wasm and hands the raw block (without
 * lz4-wasm's 4-byte size prefix) to `take` while it is still in the module's
 * memory, so the caller copies it once, to where it belongs.
 */
function compressWith<T>(
  input: Uint8Array,
  take: (memory: Uint8Array, start: number, end: number) => T,
): T {
  if (input.length > LZ4_MAX_INPUT_SIZE) {
    throw new RangeError(
      `LZ4 compresses at most ${LZ4_MAX_INPUT_SIZE} bytes per block, got ${input.length}; split the input (an LZ4 frame does)`,
    );
  }
  if (wasm === undefined) initLz4Sync();
  const lz4 = wasm!;
  const retptr = lz4.__wbindgen_add_to_stack_pointer(-16);
  let outPtr = 0;
  let outLength = 0;
  try {
    // The module takes ownership of the input buffer and frees it.
    const inPtr = lz4.__wbindgen_malloc(input.length);
    memory().set(input, inPtr);
    lz4.compress(retptr, inPtr, input.length);
    const view = memory();
    outPtr = memoryWords[retptr >>> 2];
    outLength = memoryWords[(retptr >>> 2) + 1];
    return take(view, outPtr + 4, outPtr + outLength);
  } catch (error) {
    // A trap (such as running out of memory) can leave the module's
    // allocator half-updated: start over with a fresh instance next time.
    wasm = undefined;
    outLength = 0;
    throw error;
  } finally {
    if (wasm !== undefined) {
      if (outLength > 0) lz4.__wbindgen_free(outPtr, outLength);
      lz4.__wbindgen_add_to_stack_pointer(16);
    }
  }
}

/**
 * Compresses bytes into one raw LZ4 block (no frame and no size prefix: keep
 * the size yourself for `lz4DecompressBlock`). Loads lz4-wasm on first
 * use if {@link initLz4} has not.
 *
 * @param input The data, at most {@link LZ4_MAX_INPUT_SIZE} bytes.
 * @returns The compressed block, a new array; incompressible data comes out
 * slightly larger than it went in.
 * @throws {TtlogConfigError} When lz4-wasm is not loaded and cannot be loaded
 * from the default location (see {@link initLz4Sync}).
 * @throws {RangeError} When `input` is too large for one block.
 */
export function lz4CompressBlock(input: Uint8Array): Uint8Array {
  return compressWith(input, (view, start, end) => view.slice(start, end));
}

/**
 * Compresses bytes into one raw LZ4 block written straight into `out`, if it
 * fits. Loads lz4-wasm on first use.
 *
 * @param input The data, at most {@link LZ4_MAX_INPUT_SIZE} bytes.
 * @param out Where to write the block: pass a `subarray` whose length is the
 * most the block may take.
 * @returns The block's length, or -1 when it would not fit in `out` (then
 * `out` is untouched).
 * @throws {TtlogConfigError} When lz4-wasm cannot be loaded.
 * @throws {RangeError} When `input` is too large for one block.
 */
export function lz4CompressBlockInto(
  input: Uint8Array,
  out: Uint8Array,
): number {
  return compressWith(input, (view, start, end) => {
    if (end - start > out.length) return -1;
    out.set(view.subarray(start, end));
    return end - start;
  });
}
