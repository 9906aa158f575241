// The ring's event header (docs/FORMAT.md, "Record"): varint ids, a time as
// ms after the ring's time base (bits 32-35 in the level byte, a float64
// where the compact form cannot hold it), and no sequence number (readers
// count, from the tail's pair after an overwrite).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger, internals } from "../src/logger/logger.ts";
import { memorySink } from "../src/sinks/memory.ts";
import {
  eventHeader,
  MAX_HEADER_BYTES,
  readHeader,
  ringTimeBase,
  TIME_FLOAT,
  writeHeader,
} from "../src/ring/ring.ts";
import { xxhash32 } from "../src/codec/xxhash32.ts";
import { events, finish, lossRecords } from "./helpers.ts";

const BASE = 1_700_000_000_000;

test("headers read back exactly: ids of every varint size, compact and float64 times", () => {
  const ids: [number, number][] = [
    [0, 0],
    [1, 127],
    [127, 128],
    [128, 2 ** 14],
    [2 ** 14 - 1, 2 ** 21],
    [2 ** 21, 2 ** 28],
    [2 ** 24 - 1, 2 ** 32 - 1],
  ];
  const times = [
    BASE,
    BASE + 1,
    BASE + 2 ** 32 - 1,
    BASE + 2 ** 32, // bits 32-35 in the level byte
    BASE + 2 ** 36 - 1,
    BASE + 2 ** 36, // too far: a float64
    BASE - 1, // before the base
    BASE + 0.5,
    NaN,
    -0,
    0,
    Infinity,
  ];
  const u8 = new Uint8Array(MAX_HEADER_BYTES + 4);
  const h = eventHeader();
  for (const [targetId, siteId] of ids) {
    for (const time of times) {
      for (let level = 0; level <= 5; level++) {
        u8.fill(0xee);
        const body = writeHeader(u8, 0, level, targetId, siteId, time, BASE);
        assert.ok(body <= MAX_HEADER_BYTES, `header of ${body} bytes`);
        const float = (u8[8] & TIME_FLOAT) !== 0;
        const compact = Number.isInteger(time - BASE) &&
          time - BASE >= 0 && time - BASE < 2 ** 36 && !Object.is(time, -0);
        assert.equal(float, !compact, `time ${time}: float64 form`);
        assert.ok(readHeader(u8, 0, body, BASE, h), "it fits its content");
        assert.deepEqual(
          [h.level, h.targetId, h.siteId, h.body],
          [level, targetId, siteId, body],
        );
        assert.ok(Object.is(h.time, time), `${h.time} != ${time}`);
        // Cut anywhere inside, the header does not fit.
        for (let end = 9; end < body; end++) {
          assert.equal(readHeader(u8, 0, end, BASE, h), false, `end ${end}`);
        }
      }
    }
  }
  // The reference call's header: 11 bytes.
  assert.equal(writeHeader(u8, 0, 2, 1, 3, BASE + 5, BASE), 11);
});

test("a header whose ids overflow their varints does not read", () => {
  const h = eventHeader();
  // Target id: a fourth byte above 7 (past 2^24).
  const target = new Uint8Array([
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    2,
    0xff,
    0xff,
    0xff,
    0x08,
    1,
  ]);
  assert.equal(readHeader(target, 0, target.length, 0, h), false);
  // Site id: past 2^32, or a sixth byte.
  const site = new Uint8Array([
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    2,
    1,
    0xff,
    0xff,
    0xff,
    0xff,
    0x7f,
  ]);
  assert.equal(readHeader(site, 0, site.length, 0, h), false);
  const long = new Uint8Array([
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    2,
    1,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0,
  ]);
  assert.equal(readHeader(long, 0, long.length, 0, h), false);
});

test("a logger made and logging where the clock reads 0 (a Worker's global scope) takes its time base from the first set clock", async () => {
  const now = Date.now;
  const sink = memorySink();
  let log;
  try {
    Date.now = () => 0;
    log = createLogger({ sinks: [sink], worker: false });
    // Logged at start-up, before the clock is set: float64 times.
    log.info("hello world", { a: 1, b: "two", c: true });
  } finally {
    Date.now = now;
  }
  const { ring } = internals(log);
  assert.ok(Number.isNaN(ringTimeBase(ring)), "no base from an unset clock");
  assert.equal(log.metrics().recordedBytes, 32, "a float64 time: 8 more");
  const before = Date.now();
  log.info("hello world", { a: 1, b: "two", c: true });
  log.info("hello world", { a: 1, b: "two", c: true });
  const base = ringTimeBase(ring);
  assert.ok(base >= before - 86_400_000 && base <= Date.now(), String(base));
  // Compact times from then on: the reference call takes 24 bytes.
  assert.equal(log.metrics().recordedBytes, 32 + 48);
  await log.flush();
  assert.equal(sink.records[0].time, 0);
  for (const record of sink.records.slice(1)) {
    assert.ok(record.time >= before && record.time <= Date.now());
  }
  await finish(log);
});

test("sequence numbers are counted, not stored: exact after the ring wraps and overwrites", async () => {
  const sink = memorySink();
  const log = createLogger({
    sinks: [sink],
    worker: false,
    directives: "",
    level: "trace",
    ring: { bytes: 4096, overflow: "overwrite" },
  });
  // worker: false: the drain runs after this task, so most are overwritten.
  for (let i = 0; i < 3000; i++) log.info("n", { i });
  await log.flush();
  for (let i = 3000; i < 3010; i++) log.info("n", { i });
  await log.flush();
  const got = events(sink);
  assert.ok(got.length < 3000, "some were overwritten");
  for (const record of got) assert.equal(record.seq, record.fields.i);
  const lost = lossRecords(sink).reduce(
    (n, r) => n + (r.fields.lost as number),
    0,
  );
  assert.equal(got.length + lost, 3010);
  assert.equal(got.at(-1)!.seq, 3009);
  await finish(log);
});

test("xxhash32 gives the same hash for aligned and unaligned views of the same bytes", () => {
  const bytes = new Uint8Array(4096 + 8);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 0xff;
  for (const length of [0, 15, 16, 17, 63, 64, 100, 4096]) {
    for (const offset of [0, 1, 2, 3, 4]) {
      const view = bytes.subarray(offset, offset + length);
      assert.equal(
        xxhash32(view),
        xxhash32(view.slice()),
        `${offset}+${length}`,
      );
    }
  }
});
