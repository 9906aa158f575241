import { test } from "node:test";
import assert from "node:assert/strict";
import { textFormatter } from "../src/format/text.ts";
import { ndjsonFormatter } from "../src/format/ndjson.ts";
import {
  type FieldValues,
  LoggedError,
  type LogRecord,
  Marker,
} from "../src/record/values.ts";
import { TtlogConfigError } from "../src/errors.ts";
import { LEVEL_NAMES, type LevelName } from "../src/level.ts";

const TIME = Date.UTC(2026, 10, 25, 15, 4, 2, 123);
const ISO = "2026-11-25T15:04:02.123Z";

function record(
  fields: FieldValues = {},
  overrides: Partial<LogRecord> = {},
): LogRecord {
  return {
    time: TIME,
    level: "info",
    target: "db.pool",
    msg: "query took 12ms",
    fields,
    service: "checkout",
    seq: 1,
    ...overrides,
  };
}

// Every character that must never reach the output raw.
// deno-lint-ignore no-control-regex
const RAW_UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;
const LONE =
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function unsafeChars(): string[] {
  const chars: string[] = [];
  for (let code = 0; code < 0x20; code++) chars.push(String.fromCharCode(code));
  for (let code = 0x7f; code < 0xa0; code++) {
    chars.push(String.fromCharCode(code));
  }
  chars.push("\u2028", "\u2029");
  return chars;
}

function textEscape(char: string): string {
  if (char === "\n") return "\\n";
  if (char === "\r") return "\\r";
  if (char === "\t") return "\\t";
  const code = char.charCodeAt(0);
  return code < 0x100
    ? "\\x" + code.toString(16).padStart(2, "0")
    : "\\u" + code.toString(16).padStart(4, "0");
}

function assertOneSafeLine(line: string): void {
  assert.equal(RAW_UNSAFE.test(line), false, `raw control char in ${line}`);
  assert.equal(LONE.test(line), false, `lone surrogate in ${line}`);
}

/** Decodes an ndjson value by the mapping documented on ndjsonFormatter. */
function revive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revive);
  if (value === null || typeof value !== "object") return value;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.length === 1 && keys[0].startsWith("$")) {
    const tagged = object[keys[0]];
    switch (keys[0]) {
      case "$bigint":
        return BigInt(tagged as string);
      case "$float":
        return Number(tagged as string);
      case "$undefined":
        return undefined;
      case "$date":
        return new Date(NaN);
      case "$map":
        return new Map(
          (tagged as unknown[][]).map(([k, v]) => [revive(k), revive(v)]),
        );
      case "$set":
        return new Set((tagged as unknown[]).map(revive));
      case "$object":
        return revivePlain(tagged as Record<string, unknown>);
    }
    throw new Error(`unknown tag ${keys[0]}`);
  }
  return revivePlain(object);
}

function revivePlain(object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) out[key] = revive(object[key]);
  return out;
}

function parseLine(line: string): Record<string, unknown> {
  assert.equal(line.includes("\n"), false);
  return JSON.parse(line);
}

// ---------------------------------------------------------------- text

test("text: the documented layout", () => {
  const line = textFormatter()(record({ pool: "main", ms: 12 }));
  assert.equal(line, `${ISO} INFO  db.pool query took 12ms pool=main ms=12`);
});

test("text: levels are upper case, padded to 5, so what follows aligns", () => {
  const format = textFormatter();
  const starts = new Set<number>();
  for (const level of LEVEL_NAMES) {
    const line = format(record({}, { level }));
    assert.ok(line.includes(" " + level.toUpperCase()), line);
    starts.add(line.indexOf("db.pool"));
  }
  assert.equal(starts.size, 1);
  assert.equal(format(record({}, { level: "warn" })).slice(25, 31), "WARN  ");
  assert.equal(format(record({}, { level: "error" })).slice(25, 31), "ERROR ");
});

test("text: timestamp styles", () => {
  const rec = record({}, { target: "" });
  assert.equal(
    textFormatter({ timestamp: "iso" })(rec),
    `${ISO} INFO  query took 12ms`,
  );
  assert.equal(
    textFormatter({ timestamp: "time" })(rec),
    "15:04:02.123 INFO  query took 12ms",
  );
  assert.equal(
    textFormatter({ timestamp: "time" })(
      record({}, { time: Date.UTC(2026, 0, 1, 1, 2, 3, 4) }),
    ),
    "01:02:03.004 INFO  db.pool query took 12ms",
  );
  assert.equal(
    textFormatter({ timestamp: "none" })(rec),
    "INFO  query took 12ms",
  );
  assert.equal(
    textFormatter()(record({}, { time: NaN })),
    "Invalid Date INFO  db.pool query took 12ms",
  );
  assert.throws(
    () => textFormatter({ timestamp: "local" as "iso" }),
    TtlogConfigError,
  );
});

test("text: empty target, message and fields leave no stray spaces", () => {
  const format = textFormatter({ timestamp: "none" });
  assert.equal(format(record({}, { target: "", msg: "" })), "INFO");
  assert.equal(format(record({ a: 1 }, { target: "", msg: "" })), "INFO  a=1");
  assert.equal(format(record({ a: 1 }, { msg: "" })), "INFO  db.pool a=1");
  assert.equal(
    format(record({}, { level: "error", msg: "" })),
    "ERROR db.pool",
  );
});

test("text: the service is not shown", () => {
  const line = textFormatter()(record({}, { service: "checkout-svc" }));
  assert.equal(line.includes("checkout-svc"), false);
});

test("text: string values are bare or quoted", () => {
  const format = textFormatter({ timestamp: "none" });
  const line = format(record({
    bare: "main",
    path: "C:\\tmp",
    space: "a b",
    empty: "",
    quote: 'say "hi"',
    equals: "a=b",
    nbsp: "a\u00a0b",
  }, { target: "", msg: "m" }));
  assert.equal(
    line,
    'INFO  m bare=main path=C:\\tmp space="a b" empty="" quote="say \\"hi\\"" equals="a=b" nbsp="a\u00a0b"',
  );
});

test("text: keys that are not plain tokens are quoted", () => {
  const format = textFormatter({ timestamp: "none" });
  assert.equal(
    format(record({ "a b": 1, "": 2, "k=v": 3 }, { target: "", msg: "" })),
    'INFO  "a b"=1 ""=2 "k=v"=3',
  );
});

test("text: every control class is escaped in msg, target, keys and values", () => {
  const format = textFormatter();
  for (const char of unsafeChars()) {
    const s = `a${char}b`;
    const escaped = `a${textEscape(char)}b`;
    const line = format(record({ [s]: s, nested: [s] }, { target: s, msg: s }));
    assertOneSafeLine(line);
    assert.equal(
      line,
      `${ISO} INFO  ${escaped} ${escaped} "${escaped}"="${escaped}" nested=["${escaped}"]`,
    );
  }
});

test("text: a logged value cannot inject terminal escapes", () => {
  const line = textFormatter({ color: true })(record({
    evil: "\x1b[2J\x1b]0;pwned\x07",
    csi: "\x9b31m",
  }, { msg: "\x1b[31mred" }));
  // deno-lint-ignore no-control-regex
  assertOneSafeLine(line.replace(/\x1b\[[0-9;]*m/g, ""));
  assert.ok(line.includes("\\x1b[31mred"));
  assert.ok(line.includes('evil="\\x1b[2J\\x1b]0;pwned\\x07"'));
  assert.ok(line.includes('csi="\\x9b31m"'));
  // Only the formatter's own colour codes remain, all SGR.
  // deno-lint-ignore no-control-regex
  for (const match of line.matchAll(/\x1b/g)) {
    // deno-lint-ignore no-control-regex
    assert.match(line.slice(match.index), /^\x1b\[[0-9;]*m/);
  }
});

test("text: ANSI colour only with color: true", () => {
  const plain = textFormatter();
  const colored = textFormatter({ color: true });
  const expected: Record<LevelName, string> = {
    trace: "\x1b[90mTRACE\x1b[0m",
    debug: "\x1b[36mDEBUG\x1b[0m",
    info: "\x1b[32mINFO\x1b[0m ",
    warn: "\x1b[33mWARN\x1b[0m ",
    error: "\x1b[31mERROR\x1b[0m",
    fatal: "\x1b[1;35mFATAL\x1b[0m",
  };
  for (const level of LEVEL_NAMES) {
    const rec = record({ a: 1 }, { level });
    assert.equal(plain(rec).includes("\x1b"), false);
    assert.equal(textFormatter({ color: false })(rec).includes("\x1b"), false);
    assert.equal(
      colored(rec),
      `${ISO} ${expected[level]} \x1b[2mdb.pool\x1b[22m query took 12ms a=1`,
    );
  }
});

test("text: numbers, bigint, booleans, null, undefined, dates", () => {
  const format = textFormatter({ timestamp: "none" });
  const line = format(record({
    int: 12,
    float: 1.5,
    nan: NaN,
    inf: Infinity,
    ninf: -Infinity,
    nzero: -0,
    zero: 0,
    big: 123n,
    nbig: -9007199254740993n,
    yes: true,
    no: false,
    nul: null,
    undef: undefined,
    date: new Date(TIME),
    bad: new Date(NaN),
  }, { target: "", msg: "" }));
  assert.equal(
    line,
    "INFO  int=12 float=1.5 nan=NaN inf=Infinity ninf=-Infinity nzero=-0 zero=0 " +
      `big=123n nbig=-9007199254740993n yes=true no=false nul=null undef=undefined date=${ISO} bad=Invalid Date`,
  );
});

test("text: errors on one line, stack escaped, props and cause flattened", () => {
  const cause = new LoggedError(
    "Error",
    "disk full",
    "Error: disk full\n    at write (fs.ts:1:1)",
    undefined,
    {},
  );
  const err = new LoggedError(
    "TypeError",
    "bad\ninput",
    "TypeError: bad\ninput\n    at f (a.ts:1:2)",
    cause,
    { code: "E_BAD", stack: "shadow" },
  );
  const line = textFormatter({ timestamp: "none" })(
    record({ err, after: 1 }, { target: "", msg: "failed" }),
  );
  assertOneSafeLine(line);
  assert.equal(
    line,
    "INFO  failed err=TypeError: bad\\ninput" +
      ' err.stack="TypeError: bad\\ninput\\n    at f (a.ts:1:2)"' +
      " err.code=E_BAD err._stack=shadow" +
      " err.cause=Error: disk full" +
      ' err.cause.stack="Error: disk full\\n    at write (fs.ts:1:1)" after=1',
  );
  const bare = new LoggedError("Error", "", undefined, undefined, {});
  assert.equal(
    textFormatter({ timestamp: "none" })(
      record({ bare, nested: [bare] }, { target: "", msg: "" }),
    ),
    "INFO  bare=Error nested=[[Error]]",
  );
});

test("text: markers, arrays, objects, maps, sets", () => {
  const line = textFormatter({ timestamp: "none" })(record({
    secret: new Marker("redacted", "[Redacted]"),
    fn: new Marker("function", "[Function: send]"),
    arr: [1, "x", null, undefined, 2n, -0],
    obj: {
      a: 1,
      "b c": "x",
      d: { e: [true] },
      m: new Marker("circular", "[Circular]"),
    },
    map: new Map<unknown, unknown>([["a", 1], [2, new Set(["s"])]]),
    set: new Set([1, "two"]),
    empty: [{}, [], new Map(), new Set()],
    err: [new LoggedError("RangeError", "too big", undefined, undefined, {})],
  }, { target: "", msg: "" }));
  assert.equal(
    line,
    "INFO  secret=[Redacted] fn=[Function: send]" +
      ' arr=[1,"x",null,undefined,2n,-0]' +
      ' obj={a:1,"b c":"x",d:{e:[true]},m:[Circular]}' +
      ' map=Map{"a"=>1,2=>Set["s"]} set=Set[1,"two"]' +
      " empty=[{},[],Map{},Set[]] err=[[RangeError: too big]]",
  );
});

test("text: lone surrogates are escaped, pairs are kept", () => {
  const format = textFormatter({ timestamp: "none" });
  const line = format(record({
    hi: "a\ud800",
    lo: "\udc00b",
    swapped: "\udc00\ud800",
    pair: "\ud83d\ude00",
    [`k\udfff`]: [`\ud801`],
  }, { target: "t\ud800", msg: "m\udc00" }));
  assertOneSafeLine(line);
  assert.equal(
    line,
    'INFO  t\\ud800 m\\udc00 hi="a\\ud800" lo="\\udc00b" swapped="\\udc00\\ud800"' +
      ' pair=\ud83d\ude00 "k\\udfff"=["\\ud801"]',
  );
});

// -------------------------------------------------------------- ndjson

test("ndjson: the documented layout", () => {
  const line = ndjsonFormatter()(record({ pool: "main", ms: 12 }));
  assert.equal(
    line,
    `{"time":${TIME},"level":"info","target":"db.pool","msg":"query took 12ms",` +
      `"service":"checkout","pool":"main","ms":12}`,
  );
});

test("ndjson: seq only when asked", () => {
  const rec = record({ seq: "field" }, { seq: 42 });
  assert.equal(parseLine(ndjsonFormatter()(rec)).seq, "field");
  const parsed = parseLine(ndjsonFormatter({ seq: true })(rec));
  assert.equal(parsed.seq, 42);
  assert.equal(parsed._seq, "field");
});

test("ndjson: keys colliding with top-level keys get _ until unique", () => {
  const line = ndjsonFormatter()(record({
    time: 1,
    level: 2,
    target: 3,
    msg: 4,
    service: 5,
    _msg: 6,
    __msg: 7,
    other: 8,
  }));
  assert.equal(
    line.slice(line.indexOf('"service":"checkout"')),
    '"service":"checkout","_time":1,"_level":2,"_target":3,"___msg":4,' +
      '"_service":5,"_msg":6,"__msg":7,"other":8}',
  );
  const parsed = parseLine(line);
  assert.equal(parsed.time, TIME);
  assert.equal(parsed.msg, "query took 12ms");
});

test("ndjson: special values follow the documented mapping", () => {
  const cause = new LoggedError("Error", "root", undefined, undefined, {});
  const err = new LoggedError(
    "TypeError",
    "bad",
    "TypeError: bad\n    at f (a.ts:1:2)",
    cause,
    { code: "E1", name: "shadow" },
  );
  const parsed = parseLine(
    ndjsonFormatter()(record({
      big: 123n,
      nbig: -9007199254740993n,
      nan: NaN,
      inf: Infinity,
      ninf: -Infinity,
      nzero: -0,
      zero: 0,
      undef: undefined,
      date: new Date(TIME),
      bad: new Date(NaN),
      err,
      marker: new Marker("redacted", "[Redacted]"),
      map: new Map<unknown, unknown>([["a", 1], [2n, undefined]]),
      set: new Set([1, NaN]),
      arr: [undefined, 1n, [-0]],
      dollar: { $bigint: "not a bigint" },
      dollars: { $a: 1, $b: 2 },
    })),
  );
  assert.deepEqual(parsed.big, { $bigint: "123" });
  assert.deepEqual(parsed.nbig, { $bigint: "-9007199254740993" });
  assert.deepEqual(parsed.nan, { $float: "NaN" });
  assert.deepEqual(parsed.inf, { $float: "Infinity" });
  assert.deepEqual(parsed.ninf, { $float: "-Infinity" });
  assert.deepEqual(parsed.nzero, { $float: "-0" });
  assert.equal(parsed.zero, 0);
  assert.deepEqual(parsed.undef, { $undefined: true });
  assert.equal(parsed.date, ISO);
  assert.deepEqual(parsed.bad, { $date: "invalid" });
  assert.deepEqual(parsed.err, {
    name: "TypeError",
    message: "bad",
    stack: "TypeError: bad\n    at f (a.ts:1:2)",
    cause: { name: "Error", message: "root" },
    code: "E1",
    _name: "shadow",
  });
  assert.equal(parsed.marker, "[Redacted]");
  assert.deepEqual(parsed.map, {
    $map: [["a", 1], [{ $bigint: "2" }, { $undefined: true }]],
  });
  assert.deepEqual(parsed.set, { $set: [1, { $float: "NaN" }] });
  assert.deepEqual(parsed.arr, [{ $undefined: true }, { $bigint: "1" }, [{
    $float: "-0",
  }]]);
  assert.deepEqual(parsed.dollar, { $object: { $bigint: "not a bigint" } });
  assert.deepEqual(parsed.dollars, { $a: 1, $b: 2 });
});

test("ndjson: lines round-trip through the documented mapping", () => {
  const fields: FieldValues = {
    s: "x",
    n: 1.5,
    nzero: -0,
    nan: NaN,
    big: 2n ** 70n,
    undef: undefined,
    nul: null,
    yes: true,
    arr: [1, undefined, [2n, -Infinity]],
    map: new Map<unknown, unknown>([[1n, new Set(["a", undefined])], [
      "k",
      { $set: "plain" },
    ]]),
    nested: { a: { b: { c: [Infinity] } } },
    empty: {},
  };
  const parsed = parseLine(ndjsonFormatter()(record(fields)));
  for (const key of Object.keys(fields)) {
    assert.deepEqual(revive(parsed[key]), fields[key], key);
  }
  assert.ok(Object.is(revive(parsed.nzero), -0));
  assert.ok(Object.is((revive(parsed.arr) as unknown[][])[2][1], -Infinity));
  // Dates come back as their ISO string; an invalid date as an invalid Date.
  const dates = parseLine(
    ndjsonFormatter()(record({ ok: new Date(TIME), bad: new Date(NaN) })),
  );
  assert.equal(revive(dates.ok), ISO);
  assert.ok(Number.isNaN((revive(dates.bad) as Date).getTime()));
});

test("ndjson: every control class stays escaped and the line parses", () => {
  const format = ndjsonFormatter();
  for (const char of unsafeChars()) {
    const s = `a${char}b`;
    const line = format(
      record({ [s]: s, nested: { [s]: [s] } }, { target: s, msg: s }),
    );
    assertOneSafeLine(line);
    const parsed = parseLine(line);
    assert.equal(parsed.target, s);
    assert.equal(parsed.msg, s);
    assert.equal(parsed[s], s);
    assert.deepEqual(parsed.nested, { [s]: [s] });
  }
  const line = format(record({ v: "\x7f\x9b\u2028\u2029\x1b" }));
  assert.ok(line.includes('"v":"\\u007f\\u009b\\u2028\\u2029\\u001b"'), line);
});

test("ndjson: lone surrogates become \\u escapes and parse back", () => {
  const fields = {
    hi: "a\ud800",
    lo: "\udc00b",
    swapped: "\udc00\ud800",
    pair: "\ud83d\ude00",
    [`k\udfff`]: [`\ud801`],
  };
  const line = ndjsonFormatter()(record(fields, { msg: "m\udbff" }));
  assertOneSafeLine(line);
  assert.ok(line.includes('"hi":"a\\ud800"'), line);
  assert.ok(line.includes('"pair":"\ud83d\ude00"'), line);
  const parsed = parseLine(line);
  assert.equal(parsed.msg, "m\udbff");
  for (const [key, value] of Object.entries(fields)) {
    assert.deepEqual(parsed[key], value);
  }
});

// ------------------------------------------------------------ robustness

function hostileFields(): FieldValues {
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const cyclicArray: unknown[] = [1];
  cyclicArray.push(cyclicArray);
  let deep: unknown = "bottom";
  for (let i = 0; i < 10_000; i++) deep = [deep];
  const selfCause = new LoggedError("Error", "loop", undefined, undefined, {});
  (selfCause as { cause: unknown }).cause = selfCause;
  const throwing = {
    get boom(): never {
      throw new Error("getter\nfailed");
    },
  };
  return {
    cyclic,
    cyclicArray,
    deep,
    selfCause,
    throwing,
    fn: function send(): void {},
    anon: [() => {}],
    sym: Symbol("s\n"),
    nullProto: Object.assign(Object.create(null), { a: 1 }),
    withToJSON: { toJSON: () => ({ url: "https://x" }) },
    url: new URL("https://example.com/a b"),
    bytes: new Uint8Array([1, 2]),
    after: "still here",
  };
}

test("text: never throws on hostile values", () => {
  const line = textFormatter()(record(hostileFields()));
  assertOneSafeLine(line);
  assert.ok(line.includes('cyclic={name:"loop",self:[Circular]}'), line);
  assert.ok(line.includes("cyclicArray=[1,[Circular]]"), line);
  assert.ok(line.includes("[Depth]"), line);
  assert.ok(line.includes("selfCause.cause=[Circular]"), line);
  assert.ok(
    line.includes("throwing=[Unformattable: Error: getter\\nfailed]"),
    line,
  );
  assert.ok(line.includes("fn=[Function: send]"), line);
  assert.ok(line.includes("anon=[[Function: (anonymous)]]"), line);
  assert.ok(line.includes("sym=Symbol(s\\n)"), line);
  assert.ok(line.includes("nullProto={a:1}"), line);
  assert.ok(line.includes('withToJSON={url:"https://x"}'), line);
  assert.ok(line.includes('url="https://example.com/a%20b"'), line);
  assert.ok(line.includes('bytes={"0":1,"1":2}'), line);
  assert.ok(line.endsWith(' after="still here"'), line);
});

test("ndjson: never throws on hostile values and stays valid JSON", () => {
  const line = ndjsonFormatter()(record(hostileFields()));
  assertOneSafeLine(line);
  const parsed = parseLine(line);
  assert.deepEqual(parsed.cyclic, { name: "loop", self: "[Circular]" });
  assert.deepEqual(parsed.cyclicArray, [1, "[Circular]"]);
  assert.ok(line.includes('"[Depth]"'));
  assert.deepEqual(parsed.selfCause, {
    name: "Error",
    message: "loop",
    cause: "[Circular]",
  });
  assert.equal(parsed.throwing, "[Unformattable: Error: getter\nfailed]");
  assert.equal(parsed.fn, "[Function: send]");
  assert.equal(parsed.sym, "Symbol(s\n)");
  assert.deepEqual(parsed.nullProto, { a: 1 });
  assert.deepEqual(parsed.withToJSON, { url: "https://x" });
  assert.equal(parsed.url, "https://example.com/a%20b");
  assert.deepEqual(parsed.bytes, { "0": 1, "1": 2 });
  assert.equal(parsed.after, "still here");
  assert.equal(parsed.time, TIME);
});

test("ndjson: non-finite time is encoded, not null", () => {
  const parsed = parseLine(ndjsonFormatter()(record({}, { time: NaN })));
  assert.deepEqual(parsed.time, { $float: "NaN" });
});

test("both: a formatter is reusable and keeps no state between records", () => {
  const text = textFormatter({ timestamp: "none" });
  const ndjson = ndjsonFormatter();
  const shared = { a: 1 };
  for (let i = 0; i < 3; i++) {
    assert.equal(
      text(record({ x: shared, y: shared }, { target: "", msg: "" })),
      "INFO  x={a:1} y={a:1}",
    );
    assert.deepEqual(parseLine(ndjson(record({ x: shared, y: shared }))).y, {
      a: 1,
    });
  }
});

test("both: a huge shared graph is cut at the budget, not walked", () => {
  // 2^40 paths through 41 arrays: walking them all would never finish.
  let dag: unknown = [1];
  for (let i = 0; i < 40; i++) dag = [dag, dag];
  const rec = record({ dag, after: 1 });
  const text = textFormatter()(rec);
  assert.ok(text.includes("[Truncated]"));
  assert.ok(text.endsWith(" after=1"));
  assert.ok(text.length < 200_000, String(text.length));
  const line = ndjsonFormatter()(rec);
  assert.ok(line.includes('"[Truncated]"'));
  assert.equal(parseLine(line).after, 1);
  assert.ok(line.length < 200_000, String(line.length));
});
