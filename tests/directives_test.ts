import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Directives,
  isValidTarget,
  levelFor,
  minLevel,
  parseDirectives,
} from "../src/directives.ts";
import { TtlogConfigError } from "../src/errors.ts";
import { Level } from "../src/level.ts";

const { trace, debug, info, warn, error, fatal, off } = Level;

test("parseDirectives reads a default and targets", () => {
  assert.deepEqual(parseDirectives("warn,db=debug,http.client=trace"), {
    default: warn,
    targets: [
      { target: "db", level: debug },
      { target: "http.client", level: trace },
    ],
  });
});

test("parseDirectives trims whitespace and skips empty entries", () => {
  assert.deepEqual(parseDirectives("  info , db = error ,, ,\t"), {
    default: info,
    targets: [{ target: "db", level: error }],
  });
});

test("parseDirectives accepts empty and blank specs", () => {
  for (const spec of ["", "   ", ",", " , ,"]) {
    assert.deepEqual(parseDirectives(spec), {
      default: undefined,
      targets: [],
    });
  }
});

test("parseDirectives: level names are case-insensitive, off allowed", () => {
  assert.deepEqual(parseDirectives("FATAL,Db=Off,x=DeBuG"), {
    default: fatal,
    targets: [
      { target: "Db", level: off },
      { target: "x", level: debug },
    ],
  });
  assert.equal(parseDirectives("OFF").default, off);
});

test("parseDirectives keeps target case and allows _ and - in segments", () => {
  const directives = parseDirectives("My_App.http-client.v2=info");
  assert.deepEqual(directives.targets, [
    { target: "My_App.http-client.v2", level: info },
  ]);
  assert.equal(levelFor(directives, "my_app.http-client.v2", warn), warn);
});

test("parseDirectives: a later duplicate wins", () => {
  const directives = parseDirectives("db=trace,info,db=error,warn");
  assert.equal(directives.default, warn);
  assert.deepEqual(directives.targets, [{ target: "db", level: error }]);
  assert.equal(levelFor(directives, "db.pool", trace), error);
});

test("parseDirectives returns frozen data", () => {
  const directives = parseDirectives("info,db=debug");
  assert.ok(Object.isFrozen(directives));
  assert.ok(Object.isFrozen(directives.targets));
  assert.ok(Object.isFrozen(directives.targets[0]));
});

/** Asserts that `spec` throws a TtlogConfigError whose message is `message`. */
function assertBad(spec: string, message: string): void {
  assert.throws(
    () => parseDirectives(spec),
    (thrown: unknown) => {
      assert.ok(thrown instanceof TtlogConfigError);
      assert.equal(thrown.name, "TtlogConfigError");
      assert.equal(thrown.message, message);
      return true;
    },
  );
}

const EXPECTED =
  "(expected one of trace, debug, info, warn, error, fatal, off)";

test("parseDirectives names an unknown level and its entry", () => {
  assertBad(
    "warn,db=verbose",
    `directives: bad entry "db=verbose" (entry 2 of "warn,db=verbose"): unknown level "verbose" ${EXPECTED}`,
  );
  assertBad(
    "loud",
    `directives: bad entry "loud" (entry 1 of "loud"): unknown level "loud" ${EXPECTED}; for a target, write loud=<level>`,
  );
  assertBad(
    "info,,constructor",
    `directives: bad entry "constructor" (entry 3 of "info,,constructor"): unknown level "constructor" ${EXPECTED}; for a target, write constructor=<level>`,
  );
  assertBad(
    "x=toString",
    `directives: bad entry "x=toString" (entry 1 of "x=toString"): unknown level "toString" ${EXPECTED}`,
  );
});

test("parseDirectives rejects an empty target or level", () => {
  assertBad(
    "=debug",
    `directives: bad entry "=debug" (entry 1 of "=debug"): empty target before "=" (write target=level)`,
  );
  assertBad(
    "info, db= ",
    `directives: bad entry "db=" (entry 2 of "info, db= "): empty level after "=" (write target=level)`,
  );
  assertBad(
    "=",
    `directives: bad entry "=" (entry 1 of "="): empty target before "=" (write target=level)`,
  );
});

test("parseDirectives rejects more than one =", () => {
  assertBad(
    "a=b=c",
    `directives: bad entry "a=b=c" (entry 1 of "a=b=c"): more than one "=" (write target=level)`,
  );
});

test("parseDirectives rejects malformed targets", () => {
  const rule =
    '(targets are dot-separated, non-empty segments of letters, digits, _ and -, such as "http.client")';
  for (
    const [spec, entry, target] of [
      ["my db=debug", "my db=debug", "my db"],
      ["info,db..pool=debug", "db..pool=debug", "db..pool"],
      [".db=debug", ".db=debug", ".db"],
      ["db.=debug", "db.=debug", "db."],
      ["app:db=debug", "app:db=debug", "app:db"],
      ["app/db=debug", "app/db=debug", "app/db"],
      ["*=debug", "*=debug", "*"],
    ]
  ) {
    const position = spec.startsWith("info,") ? 2 : 1;
    assertBad(
      spec,
      `directives: bad entry ${JSON.stringify(entry)} (entry ${position} of ${
        JSON.stringify(spec)
      }): bad target ${JSON.stringify(target)} ${rule}`,
    );
  }
});

test("parseDirectives rejects non-string input", () => {
  for (
    const [input, type] of [[42, "number"], [null, "null"], [
      undefined,
      "undefined",
    ], [{}, "object"]] as const
  ) {
    assert.throws(
      () => parseDirectives(input as unknown as string),
      (thrown: unknown) =>
        thrown instanceof TtlogConfigError &&
        thrown.message ===
          `directives: expected a string such as "warn,db=debug", got ${type}`,
    );
  }
});

test("isValidTarget follows the directive target rule", () => {
  for (const good of ["db", "db.pool", "a-b_c.D9"]) {
    assert.equal(isValidTarget(good), true, good);
  }
  for (const bad of ["", ".", "db.", ".db", "db..pool", "a b", "a:b", "a/b"]) {
    assert.equal(isValidTarget(bad), false, bad);
  }
});

test("levelFor matches whole dot segments only", () => {
  const directives = parseDirectives("db=debug");
  assert.equal(levelFor(directives, "db", info), debug);
  assert.equal(levelFor(directives, "db.pool", info), debug);
  assert.equal(levelFor(directives, "db.pool.x", info), debug);
  assert.equal(levelFor(directives, "dbx", info), info);
  assert.equal(levelFor(directives, "dbx.pool", info), info);
  assert.equal(levelFor(directives, "d", info), info);
  assert.equal(levelFor(directives, "app.db", info), info);
});

test("levelFor: the longest matching target wins, in any order", () => {
  for (
    const spec of [
      "db=debug,db.pool=error,db.pool.conn=trace",
      "db.pool.conn=trace,db.pool=error,db=debug",
    ]
  ) {
    const directives = parseDirectives(spec);
    assert.equal(levelFor(directives, "db.query", info), debug, spec);
    assert.equal(levelFor(directives, "db.pool", info), error, spec);
    assert.equal(levelFor(directives, "db.pool.idle", info), error, spec);
    assert.equal(levelFor(directives, "db.pool.conn.1", info), trace, spec);
    assert.equal(levelFor(directives, "db.poolx", info), debug, spec);
  }
});

test("levelFor falls back to the default, then the fallback", () => {
  const withDefault = parseDirectives("warn,db=debug");
  assert.equal(levelFor(withDefault, "http", info), warn);
  const without = parseDirectives("db=debug");
  assert.equal(levelFor(without, "http", info), info);
  assert.equal(levelFor(without, "http", fatal), fatal);
});

test("levelFor: the root target gets only the default", () => {
  assert.equal(levelFor(parseDirectives("error,db=trace"), "", info), error);
  assert.equal(levelFor(parseDirectives("db=trace"), "", info), info);
});

test("levelFor: off disables a subtree", () => {
  const directives = parseDirectives("trace,noisy=off,noisy.important=warn");
  assert.equal(levelFor(directives, "noisy.chatter", info), off);
  assert.equal(levelFor(directives, "noisy.important.x", info), warn);
  assert.equal(levelFor(directives, "quiet", info), trace);
});

test("levelFor: among equal hand-built targets the later wins", () => {
  const directives: Directives = {
    default: undefined,
    targets: [
      { target: "db", level: trace },
      { target: "db", level: error },
    ],
  };
  assert.equal(levelFor(directives, "db.pool", info), error);
});

test("minLevel is the lowest level any target can be enabled at", () => {
  assert.equal(
    minLevel(parseDirectives("warn,db=debug,http=error"), info),
    debug,
  );
  assert.equal(minLevel(parseDirectives("warn"), trace), warn);
  assert.equal(minLevel(parseDirectives("db=error"), info), info);
  assert.equal(minLevel(parseDirectives("db=trace"), info), trace);
  assert.equal(minLevel(parseDirectives(""), fatal), fatal);
  assert.equal(minLevel(parseDirectives("off"), info), off);
  assert.equal(minLevel(parseDirectives("off,db=info"), trace), info);
});
