// Codecs: xxHash32, LZ4 blocks (lz4-wasm in, plain TypeScript out), LZ4
// frames and gzip, checked against known vectors, round trips, the real
// `lz4` and `gzip` tools, and corrupt or truncated input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TtlogConfigError } from "../src/errors.ts";
import { runTool } from "./helpers.ts";
import { TtlogFormatError } from "../src/record/decode.ts";
import {
  initLz4,
  initLz4Sync,
  lz4CompressBlock,
  lz4CompressBlockInto,
} from "../src/codec/lz4.ts";
import {
  lz4DecompressBlock,
  lz4DecompressBlockInto,
} from "../src/codec/lz4_decompress.ts";
import {
  decodeLz4Frame,
  encodeLz4Frame,
  type Lz4BlockSize,
  Lz4FrameDecoder,
  Lz4FrameError,
  type Lz4Output,
  readLz4Frame,
} from "../src/codec/lz4_frame.ts";
import { Xxhash32, xxhash32 } from "../src/codec/xxhash32.ts";
import {
  LZ4_WASM_BASE64,
  LZ4_WASM_SHA256,
  LZ4_WASM_VERSION,
} from "../src/codec/lz4_wasm.ts";
import {
  gunzipAsync,
  gunzipSync,
  gzipAsync,
  gzipSync,
} from "../src/codec/gzip.ts";

const encoder = new TextEncoder();
const WASM_URL = new URL(import.meta.resolve("lz4-wasm/lz4_wasm_bg.wasm"));

/** mulberry32: a seeded PRNG, floats in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(length: number, seed = 1): Uint8Array {
  const random = prng(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = random() * 256;
  return out;
}

/** NDJSON-like log lines: what ttlog compresses in practice. */
function logText(length: number, seed = 7): Uint8Array {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T =>
    items[Math.floor(random() * items.length)];
  const levels = ["debug", "info", "info", "info", "warn", "error"];
  const messages = [
    "request handled",
    "cache miss",
    "user signed in",
    "retrying upstream call",
    "query slow",
  ];
  const paths = ["/api/users", "/api/orders", "/health", "/api/search"];
  const lines: string[] = [];
  let size = 0;
  let time = Date.UTC(2026, 10, 25, 15, 24);
  while (size < length) {
    time += Math.floor(random() * 50);
    const line = JSON.stringify({
      time: new Date(time).toISOString(),
      level: pick(levels),
      msg: pick(messages),
      service: "checkout",
      method: pick(["GET", "POST"]),
      path: `${pick(paths)}/${Math.floor(random() * 100000)}`,
      status: pick([200, 200, 200, 201, 404, 500]),
      ms: Math.round(random() * 100000) / 100,
      reqId: Math.floor(random() * 2 ** 32).toString(16).padStart(8, "0"),
    }) + "\n";
    lines.push(line);
    size += line.length;
  }
  return encoder.encode(lines.join("")).subarray(0, length);
}

function join2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function joinOutputs(pieces: readonly Lz4Output[]): Uint8Array {
  let out: Uint8Array = new Uint8Array(0);
  for (const piece of pieces) out = join2(out, piece.data);
  return out;
}

function withTempDir(body: (dir: string) => void | Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "ttlog-codec-"));
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function assertBytes(actual: Uint8Array, expected: Uint8Array, what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  // One comparison instead of millions of assert calls.
  const differ = actual.findIndex((byte, i) => byte !== expected[i]);
  assert.equal(differ, -1, `${what}: first difference at byte ${differ}`);
}

// xxHash32

test("xxhash32 matches the reference vectors", () => {
  assert.equal(xxhash32(new Uint8Array(0)), 0x02cc5d05);
  assert.equal(xxhash32(encoder.encode("a")), 0x550d7456);
  assert.equal(xxhash32(encoder.encode("abc")), 0x32d153ff);
  assert.equal(
    xxhash32(encoder.encode("Nobody inspects the spammish repetition")),
    0xe2293b2f,
  );
  // xxhsum's own sanity check: empty input, seed PRIME32_1.
  assert.equal(xxhash32(new Uint8Array(0), 0x9e3779b1), 0x36b78ae7);
});

test("xxhash32 hashes only the view it is given", () => {
  const bytes = encoder.encode("xxabcxx");
  assert.equal(xxhash32(bytes.subarray(2, 5)), 0x32d153ff);
});

test("Xxhash32 in pieces equals xxhash32 in one go", () => {
  const random = prng(3);
  for (const length of [0, 1, 15, 16, 17, 31, 32, 33, 100, 1000, 70000]) {
    const data = randomBytes(length, length + 1);
    for (const seed of [0, 1, 0x9e3779b1, 0xffffffff]) {
      const expected = xxhash32(data, seed);
      const hash = new Xxhash32(seed);
      let at = 0;
      while (at < length) {
        const step = 1 + Math.floor(random() * 40);
        hash.update(data.subarray(at, at + step));
        at += step;
      }
      assert.equal(hash.digest(), expected, `length ${length} seed ${seed}`);
      assert.equal(hash.reset().update(data).digest(), expected);
    }
  }
});

// LZ4 blocks

test("LZ4 blocks round-trip empty, tiny, random, repetitive and large input", () => {
  const inputs: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["1 byte", new Uint8Array([42])],
    ["12 bytes", encoder.encode("hello hello!")],
    ["random 100 KB", randomBytes(100_000)],
    ["zeros 1 MB", new Uint8Array(1 << 20)],
    ["log text 5 MB", logText(5 * 1024 * 1024)],
  ];
  for (const [name, input] of inputs) {
    const block = lz4CompressBlock(input);
    assert.ok(block.length > 0, name);
    assertBytes(lz4DecompressBlock(block, input.length), input, name);
  }
  const text = logText(1 << 20);
  const ratio = text.length / lz4CompressBlock(text).length;
  assert.ok(ratio > 2, `log text should compress, ratio ${ratio}`);
  const zeros = lz4CompressBlock(new Uint8Array(1 << 20));
  assert.ok(zeros.length < 5000, `zeros compress to ${zeros.length}`);
});

test("lz4CompressBlock reads views of shared memory and of larger buffers", () => {
  const text = logText(50_000);
  const shared = new Uint8Array(new SharedArrayBuffer(text.length + 10));
  shared.set(text, 10);
  const view = shared.subarray(10);
  assertBytes(
    lz4DecompressBlock(lz4CompressBlock(view), text.length),
    text,
    "shared",
  );
});

test("lz4CompressBlockInto writes in place or reports that it does not fit", () => {
  const text = logText(10_000);
  const expected = lz4CompressBlock(text);
  const out = new Uint8Array(expected.length + 8).fill(0xee);
  assert.equal(lz4CompressBlockInto(text, out.subarray(4)), expected.length);
  assertBytes(out.subarray(4, 4 + expected.length), expected, "into");
  assert.equal(out[3], 0xee);
  const small = new Uint8Array(expected.length - 1).fill(0xee);
  assert.equal(lz4CompressBlockInto(text, small), -1);
  assert.ok(small.every((byte) => byte === 0xee), "untouched when too small");
});

test("lz4DecompressBlock rejects malformed blocks with TtlogFormatError", () => {
  const cases: [string, number[], number, RegExp][] = [
    ["empty block", [], 0, /empty/],
    ["literals cut off", [0x50, 1, 2], 5, /literals/],
    ["literal length cut off", [0xf0], 20, /literal length/],
    ["offset 0", [0x10, 65, 0, 0], 10, /offset 0/],
    ["offset before start", [0x10, 65, 2, 0], 10, /before the start/],
    ["offset cut off", [0x10, 65, 1], 10, /offset is cut off/],
    ["ends with a match", [0x10, 65, 1, 0], 5, /ends with a match/],
    ["more output than declared", [0x10, 65, 1, 0, 0x10, 66], 3, /exceed/],
  ];
  for (const [name, bytes, size, message] of cases) {
    assert.throws(
      () => lz4DecompressBlock(new Uint8Array(bytes), size),
      (error: unknown) =>
        error instanceof TtlogFormatError && message.test(error.message),
      name,
    );
  }
  // Valid, but shorter than declared.
  assert.throws(
    () => lz4DecompressBlock(new Uint8Array([0x20, 65, 66]), 3),
    /decoded 2 bytes, expected 3/,
  );
  // A size no 3-byte block can reach is refused before allocating.
  assert.throws(
    () => lz4DecompressBlock(new Uint8Array([0x20, 65, 66]), 2 ** 30),
    /cannot decode to/,
  );
  assert.throws(() => lz4DecompressBlock(new Uint8Array([0]), -1), RangeError);
  assert.throws(() => lz4DecompressBlock(new Uint8Array([0]), 1.5), RangeError);
});

test("lz4DecompressBlockInto resolves matches into the window before the output", () => {
  // "abcd" in the window, then a block that is one match of 8 at offset 4.
  const dst = new Uint8Array(12);
  dst.set(encoder.encode("abcd"));
  const block = new Uint8Array([0x04, 4, 0, 0x00]);
  // token: 0 literals, match length 4+4; offset 4; then an empty last literal run.
  assert.equal(lz4DecompressBlockInto(block, dst, 0, 4), 12);
  assert.equal(new TextDecoder().decode(dst), "abcdabcdabcd");
  assert.throws(
    () => lz4DecompressBlockInto(block, new Uint8Array(12), 4, 4),
    /before the start/,
  );
});

test("random garbage never crashes the block decoder", () => {
  const random = prng(11);
  for (let i = 0; i < 3000; i++) {
    const bytes = randomBytes(1 + Math.floor(random() * 64), i);
    try {
      lz4DecompressBlockInto(bytes, new Uint8Array(256), 0, 0);
    } catch (error) {
      assert.ok(error instanceof TtlogFormatError, String(error));
    }
  }
});

// Loading lz4-wasm

test("initLz4 accepts a module, bytes or a URL and rejects bad input", async () => {
  const bytes = readFileSync(WASM_URL);
  const module = new WebAssembly.Module(bytes);
  const text = logText(20_000);
  const check = () =>
    assertBytes(
      lz4DecompressBlock(lz4CompressBlock(text), text.length),
      text,
      "after init",
    );
  initLz4Sync({ module });
  check();
  initLz4Sync({ bytes });
  check();
  initLz4Sync({ url: WASM_URL });
  check();
  await initLz4({ module });
  check();
  await initLz4({ url: WASM_URL.href });
  check();
  await initLz4();
  check();
  assert.throws(
    () => initLz4Sync({ module, bytes }),
    (error: unknown) =>
      error instanceof TtlogConfigError && /at most one/.test(error.message),
  );
  assert.throws(
    () => initLz4Sync({ bytes: new Uint8Array([1, 2, 3]) }),
    (error: unknown) =>
      error instanceof TtlogConfigError && /cannot compile/.test(error.message),
  );
  // A valid but empty WebAssembly module: not lz4-wasm.
  assert.throws(
    () => initLz4Sync({ bytes: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]) }),
    (error: unknown) =>
      error instanceof TtlogConfigError && /export/.test(error.message),
  );
  assert.throws(
    () => initLz4Sync({ url: new URL("./no-such.wasm", WASM_URL) }),
    (error: unknown) =>
      error instanceof TtlogConfigError && /cannot read/.test(error.message),
  );
  // A failed init keeps the module that was loaded.
  check();
});

test("the embedded lz4-wasm is byte for byte the installed package's (run scripts/embed_lz4.mjs after an upgrade)", () => {
  const installed = readFileSync(WASM_URL);
  const embedded = Uint8Array.from(
    atob(LZ4_WASM_BASE64),
    (c) => c.charCodeAt(0),
  );
  const version = JSON.parse(
    readFileSync(new URL("./package.json", WASM_URL), "utf8"),
  ).version;
  assert.equal(LZ4_WASM_VERSION, version);
  assert.equal(embedded.length, installed.length);
  assert.deepEqual(
    embedded,
    new Uint8Array(installed.buffer, installed.byteOffset, installed.length),
  );
  assert.equal(
    createHash("sha256").update(installed).digest("hex"),
    LZ4_WASM_SHA256,
  );
});

test("src/codec imports no Node built-in when it loads (edge runtimes have none)", () => {
  for (
    const name of [
      "gzip.ts",
      "lz4.ts",
      "lz4_decompress.ts",
      "lz4_frame.ts",
      "xxhash32.ts",
    ]
  ) {
    const source = readFileSync(
      new URL(`../src/codec/${name}`, import.meta.url),
      "utf8",
    );
    const imports = source.match(/^import (?!type ).*?from "[^"]+";$/gms) ?? [];
    for (const line of imports) {
      assert.doesNotMatch(line, /"node:/, `${name}: ${line}`);
    }
  }
});

test("without Node built-ins (edge), lz4 loads from a module and gzipSync says what to use", async () => {
  const module = new WebAssembly.Module(readFileSync(WASM_URL));
  // deno-lint-ignore no-explicit-any
  const host = (globalThis as any).process;
  const saved = host.getBuiltinModule;
  host.getBuiltinModule = undefined;
  try {
    assert.throws(
      () => initLz4Sync({ url: WASM_URL }),
      (error: unknown) =>
        error instanceof TtlogConfigError &&
        /node:fs is not available.*\{ module \}/.test(error.message),
    );
    assert.throws(
      () => gzipSync(new Uint8Array(10)),
      (error: unknown) =>
        error instanceof TtlogConfigError && /gzipAsync/.test(error.message),
    );
    assert.throws(() => gunzipSync(new Uint8Array(10)), TtlogConfigError);
    await initLz4({ module });
    const text = logText(10_000);
    assertBytes(
      lz4DecompressBlock(lz4CompressBlock(text), text.length),
      text,
      "edge lz4",
    );
    assertBytes(decodeLz4Frame(encodeLz4Frame(text)), text, "edge frame");
    assertBytes(await gunzipAsync(await gzipAsync(text)), text, "edge gzip");
  } finally {
    host.getBuiltinModule = saved;
  }
});

// LZ4 frames

test("LZ4 frames round-trip every block size, with and without content size", () => {
  const text = logText(300_000);
  const random = randomBytes(150_000);
  const sizes: Lz4BlockSize[] = [65536, 262144, 1048576, 4194304];
  for (const blockSize of sizes) {
    for (const contentSize of [false, true]) {
      for (
        const data of [
          new Uint8Array(0),
          new Uint8Array([7]),
          text.subarray(0, 65535),
          text.subarray(0, 65536),
          text.subarray(0, 65537),
          text,
          random,
        ]
      ) {
        const frame = encodeLz4Frame(data, { blockSize, contentSize });
        const what =
          `${data.length} bytes, blocks ${blockSize}, size ${contentSize}`;
        assertBytes(decodeLz4Frame(frame), data, what);
        const one = readLz4Frame(join2(frame, new Uint8Array([1, 2, 3])));
        assert.equal(one.end, frame.length, what);
        assertBytes(one.data, data, what);
      }
    }
  }
});

test("encodeLz4Frame stores incompressible blocks as they are", () => {
  const random = randomBytes(100_000);
  const frame = encodeLz4Frame(random);
  // Header 7, two blocks with 4-byte sizes, end mark 4, checksum 4.
  assert.equal(frame.length, 7 + 4 + 65536 + 4 + (100_000 - 65536) + 4 + 4);
  assert.equal(frame[7 + 3] & 0x80, 0x80, "first block flagged uncompressed");
});

test("encodeLz4Frame rejects a block size the format does not allow", () => {
  assert.throws(
    () =>
      encodeLz4Frame(new Uint8Array(1), {
        blockSize: 1000 as Lz4BlockSize,
      }),
    TtlogConfigError,
  );
});

test("Lz4FrameDecoder decodes input fed in pieces of any size and marks frame ends", () => {
  const a = logText(200_000, 1);
  const b = new Uint8Array(0);
  const c = randomBytes(70_000, 2);
  const frames = [
    encodeLz4Frame(a),
    encodeLz4Frame(b),
    encodeLz4Frame(c, { contentSize: true }),
  ];
  // A skippable frame between the first two.
  const skippable = new Uint8Array([
    0x5a,
    0x2a,
    0x4d,
    0x18,
    3,
    0,
    0,
    0,
    9,
    9,
    9,
  ]);
  const stream = [frames[0], skippable, frames[1], frames[2]].reduce(join2);
  const random = prng(5);
  for (const maxPiece of [1, 7, 1000, 100_000, stream.length]) {
    const decoder = new Lz4FrameDecoder();
    const decoded: Uint8Array[] = [];
    let current: Uint8Array = new Uint8Array(0);
    for (let at = 0; at < stream.length;) {
      const step = 1 + Math.floor(random() * maxPiece);
      for (const piece of decoder.push(stream.subarray(at, at + step))) {
        current = join2(current, piece.data);
        if (piece.frameEnd) {
          decoded.push(current);
          current = new Uint8Array(0);
        }
      }
      at += step;
    }
    decoder.finish();
    assert.equal(decoder.frames, 3);
    assert.equal(decoder.offset, stream.length);
    assert.equal(decoded.length, 3, `pieces up to ${maxPiece}`);
    assertBytes(decoded[0], a, "frame 1");
    assertBytes(decoded[1], b, "frame 2");
    assertBytes(decoded[2], c, "frame 3");
  }
  assertBytes(decodeLz4Frame(stream), [a, b, c].reduce(join2), "all at once");
});

test("a truncated frame is reported as truncated at every cut point", () => {
  const data = logText(150_000);
  const frame = encodeLz4Frame(data, { contentSize: true });
  const cuts = new Set([1, 3, 4, 5, 6, 7, 14, 15, 18, 19, 20]);
  for (let cut = 21; cut < frame.length; cut += 997) cuts.add(cut);
  for (let cut = frame.length - 9; cut < frame.length; cut++) cuts.add(cut);
  for (const cut of cuts) {
    const prefix = frame.subarray(0, cut);
    for (
      const decode of [
        () => decodeLz4Frame(prefix),
        () => readLz4Frame(prefix),
      ]
    ) {
      assert.throws(decode, (error: unknown) => {
        assert.ok(error instanceof Lz4FrameError, `cut ${cut}: ${error}`);
        assert.ok(error instanceof TtlogFormatError);
        assert.equal(error.truncated, true, `cut ${cut}: ${error.message}`);
        assert.equal(error.offset, cut);
        assert.match(error.message, /truncated/);
        return true;
      });
    }
  }
  // Streaming: a whole first frame, then a cut one.
  const decoder = new Lz4FrameDecoder();
  const out = decoder.push(join2(frame, frame.subarray(0, 1000)));
  assert.equal(out.filter((piece) => piece.frameEnd).length, 1);
  assert.throws(() => decoder.finish(), /truncated/);
  assert.throws(() => decodeLz4Frame(new Uint8Array(0)), /empty/);
});

test("corrupt frames raise Lz4FrameError saying what is wrong", () => {
  const data = logText(100_000);
  const frame = encodeLz4Frame(data);
  const corrupt = (edit: (bytes: Uint8Array) => void, message: RegExp) => {
    const bytes = frame.slice();
    edit(bytes);
    for (
      const decode of [() => decodeLz4Frame(bytes), () => readLz4Frame(bytes)]
    ) {
      assert.throws(decode, (error: unknown) => {
        assert.ok(error instanceof Lz4FrameError, String(error));
        assert.equal(error.truncated, false);
        assert.match(error.message, message);
        return true;
      });
    }
  };
  const end = frame.length;
  corrupt((b) => (b[end - 1] ^= 0x01), /content checksum mismatch/);
  corrupt((b) => (b[6] ^= 0x01), /header checksum mismatch/);
  corrupt((b) => (b[0] = 0x00), /not an LZ4 frame/);
  corrupt((b) => b.set([0x02, 0x21, 0x4c, 0x18]), /legacy/);
  corrupt((b) => (b[4] = 0x80 | (b[4] & 0x3f)), /version/);
  // Block size field set huge (compressed and stored flavours).
  corrupt((b) => b.set([0xff, 0xff, 0xff, 0x7f], 7), /block maximum/);
  corrupt((b) => b.set([0xff, 0xff, 0xff, 0xff], 7), /block maximum/);
  corrupt((b) => b.set([0x01, 0x00, 0x01, 0x00], 7), /block maximum/);
  // A flipped byte inside compressed data: a block error or a checksum.
  corrupt((b) => (b[200] ^= 0x40), /block|checksum/);
});

test("random byte flips never crash or hang the frame decoder", () => {
  const data = logText(20_000);
  const frame = encodeLz4Frame(data, { contentSize: true });
  const random = prng(13);
  let caught = 0;
  for (let i = 0; i < 2000; i++) {
    const bytes = frame.slice();
    const flips = 1 + Math.floor(random() * 3);
    for (let f = 0; f < flips; f++) {
      bytes[Math.floor(random() * bytes.length)] ^= 1 +
        Math.floor(random() * 255);
    }
    let decoded: Uint8Array;
    try {
      decoded = decodeLz4Frame(bytes);
    } catch (error) {
      assert.ok(error instanceof Lz4FrameError, String(error));
      caught++;
      continue;
    }
    // A flip can go unnoticed only if it changes nothing (a match offset
    // moved to identical bytes): the checksum vouches for the output.
    assertBytes(decoded, data, `flip ${i}`);
  }
  assert.ok(caught > 1900, `${caught} of 2000 flips caught`);
});

test("maxOutputSize bounds what a frame may decode to", () => {
  const frame = encodeLz4Frame(new Uint8Array(1 << 20));
  assert.ok(frame.length < 10_000);
  assert.throws(
    () => decodeLz4Frame(frame, { maxOutputSize: 100_000 }),
    (error: unknown) =>
      error instanceof Lz4FrameError && /limit/.test(error.message),
  );
  const sized = encodeLz4Frame(new Uint8Array(1 << 20), { contentSize: true });
  assert.throws(
    () => readLz4Frame(sized, { maxOutputSize: 100_000 }),
    /content size 1048576 exceeds/,
  );
  assert.equal(
    decodeLz4Frame(frame, { maxOutputSize: 1 << 20 }).length,
    1 << 20,
  );
  assert.throws(
    () => new Lz4FrameDecoder({ maxOutputSize: -1 }),
    TtlogConfigError,
  );
});

test("a failed decoder keeps failing with the same error", () => {
  const decoder = new Lz4FrameDecoder();
  const error = (() => {
    try {
      decoder.push(new Uint8Array([1, 2, 3, 4]));
    } catch (error) {
      return error;
    }
  })();
  assert.ok(error instanceof Lz4FrameError);
  assert.throws(
    () => decoder.push(encodeLz4Frame(new Uint8Array(3))),
    (e) => e === error,
  );
  assert.throws(() => decoder.finish(), (e) => e === error);
});

// Interop with the lz4 tool

test(
  "the lz4 tool verifies and decodes our frames",
  withTempDir((dir) => {
    const cases: [string, Uint8Array, Parameters<typeof encodeLz4Frame>[1]][] =
      [
        ["empty", new Uint8Array(0), {}],
        ["one byte", new Uint8Array([1]), {}],
        ["log 64K blocks", logText(1_000_000), {}],
        ["log 4M blocks with size", logText(5_000_000), {
          blockSize: 4194304,
          contentSize: true,
        }],
        ["random 256K blocks", randomBytes(600_000), { blockSize: 262144 }],
        ["zeros 1M blocks", new Uint8Array(3_000_000), {
          blockSize: 1048576,
          contentSize: true,
        }],
      ];
    for (const [name, data, options] of cases) {
      const file = join(dir, "ours.lz4");
      writeFileSync(file, encodeLz4Frame(data, options));
      const check = runTool("lz4", ["-t", file]);
      assert.equal(check.status, 0, `${name}: lz4 -t: ${check.stderr}`);
      const decoded = runTool("lz4", ["-dc", file]);
      assert.equal(decoded.status, 0, `${name}: lz4 -dc: ${decoded.stderr}`);
      assertBytes(decoded.stdout, data, name);
    }
  }),
);

test(
  "the lz4 tool decodes our frames concatenated",
  withTempDir((dir) => {
    const a = logText(100_000, 1);
    const b = randomBytes(10_000, 2);
    writeFileSync(join(dir, "a.lz4"), encodeLz4Frame(a));
    writeFileSync(join(dir, "b.lz4"), encodeLz4Frame(b, { contentSize: true }));
    writeFileSync(
      join(dir, "ab.lz4"),
      join2(readFileSync(join(dir, "a.lz4")), readFileSync(join(dir, "b.lz4"))),
    );
    const decoded = runTool("lz4", ["-dc", join(dir, "ab.lz4")]);
    assert.equal(decoded.status, 0, decoded.stderr);
    assertBytes(decoded.stdout, join2(a, b), "cat a.lz4 b.lz4 | lz4 -dc");
  }),
);

test(
  "we decode what the lz4 tool writes, with every option",
  withTempDir((dir) => {
    const data = logText(3_000_000);
    const input = join(dir, "data.ndjson");
    writeFileSync(input, data);
    const variants = [
      [],
      ["-1"],
      ["-9"],
      ["--fast=5"],
      ["-B4"],
      ["-B5"],
      ["-B6"],
      ["-B4", "-BD"], // linked blocks: matches reach into the previous block
      ["-B4", "-BD", "-9"],
      ["-BX"], // block checksums
      ["--content-size"],
      ["--no-frame-crc"],
      ["-B4", "-BD", "-BX", "--content-size", "--no-frame-crc"],
    ];
    const frames: Uint8Array[] = [];
    for (const flags of variants) {
      const result = runTool("lz4", ["-c", "-q", ...flags, input]);
      assert.equal(
        result.status,
        0,
        `lz4 -c ${flags.join(" ")}: ${result.stderr}`,
      );
      frames.push(result.stdout);
      assertBytes(
        decodeLz4Frame(result.stdout),
        data,
        `lz4 -c ${flags.join(" ")}`,
      );
      // In pieces too, which exercises the linked-block window across pushes.
      const decoder = new Lz4FrameDecoder();
      const pieces: Lz4Output[] = [];
      for (let at = 0; at < result.stdout.length; at += 40_000) {
        pieces.push(...decoder.push(result.stdout.subarray(at, at + 40_000)));
      }
      decoder.finish();
      assertBytes(
        joinOutputs(pieces),
        data,
        `pieces of lz4 -c ${flags.join(" ")}`,
      );
    }
    // Empty input and small input.
    for (const small of [new Uint8Array(0), encoder.encode("hi\n")]) {
      writeFileSync(input, small);
      const result = runTool("lz4", ["-c", "-q", input]);
      assert.equal(result.status, 0, result.stderr);
      assertBytes(
        decodeLz4Frame(result.stdout),
        small,
        `small ${small.length}`,
      );
    }
    // The tool's frames concatenated.
    assertBytes(
      decodeLz4Frame(
        frames[0].length > 0 ? join2(frames[0], frames[1]) : frames[1],
      ),
      join2(data, data),
      "two concatenated lz4 frames",
    );
  }),
);

test(
  "the lz4 tool and we agree on a corrupted frame",
  withTempDir((dir) => {
    const frame = encodeLz4Frame(logText(50_000));
    frame[frame.length - 2] ^= 0x10;
    const file = join(dir, "bad.lz4");
    writeFileSync(file, frame);
    assert.notEqual(runTool("lz4", ["-t", file]).status, 0);
    assert.throws(() => decodeLz4Frame(frame), /content checksum mismatch/);
  }),
);

// gzip

test("gzip round-trips synchronously and asynchronously", async () => {
  for (
    const data of [
      new Uint8Array(0),
      new Uint8Array([5]),
      logText(1_000_000),
      randomBytes(100_000),
    ]
  ) {
    const sync = gzipSync(data);
    const fast = gzipSync(data, { level: 1 });
    const streamed = await gzipAsync(data);
    for (const packed of [sync, fast, streamed]) {
      assertBytes(gunzipSync(packed), data, "gunzipSync");
      assertBytes(await gunzipAsync(packed), data, "gunzipAsync");
    }
    assert.equal(
      sync.constructor,
      Uint8Array,
      "a plain Uint8Array, not a Buffer",
    );
  }
  assert.throws(
    () => gzipSync(new Uint8Array(1), { level: 10 }),
    TtlogConfigError,
  );
});

test("gzipAsync copies shared memory first (Deno's CompressionStream hangs on it)", async () => {
  const text = logText(10_000);
  const shared = new Uint8Array(new SharedArrayBuffer(text.length));
  shared.set(text);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("gzipAsync hung")), 5000);
  });
  try {
    const packed = await Promise.race([gzipAsync(shared), timeout]);
    assertBytes(gunzipSync(packed), text, "shared");
  } finally {
    clearTimeout(timer);
  }
});

test("gzip rejects truncated, corrupt and oversized input with TtlogFormatError", async () => {
  const data = logText(100_000);
  const packed = gzipSync(data);
  const truncated = packed.subarray(0, packed.length - 100);
  const corrupt = packed.slice();
  corrupt[packed.length - 6] ^= 0xff; // inside the CRC-32
  assert.throws(
    () => gunzipSync(truncated),
    (error: unknown) =>
      error instanceof TtlogFormatError && /truncated/.test(error.message),
  );
  assert.throws(
    () => gunzipSync(corrupt),
    (error: unknown) =>
      error instanceof TtlogFormatError && /corrupt/.test(error.message),
  );
  await assert.rejects(gunzipAsync(truncated), TtlogFormatError);
  await assert.rejects(gunzipAsync(corrupt), TtlogFormatError);
  await assert.rejects(
    gunzipAsync(encoder.encode("not gzip")),
    TtlogFormatError,
  );
  assert.throws(() => gunzipSync(encoder.encode("not gzip")), TtlogFormatError);
  const bomb = gzipSync(new Uint8Array(10_000_000));
  assert.throws(
    () => gunzipSync(bomb, { maxOutputSize: 1_000_000 }),
    /more than the 1000000-byte limit/,
  );
  await assert.rejects(
    gunzipAsync(bomb, { maxOutputSize: 1_000_000 }),
    /more than the 1000000-byte limit/,
  );
  assert.equal(
    gunzipSync(bomb, { maxOutputSize: 10_000_000 }).length,
    10_000_000,
  );
  assert.equal(
    gunzipSync(gzipSync(new Uint8Array(0)), { maxOutputSize: 0 }).length,
    0,
  );
});

test("gunzipSync decodes concatenated members", () => {
  const a = logText(10_000, 1);
  const b = logText(10_000, 2);
  assertBytes(gunzipSync(join2(gzipSync(a), gzipSync(b))), join2(a, b), "a+b");
});

test(
  "the gzip tool verifies and decodes our output, and we decode its",
  withTempDir(async (dir) => {
    const data = logText(2_000_000);
    const file = join(dir, "ours.gz");
    for (
      const [name, packed] of [
        ["gzipSync", gzipSync(data)],
        ["gzipSync level 1", gzipSync(data, { level: 1 })],
        ["gzipAsync", await gzipAsync(data)],
      ] as const
    ) {
      writeFileSync(file, packed);
      const check = runTool("gzip", ["-t", file]);
      assert.equal(check.status, 0, `${name}: gzip -t: ${check.stderr}`);
      const decoded = runTool("gzip", ["-dc", file]);
      assert.equal(decoded.status, 0, `${name}: gzip -dc: ${decoded.stderr}`);
      assertBytes(decoded.stdout, data, name);
    }
    const input = join(dir, "data.ndjson");
    writeFileSync(input, data);
    for (const level of ["-1", "-9"]) {
      const theirs = runTool("gzip", ["-c", level, input]);
      assert.equal(theirs.status, 0, theirs.stderr);
      assertBytes(
        gunzipSync(theirs.stdout),
        data,
        `gzip ${level} -> gunzipSync`,
      );
      assertBytes(
        await gunzipAsync(theirs.stdout),
        data,
        `gzip ${level} -> gunzipAsync`,
      );
    }
  }),
);

test("a frame without a content checksum: 4 bytes shorter, read by our decoder and by the lz4 tool", () => {
  const data = new TextEncoder().encode("no checksum here, ".repeat(5000));
  const withSum = encodeLz4Frame(data);
  const without = encodeLz4Frame(data, { contentChecksum: false });
  assert.equal(without.length, withSum.length - 4);
  assert.equal(without[4] & 0x04, 0);
  assert.deepEqual(decodeLz4Frame(without), data);
  const dir = mkdtempSync(join(tmpdir(), "ttlog-lz4-nosum-"));
  try {
    const file = join(dir, "x.lz4");
    writeFileSync(file, without);
    assert.equal(runTool("lz4", ["-t", file]).status, 0);
    const out = runTool("lz4", ["-dc", file]);
    assert.deepEqual(out.stdout, data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
