// The logger API: call forms, directives, redaction, bad input, options,
// close/flush/metrics, failing sinks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger, internals } from "../src/logger/logger.ts";
import type { LoggerOptions } from "../src/logger/options.ts";
import type { Logger } from "../src/logger/types.ts";
import { TtlogConfigError } from "../src/errors.ts";
import { LoggedError, type LogRecord, Marker } from "../src/record/values.ts";
import { fileSink } from "../src/sinks/file.ts";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memorySink } from "../src/sinks/memory.ts";
import type { Sink } from "../src/sinks/sink.ts";
import {
  assertAccounting,
  canon,
  events,
  finish,
  indexOfBytes,
  memoryLogger,
  METRICS_KEYS,
  utf8,
} from "./helpers.ts";

/** Calls a level method with arguments its types do not allow. */
function call(
  log: Logger,
  level: "info" | "warn" | "error",
  ...args: unknown[]
): void {
  (log[level] as unknown as (...args: unknown[]) => void).apply(log, args);
}

function marker(kind: string, text: string): unknown {
  return { marker: kind, text };
}

// ---- call forms ----

test("every level method records its level; messages and fields arrive as given", async () => {
  const { log, sink } = memoryLogger({ service: "svc" });
  const before = Date.now();
  log.trace("t", { n: 0 });
  log.debug("d", { n: 1 });
  log.info("i", { n: 2 });
  log.warn("w", { n: 3 });
  log.error("e", { n: 4 });
  log.fatal("f", { n: 5 });
  const after = Date.now();
  await log.flush();
  const got = events(sink);
  assert.deepEqual(
    got.map((r) => [r.level, r.msg, r.fields.n, r.target, r.service, r.seq]),
    [
      ["trace", "t", 0, "", "svc", 0],
      ["debug", "d", 1, "", "svc", 1],
      ["info", "i", 2, "", "svc", 2],
      ["warn", "w", 3, "", "svc", 3],
      ["error", "e", 4, "", "svc", 4],
      ["fatal", "f", 5, "", "svc", 5],
    ],
  );
  for (const r of got) {
    assert.ok(r.time >= before && r.time <= after, "time is epoch ms");
  }
  await finish(log);
});

test("call forms: message + fields, extra arguments, fields or Error first", async () => {
  const { log, sink } = memoryLogger();
  const err = new TypeError("payment failed");
  log.info("plain");
  log.info("with fields", { a: 1 });
  call(log, "info", "non-object second", 5);
  call(log, "info", "extras", { a: 1 }, "x", 3);
  call(log, "info", "many", { a: 1 }, 2, 3, 4, 5, 6, 7);
  log.error(err, "charge declined");
  log.error(err);
  log.info({ a: 1 }, "fields first");
  log.info({ a: 1 });
  call(log, "info", { a: 1 }, 2, 3, 4, 5, 6);
  call(log, "warn", err, "msg", "x", "y", "z", "w");
  await log.flush();
  const got = events(sink).map((r) => [r.msg, canon(r.fields)]);
  assert.deepEqual(got.map(([msg]) => msg), [
    "plain",
    "with fields",
    "non-object second",
    "extras",
    "many",
    "charge declined",
    "payment failed",
    "fields first",
    "",
    "",
    "msg",
  ]);
  assert.deepEqual(got[0][1], canon({}));
  assert.deepEqual(got[1][1], canon({ a: 1 }));
  assert.deepEqual(got[2][1], canon({ arg1: 5 }));
  assert.deepEqual(got[3][1], canon({ a: 1, arg2: "x", arg3: 3 }));
  assert.deepEqual(
    got[4][1],
    canon({ a: 1, arg2: 2, arg3: 3, arg4: 4, arg5: 5, arg6: 6, arg7: 7 }),
  );
  assert.deepEqual(got[7][1], canon({ a: 1 }));
  assert.deepEqual(got[8][1], canon({ a: 1 }));
  assert.deepEqual(
    got[9][1],
    canon({ a: 1, arg1: 2, arg2: 3, arg3: 4, arg4: 5, arg5: 6 }),
  );
  const all = events(sink);
  const withExtras = all[10];
  for (const record of [all[5], all[6], withExtras]) {
    const logged = record.fields.err;
    assert.ok(logged instanceof LoggedError);
    assert.equal(logged.name, "TypeError");
    assert.equal(logged.message, "payment failed");
    assert.equal(logged.stack, err.stack);
  }
  assert.deepEqual(
    Object.keys(withExtras.fields),
    ["err", "arg2", "arg3", "arg4", "arg5"],
  );
  await finish(log);
});

test("child loggers: targets nest, bound fields come first and a call's own fields win", async () => {
  const { log, sink } = memoryLogger();
  const db = log.child("db", { component: "db", shared: "db" });
  const pool = db.child("pool", { shared: "pool" });
  const bound = pool.child({ request: 7 });
  assert.equal(log.target, "");
  assert.equal(db.target, "db");
  assert.equal(pool.target, "db.pool");
  assert.equal(bound.target, "db.pool");
  bound.info("query", { shared: "call", ms: 3 });
  const user = "ada";
  bound.info`template for ${user}`;
  await log.flush();
  const [query, template] = events(sink);
  assert.equal(query.target, "db.pool");
  assert.deepEqual(query.fields, {
    component: "db",
    shared: "call",
    request: 7,
    ms: 3,
  });
  assert.equal(template.msg, "template for ada");
  assert.deepEqual(template.fields, {
    component: "db",
    shared: "pool",
    request: 7,
  });
  await finish(log);
});

test("bound fields that do not fit the record are reported, not dropped silently", async () => {
  // Was a bug: a child's bound fields that did not fit what was left of the
  // record vanished from every event without a trace.
  const { log, sink } = memoryLogger({ ring: { bytes: 1024 } });
  const child = log.child("c", { blob: "x".repeat(150), id: 7 });
  child.info("does the context fit?", { a: 1 });
  child.info`template ${1}`;
  log.child("small", { id: 8 }).info("fits", { a: 2 });
  await log.flush();
  const [plain, template, fits] = events(sink);
  for (const record of [plain, template]) {
    assert.match(
      String(record.fields["…"]),
      /^\[\d+ bytes of bound fields left out: no room\]$/,
    );
  }
  assert.equal(plain.fields.a, 1);
  assert.deepEqual(fits.fields, { id: 8, a: 2 });
  await finish(log);
});

test("a child per request does not grow the dictionary", async () => {
  // Was a bug: every child() interned its target again, so per-request
  // children filled the dictionary (after which every string goes inline).
  const { log } = memoryLogger();
  log.child("req", { id: -1 }).info("handled", { ms: 1 });
  const before = log.metrics().dictionaryEntries;
  for (let id = 0; id < 300; id++) {
    log.child("req", { id }).info("handled", { ms: id });
  }
  assert.equal(log.metrics().dictionaryEntries, before);
  await finish(log);
});

test("a template with invalid escapes logs its raw text", async () => {
  // Was a bug: `\u` not followed by hex (a Windows path) leaves the cooked
  // part undefined, and the event was replaced by an encoding error.
  const { log, sink } = memoryLogger();
  const name = "ada";
  log.info`bad \unicode escape ${name} and \xZZ`;
  const { log: inline, sink: inlineSink } = memoryLogger({
    ring: { dictionaryBytes: 0 },
  });
  inline.info`C:\users\${name}`;
  await log.flush();
  await inline.flush();
  assert.equal(events(sink)[0].msg, "bad \\unicode escape ada and \\xZZ");
  assert.equal(events(inlineSink)[0].msg, "C:\\users\\${name}");
  await finish(log);
  await finish(inline);
});

// ---- directives ----

test("directives: children inherit their parent's directive, siblings with a shared prefix do not", async () => {
  const { log, sink } = memoryLogger({
    level: "info",
    recordLevel: "debug",
    directives: "info,db=debug",
  });
  const db = log.child("db");
  const pool = db.child("pool");
  const dbx = log.child("dbx");
  assert.equal(pool.target, "db.pool");
  db.debug("db debug");
  pool.debug("pool debug");
  dbx.debug("dbx debug");
  log.debug("root debug");
  pool.info("pool info");
  pool.trace("pool trace");
  dbx.trace("dbx trace");
  await log.flush();
  assert.deepEqual(
    events(sink).map((r) => [r.target, r.msg]),
    [["db", "db debug"], ["db.pool", "pool debug"], [
      "db.pool",
      "pool info",
    ]],
  );
  const m = await finish(log);
  assert.equal(m.filtered, 2, "dbx and root debug: recorded, not emitted");
  assert.equal(m.logged, 5, "trace is below the record level");
});

test("record vs emit level: debug events are recorded in the ring but filtered from the sinks", async () => {
  const { log, sink } = memoryLogger({ level: "info", recordLevel: "debug" });
  log.debug("kept for snapshots", { note: "debug-only-7f3a9c" });
  log.debug("also recorded");
  log.info("emitted");
  log.trace("not even recorded", { note: "trace-only-51d0e2" });
  await log.flush();
  assert.deepEqual(sink.records.map((r) => r.msg), ["emitted"]);
  const m = await finish(log);
  assert.equal(m.filtered, 2);
  assert.equal(m.emitted, 1);
  assert.equal(m.recorded, 3);
  assert.equal(m.logged, 3);
  const ring = internals(log).ring.u8;
  assert.ok(indexOfBytes(ring, utf8("debug-only-7f3a9c")) >= 0);
  assert.equal(indexOfBytes(ring, utf8("trace-only-51d0e2")), -1);
});

test("directives override level; off silences a target; enabled() answers for recording", async () => {
  const { log, sink } = memoryLogger({
    level: "error",
    recordLevel: "info",
    directives: "debug,noisy=off,quiet=warn",
  });
  const noisy = log.child("noisy");
  const quiet = log.child("quiet");
  log.debug("root debug"); // the directive's default beats level: "error"
  noisy.fatal("noisy fatal");
  quiet.info("quiet info");
  quiet.warn("quiet warn");
  await log.flush();
  assert.deepEqual(sink.records.map((r) => r.msg), [
    "root debug",
    "quiet warn",
  ]);
  // The record level still applies to a target whose emit level is higher.
  assert.equal(noisy.enabled("info"), true);
  assert.equal(noisy.enabled("debug"), false);
  // A target emitted below the record level is recorded down to it.
  assert.equal(log.enabled("debug"), true);
  assert.equal(log.enabled("trace"), false);
  assert.equal(quiet.enabled("info"), true);
  const m = await finish(log);
  assert.equal(m.filtered, 2);

  const { log: plain } = memoryLogger({ level: "warn", recordLevel: "warn" });
  assert.equal(plain.enabled("info"), false);
  assert.equal(plain.enabled("warn"), true);
  assert.equal(plain.enabled("fatal"), true);
  plain.info("dropped before the ring");
  const pm = await finish(plain);
  assert.equal(pm.logged, 0);
});

// ---- redaction ----

test("redaction: at any depth, case-insensitive, in fields, bound fields, templates and Error props; never in the ring", async () => {
  const secret = "hunter2-Zq9XvKp4Lm";
  const visible = "visible-8Hc3Rt";
  const { log, sink } = memoryLogger({
    redact: ["password", "authorization"],
  });
  const auth = log.child("auth", {
    Authorization: `Bearer ${secret}`,
    nested: { PASSWORD: secret },
  });
  auth.info("login", {
    user: "ada",
    note: visible,
    password: secret,
    deep: { list: [{ Password: secret }], headers: { AUTHORIZATION: secret } },
    get passWord() {
      throw new Error("a redacted value is never read");
    },
  });
  const err = new Error("denied") as Error & Record<string, unknown>;
  err.password = secret;
  err.context = { authorization: secret };
  log.error(err, "failed");
  log.warn("error field", { err });
  log.info`template ${{
    user: "ada",
    password: secret,
    n: { authorization: secret },
  }}`;
  log.info({ password: secret, ok: 1 });
  call(log, "info", "extra args", { ok: 1 }, { password: secret });
  await log.flush();
  const got = events(sink);
  assert.equal(got.length, 6);
  const redacted = marker("redacted", "[Redacted]");
  const login = got[0];
  assert.deepEqual(canon(login.fields.Authorization), redacted);
  assert.deepEqual(
    canon(login.fields.nested),
    canon({ PASSWORD: new Marker("redacted", "[Redacted]") }),
  );
  assert.deepEqual(canon(login.fields.password), redacted);
  assert.deepEqual(canon(login.fields.passWord), redacted);
  assert.equal(login.fields.note, visible);
  const deep = login.fields.deep as {
    list: Record<string, unknown>[];
    headers: Record<string, unknown>;
  };
  assert.deepEqual(canon(deep.list[0].Password), redacted);
  assert.deepEqual(canon(deep.headers.AUTHORIZATION), redacted);
  for (const record of [got[1], got[2]]) {
    const logged = record.fields.err as LoggedError;
    assert.deepEqual(canon(logged.props.password), redacted);
    assert.deepEqual(
      canon(logged.props.context),
      canon({ authorization: new Marker("redacted", "[Redacted]") }),
    );
  }
  assert.equal(
    got[3].msg,
    'template {"user":"ada","password":"[Redacted]","n":{"authorization":"[Redacted]"}}',
  );
  assert.deepEqual(canon(got[4].fields.password), redacted);
  assert.deepEqual(
    canon(got[5].fields.arg2),
    canon({ password: new Marker("redacted", "[Redacted]") }),
  );
  // Nowhere in the output...
  assert.equal(JSON.stringify(sink.records).includes(secret), false);
  // ...nor in the ring or the dictionary, in any form.
  const { ring, dictionary } = internals(log);
  const dictionaryBytes = new Uint8Array(dictionary.buffer);
  for (const needle of [secret, secret.slice(0, 8), secret.slice(-8)]) {
    assert.equal(indexOfBytes(ring.u8, utf8(needle)), -1, `${needle} in ring`);
    assert.equal(indexOfBytes(dictionaryBytes, utf8(needle)), -1);
  }
  // The scan does find what was logged in the clear.
  assert.ok(indexOfBytes(ring.u8, utf8(visible)) >= 0);
  assert.ok(indexOfBytes(dictionaryBytes, utf8("authorization")) >= 0);
  await finish(log);
});

test("redaction also applies to keys written inline (no dictionary)", async () => {
  const secret = "inline-secret-Yt7Wq2";
  const { log, sink } = memoryLogger({
    redact: ["Password"],
    ring: { dictionaryBytes: 0 },
  });
  log.info("inline keys", { password: secret, PASSWORD: secret, ok: true });
  await log.flush();
  const [record] = events(sink);
  assert.deepEqual(
    canon(record.fields.password),
    marker("redacted", "[Redacted]"),
  );
  assert.deepEqual(
    canon(record.fields.PASSWORD),
    marker("redacted", "[Redacted]"),
  );
  assert.equal(record.fields.ok, true);
  assert.equal(indexOfBytes(internals(log).ring.u8, utf8(secret)), -1);
  await finish(log);
});

// ---- bad input ----

test("non-string messages never throw and log a readable message", async () => {
  const { log, sink } = memoryLogger();
  const throwingToString = [1, 2];
  throwingToString.toString = () => {
    throw new Error("no toString");
  };
  function handler() {}
  const inputs: [unknown[], string][] = [
    [[42], "42"],
    [[-0], "0"],
    [[null], "null"],
    [[undefined], "undefined"],
    [[], "undefined"],
    [[Symbol("sym")], "Symbol(sym)"],
    [[handler], "[Function: handler]"],
    [[10n], "10"],
    [[true], "true"],
    [[{ a: 1 }], ""],
    [[new Error("first")], "first"],
    [[[1, "two"]], "1,two"],
    [[throwingToString], "[unprintable: [Threw: Error: no toString]]"],
  ];
  for (const [args] of inputs) {
    assert.doesNotThrow(() => call(log, "info", ...args));
  }
  await log.flush();
  assert.deepEqual(
    events(sink).map((r) => r.msg),
    inputs.map(([, msg]) => msg),
  );
  assert.deepEqual(events(sink)[9].fields, { a: 1 });
  assert.ok(events(sink)[10].fields.err instanceof LoggedError);
  await finish(log);
});

test("throwing getters, toJSON and Error getters become [Threw: ...] markers; other fields stay", async () => {
  const { log, sink } = memoryLogger();
  const err = new Error("x");
  Object.defineProperty(err, "message", {
    get() {
      throw new Error("message getter");
    },
  });
  log.info("getters", {
    ok: 1,
    get bad() {
      throw new Error("nope");
    },
    get strange() {
      throw "a string";
    },
    json: {
      toJSON() {
        throw new RangeError("no json");
      },
    },
    after: 2,
  });
  assert.doesNotThrow(() => log.error(err));
  const value = {
    get x(): unknown {
      throw new Error("template getter");
    },
  };
  log.info`template ${value} end`;
  await log.flush();
  const [getters, errorEvent, template] = events(sink);
  assert.deepEqual(
    canon(getters.fields),
    canon({
      ok: 1,
      bad: new Marker("thrown", "[Threw: Error: nope]"),
      strange: new Marker("thrown", "[Threw: a string]"),
      json: new Marker("thrown", "[Threw: RangeError: no json]"),
      after: 2,
    }),
  );
  assert.match(errorEvent.msg, /message threw/);
  const logged = errorEvent.fields.err as LoggedError;
  assert.match(logged.message, /message getter/);
  assert.equal(
    template.msg,
    'template {"x":"[Threw: Error: template getter]"} end',
  );
  await finish(log);
});

test("Proxies whose traps throw, and revoked Proxies, become markers", async () => {
  const { log, sink } = memoryLogger();
  const ownKeys = new Proxy({}, {
    ownKeys() {
      throw new Error("ownKeys trap");
    },
  });
  const get = new Proxy({ a: 1 }, {
    get() {
      throw new Error("get trap");
    },
  });
  const prototype = new Proxy({}, {
    getPrototypeOf() {
      throw new Error("getPrototypeOf trap");
    },
  });
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  log.info("proxies", { ownKeys, get, prototype, revoked, ok: 1 });
  for (const proxy of [ownKeys, get, prototype, revoked]) {
    assert.doesNotThrow(() => log.info(proxy as Record<string, unknown>));
    assert.doesNotThrow(() => log.info("as fields", proxy as never));
    assert.doesNotThrow(() => log.info`as a value ${proxy}`);
  }
  await log.flush();
  const [proxies, ...rest] = events(sink);
  const fields = proxies.fields;
  assert.deepEqual(
    canon(fields.ownKeys),
    canon({
      "[keys]": new Marker("thrown", "[Threw: Error: ownKeys trap]"),
    }),
  );
  assert.deepEqual(
    canon(fields.get),
    marker("thrown", "[Threw: Error: get trap]"),
  );
  assert.deepEqual(
    canon(fields.prototype),
    marker("thrown", "[Threw: Error: getPrototypeOf trap]"),
  );
  assert.equal((fields.revoked as Marker).kind, "thrown");
  assert.match(
    (fields.revoked as Marker).text,
    /^\[Threw: TypeError: .*revoked/,
  );
  assert.equal(fields.ok, 1);
  assert.equal(rest.length, 12, "every call logged something");
  for (const record of rest) assert.equal(typeof record.msg, "string");
  assert.match(rest[11].msg, /^as a value \[Threw: TypeError: /);
  await finish(log);
});

test("a revoked Proxy past the depth limit becomes a marker in place", async () => {
  const { log, sink } = memoryLogger();
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  log.info("deep", {
    a: { b: { c: { d: { e: { f: revoked, g: 1 }, h: 2 } } } },
    ok: 1,
  });
  await log.flush();
  const m = log.metrics();
  assert.equal(m.lost, 0, "the event is not lost");
  const [record] = events(sink);
  assert.equal(record.fields.ok, 1);
  const d =
    (record.fields.a as Record<string, Record<string, Record<string, unknown>>>)
      .b.c.d as Record<string, Record<string, unknown>>;
  assert.equal(d.h, 2);
  assert.equal(d.e.g, 1);
  assert.ok(d.e.f instanceof Marker, "the proxy is a marker");
  await finish(log);
});

test("symbols and functions as values, __proto__ keys, null-prototype objects", async () => {
  const { log, sink } = memoryLogger();
  const polluting = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
  const bare = Object.assign(Object.create(null), { x: 1 });
  function callback() {}
  log.info("values", { sym: Symbol.for("k"), fn: callback, arrow: () => 1 });
  log.info("proto key", polluting);
  log.info("nested proto key", { inner: polluting });
  log.info("null prototype", bare);
  log.info("null prototype nested", { bare });
  await log.flush();
  const [values, proto, nested, nullProto, nullNested] = events(sink);
  assert.deepEqual(
    canon(values.fields),
    canon({
      sym: new Marker("symbol", "Symbol(k)"),
      fn: new Marker("function", "[Function: callback]"),
      arrow: new Marker("function", "[Function: arrow]"),
    }),
  );
  for (const fields of [proto.fields, nested.fields.inner]) {
    const object = fields as Record<string, unknown>;
    assert.deepEqual(Object.keys(object), ["__proto__", "a"]);
    assert.equal(Object.getPrototypeOf(object), Object.prototype);
    assert.deepEqual(
      Object.getOwnPropertyDescriptor(object, "__proto__")?.value,
      { polluted: true },
    );
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(nullProto.fields, { x: 1 });
  assert.deepEqual(nullNested.fields, { bare: { x: 1 } });
  await finish(log);
});

// ---- options ----

test("createLogger rejects bad options with a TtlogConfigError naming the option", () => {
  const cases: [unknown, RegExp][] = [
    [null, /options must be an object/],
    [{ bogus: 1 }, /unknown option "bogus"/],
    [{ ring: { bytes: 100 } }, /ring\.bytes/],
    [{ ring: { bytes: "8MiB" } }, /ring\.bytes/],
    [{ ring: { bytes: 2 ** 31 } }, /ring\.bytes/],
    [{ ring: { bytes: NaN } }, /ring\.bytes/],
    [{ ring: { overflow: "explode" } }, /ring\.overflow.*explode/],
    [{ ring: { size: 1024 } }, /unknown ring option "size"/],
    [{ ring: { bytes: 1024, maxRecordBytes: 512 } }, /ring\.maxRecordBytes/],
    [{ ring: 5 }, /ring must be a plain object, got 5/],
    [{ directives: "info,db=verbose" }, /directives.*db=verbose.*entry 2/],
    [{ directives: "a:b=info" }, /directives.*"a:b=info"/],
    [{ directives: 42 }, /directives/],
    [{ redact: "password" }, /redact/],
    [{ redact: ["ok", 5] }, /redact/],
    [{ level: "loud" }, /level.*"loud"/],
    [{ recordLevel: "everything" }, /record.*"everything"/],
    [{ limits: { depth: 0 } }, /limits\.depth/],
    [{ limits: { depth: 100 } }, /limits\.depth must be at most/],
    [{ limits: { items: 1.5 } }, /limits\.items/],
    [{ limits: { width: 3 } }, /unknown limit "width"/],
    [{ sinks: [{}] }, /sinks\[0\]/],
    [{ sinks: "console" }, /sinks/],
    [{ service: "" }, /service/],
    [{ ring: { dictionaryBytes: -1 } }, /ring\.dictionaryBytes/],
    [
      { ring: { dictionaryBytes: 1024.5 } },
      /ring\.dictionaryBytes must be an integer.*1024\.5/,
    ],
    [{ dictionaryBytes: 0 }, /unknown option "dictionaryBytes"/],
    [{ record: "debug" }, /unknown option "record"/],
    [{ worker: "yes" }, /worker/],
    [[], /options must be an object, got an array/],
    [[{ level: "debug" }], /options must be an object, got an array/],
    [{ ring: { bytes: 1024.5 } }, /ring\.bytes must be an integer.*1024\.5/],
    [
      { redact: [""] },
      /redact\[0\] must be a field name \(a non-empty string\), got ""/,
    ],
    [
      new Proxy({}, {
        ownKeys() {
          throw new Error("ownKeys trap");
        },
      }),
      /createLogger: the options could not be read: Error: ownKeys trap/,
    ],
    [
      {
        sinks: [
          new Proxy({}, {
            get() {
              throw new Error("a sink's get trap");
            },
          }),
        ],
      },
      /createLogger: the options could not be read: Error: a sink's get trap/,
    ],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => createLogger(options as LoggerOptions),
      (error: unknown) => {
        assert.ok(
          error instanceof TtlogConfigError,
          `${safeJson(options)} threw ${error}`,
        );
        assert.match(error.message, message);
        return true;
      },
      safeJson(options),
    );
  }
});

/** JSON of a test's options, or what reading them threw. */
function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    return String(error);
  }
}

test("options are read once: changing them afterwards changes nothing", async () => {
  const sink = memorySink();
  const options = { level: "info" as const, sinks: [sink] as Sink[] };
  const log = createLogger(options);
  options.sinks.push({ name: "late", write: () => {} });
  (options as { level: string }).level = "debug";
  log.debug("not emitted");
  log.info("emitted");
  await log.flush();
  assert.deepEqual(sink.records.map((r) => r.msg), ["emitted"]);
  assert.deepEqual(log.metrics().sinks.map((s) => s.name), ["memory"]);
  await log.close();
});

test("child() rejects bad targets and fields with a TtlogConfigError", async () => {
  const { log } = memoryLogger();
  const cases: [unknown[], RegExp][] = [
    [["a:b"], /child: bad target "a:b"/],
    [[""], /child: bad target ""/],
    [["a..b"], /bad target "a\.\.b"/],
    [["db.", {}], /bad target "db\."/],
    [[42], /child: expected a target string or a fields object/],
    [[null], /child/],
    [["ok", 5], /child: fields must be a plain object/],
    [["ok", [1]], /child: fields must be a plain object/],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => (log.child as (...a: unknown[]) => Logger)(...args),
      (error: unknown) =>
        error instanceof TtlogConfigError && message.test(error.message),
      JSON.stringify(args),
    );
  }
  assert.equal(log.child("ok_1-x.y").target, "ok_1-x.y");
  await finish(log);
});

// ---- close, flush, metrics ----

test("close() is idempotent, flush() after close resolves, closed sinks get nothing more", async () => {
  let closes = 0;
  let writesAfterClose = 0;
  let closed = false;
  const sink = memorySink();
  const counting: Sink = {
    name: "counting",
    write(records) {
      if (closed) writesAfterClose += records.length;
      sink.write(records);
    },
    close() {
      closes++;
      closed = true;
    },
  };
  const log = createLogger({ sinks: [counting] });
  log.info("before");
  await assertAccounting(log);
  const first = log.close();
  const second = log.close();
  await Promise.all([first, second]);
  await log.close();
  assert.equal(closes, 1);
  assert.deepEqual(sink.records.map((r) => r.msg), ["before"]);
  await log.flush();
  assert.doesNotThrow(() => log.info("after close"));
  await log.flush();
  await log.close();
  assert.equal(closes, 1);
  assert.equal(writesAfterClose, 0);
  assert.deepEqual(sink.records.map((r) => r.msg), ["before"]);
  // The event stays in the ring for snapshots: logged, not delivered.
  const m = log.metrics();
  assert.equal(m.logged, 2);
  assert.equal(m.emitted, 1);
  assert.equal(m.pending, 1);
});

test("metrics(): shape, counters and ring figures", async () => {
  const { log, sink } = memoryLogger({
    level: "info",
    ring: { bytes: 4096 },
  });
  const fresh = log.metrics();
  assert.deepEqual(Object.keys(fresh).sort(), [...METRICS_KEYS]);
  assert.deepEqual(
    { ...fresh, sinks: undefined, dictionaryEntries: 0, dictionaryBytes: 0 },
    {
      service: "app",
      logged: 0,
      recorded: 0,
      recordedBytes: 0,
      emitted: 0,
      filtered: 0,
      dropped: 0,
      lost: 0,
      pending: 0,
      lossRecords: 0,
      ringBytes: 4096,
      ringUsed: 0,
      ringHighWater: 0,
      dictionaryEntries: 0,
      dictionaryBytes: 0,
      drainPasses: 0,
      drainBatchMsP50: 0,
      drainBatchMsP99: 0,
      worker: false,
      workerRestarts: 0,
      replayed: 0,
      replays: 0,
      snapshotsStored: 0,
      snapshotStoreErrors: 0,
      snapshotStoresPending: 0,
      sinks: undefined,
    },
  );
  assert.deepEqual(fresh.sinks, [{
    name: "memory",
    written: 0,
    dropped: 0,
    errors: 0,
  }]);
  log.info("one", { a: 1 });
  log.debug("two");
  const before = log.metrics();
  assert.equal(before.logged, 2);
  assert.equal(before.recorded, 2);
  assert.equal(before.pending, 2);
  assert.ok(before.recordedBytes >= 24 && before.recordedBytes % 4 === 0);
  assert.equal(before.ringUsed, before.recordedBytes);
  assert.ok(before.dictionaryEntries >= 3, "target, site, key");
  assert.ok(before.dictionaryBytes > 0);
  const m = await finish(log);
  assert.equal(m.emitted, 1);
  assert.equal(m.filtered, 1);
  assert.equal(m.pending, 0);
  assert.ok(m.ringHighWater >= m.ringUsed);
  assert.deepEqual(m.sinks, [{
    name: "memory",
    written: 1,
    dropped: 0,
    errors: 0,
  }]);
  assert.equal(m.drainPasses, 1);
  assert.ok(m.drainBatchMsP99 >= m.drainBatchMsP50 && m.drainBatchMsP50 >= 0);
  for (const key of METRICS_KEYS) {
    if (key !== "sinks" && key !== "worker" && key !== "service") {
      assert.equal(typeof m[key], "number", key);
    }
  }
  assert.equal(sink.records.length, 1);
});

// ---- sinks ----

test("a throwing or rejecting sink does not stop the others; its errors are counted", async () => {
  let flushFailures = 0;
  const throwing: Sink = {
    name: "throwing",
    write() {
      throw new Error("disk full");
    },
  };
  const rejecting: Sink = {
    name: "rejecting",
    write() {
      return Promise.reject(new Error("network down"));
    },
    flush() {
      flushFailures++;
      throw new Error("flush failed");
    },
  };
  const good = memorySink();
  const slow: Sink & { got: LogRecord[] } = {
    name: "slow",
    got: [],
    async write(records) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      slow.got.push(...records);
    },
  };
  const log = createLogger({ sinks: [throwing, good, rejecting, slow] });
  log.info("one");
  log.info("two");
  await log.flush();
  assert.deepEqual(good.records.map((r) => r.msg), ["one", "two"]);
  assert.deepEqual(slow.got.map((r) => r.msg), ["one", "two"], "awaited");
  log.info("three");
  await log.flush();
  assert.deepEqual(good.records.map((r) => r.msg), ["one", "two", "three"]);
  const m = await assertAccounting(log);
  assert.equal(m.emitted, 3);
  const byName = Object.fromEntries(m.sinks.map((s) => [s.name, s]));
  assert.deepEqual(byName.throwing, {
    name: "throwing",
    written: 0,
    dropped: 3,
    errors: 2,
  });
  assert.deepEqual(byName.memory, {
    name: "memory",
    written: 3,
    dropped: 0,
    errors: 0,
  });
  assert.equal(byName.rejecting.errors, 2 + flushFailures);
  assert.deepEqual(byName.slow, {
    name: "slow",
    written: 3,
    dropped: 0,
    errors: 0,
  });
  assert.deepEqual(m.sinks.map((s) => s.name), [
    "throwing",
    "memory",
    "rejecting",
    "slow",
  ]);
  await log.close();
});

test("redaction covers Map entries keyed like a redacted field; other keys and non-string keys stay", async () => {
  const secret = "map-secret-7Yq2";
  const { log, sink } = memoryLogger({ redact: ["password"] });
  const headers = new Map<unknown, unknown>([
    ["Password", secret],
    ["user", "ada"],
    [42, "numeric key"],
  ]);
  log.info("map", { headers });
  await log.flush();
  const got = events(sink)[0].fields.headers as Map<unknown, unknown>;
  assert.ok(got instanceof Map);
  assert.deepEqual(
    canon(got.get("Password")),
    marker("redacted", "[Redacted]"),
  );
  assert.equal(got.get("user"), "ada");
  assert.equal(got.get(42), "numeric key");
  const { ring } = internals(log);
  const text = new TextDecoder().decode(new Uint8Array(ring.buffer));
  assert.equal(text.includes(secret), false);
  await log.close();
});

test("child(name, fields) and span(name, fields) never throw a hostile Proxy's error; their events say what failed", async () => {
  const sink = memorySink();
  const log = createLogger({ sinks: [sink], level: "debug" });
  const trap = () => {
    throw new Error("trap");
  };
  const hostile = new Proxy({}, {
    get: trap,
    ownKeys: trap,
    getPrototypeOf: trap,
    has: trap,
    getOwnPropertyDescriptor: trap,
  });
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  for (const fields of [hostile, revoked]) {
    log.child(fields as never).info("child");
    log.child("db", fields as never).info("named child");
    log.span("query", fields as never).end();
  }
  await log.flush();
  assert.deepEqual(
    sink.records.map((r) => r.msg),
    [
      "child",
      "named child",
      "query started",
      "query ended",
      "child",
      "named child",
      "query started",
      "query ended",
    ],
  );
  for (const record of sink.records) {
    assert.match(JSON.stringify(record.fields), /Threw: .*(trap|revoked)/);
  }
  // Still refused: what is no object at all.
  assert.throws(() => log.child(42 as never), TtlogConfigError);
  await log.close();
});

for (const worker of [false, true]) {
  test(
    `a log call made while a value is being logged (a getter, toJSON, a child's fields, an array) goes in after it; nothing stays pending (drain ${
      worker ? "in its worker" : "inline"
    })`,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "ttlog-reentrant-"));
      const path = join(dir, "out.ndjson");
      try {
        const log = createLogger({
          level: "debug",
          worker,
          sinks: [fileSink({ path, format: "ndjson" })],
        });
        const lazy = {
          get value() {
            log.info("from a getter", { n: 1 });
            return 42;
          },
        };
        const json = {
          toJSON() {
            log.warn("from toJSON");
            return "j";
          },
        };
        log.info("outer", { lazy });
        log.info("outer2", { json, n: 1 });
        log.info("in an array", { items: [lazy] });
        const child = log.child({ lazy });
        child.info("child's own");
        // A getter that logs the object it belongs to: bounded, not a hang.
        const loop: Record<string, unknown> = {};
        Object.defineProperty(loop, "again", {
          enumerable: true,
          get() {
            log.info("loop", { loop });
            return 1;
          },
        });
        log.info("looping", { loop });
        log.info("after");
        await log.flush();
        const lines = readFileSync(path, "utf8").trim().split("\n").map((l) =>
          JSON.parse(l) as Record<string, unknown>
        );
        const msgs = lines.map((l) => l.msg);
        assert.deepEqual(msgs.slice(0, 9), [
          "outer",
          "from a getter",
          "outer2",
          "from toJSON",
          "in an array",
          "from a getter",
          "from a getter",
          "child's own",
          "looping",
        ]);
        assert.equal(msgs.at(-1), "after");
        assert.ok(msgs.filter((m) => m === "loop").length <= 4);
        const m = log.metrics();
        assert.equal(m.pending, 0);
        assert.equal(m.lost, 0);
        assert.equal(
          m.logged,
          m.emitted + m.filtered + m.dropped + m.lost + m.pending,
        );
        assert.equal(m.emitted, lines.length);
        await log.close();
        assert.equal(log.metrics().pending, 0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}
