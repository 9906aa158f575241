/**
 * A snapshot of the logger's own ring reads the records where they are (no
 * copy) and encodes its chunks into buffers it reuses; these tests hold it
 * to the same bytes and events as the copying path.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, type LogRecord, TtlogConfigError } from "../mod.ts";
import { internals } from "../src/logger/logger.ts";
import { captureRing, viewRingRecords } from "../src/snapshot/capture.ts";
import { writeSnapshotSync } from "../src/snapshot/writer.ts";
import {
  encodeChunk,
  eventsChunk,
  EventsChunkEncoder,
} from "../src/ttlog_file/chunk_writer.ts";
import { readTtlog } from "../src/ttlog_file/chunk_reader.ts";
import { ChunkKind } from "../src/ttlog_file/format.ts";
import { encodeLz4FrameInto, lz4FrameBound } from "../src/codec/lz4_frame.ts";

/** A logger whose 64 KiB ring has wrapped several times. */
function wrappedLogger() {
  const log = createLogger({
    service: "inplace",
    level: "off",
    recordLevel: "debug",
    worker: false,
    sinks: [],
    ring: { bytes: 64 * 1024, overflow: "overwrite" },
  });
  const db = log.child("db");
  for (let i = 0; i < 5000; i++) {
    if (i % 3 === 0) db.debug`query ${i} took ${i % 17}ms`;
    else log.info("step", { i, user: `u${i % 50}`, ok: i % 2 === 0 });
  }
  return log;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

test("the in-place view of a wrapped ring holds what a copy holds, windows included", async () => {
  const log = wrappedLogger();
  try {
    await log.flush();
    const { ring, dictionary } = internals(log);
    for (
      const window of [{}, { bytes: 10_000 }, { bytes: 1 }, {
        ms: 0,
        now: Date.now() + 60_000,
      }]
    ) {
      const copy = captureRing(ring, dictionary, window);
      const view = viewRingRecords(ring, dictionary, window);
      assert.equal(view.count, copy.count, JSON.stringify(window));
      assert.deepEqual(
        concat(view.runs.map((run) => run.records)),
        copy.records,
      );
      assert.deepEqual(
        [...view.runs.flatMap((run) => [...run.seqs])],
        [...copy.seqs],
      );
      assert.equal(view.timeBase, copy.timeBase);
      assert.deepEqual(view.entries, copy.entries);
    }
    const full = viewRingRecords(ring, dictionary);
    assert.equal(full.runs.length, 2, "a wrapped ring is two runs");
    assert.ok(full.count > 500);
    assert.equal(
      full.runs[0].records.buffer,
      ring.u8.buffer,
      "the runs are views of the ring, not copies",
    );
  } finally {
    await log.close();
  }
});

function eventsIn(path: string): LogRecord[] {
  const read = readTtlog(new Uint8Array(readFileSync(path)));
  assert.equal(read.error, undefined, String(read.error));
  assert.equal(read.items.at(-1)?.kind, "end");
  return read.items.flatMap((item) =>
    item.kind === "events" ? item.records : []
  );
}

test("a snapshot read in place has the same events as one copied, in as many chunks as runs", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ttlog-inplace-"));
  const log = wrappedLogger();
  try {
    await log.flush();
    const { ring, dictionary } = internals(log);
    const meta = { service: "inplace", reason: "test" };
    const options = { dir, keep: 10, compression: "lz4" as const };
    const inPlace = writeSnapshotSync(
      [{ ring, dictionary, local: true }],
      meta,
      options,
    );
    const copied = writeSnapshotSync([{ ring, dictionary }], meta, options);
    const a = eventsIn(inPlace);
    const b = eventsIn(copied);
    assert.deepEqual(a, b);
    assert.equal(a.at(-1)?.fields.i, 4999);
    const seqs = a.map((record) => record.seq);
    assert.deepEqual(seqs, seqs.map((_, k) => seqs[0] + k), "no gap, in order");
    const chunks = readTtlog(new Uint8Array(readFileSync(inPlace))).items
      .filter((item) => item.kind === "events").length;
    assert.equal(chunks, 2, "one events chunk per run of the wrapped ring");
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the chunk encoder's reused buffers give the bytes encodeChunk gives, chunk after chunk", async () => {
  const log = wrappedLogger();
  try {
    await log.flush();
    const { ring, dictionary } = internals(log);
    const capture = captureRing(ring, dictionary);
    // A large chunk, then smaller ones: stale bytes must not leak through.
    const sizes = [capture.count, 7, capture.count >> 1, 1];
    for (const compression of ["lz4", "none", "gzip"] as const) {
      const encoder = new EventsChunkEncoder(compression);
      // Other entries (another producer's) shift what follows them.
      for (
        const [count, entries] of [
          ...sizes.map((count) => [count, capture.entries] as const),
          [7, capture.entries.slice(1)] as const,
        ]
      ) {
        let end = 0;
        const words = new Int32Array(
          capture.records.buffer,
          capture.records.byteOffset,
          capture.records.length >> 2,
        );
        for (let i = 0; i < count; i++) {
          end += ((words[end >> 2] & 0xffffff) + 3) & ~3;
        }
        const part = {
          records: capture.records.subarray(0, end),
          seqs: capture.seqs.subarray(0, count),
          timeBase: capture.timeBase,
        };
        const expected = encodeChunk(
          ChunkKind.events,
          eventsChunk(0, entries, part),
          compression,
        );
        const got = encoder.encode(0, entries, part).slice();
        if (compression === "gzip") {
          assert.deepEqual(
            readTtlog(got).items,
            readTtlog(expected).items,
            `${compression}, ${count} records`,
          );
        } else {
          assert.deepEqual(got, expected, `${compression}, ${count} records`);
        }
      }
    }
  } finally {
    await log.close();
  }
});

test("an LZ4 frame into too small an output is a RangeError; a bad block size a config error", () => {
  const data = new Uint8Array(1000).fill(7);
  const bound = lz4FrameBound(data.length);
  assert.throws(
    () => encodeLz4FrameInto(data, new Uint8Array(bound - 1)),
    (error: unknown) =>
      error instanceof RangeError && /out holds 1\d+ bytes/.test(error.message),
  );
  const out = new Uint8Array(bound);
  assert.ok(encodeLz4FrameInto(data, out) < bound);
  assert.throws(
    () => lz4FrameBound(10, { blockSize: 1000 as 65536 }),
    TtlogConfigError,
  );
});

test("a snapshot that fails midway leaves no file and no temporary file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ttlog-inplace-"));
  const log = wrappedLogger();
  try {
    await log.flush();
    const { ring, dictionary } = internals(log);
    assert.throws(
      () =>
        writeSnapshotSync(
          [{ ring, dictionary, local: true }],
          { service: "inplace", reason: "test" },
          { dir, keep: 10, compression: "zstd" as "lz4" },
        ),
      (error: unknown) =>
        error instanceof TtlogConfigError && /compression/.test(error.message),
    );
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
