// NDJSON written straight from record bytes (src/format/ndjson_lines.ts,
// src/drain/lines.ts) against ndjsonFormatter over the decoded records of
// the same batches: a lines sink and a memory sink behind one drain must
// get the same text, byte for byte, for every value the encoder writes,
// hostile ones included, with losses, drops, many producers and no
// dictionary; and the fast path must be the one that wrote the plain
// records (else the comparison proves nothing about it).
import type { LogRecord } from "../src/record/values.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  attachLogger,
  createLogger,
  type Logger,
  type LoggerOptions,
  memorySink,
  ndjsonFormatter,
  type Sink,
} from "../mod.ts";
import { internals } from "../src/logger/logger.ts";
import { ringTimeBase } from "../src/ring/ring.ts";
import { mulberry32, pick, randomInt } from "./helpers.ts";
import { NUMBERS, randomValue, STRINGS } from "./fixtures/values.ts";

interface Pair {
  readonly log: Logger;
  /** What the lines sink got, as text, and how many lines it was told. */
  lines(): { text: string; count: number };
  /** ndjsonFormatter over what the memory sink got. */
  formatted(): string;
  /** What the memory sink got. */
  records(): readonly LogRecord[];
  counts(): { fast: number; slow: number };
}

function pair(options: LoggerOptions = {}): Pair {
  const chunks: Uint8Array[] = [];
  let count = 0;
  const lines: Sink = {
    name: "lines",
    lines: "ndjson",
    writeLines(bytes, n) {
      chunks.push(bytes.slice()); // valid only during the call
      count += n;
    },
    write() {
      throw new Error("a lines sink got records");
    },
  };
  const memory = memorySink();
  const log = createLogger({
    level: "trace",
    directives: "",
    worker: false,
    ...options,
    sinks: [lines, memory],
  });
  const format = ndjsonFormatter();
  return {
    log,
    lines: () => ({
      text: new TextDecoder().decode(concat(chunks)),
      count,
    }),
    formatted: () => memory.records.map((r) => format(r) + "\n").join(""),
    records: () => memory.records,
    counts: () => internals(log).drain!.lineCounts,
  };
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function same(p: Pair, expectedLines?: number): Promise<void> {
  await p.log.flush();
  const { text, count } = p.lines();
  const formatted = p.formatted();
  if (text !== formatted) {
    const a = text.split("\n");
    const b = formatted.split("\n");
    const i = a.findIndex((line, k) => line !== b[k]);
    assert.equal(a[i], b[i], `line ${i} differs`);
  }
  assert.equal(text, formatted);
  assert.equal(count, formatted.split("\n").length - 1, "count = lines");
  if (expectedLines !== undefined) assert.equal(count, expectedLines);
}

test("plain events: byte for byte the formatter's lines, written by the fast path", async () => {
  const p = pair({ service: "checkout" });
  const db = p.log.child("db", { pool: "main" });
  for (let i = 0; i < 200; i++) {
    p.log.info("hello world", { a: 1, b: "two", c: true });
    db.debug`query took ${i}ms on ${"orders"} (${i % 2 === 0})`;
    p.log.warn("nested", {
      user: { id: i, tags: ["a", "b"], geo: { lat: 1.5, lon: -0.25 } },
      list: [1, "x", null, false, [], {}],
      none: null,
      gone: undefined,
      big: 2 ** 40,
      neg: -7,
      min: -2147483648,
    });
  }
  await same(p, 600);
  const { fast, slow } = p.counts();
  assert.equal(slow, 0, "no plain record falls back");
  assert.equal(fast, 600);
  await p.log.close();
});

test("every number and string of the value tables, as fields and template values", async () => {
  const p = pair();
  for (const n of NUMBERS) {
    p.log.info("n", { n, nested: { n }, list: [n] });
    p.log.info`n is ${n}`;
  }
  for (const s of STRINGS) {
    p.log.info("s", { s, nested: { s } });
    p.log.info`s is ${s}!`;
    p.log.info(s);
  }
  // Escapes: C0, DEL, C1, U+2028/9, quotes, backslashes, astral, BOM.
  const escapes =
    '"\\\b\f\n\r\t\u0000\u001f\u007f\u0080\u009f\u00a0\u2028\u2029\ufeff😀é日';
  p.log.info(escapes, { [escapes.slice(0, 5)]: escapes });
  await same(p);
  assert.ok(p.counts().fast > 0 && p.counts().slow > 0, "both paths ran");
  await p.log.close();
});

test("random values of every kind (cycles, Maps, errors, lone surrogates, index keys, __proto__)", async () => {
  for (const seed of [1, 7, 42, 2024]) {
    const random = mulberry32(seed);
    const p = pair();
    for (let i = 0; i < 300; i++) {
      const value = randomValue(random, [], { nodes: 30 });
      const roll = randomInt(random, 4);
      if (roll === 0) p.log.info("value", { v: value });
      else if (roll === 1) {
        p.log.info`v ${value} w ${randomValue(random, [], { nodes: 3 })}`;
      } else if (roll === 2) {
        p.log.child({ v: value }).warn("bound", { v: pick(random, NUMBERS) });
      } else p.log.error(value as Error, "first");
    }
    await same(p, 300);
    assert.ok(p.counts().fast > 0, `seed ${seed}: the fast path ran`);
    await p.log.close();
  }
});

test("reserved and colliding keys, repeated keys, redaction: the formatter's renaming", async () => {
  const p = pair({ redact: ["password"] });
  p.log.info("top keys", { msg: 1, _msg: 2, time: 3, level: 4, service: 5 });
  p.log.child({ user: "a" }).info("repeat", { user: "b", other: 1 });
  p.log.info("secret", { password: "hunter2", ok: true });
  p.log.info("dollar", { nested: { $ref: 1 }, $top: 2 });
  p.log.info("index keys", { b: 1, 2: "two", 10: "ten" });
  await same(p, 5);
  await p.log.close();
});

test("no dictionary: inline keys, targets and messages fall back, same bytes", async () => {
  const p = pair({ ring: { dictionaryBytes: 0 } });
  for (let i = 0; i < 50; i++) {
    p.log.child("svc").info("inline", { a: i, b: "x" });
  }
  await same(p, 50);
  await p.log.close();
});

test("losses: overwritten and dropped events give the same loss lines in the same places", async () => {
  for (const overflow of ["overwrite", "drop"] as const) {
    const p = pair({ ring: { bytes: 64 * 1024, overflow } });
    // The drain runs after this task: the ring overflows first.
    for (let i = 0; i < 5000; i++) {
      p.log.info("flood", { i, pad: "x".repeat(40) });
    }
    await p.log.flush();
    for (let i = 0; i < 10; i++) p.log.info("after", { i });
    await same(p);
    const { text } = p.lines();
    assert.match(text, /"msg":"lost \d+ events"/, `${overflow}: a loss line`);
    await p.log.close();
  }
});

test("many producers: lines merged by time as the records are", async () => {
  const p = pair();
  const remote = attachLogger(p.log.port());
  for (let i = 0; i < 100; i++) {
    p.log.info("main", { i });
    remote.info("worker", { i });
  }
  await remote.flush();
  await same(p, 200);
  await remote.close();
  await p.log.close();
});

test("times of every shape: the formatter's numbers, written from the record's float64", async () => {
  // The ring takes its time base from the clock when it is made: a day
  // before 1795619042123.
  const realNow = Date.now;
  let p: Pair;
  try {
    Date.now = () => 1795619042123;
    p = pair();
  } finally {
    Date.now = realNow;
  }
  assert.equal(
    ringTimeBase(internals(p.log).ring),
    1795619042123 - 86_400_000,
  );
  const times = [
    1795619042123,
    1700000000001, // eight low digits with leading zeros
    1700000000000,
    2147483647,
    2147483648,
    99999999,
    100000000,
    0,
    -0,
    -1,
    1.5,
    1795619042123.25,
    2 ** 53 + 2,
    1e21,
    NaN,
    Infinity,
    -Infinity,
    // At the base,
    // past 2^32 ms after it (bits 32-35 in the level byte), past 2^36 ms
    // and before it (a float64 time).
    1795619042123 - 86_400_000,
    1795619042123 - 86_400_000 + 2 ** 32 + 7,
    1795619042123 - 86_400_000 + 2 ** 36 - 1,
    1795619042123 - 86_400_000 + 2 ** 36,
    1795619042123 - 86_400_001,
  ];
  // Twice each, so the repeated time takes its cached digits. The clock
  // reads each time in turn (the recorder reads Date.now() per event).
  const now = Date.now;
  try {
    for (const time of times) {
      Date.now = () => time;
      p.log.info("t", { a: 1 });
      p.log.info("t", { a: 1 });
    }
  } finally {
    Date.now = now;
  }
  assert.deepEqual(
    p.log.metrics().recorded,
    times.length * 2,
    "every event recorded",
  );
  await same(p, times.length * 2);
  // The decoded times are exactly the clock's, -0 and NaN included.
  const seen = p.records().map((r) => r.time);
  assert.equal(seen.length, times.length * 2);
  seen.forEach((time, i) =>
    assert.ok(Object.is(time, times[i >> 1]), `${i}: ${time} ${times[i >> 1]}`)
  );
  assert.ok(p.counts().fast >= times.length, "the fast path wrote times");
  await p.log.close();
});

test("a lines sink that asks for retries gets the failed batch again, intact after later passes", async () => {
  const got: string[] = [];
  let calls = 0;
  const sink: Sink = {
    name: "flaky-lines",
    lines: "ndjson",
    retry: { attempts: 3, delayMs: 20 },
    writeLines(bytes) {
      calls++;
      if (calls === 1) throw new Error("first write fails");
      got.push(new TextDecoder().decode(bytes));
    },
    write() {
      throw new Error("a lines sink got records");
    },
  };
  const memory = memorySink();
  const log = createLogger({
    directives: "",
    worker: false,
    sinks: [sink, memory],
  });
  log.info("first batch", { i: 0 });
  await new Promise((resolve) => setTimeout(resolve, 0));
  // Later passes reuse the drain's buffer before the retry runs.
  for (let i = 1; i < 50; i++) {
    log.info("later", { i, pad: "y".repeat(100) });
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await log.flush();
  const format = ndjsonFormatter();
  const expected = memory.records.map((r) => format(r) + "\n");
  assert.equal(got.join("").split("\n").length - 1, expected.length);
  assert.deepEqual(
    got.join("").split("\n").sort(),
    expected.join("").split("\n").sort(),
  );
  assert.ok(
    got.some((text) => text.includes('"first batch"')),
    "the retried batch",
  );
  await log.close();
});
