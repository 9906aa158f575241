// Round trips of every value type: log -> ring -> decode -> memorySink.
import { test } from "node:test";
import assert from "node:assert/strict";
import { renderValue } from "../src/record/decode.ts";
import { LoggedError, Marker } from "../src/record/values.ts";
import { readWtf8, writeWtf8, wtf8Length } from "../src/record/wtf8.ts";
import {
  assertAccounting,
  canon,
  events,
  finish,
  lossRecords,
  memoryLogger,
  mulberry32,
} from "./helpers.ts";
import { NUMBERS, randomValue, STRINGS } from "./fixtures/values.ts";

const DEPTH = 6;
const ITEMS = 100;
const STRING = 8192;

/**
 * What the decoder should give back for `value` found `depth` containers
 * deep (a field value of `log.info(msg, fields)` is at depth 1: the fields
 * object is its parent) under `ancestors`. Mirrors the documented encoding
 * for values small enough to fit a record.
 */
function expected(value: unknown, depth: number, ancestors: object[]): unknown {
  switch (typeof value) {
    case "string":
      return expectedString(value);
    case "number":
    case "boolean":
    case "undefined":
    case "bigint":
      return value;
    case "symbol":
      return new Marker("symbol", value.toString());
    case "function":
      return new Marker(
        "function",
        value.name === ""
          ? "[Function (anonymous)]"
          : `[Function: ${value.name}]`,
      );
  }
  if (value === null) return null;
  const object = value as object;
  if (ancestors.includes(object)) return new Marker("circular", "[Circular]");
  if (depth >= DEPTH) {
    return new Marker("depth", Array.isArray(object) ? "[Array]" : "[Object]");
  }
  const inner = [...ancestors, object];
  const next = (item: unknown) => expected(item, depth + 1, inner);
  if (Array.isArray(object)) {
    const out = object.slice(0, ITEMS).map(next);
    if (object.length > ITEMS) {
      out.push(
        new Marker("truncated", `[${object.length - ITEMS} more items]`),
      );
    }
    return out;
  }
  if (object instanceof Date) return new Date(object.getTime());
  if (object instanceof Error) {
    const props: Record<string, unknown> = {};
    for (const key of Object.keys(object)) {
      if (!["name", "message", "stack", "cause"].includes(key)) {
        props[key] = next((object as unknown as Record<string, unknown>)[key]);
      }
    }
    return new LoggedError(
      object.name,
      object.message,
      typeof object.stack === "string" ? object.stack : undefined,
      "cause" in object ? next(object.cause) : undefined,
      props,
    );
  }
  if (object instanceof Map) {
    const out = new Map<unknown, unknown>();
    let i = 0;
    for (const [k, v] of object) {
      if (i++ === ITEMS) break;
      out.set(next(k), next(v));
    }
    if (object.size > ITEMS) {
      out.set(
        "…",
        new Marker("truncated", `[${object.size - ITEMS} more items]`),
      );
    }
    return out;
  }
  if (object instanceof Set) {
    const out = new Set<unknown>();
    let i = 0;
    for (const v of object) {
      if (i++ === ITEMS) break;
      out.add(next(v));
    }
    if (object.size > ITEMS) {
      out.add(new Marker("truncated", `[${object.size - ITEMS} more items]`));
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  const keys = Object.keys(object);
  for (const key of keys.slice(0, ITEMS)) {
    Object.defineProperty(out, key, {
      value: next((object as Record<string, unknown>)[key]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  if (keys.length > ITEMS) {
    out["…"] = new Marker("truncated", `[${keys.length - ITEMS} more keys]`);
  }
  return out;
}

function expectedString(s: string): string {
  if (s.length <= STRING) return s;
  let kept = STRING;
  const last = s.charCodeAt(kept - 1);
  if (last >= 0xd800 && last <= 0xdbff) kept--;
  return `${s.slice(0, kept)}…[${s.length - kept} more chars]`;
}

/** Logs each value as the field `v` and returns the decoded field values. */
async function roundTrip(
  values: readonly unknown[],
  options: Parameters<typeof memoryLogger>[0] = {},
): Promise<unknown[]> {
  const { log, sink } = memoryLogger(options);
  for (const v of values) log.info("value", { v });
  await log.flush();
  const got = events(sink);
  assert.equal(got.length, values.length, "every value arrives");
  assert.deepEqual(lossRecords(sink), []);
  await finish(log);
  return got.map((r) => r.fields.v);
}

test("numbers round-trip exactly: ints, int32 bounds, 2^53, NaN, -0, infinities", async () => {
  const got = await roundTrip(NUMBERS);
  NUMBERS.forEach((n, i) => {
    assert.ok(Object.is(got[i], n), `#${i}: ${got[i]} is not ${n}`);
  });
});

test("booleans, null and undefined round-trip", async () => {
  const got = await roundTrip([true, false, null, undefined]);
  assert.deepStrictEqual(got, [true, false, null, undefined]);
});

test("strings round-trip: empty, ASCII, multi-byte, pairs, lone surrogates", async () => {
  const got = await roundTrip(STRINGS);
  STRINGS.forEach((s, i) => {
    assert.equal(got[i], s, `string #${i} (${JSON.stringify(s)})`);
  });
});

test("a string starting with U+FEFF keeps it, short or long", async () => {
  const values = ["\uFEFF", "\uFEFFab", "\uFEFF" + "a".repeat(40), "\uFEFF😀"];
  const got = await roundTrip(values);
  values.forEach((s, i) => assert.equal(got[i], s, `string #${i}`));
});

test("strings past the 8192-unit limit keep their prefix and say how much was cut", async () => {
  const values = [
    "x".repeat(9000),
    "y".repeat(8193),
    "a".repeat(8191) + "😀" + "b".repeat(1000),
    "é".repeat(10000),
    "😀".repeat(5000),
    "\uD800".repeat(9000),
  ];
  const got = await roundTrip(values);
  values.forEach((s, i) => {
    const text = got[i];
    assert.equal(typeof text, "string");
    const match = /…\[(\d+) more chars\]$/.exec(text as string);
    assert.ok(match, `value #${i} ends with a truncation marker`);
    const cut = Number(match[1]);
    assert.ok(cut >= s.length - STRING && cut < s.length, `#${i}: cut ${cut}`);
    const prefix = (text as string).slice(0, match.index);
    assert.equal(prefix.length, s.length - cut, `#${i}: prefix length`);
    assert.ok(s.startsWith(prefix), `#${i}: the prefix is kept exactly`);
    // A surrogate pair is never split.
    const last = prefix.charCodeAt(prefix.length - 1);
    const after = s.charCodeAt(prefix.length);
    assert.ok(
      !(last >= 0xd800 && last <= 0xdbff && after >= 0xdc00 && after <= 0xdfff),
      `#${i}: pair split`,
    );
  });
  // Single-byte text fits the record: cut exactly at the limit.
  assert.equal(got[0], "x".repeat(8192) + "…[808 more chars]");
  assert.equal(got[1], "y".repeat(8192) + "…[1 more chars]");
  assert.equal(got[2], "a".repeat(8191) + "…[1002 more chars]");
});

test("bigints round-trip: positive, negative, huge", async () => {
  const values = [0n, 1n, -1n, 2n ** 63n, -(2n ** 64n) - 1n, 7n ** 500n];
  const got = await roundTrip(values);
  values.forEach((b, i) => assert.equal(got[i], b, `bigint #${i}`));
});

test("a bigint with more digits than the string limit becomes a visible truncation marker", async () => {
  // Was a bug: the digits are cut (T_STR_TRUNC) and the decoder accepted only
  // an uncut string there, so the whole record was undecodable.
  const huge = 10n ** 9000n;
  const got = await roundTrip([huge, -huge]);
  for (const [i, value] of got.entries()) {
    assert.ok(value instanceof Marker, `#${i} is a marker`);
    assert.equal(value.kind, "truncated");
    const sign = i === 0 ? "" : "-";
    assert.ok(value.text.startsWith(`[BigInt ${sign}1000`), value.text);
    assert.match(value.text, /…\[\d+ more chars\]\]$/);
  }
});

test("Dates round-trip, invalid Dates stay invalid", async () => {
  const values = [
    new Date(0),
    new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)),
    new Date(-8.64e15),
    new Date(8.64e15),
    new Date(NaN),
  ];
  const got = await roundTrip(values);
  values.forEach((d, i) => {
    assert.ok(got[i] instanceof Date, `#${i} is a Date`);
    assert.ok(Object.is((got[i] as Date).getTime(), d.getTime()), `#${i}`);
  });
});

test("Errors become LoggedError with name, message, stack, cause chain and props", async () => {
  const root = new RangeError("root cause");
  (root as RangeError & { code: string }).code = "E_ROOT";
  const middle = new Error("middle", { cause: root });
  const top = new TypeError("top", { cause: middle }) as TypeError & {
    status: number;
    details: unknown;
  };
  top.status = 503;
  top.details = { retry: true, hosts: ["a", "b"] };
  class QueryError extends Error {
    override name = "QueryError";
    sql = "select 1";
  }
  const custom = new QueryError("bad query", { cause: "a string cause" });
  const noStack = new Error("no stack");
  Object.defineProperty(noStack, "stack", { value: undefined });
  const selfCause = new Error("self");
  (selfCause as Error & { cause: unknown }).cause = selfCause;
  const values = [top, custom, noStack, selfCause];
  const got = await roundTrip(values);
  values.forEach((v, i) => {
    assert.deepStrictEqual(canon(got[i]), canon(expected(v, 1, [])), `#${i}`);
  });
  const err = got[0] as LoggedError;
  assert.ok(err instanceof LoggedError);
  assert.equal(err.name, "TypeError");
  assert.equal(err.message, "top");
  assert.equal(err.stack, top.stack);
  assert.deepEqual(err.props.status, 503);
  const cause = err.cause as LoggedError;
  assert.equal(cause.message, "middle");
  assert.equal((cause.cause as LoggedError).props.code, "E_ROOT");
  assert.equal((got[1] as LoggedError).name, "QueryError");
  assert.equal((got[1] as LoggedError).props.sql, "select 1");
  assert.equal((got[1] as LoggedError).cause, "a string cause");
  assert.equal((got[2] as LoggedError).stack, undefined);
  assert.deepStrictEqual(
    canon((got[3] as LoggedError).cause),
    canon(new Marker("circular", "[Circular]")),
  );
});

test("nesting past depth 6 becomes [Object] / [Array] markers", async () => {
  // The fields object counts as the first level of a field's value.
  const objects = { a: { b: { c: { d: { e: { f: 1 } } } } } };
  const arrays = [[[[[[1]]]]]];
  const mixed = { list: [{ deeper: [{ deepest: {} }] }] };
  const got = await roundTrip([objects, arrays, mixed]);
  const a = got[0] as Record<string, Record<string, Record<string, unknown>>>;
  const e = (a.a.b.c as Record<string, Record<string, unknown>>).d.e;
  assert.deepStrictEqual(canon(e), canon(new Marker("depth", "[Object]")));
  let inner: unknown = got[1];
  for (let level = 1; level < DEPTH; level++) inner = (inner as unknown[])[0];
  assert.deepStrictEqual(canon(inner), canon(new Marker("depth", "[Array]")));
  [objects, arrays, mixed].forEach((v, i) => {
    assert.deepStrictEqual(canon(got[i]), canon(expected(v, 1, [])), `#${i}`);
  });
});

test("Maps and Sets round-trip with their items typed", async () => {
  const map = new Map<unknown, unknown>([
    ["a", 1],
    [2, { b: [3n] }],
    [null, new Date(5)],
    [true, new Set(["x", -0])],
  ]);
  const set = new Set<unknown>([1, "two", 3.5, null, undefined, [1, 2]]);
  const got = await roundTrip([map, set, new Map(), new Set()]);
  assert.ok(got[0] instanceof Map);
  assert.ok(got[1] instanceof Set);
  [map, set, new Map(), new Set()].forEach((v, i) => {
    assert.deepStrictEqual(canon(got[i]), canon(expected(v, 1, [])), `#${i}`);
  });
});

test("circular references become [Circular]; shared ones are repeated", async () => {
  const node: Record<string, unknown> = { name: "node" };
  node.self = node;
  node.children = [{ parent: node }, new Map([["up", node]])];
  const shared = { shared: true };
  const twice = { a: shared, b: [shared] };
  const selfArray: unknown[] = [1];
  selfArray.push(selfArray);
  const got = await roundTrip([node, twice, selfArray]);
  const decoded = got[0] as Record<string, unknown>;
  assert.deepStrictEqual(
    canon(decoded.self),
    canon(new Marker("circular", "[Circular]")),
  );
  [node, twice, selfArray].forEach((v, i) => {
    assert.deepStrictEqual(canon(got[i]), canon(expected(v, 1, [])), `#${i}`);
  });
  const circularFields: Record<string, unknown> = { ok: 1 };
  circularFields.me = circularFields;
  const { log, sink } = memoryLogger();
  log.info("fields are an ancestor too", circularFields);
  await log.flush();
  assert.deepStrictEqual(
    canon(events(sink)[0].fields),
    canon({ ok: 1, me: new Marker("circular", "[Circular]") }),
  );
  await finish(log);
});

test("arrays, Sets and Maps past 100 items and objects past 100 keys are cut with a marker", async () => {
  const array = Array.from({ length: 150 }, (_, i) => i);
  const set = new Set(array);
  const map = new Map(array.map((i) => [i, `v${i}`]));
  const object = Object.fromEntries(array.map((i) => [`k${i}`, i]));
  const exactly = Array.from({ length: 100 }, (_, i) => i);
  const got = await roundTrip([array, set, object, exactly, map]);
  const decodedArray = got[0] as unknown[];
  assert.equal(decodedArray.length, 101);
  assert.deepStrictEqual(
    canon(decodedArray[100]),
    canon(new Marker("truncated", "[50 more items]")),
  );
  assert.deepStrictEqual(
    canon((got[2] as Record<string, unknown>)["…"]),
    canon(new Marker("truncated", "[50 more keys]")),
  );
  assert.equal((got[3] as unknown[]).length, 100, "100 items: no marker");
  [array, set, object, exactly, map].forEach((v, i) => {
    assert.deepStrictEqual(canon(got[i]), canon(expected(v, 1, [])), `#${i}`);
  });
});

test("a Map past 100 entries keeps its truncation marker", async () => {
  // Was a bug: the decoder paired items two by two and dropped the odd marker.
  const map = new Map(Array.from({ length: 130 }, (_, i) => [i, i]));
  const [got] = await roundTrip([map]);
  assert.ok(got instanceof Map);
  assert.equal(got.size, 101);
  assert.deepStrictEqual(
    canon(got.get("…")),
    canon(new Marker("truncated", "[30 more items]")),
  );
});

test("only own enumerable properties are recorded, for objects and Error props", async () => {
  const object = Object.assign(
    Object.create({ inherited: "from the prototype" }),
    { own: 1 },
  );
  const error = new Error("x") as Error & { code: string };
  Object.setPrototypeOf(
    error,
    Object.assign(Object.create(Error.prototype), { inheritedFlag: true }),
  );
  error.code = "E_OWN";
  const got = await roundTrip([object, error]);
  assert.deepEqual(got[0], { own: 1 });
  assert.deepEqual((got[1] as LoggedError).props, { code: "E_OWN" });
});

test("a custom string limit applies to short ASCII strings too", async () => {
  const got = await roundTrip(["ééééééééééééé", "abcdefghijklmnop"], {
    limits: { string: 10 },
  });
  assert.equal(got[0], "éééééééééé…[3 more chars]");
  assert.equal(got[1], "abcdefghij…[6 more chars]");
});

test("custom item and depth limits are honoured", async () => {
  const got = await roundTrip(
    [
      "x".repeat(300),
      [1, 2, 3, 4, 5],
      { a: 1, b: 2, c: 3, d: 4 },
      { x: { y: { z: 1 } } },
    ],
    { limits: { string: 200, items: 3, depth: 3 } },
  );
  assert.equal(got[0], "x".repeat(200) + "…[100 more chars]");
  assert.deepStrictEqual(
    canon(got[1]),
    canon([1, 2, 3, new Marker("truncated", "[2 more items]")]),
  );
  assert.deepStrictEqual(
    canon(got[2]),
    canon({ a: 1, b: 2, c: 3, "…": new Marker("truncated", "[1 more keys]") }),
  );
  // fields (1), the value (2), x (3): y is past depth 3.
  assert.deepStrictEqual(
    canon(got[3]),
    canon({ x: { y: new Marker("depth", "[Object]") } }),
  );
});

test("symbols, functions, typed arrays and promises become markers", async () => {
  function namedFunction() {}
  const anonymous = [function () {}][0];
  const values = [
    Symbol("sym"),
    Symbol(),
    namedFunction,
    anonymous,
    new Uint8Array(3),
    new ArrayBuffer(8),
    Promise.resolve(1),
    new WeakMap(),
  ];
  const got = await roundTrip(values);
  const texts = got.map((v) => {
    assert.ok(v instanceof Marker, String(v));
    return [v.kind, v.text];
  });
  assert.deepEqual(texts, [
    ["symbol", "Symbol(sym)"],
    ["symbol", "Symbol()"],
    ["function", "[Function: namedFunction]"],
    [
      "function",
      anonymous.name === ""
        ? "[Function (anonymous)]"
        : `[Function: ${anonymous.name}]`,
    ],
    ["opaque", "[Uint8Array(3)]"],
    ["opaque", "[ArrayBuffer(8)]"],
    ["opaque", "[Promise]"],
    ["opaque", "[WeakMap]"],
  ]);
});

test("toJSON is honoured; a toJSON that returns itself is not followed", async () => {
  const url = new URL("https://example.com/a?b=1");
  const custom = { toJSON: () => ({ kind: "custom", n: 1 }) };
  const selfish: { toJSON(): unknown } = { toJSON: () => selfish };
  const got = await roundTrip([url, custom, selfish]);
  assert.equal(got[0], "https://example.com/a?b=1");
  assert.deepEqual(got[1], { kind: "custom", n: 1 });
  assert.ok(got[2] instanceof Marker);
});

test("template values are rendered into the message and are not fields", async () => {
  const { log, sink } = memoryLogger();
  function send() {}
  const values: [unknown, string][] = [
    [1, "1"],
    [-0, "-0"],
    [1.5, "1.5"],
    [NaN, "NaN"],
    [-Infinity, "-Infinity"],
    [2 ** 53 - 1, "9007199254740991"],
    ["text", "text"],
    ["", ""],
    ["a\uD800b", "a\uD800b"],
    [true, "true"],
    [null, "null"],
    [undefined, "undefined"],
    [-12345678901234567890n, "-12345678901234567890"],
    [new Date(0), "1970-01-01T00:00:00.000Z"],
    [new Date(NaN), "Invalid Date"],
    [{ a: 1, b: "x" }, '{"a":1,"b":"x"}'],
    [[1, "two", null], '[1,"two",null]'],
    [new TypeError("bad"), "TypeError: bad"],
    [Symbol("s"), "Symbol(s)"],
    [send, "[Function: send]"],
  ];
  for (const [value, text] of values) {
    log.info`value <${value}> end`;
    await log.flush();
    const record = events(sink).at(-1)!;
    assert.equal(record.msg, `value <${text}> end`);
    assert.deepEqual(record.fields, {});
  }
  // More values than the level methods' fixed parameters.
  const [a, b, c, d, e, f, g] = [1, 2, 3, 4, 5, 6, 7];
  log.warn`${a}-${b}-${c}-${d}-${e}-${f}-${g}`;
  log.warn`${"only"}`;
  log.warn`no values`;
  await log.flush();
  assert.deepEqual(events(sink).slice(-3).map((r) => r.msg), [
    "1-2-3-4-5-6-7",
    "only",
    "no values",
  ]);
  await finish(log);
});

test("a template value too big for the record does not break the record", async () => {
  const { log, sink } = memoryLogger();
  const big = "€".repeat(20000);
  const x = 42;
  log.info`big ${big} then ${x}`;
  log.info("next");
  await log.flush();
  const [first, next] = events(sink);
  assert.ok(first.msg.startsWith("big €€€"));
  assert.match(first.msg, /…\[\d+ more chars\]/);
  assert.equal(next.msg, "next");
  await finish(log);
});

// ---- property-style round trips ----

async function propertyRun(
  seed: number,
  count: number,
  options: Parameters<typeof memoryLogger>[0] = {},
): Promise<void> {
  const random = mulberry32(seed);
  const { log, sink } = memoryLogger(options);
  const values: unknown[] = [];
  const bound: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const value = randomValue(random, [], { nodes: 40 });
    values.push(value);
    if (i % 10 === 0) {
      // Bound fields of a child are encoded once, outside the ring.
      const b = randomValue(random, [], { nodes: 10 });
      bound.push(b);
      log.child("prop", { b }).info("value", { v: value });
    } else log.info("value", { v: value });
  }
  await log.flush();
  const got = events(sink);
  assert.equal(got.length, count, `seed ${seed}: every event arrives`);
  for (let i = 0; i < count; i++) {
    assert.deepStrictEqual(
      canon(got[i].fields.v),
      canon(expected(values[i], 1, [])),
      `seed ${seed}, value #${i}`,
    );
    if (i % 10 === 0) {
      assert.equal(got[i].target, "prop");
      assert.deepStrictEqual(
        canon(got[i].fields.b),
        canon(expected(bound[i / 10], 1, [])),
        `seed ${seed}, bound value #${i}`,
      );
    }
  }
  await finish(log);
}

test("property: a few hundred random nested values round-trip (seed 1)", async () => {
  await propertyRun(1, 300);
});

test("property: random values round-trip (seed 0xC0FFEE)", async () => {
  await propertyRun(0xc0ffee, 300);
});

test("property: random values round-trip with everything inline (no dictionary)", async () => {
  await propertyRun(7, 200, { ring: { dictionaryBytes: 0 } });
});

test("property: random values round-trip while the dictionary fills up", async () => {
  // Keys and messages are interned until the dictionary is full, then inline.
  await propertyRun(2024, 200, { ring: { dictionaryBytes: 256 } });
});

test("property: random values round-trip as template values and error-first calls", async () => {
  const random = mulberry32(42);
  const { log, sink } = memoryLogger();
  const values: unknown[] = [];
  for (let i = 0; i < 150; i++) {
    const value = randomValue(random, [], { nodes: 30 });
    values.push(value);
    // A template value sits at depth 0: one level deeper is kept than for a field.
    log.info`v ${value}`;
    log.info("as arg", value as Record<string, unknown>);
  }
  await log.flush();
  const got = events(sink);
  assert.equal(got.length, 2 * values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    const template = got[2 * i];
    assert.equal(
      template.msg,
      "v " + renderValue(expected(value, 0, [])),
      `#${i}`,
    );
    assert.deepEqual(template.fields, {});
    const asArg = got[2 * i + 1];
    const isFields = typeof value === "object" && value !== null &&
      !Array.isArray(value) && !(value instanceof Error);
    if (isFields) {
      const want = expected(value, 0, []) as Record<string, unknown>;
      if (
        value instanceof Map || value instanceof Set || value instanceof Date
      ) {
        // Not plain objects: their (absent) own keys are the fields.
        assert.deepEqual(Object.keys(asArg.fields), Object.keys(value));
      } else {
        assert.deepStrictEqual(canon(asArg.fields), canon(want), `#${i}`);
      }
    } else {
      assert.deepStrictEqual(
        canon(asArg.fields.arg1),
        canon(expected(value, 0, [])),
        `#${i}`,
      );
    }
  }
  await finish(log);
});

test("accounting holds after the round trips", async () => {
  const { log } = memoryLogger();
  for (const n of NUMBERS) log.info("n", { n });
  const m = await assertAccounting(log);
  assert.equal(m.emitted, NUMBERS.length);
  await log.close();
});

test("WTF-8 strings of every length read back as written, ASCII or not, lone surrogates kept, malformed bytes as U+FFFD", () => {
  const u8 = new Uint8Array(new SharedArrayBuffer(256));
  const odd = ["é", "€", "😀", "\ud800", "\udfff", "\u0000", "\u007f"];
  for (let n = 0; n <= 40; n++) {
    const ascii = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH".slice(0, n);
    const cases = [ascii];
    for (const char of odd) {
      // The odd character first, in the middle and last.
      for (const at of [0, n >> 1, n]) {
        cases.push(ascii.slice(0, at) + char + ascii.slice(at));
      }
    }
    for (const s of cases) {
      const length = wtf8Length(s, 0, s.length);
      const end = writeWtf8(u8, 8, s, 0, s.length);
      assert.equal(end - 8, Math.abs(length));
      assert.equal(readWtf8(u8, 8, end, length < 0), s, JSON.stringify(s));
    }
  }
  // Malformed: a stray continuation byte and a cut 3-byte sequence.
  u8.set([0x61, 0x80, 0x62, 0xe2, 0x82], 0);
  assert.equal(readWtf8(u8, 0, 5, false), "a\ufffdb\ufffd\ufffd");
});
