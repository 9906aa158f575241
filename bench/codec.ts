/**
 * Codecs: compression and decompression speed on 1 MiB of NDJSON-like log
 * text, LZ4 (lz4-wasm to compress, plain TypeScript to decompress) vs gzip
 * (node:zlib and CompressionStream), plus xxHash32. Run with
 * `npm run bench` (all three runtimes) or directly:
 * `deno run -A bench/codec.ts`, `bun bench/codec.ts`, `tsx bench/codec.ts`.
 *
 * Prints MB/s (of uncompressed data) and ratios; saves the numbers, each
 * with its spread over interleaved rounds (bench/harness.ts).
 *
 * @module
 */

import { do_not_optimize } from "mitata";
import { detectRuntime } from "../src/sink.ts";
import { initLz4Sync, lz4CompressBlock } from "../src/codec/lz4.ts";
import { lz4DecompressBlock } from "../src/codec/lz4_decompress.ts";
import { decodeLz4Frame, encodeLz4Frame } from "../src/codec/lz4_frame.ts";
import {
  gunzipAsync,
  gunzipSync,
  gzipAsync,
  gzipSync,
} from "../src/codec/gzip.ts";
import { xxhash32 } from "../src/codec/xxhash32.ts";
import { saveRows } from "./results.ts";
import { type BenchCase, printRows, runRounds } from "./harness.ts";

const SIZE = 1 << 20;

/** Deterministic NDJSON log lines, SIZE bytes. */
function logText(): Uint8Array {
  let seed = 7;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const pick = <T>(items: readonly T[]): T =>
    items[Math.floor(random() * items.length)];
  const lines: string[] = [];
  let size = 0;
  let time = Date.UTC(2026, 10, 25, 15, 24);
  while (size < SIZE) {
    time += Math.floor(random() * 50);
    const line = JSON.stringify({
      time: new Date(time).toISOString(),
      level: pick(["debug", "info", "info", "warn", "error"]),
      msg: pick(["request handled", "cache miss", "user signed in", "slow"]),
      service: "checkout",
      method: pick(["GET", "POST"]),
      path: `${pick(["/api/users", "/api/orders", "/health"])}/${
        Math.floor(random() * 100000)
      }`,
      status: pick([200, 200, 201, 404, 500]),
      ms: Math.round(random() * 100000) / 100,
      reqId: Math.floor(random() * 2 ** 32).toString(16).padStart(8, "0"),
    }) + "\n";
    lines.push(line);
    size += line.length;
  }
  return new TextEncoder().encode(lines.join("")).slice(0, SIZE);
}

const text = logText();
initLz4Sync();
const block = lz4CompressBlock(text);
const frame64k = encodeLz4Frame(text);
const frame256k = encodeLz4Frame(text, { blockSize: 262144 });
const frame4m = encodeLz4Frame(text, { blockSize: 4194304 });
const gzip1 = gzipSync(text, { level: 1 });
const gzip6 = gzipSync(text);
const gzipStream = await gzipAsync(text);

const ratios: Record<string, number> = {
  "lz4 block": text.length / block.length,
  "lz4 frame 64K": text.length / frame64k.length,
  "lz4 frame 256K": text.length / frame256k.length,
  "lz4 frame 4M": text.length / frame4m.length,
  "gzip level 1": text.length / gzip1.length,
  "gzip level 6": text.length / gzip6.length,
  "gzip CompressionStream": text.length / gzipStream.length,
};

const COMPRESS = "compress 1 MiB of log text";
const DECOMPRESS = "decompress 1 MiB of log text";
const cases: BenchCase[] = [
  {
    group: COMPRESS,
    name: "lz4 block (wasm)",
    fn: () => do_not_optimize(lz4CompressBlock(text)),
  },
  {
    group: COMPRESS,
    name: "lz4 frame 64K",
    fn: () => do_not_optimize(encodeLz4Frame(text)),
  },
  {
    group: COMPRESS,
    name: "lz4 frame 256K",
    fn: () => do_not_optimize(encodeLz4Frame(text, { blockSize: 262144 })),
  },
  {
    group: COMPRESS,
    name: "lz4 frame 4M",
    fn: () => do_not_optimize(encodeLz4Frame(text, { blockSize: 4194304 })),
  },
  {
    group: COMPRESS,
    name: "gzipSync level 1",
    fn: () => do_not_optimize(gzipSync(text, { level: 1 })),
  },
  {
    group: COMPRESS,
    name: "gzipSync level 6",
    fn: () => do_not_optimize(gzipSync(text)),
  },
  {
    group: COMPRESS,
    name: "gzipAsync",
    fn: async () => do_not_optimize(await gzipAsync(text)),
  },
  {
    group: DECOMPRESS,
    name: "lz4 block decode (TypeScript)",
    fn: () => do_not_optimize(lz4DecompressBlock(block, text.length)),
  },
  {
    group: DECOMPRESS,
    name: "lz4 frame 64K decode",
    fn: () => do_not_optimize(decodeLz4Frame(frame64k)),
  },
  {
    group: DECOMPRESS,
    name: "lz4 frame 4M decode",
    fn: () => do_not_optimize(decodeLz4Frame(frame4m)),
  },
  {
    group: DECOMPRESS,
    name: "gunzipSync",
    fn: () => do_not_optimize(gunzipSync(gzip6)),
  },
  {
    group: DECOMPRESS,
    name: "gunzipAsync",
    fn: async () => do_not_optimize(await gunzipAsync(gzip6)),
  },
  {
    group: "checksum 1 MiB",
    name: "xxhash32",
    fn: () => do_not_optimize(xxhash32(text)),
  },
];

const rows = await runRounds(cases, { verbose: false });

const megabytesPerSecond: Record<string, number> = {};
for (const row of rows) {
  if (row.avg) {
    megabytesPerSecond[row.name] = Math.round(SIZE / 1e6 / (row.avg / 1e9));
  }
}
const runtime = detectRuntime();
console.log(`${runtime.name} ${runtime.version}: MB/s of uncompressed data`);
for (const [name, rate] of Object.entries(megabytesPerSecond)) {
  console.log(`  ${name.padEnd(26)} ${String(rate).padStart(6)}`);
}
console.log("ratios (uncompressed / compressed)");
for (const [name, ratio] of Object.entries(ratios)) {
  console.log(`  ${name.padEnd(26)} ${ratio.toFixed(2).padStart(6)}`);
}

printRows(rows);
saveRows("codec", rows, { bytes: SIZE, megabytesPerSecond, ratios });
