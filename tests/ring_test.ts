// The ring under a tiny capacity: wrap-around at every reachable offset, the
// three overflow policies, and records that never outgrow maxRecordBytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger, internals } from "../src/logger/logger.ts";
import type { Logger } from "../src/logger/types.ts";
import type { LogRecord } from "../src/record/values.ts";
import { KIND_EVENT, KIND_PAD } from "../src/ring/ring.ts";
import type { MemorySink } from "../src/sinks/memory.ts";
import {
  assertAccounting,
  events,
  finish,
  lossRecords,
  memoryLogger,
  mulberry32,
  pick,
  randomInt,
} from "./helpers.ts";

const TINY = { bytes: 1024 } as const;

/** Where the next record starts, as an index into the data area. */
function writeIndex(log: Logger): number {
  const { recorder } = internals(log);
  return recorder.write & recorder.mask;
}

/** The kind and content length of the record whose first word is at `index`. */
function recordAt(log: Logger, index: number): [number, number] {
  const word = internals(log).ring.i32[index >> 2];
  return [word >>> 24, word & 0xffffff];
}

/** Logs `"w"` with a string field of `length` ASCII chars starting with `id`. */
function logSized(log: Logger, id: number, length: number): string {
  const text = `${id}|`.padEnd(length, "abcdefghijklmnopqrstuvwxyz");
  assert.equal(text.length, length, "the id fits the text");
  log.info("w", { s: text });
  return text;
}

test("ring geometry: 1 KiB ring, 256-byte records", async () => {
  const { log } = memoryLogger({ ring: TINY });
  const { recorder, ring } = internals(log);
  assert.equal(recorder.capacity, 1024);
  assert.equal(ring.capacity, 1024);
  assert.equal(recorder.maxRecord, 256);
  assert.equal(log.metrics().ringBytes, 1024);
  await finish(log);
});

test("block: the wrap lands at every reachable 4-byte offset and nothing is lost", async () => {
  const { log, sink } = memoryLogger({ ring: { ...TINY, overflow: "block" } });
  const { recorder } = internals(log);
  const capacity = recorder.capacity;
  // The last index where a record may start without a pad first.
  const lastStart = capacity - recorder.maxRecord;
  const expected: string[] = [];
  let id = 0;
  const emit = (size: number) => {
    const length = lengthFor.get(size);
    assert.ok(
      length !== undefined,
      `no text length makes a ${size}-byte record`,
    );
    expected.push(logSized(log, id++, length));
  };

  // Calibrate: the aligned record size for each text length, up to the
  // longest text the record holds uncut (one more byte per char).
  const lengthFor = new Map<number, number>();
  for (let length = 8; length < 200; length++) {
    const before = recorder.write;
    const text = logSized(log, id++, length);
    expected.push(text);
    const size = (recorder.write - before) | 0;
    const [kind] = recordAt(log, recorder.start);
    assert.equal(kind, KIND_EVENT);
    const content = recorder.pos - recorder.start;
    await log.flush();
    const decoded = events(sink).at(-1)?.fields.s;
    if (decoded !== text) {
      // Too long for the record: cut with a marker. Stop here.
      assert.match(String(decoded), /…\[\d+ more chars\]$/);
      expected[expected.length - 1] = String(decoded);
      break;
    }
    if (size !== ((content + 3) & ~3)) continue; // a pad came first
    if (!lengthFor.has(size)) lengthFor.set(size, length);
  }
  const sizes = [...lengthFor.keys()].sort((x, y) => x - y);
  const smallest = sizes[0];
  const largest = sizes[sizes.length - 1];
  for (let size = smallest; size <= largest; size += 4) {
    assert.ok(lengthFor.has(size), `calibration covers ${size}-byte records`);
  }
  assert.ok(largest >= 100, `largest record ${largest}`);

  // Every index where the lap can end: exactly at lastStart (no pad: the
  // next record still fits) or anywhere after it that a record can reach.
  const targets: number[] = [];
  for (let t = lastStart; t <= lastStart + largest; t += 4) targets.push(t);
  const pads = new Set<number>();
  for (const [n, target] of targets.entries()) {
    // Start a fresh lap: fill up to the pad zone, then wrap.
    while (writeIndex(log) !== 0 && writeIndex(log) <= lastStart) emit(largest);
    if (writeIndex(log) > lastStart) emit(smallest);
    // Now at the start of a lap: end the last record exactly at `target`.
    const finalStart = Math.min(lastStart, target - smallest);
    let distance = finalStart - writeIndex(log);
    const parts = Math.ceil(distance / largest);
    for (let k = parts; k > 0; k--) {
      const size = Math.ceil(distance / k / 4) * 4;
      emit(size);
      distance -= size;
    }
    assert.equal(writeIndex(log), finalStart);
    emit(target - finalStart);
    assert.equal(writeIndex(log), target % capacity, `lap ends at ${target}`);
    emit(smallest);
    if (target === lastStart) {
      // No pad: the record went right there.
      assert.equal(recordAt(log, target)[0], KIND_EVENT);
      assert.equal(writeIndex(log), target + smallest);
    } else {
      assert.deepEqual(recordAt(log, target), [KIND_PAD, capacity - target]);
      assert.equal(writeIndex(log), smallest, "wrapped to index 0");
      pads.add(capacity - target);
    }
    // Let the drain's read position differ from lap to lap.
    if (n % 3 === 0) await log.flush();
  }
  const allPads: number[] = [];
  for (
    let pad = capacity - lastStart - largest;
    pad < recorder.maxRecord;
    pad += 4
  ) {
    allPads.push(pad);
  }
  assert.deepEqual([...pads].sort((x, y) => x - y), allPads);

  await log.flush();
  const got = events(sink);
  assert.deepEqual(lossRecords(sink), []);
  assert.equal(got.length, expected.length);
  got.forEach((record, i) => {
    assert.equal(record.seq, i);
    assert.equal(record.msg, "w");
    assert.equal(record.fields.s, expected[i], `event ${i}`);
  });
  const m = await finish(log);
  assert.equal(m.dropped, 0);
  assert.equal(m.lost, 0);
  assert.ok(m.recordedBytes > 20 * capacity, "many laps");
});

test("block: a synchronous burst larger than the ring is drained inside the log calls", async () => {
  const { log, sink } = memoryLogger({ ring: { ...TINY, overflow: "block" } });
  const count = 500;
  for (let i = 0; i < count; i++) {
    log.info("burst", { i, pad: "x".repeat(i % 50) });
  }
  // No await yet: the drain ran synchronously when the ring filled up.
  assert.ok(sink.records.length > 0, "delivered before any flush");
  assert.ok(sink.records.length < count);
  const m = await assertAccounting(log);
  assert.equal(m.dropped, 0);
  assert.equal(m.lost, 0);
  assert.equal(m.lossRecords, 0);
  assert.deepEqual(events(sink).map((r) => r.fields.i), [
    ...Array(count).keys(),
  ]);
  assert.ok(m.ringHighWater <= m.ringBytes);
  await log.close();
});

function assertLossRecord(sink: MemorySink, lost: number, reason: RegExp) {
  const losses = lossRecords(sink);
  assert.equal(losses.length, 1, "one loss record");
  const [loss] = losses;
  assert.equal(loss.target, "ttlog");
  assert.equal(loss.level, "warn");
  assert.equal(loss.msg, `lost ${lost} events`);
  assert.equal(loss.fields.lost, lost);
  assert.match(String(loss.fields.reason), reason);
}

test("overwrite: a burst bigger than the ring loses the oldest events, counted and reported", async () => {
  const { log, sink } = memoryLogger({
    ring: { ...TINY, overflow: "overwrite" },
  });
  const count = 300;
  for (let i = 0; i < count; i++) log.info("burst", { i });
  assert.equal(
    sink.records.length,
    0,
    "overwrite never drains in the log call",
  );
  const m = await assertAccounting(log);
  const got = events(sink);
  assert.ok(m.lost > 0, "some events were overwritten");
  assert.equal(m.dropped, 0);
  assert.equal(m.lossRecords, 1);
  assert.equal(got.length + m.lost, count);
  assert.equal(m.emitted, got.length);
  // The survivors are the newest, in order.
  assert.deepEqual(
    got.map((r) => r.fields.i),
    Array.from({ length: got.length }, (_, k) => count - got.length + k),
  );
  assertLossRecord(sink, m.lost, /overwritten/);
  // The loss is reported before the events that follow it.
  assert.equal(sink.records[0].seq, -1);

  // A second burst after the drain caught up: again only the newest survive.
  sink.clear();
  for (let i = 0; i < count; i++) log.info("again", { i });
  const m2 = await finish(log);
  assert.equal(m2.logged, 2 * count);
  const again = events(sink);
  assert.equal(again.at(-1)?.fields.i, count - 1);
  assert.equal(again.length + (m2.lost - m.lost), count);
});

test("overwrite: a ring that never fills loses nothing", async () => {
  const { log, sink } = memoryLogger({
    ring: { ...TINY, overflow: "overwrite" },
  });
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 5; i++) log.info("small", { round, i });
    await log.flush();
  }
  const m = await finish(log);
  assert.equal(m.lost, 0);
  assert.equal(events(sink).length, 250);
  assert.deepEqual(lossRecords(sink), []);
});

test("drop: a burst bigger than the ring keeps the first events and reports the dropped", async () => {
  const { log, sink } = memoryLogger({ ring: { ...TINY, overflow: "drop" } });
  const count = 300;
  for (let i = 0; i < count; i++) log.info("burst", { i });
  const m = await assertAccounting(log);
  const got = events(sink);
  assert.ok(m.dropped > 0, "some events were dropped");
  assert.equal(m.lost, 0);
  assert.equal(m.recorded, got.length);
  assert.equal(got.length + m.dropped, count);
  // The delivered events are the first ones, in order.
  assert.deepEqual(got.map((r) => r.fields.i), [...Array(got.length).keys()]);
  assert.deepEqual(got.map((r) => r.seq), [...Array(got.length).keys()]);
  assertLossRecord(sink, m.dropped, /dropped/);
  await log.close();
});

test("block: a sink that logs while the ring is full corrupts nothing", async () => {
  const seen: number[] = [];
  let echo = true;
  const log: Logger = createLogger({
    level: "trace",
    ring: { ...TINY, overflow: "block" },
    sinks: [{
      name: "echo",
      write(records: readonly LogRecord[]) {
        for (const r of records) {
          if (r.msg !== "outer") continue;
          seen.push(r.fields.i as number);
          // One echo per caller's event (echoing echoes would never end).
          if (echo) {
            log.info("from the sink", { i: r.fields.i, pad: "y".repeat(60) });
          }
        }
      },
    }],
  });
  for (let i = 0; i < 200; i++) log.info("outer", { i, pad: "z".repeat(40) });
  // Echoes logged by the sink during a flush come after that flush's call:
  // the next flush delivers them.
  await log.flush();
  const m = await assertAccounting(log);
  assert.deepEqual(
    seen,
    [...Array(200).keys()],
    "the caller's events all arrive",
  );
  // Echoes logged while the drain runs inside a full ring are dropped
  // (counted), the others recorded: none is unaccounted for.
  assert.equal(m.logged, 400);
  assert.equal(m.lost, 0);
  assert.ok(m.ringUsed >= 0 && m.ringUsed <= m.ringBytes);
  echo = false;
  await log.close();
});

// ---- records never outgrow maxRecordBytes ----

function randomBulky(random: () => number, depth = 0): unknown {
  const roll = randomInt(random, 12);
  switch (roll) {
    case 0:
      return "€".repeat(randomInt(random, 200));
    case 1:
      return "x".repeat(randomInt(random, 400));
    case 2:
      return random() * 1e10;
    case 3:
      return Symbol("s".repeat(randomInt(random, 300)));
    case 4:
      return BigInt("9".repeat(1 + randomInt(random, 300)));
    case 5: {
      const error = new Error("m".repeat(randomInt(random, 300)));
      (error as Error & { code: unknown }).code = depth < 4
        ? randomBulky(random, depth + 1)
        : 1;
      return error;
    }
    case 6:
    case 7: {
      const n = randomInt(random, 30);
      return Array.from(
        { length: n },
        () => depth < 5 ? randomBulky(random, depth + 1) : depth,
      );
    }
    case 8: {
      const object: Record<string, unknown> = {};
      const n = randomInt(random, 20);
      for (let i = 0; i < n; i++) {
        const key = random() < 0.2
          ? "k".repeat(250 + randomInt(random, 300))
          : `k${i}`;
        object[key] = depth < 5 ? randomBulky(random, depth + 1) : i;
      }
      return object;
    }
    case 9:
      return new Map([[randomBulky(random, 9), randomBulky(random, 9)]]);
    case 10:
      return {
        get boom(): unknown {
          throw new Error("t".repeat(randomInt(random, 400)));
        },
      };
    default:
      return pick(random, [1, -1, 0.5, true, null, undefined, 2n ** 70n]);
  }
}

test("fuzz: whatever is logged, a record never outgrows maxRecordBytes and every event decodes", async () => {
  // Was a bug: a template's values were written without checking the room
  // left, and strings cut inside markers, keys and bigints could not be
  // decoded: records outgrew the ring's slot and whole batches were lost.
  for (const overflow of ["block", "overwrite"] as const) {
    const random = mulberry32(overflow === "block" ? 99 : 100);
    const { log, sink } = memoryLogger({ ring: { ...TINY, overflow } });
    const { recorder } = internals(log);
    const count = 400;
    for (let i = 0; i < count; i++) {
      const [a, b, c] = [randomBulky(random), randomBulky(random), i];
      const form = randomInt(random, 4);
      if (form === 0) log.info("fuzz", { a, b, i: c });
      else if (form === 1) {
        log
          .info`fuzz ${a} ${b} ${c} ${a} ${b} ${c} ${a} ${b} ${c} ${a} ${b} ${c} ${a} ${b} ${c} ${a} ${b} ${c} ${a} ${b} ${c} ${a} ${b} ${c}`;
      } else if (form === 2) log.child("c", { a }).warn("fuzz", { b, i: c });
      else (log.error as (...args: unknown[]) => void)("fuzz", a, b, c);
      const content = recorder.pos - recorder.start;
      assert.ok(
        content <= recorder.maxRecord,
        `${overflow} #${i}: a ${content}-byte record in ${recorder.maxRecord}-byte slots`,
      );
    }
    const m = await finish(log);
    if (overflow === "block") {
      assert.equal(m.lost, 0, "block: nothing lost, nothing undecodable");
      assert.equal(events(sink).length, count);
    } else {
      assert.equal(events(sink).length + m.lost, count);
    }
    for (const loss of lossRecords(sink)) {
      assert.doesNotMatch(String(loss.fields.reason), /decoded/);
    }
  }
});

test("a template with many values past the record's room ends its message with …", async () => {
  const { log, sink } = memoryLogger({ ring: { ...TINY, overflow: "block" } });
  const { recorder } = internals(log);
  const big = "€".repeat(100);
  const f = 1.5;
  log.child("t", { bound: 1 })
    .info`${big} ${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}${f}`;
  assert.ok(recorder.pos - recorder.start <= recorder.maxRecord);
  log.info("after");
  await log.flush();
  const [cut, after] = events(sink);
  assert.match(cut.msg, /^€+…\[\d+ more chars\] …+$/);
  assert.equal(after.msg, "after");
  await finish(log);
});

test("the deepest nesting allowed, cut at every level, still fits its record slot", async () => {
  const { log, sink } = memoryLogger({
    ring: { ...TINY, overflow: "block" },
    limits: { depth: 16 },
  });
  const { recorder } = internals(log);
  // Each level: its first key holds the next level, then 200 more keys that
  // are cut once the room is gone (a cut-keys count and an end per level).
  const nest = (leaf: unknown, wrap: (inner: unknown) => unknown) => {
    let value = leaf;
    for (let level = 0; level < 20; level++) value = wrap(value);
    return value;
  };
  const objects = nest("€".repeat(200), (inner) => {
    const object: Record<string, unknown> = { inner };
    for (let k = 0; k < 200; k++) object[`k${k}`] = k;
    return object;
  });
  const arrays = nest(
    "€".repeat(200),
    (inner) => [inner, ...Array(300).keys()],
  );
  const errors = nest("€".repeat(200), (inner) => {
    const error = new Error("e") as Error & Record<string, unknown>;
    error.inner = inner;
    for (let k = 0; k < 200; k++) error[`k${k}`] = k;
    return error;
  });
  for (const value of [objects, arrays, errors]) {
    log.info("deep", { value });
    assert.ok(recorder.pos - recorder.start <= recorder.maxRecord);
    log.info`deep ${value}`;
    assert.ok(recorder.pos - recorder.start <= recorder.maxRecord);
  }
  const m = await finish(log);
  assert.equal(m.lost, 0);
  assert.equal(events(sink).length, 6);
});
