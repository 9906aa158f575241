import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger, type LogRecord, memorySink } from "../mod.ts";
import { internals } from "../src/logger/logger.ts";
import { decodeEvent, ValueReader } from "../src/record/decode.ts";
import { DictionaryReader } from "../src/record/dictionary.ts";
import { type Capture, captureRing } from "../src/snapshot/capture.ts";

/** Decodes a capture on its own: its entries rebuilt into a dictionary. */
function decodeCapture(capture: Capture): LogRecord[] {
  let bytes = 16;
  for (const entry of capture.entries) {
    bytes += 4 + ((entry.payload.length + 3) & ~3);
  }
  const buffer = new ArrayBuffer(bytes);
  const u8 = new Uint8Array(buffer, 16);
  let p = 0;
  for (const entry of capture.entries) {
    const n = entry.payload.length;
    u8.set([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, entry.kind], p);
    u8.set(entry.payload, p + 4);
    p += 4 + ((n + 3) & ~3);
  }
  new Int32Array(buffer, 0, 4).set([capture.entries.length, p]);
  const reader = new ValueReader(new DictionaryReader({ buffer }));
  const records: LogRecord[] = [];
  const r = capture.records;
  const words = new Int32Array(r.buffer, r.byteOffset, r.length >> 2);
  for (let at = 0, i = 0; at < r.length; i++) {
    const content = words[at >> 2] & 0xffffff;
    records.push(
      decodeEvent(
        reader,
        r,
        at,
        at + content,
        "app",
        capture.seqs[i],
        capture.timeBase,
      ),
    );
    at += (content + 3) & ~3;
  }
  return records;
}

test("a capture holds every record still in the ring, debug included, oldest first, decodable on its own", async () => {
  const sink = memorySink();
  const log = createLogger({
    level: "warn",
    recordLevel: "debug",
    sinks: [sink],
  });
  const db = log.child("db", { pool: "main" });
  for (let i = 0; i < 100; i++) {
    db.debug`query ${i} took ${i * 2}ms`;
    if (i % 10 === 0) log.warn("slow", { i, nested: { big: 10n ** 20n } });
  }
  await log.flush();
  assert.equal(sink.records.length, 10, "only warnings were emitted");
  const { ring, dictionary } = internals(log);
  const capture = captureRing(ring, dictionary);
  assert.equal(capture.count, 110);
  assert.equal(capture.overwritten, 0);
  const records = decodeCapture(capture);
  assert.equal(records.length, 110);
  assert.deepEqual(records.map((r) => r.seq), [...Array(110).keys()]);
  const debug = records.filter((r) => r.level === "debug");
  assert.equal(debug.length, 100);
  assert.equal(debug[7].msg, "query 7 took 14ms");
  assert.deepEqual(debug[7].fields, { pool: "main" });
  assert.equal(debug[7].target, "db");
  const warns = records.filter((r) => r.level === "warn");
  assert.deepEqual(
    warns.map((r) => r.fields),
    sink.records.map((r) => r.fields),
  );
  await log.close();
});

test("a capture after the ring wrapped holds the newest records, whole", async () => {
  const log = createLogger({ sinks: [memorySink()], ring: { bytes: 4096 } });
  for (let i = 0; i < 1000; i++) log.info("e", { i });
  const { ring, dictionary } = internals(log);
  const capture = captureRing(ring, dictionary);
  const records = decodeCapture(capture);
  assert.ok(records.length > 10 && records.length < 1000);
  const is = records.map((r) => r.fields.i as number);
  assert.equal(is.at(-1), 999, "the newest event is last");
  assert.deepEqual(
    is,
    [...Array(is.length).keys()].map((k) => 1000 - is.length + k),
  );
  await log.close();
});

test("the window keeps the newest records within its age and size", async () => {
  const log = createLogger({ sinks: [memorySink()] });
  for (let i = 0; i < 50; i++) log.info("e", { i });
  const { ring, dictionary } = internals(log);
  const all = captureRing(ring, dictionary);
  const bySize = captureRing(ring, dictionary, {
    bytes: all.records.length / 2,
  });
  assert.ok(bySize.count > 0 && bySize.count < 50);
  assert.equal(decodeCapture(bySize).at(-1)!.fields.i, 49);
  const future = captureRing(ring, dictionary, {
    ms: 1000,
    now: Date.now() + 60_000,
  });
  assert.equal(future.count, 0, "nothing is younger than a minute from now");
  const recent = captureRing(ring, dictionary, { ms: 60_000 });
  assert.equal(recent.count, 50);
  await log.close();
});
