// The dashboard's tail ring and sink: records come back in order and intact
// across wraps, a reader that falls behind is told so and never gets a torn
// record (also with the writer on another thread), counters add up, and the
// sink's rate cap, line cut and worker copy work.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../mod.ts";
import { dashboardSink, dashboardSinkFromSpec } from "../src/dashboard/sink.ts";
import { TailHub } from "../src/dashboard/tail_hub.ts";
import { allocateTailRing, TailRing } from "../src/dashboard/tail_ring.ts";
import type { LogRecord } from "../src/record/values.ts";
import { mulberry32 } from "./helpers.ts";
import { startTsWorker } from "./fixtures/spawn.ts";

const LIMIT = { timeout: 60_000 };
const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** What `ring.read()` found, its records read as text lines. */
function readLines(ring: TailRing): { lines: string[]; lapped: boolean } {
  const { records, lapped } = ring.read();
  return { lines: records.map((r) => decoder.decode(r)), lapped };
}
const line = (n: number, size: number) => `${n}:${"y".repeat(size)}:${n}`;

/** Checks `<n>:<filler>:<n>` lines: intact, and n increasing. */
function check(lines: readonly string[], previous: number): number {
  for (const text of lines) {
    const match = /^(\d+):([xy]*):(\d+)$/.exec(text);
    assert.ok(
      match !== null,
      `torn line: ${JSON.stringify(text.slice(0, 80))}`,
    );
    assert.equal(match[1], match[3], `torn line ${text.slice(0, 80)}`);
    const n = Number(match[1]);
    assert.ok(n > previous, `out of order: ${n} after ${previous}`);
    previous = n;
  }
  return previous;
}

test("tail ring: lines come back in order and intact across many wraps, with pads at the end", () => {
  const random = mulberry32(6);
  const memory = allocateTailRing(4096);
  const writer = new TailRing(memory);
  const reader = new TailRing(memory);
  let written = 0;
  const seen: number[] = [];
  for (let round = 0; round < 2000; round++) {
    const batch = 1 + Math.floor(random() * 4);
    for (let i = 0; i < batch; i++) {
      writer.write(encoder.encode(line(written++, Math.floor(random() * 200))));
    }
    const { lines, lapped } = readLines(reader);
    assert.equal(lapped, false);
    for (const text of lines) seen.push(Number(text.split(":")[0]));
  }
  assert.deepEqual(seen, Array.from({ length: written }, (_, i) => i));
  assert.deepEqual(readLines(reader), { lines: [], lapped: false });
});

test("tail ring: the first read gets the history; a reader left behind is told, and gets the newest lines intact", () => {
  const memory = allocateTailRing(4096);
  const writer = new TailRing(memory);
  for (let n = 0; n < 10; n++) writer.write(encoder.encode(line(n, 10)));
  const late = new TailRing(memory);
  assert.deepEqual(readLines(late).lines.map((t) => Number(t.split(":")[0])), [
    ...Array(10).keys(),
  ]);
  for (let n = 10; n < 500; n++) writer.write(encoder.encode(line(n, 50)));
  const { lines, lapped } = readLines(late);
  assert.equal(lapped, true);
  check(lines, 9);
  assert.ok(lines.length > 10 && lines.length < 100, `${lines.length}`);
  assert.equal(lines[lines.length - 1], line(499, 50));
  // Consecutive from where the ring's tail was.
  const numbers = lines.map((t) => Number(t.split(":")[0]));
  assert.deepEqual(numbers, numbers.map((_, i) => numbers[0] + i));
});

test("tail ring: a record longer than a quarter of the ring is refused; counters wrap at 2^32", () => {
  const memory = allocateTailRing(4096);
  const ring = new TailRing(memory);
  assert.equal(ring.maxRecord, 1020);
  ring.write(new Uint8Array(1020));
  assert.throws(() => ring.write(new Uint8Array(1021)), RangeError);
  ring.count([1, 2, 3, 4, 5, 6], 7);
  ring.count([0, 0, 0x7fffffff, 0, 0, 0], 0);
  ring.count([0, 0, 0x7fffffff, 0, 0, 0], 0);
  const { levels, skipped } = ring.counters();
  assert.deepEqual(levels, [1, 2, (3 + 2 * 0x7fffffff) % 2 ** 32, 4, 5, 6]);
  assert.equal(skipped, 7);
  // A reader's delta across the wrap is right with >>> 0.
  assert.equal((levels[2] - 3) >>> 0, 2 * 0x7fffffff);
});

test(
  "tail ring: with the writer on another thread, every line read is intact and in order",
  LIMIT,
  async () => {
    const memory = allocateTailRing(16384) as SharedArrayBuffer;
    const count = 200_000;
    const worker = startTsWorker(
      new URL("./fixtures/tail_ring_writer.ts", import.meta.url),
      { workerData: { memory, count } },
    );
    const done = new Promise<void>((resolve, reject) => {
      worker.on("message", () => resolve());
      worker.on("error", reject);
    });
    let finished = false;
    done.then(() => finished = true, () => finished = true);
    const reader = new TailRing(memory);
    let previous = -1;
    let read = 0;
    let laps = 0;
    while (!finished) {
      const { lines, lapped } = readLines(reader);
      previous = check(lines, previous);
      read += lines.length;
      if (lapped) laps++;
      await new Promise((ok) => setTimeout(ok, lines.length === 0 ? 1 : 0));
    }
    await done;
    const last = readLines(reader);
    previous = check(last.lines, previous);
    read += last.lines.length;
    await worker.terminate();
    assert.equal(previous, count - 1, "the last line is read");
    assert.ok(read > 0);
    assert.equal(
      new TailRing(memory).counters().levels[2],
      64 * Math.ceil(count / 64),
    );
    // Informational: how often the reader fell behind a writer at full speed.
    console.log(
      `tail ring across threads: ${read} of ${count} lines read, lapped ${laps} times`,
    );
  },
);

function record(
  level: LogRecord["level"],
  msg: string,
  seq: number,
  fields = {},
): LogRecord {
  return {
    time: 1000 + seq,
    level,
    target: "t",
    msg,
    fields,
    service: "s",
    seq,
  };
}

test("dashboard sink: counts every event per level, shows at most `rate` per level per second, cuts long lines", () => {
  const sink = dashboardSink({ rate: 100 });
  const hub = new TailHub(sink.memory, { pollMs: 1000, keep: 10_000 });
  const batch: LogRecord[] = [];
  for (let i = 0; i < 500; i++) batch.push(record("info", "i", i));
  for (let i = 0; i < 5; i++) batch.push(record("error", "e", 500 + i));
  batch.push({
    ...record("warn", "lost 3 events", -1),
    seq: -1,
    target: "ttlog",
  });
  batch.push(record("warn", "huge", 600, { blob: "z".repeat(40_000) }));
  // Fit in one second of the rate cap (the cap resets each second).
  const second = Math.floor(Date.now() / 1000);
  while (
    Date.now() % 1000 > 800 && Math.floor(Date.now() / 1000) === second
  ) { /* wait for a fresh second */ }
  sink.write(batch);
  hub.poll();
  const entries = hub.recent(undefined, 0, 10_000);
  const byLevel = (level: string) => entries.filter((e) => e.level === level);
  assert.equal(byLevel("info").length, 100);
  assert.equal(byLevel("error").length, 5);
  assert.deepEqual(byLevel("warn").map((e) => e.msg), [
    "lost 3 events",
    "huge",
  ]);
  const huge = JSON.parse(byLevel("warn")[1].line);
  assert.equal(huge.blob, undefined);
  assert.match(
    huge.cut,
    /^the event took \d+ bytes as JSON; its fields are left out$/,
  );
  const { levels, skipped } = hub.counters();
  assert.deepEqual(
    levels,
    [0, 0, 500, 1, 5, 0],
    "the loss record is not an event",
  );
  assert.equal(skipped, 400);
});

test(
  "dashboard sink: the worker's copy writes the same memory, and a logger's worker drain feeds the hub",
  LIMIT,
  async () => {
    const sink = dashboardSink();
    const copy = dashboardSinkFromSpec(sink.spec!.options);
    assert.equal(copy.memory, sink.memory);
    assert.throws(
      () => dashboardSinkFromSpec({ memory: new ArrayBuffer(8), rate: 1 }),
      /spec options/,
    );
    const log = createLogger({
      sinks: [sink],
      worker: true,
      directives: "",
      level: "debug",
    });
    try {
      assert.equal(log.metrics().worker, true);
      const hub = new TailHub(sink.memory, { pollMs: 10, keep: 100 });
      log.debug("from", { thread: "main" });
      log.child("db").warn("slow");
      await log.flush();
      hub.poll();
      const entries = hub.recent(undefined, 0, 100);
      assert.deepEqual(
        entries.map((e) => [e.level, e.target, e.msg]),
        [
          ["debug", "", "from"],
          ["warn", "db", "slow"],
        ],
      );
      assert.deepEqual(JSON.parse(entries[0].fieldsJson), { thread: "main" });
      assert.deepEqual(hub.counters().levels, [0, 1, 0, 1, 0, 0]);
    } finally {
      await log.close();
    }
  },
);
