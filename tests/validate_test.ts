// The shared option checks (src/validate.ts), and that every sink factory
// words a bad option the same way: `<factory>: <option> must be ..., got <value>`.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  consoleSink,
  httpSink,
  memorySink,
  streamSink,
  TtlogConfigError,
} from "../mod.ts";
import { otlpSink } from "../src/otlp.ts";
import { syslogSink } from "../src/syslog.ts";
import {
  badOption,
  choiceList,
  describeError,
  describeValue,
  integerOption,
} from "../src/validate.ts";

test("describeValue shows strings quoted, bigints with n, objects by kind", () => {
  const cases: [unknown, string][] = [
    ["x", '"x"'],
    [7, "7"],
    [NaN, "NaN"],
    [10n, "10n"],
    [undefined, "undefined"],
    [null, "null"],
    [true, "true"],
    [Symbol("s"), "Symbol(s)"],
    [() => 1, "a function"],
    [[1], "an array"],
    [{ a: 1 }, "an object"],
    [Object.create(null), "an object"],
    [new Headers(), "a Headers"],
    [new Map(), "a Map"],
  ];
  for (const [value, shown] of cases) {
    assert.equal(describeValue(value), shown);
  }
});

test("describeError never throws", () => {
  assert.equal(describeError(new Error("boom")), "boom");
  assert.equal(describeError("text"), "text");
  const hostile = {
    toString() {
      throw new Error("no");
    },
  };
  assert.equal(describeError(hostile), "unknown error");
});

test("choiceList quotes and joins", () => {
  assert.equal(choiceList(["a"]), '"a"');
  assert.equal(choiceList(["a", "b"]), '"a" or "b"');
  assert.equal(choiceList(["a", "b", "c"]), '"a", "b" or "c"');
});

test("integerOption: fallback, range, message", () => {
  const bad = badOption("someSink");
  assert.equal(integerOption(bad, undefined, "n", 3), 3);
  assert.equal(integerOption(bad, 5, "n", 3), 5);
  assert.throws(
    () => integerOption(bad, 0, "n", 3),
    (error: unknown) =>
      error instanceof TtlogConfigError &&
      error.message === "someSink: n must be an integer >= 1, got 0",
  );
  assert.throws(
    () => integerOption(bad, 9, "n", 3, 0, 8),
    /someSink: n must be an integer from 0 to 8, got 9/,
  );
});

test("every sink factory words a bad option the same way", () => {
  const cases: [() => unknown, RegExp][] = [
    [
      () => consoleSink({ format: "xml" as "text" }),
      /^consoleSink: format must be "text", "ndjson" or a function, got "xml"$/,
    ],
    [
      () => consoleSink({ stream: "stdlog" as "stdout" }),
      /^consoleSink: stream must be "stdout" or "stderr", got "stdlog"$/,
    ],
    [
      () => consoleSink({ color: "yes" as unknown as boolean }),
      /^consoleSink: color must be a boolean, got "yes"$/,
    ],
    [
      () => consoleSink(null as unknown as object),
      /^consoleSink: options must be an object, got null$/,
    ],
    [
      () => memorySink({ limit: 0 }),
      /^memorySink: limit must be an integer >= 1, got 0$/,
    ],
    [
      () => memorySink({ limit: 1.5 }),
      /^memorySink: limit must be an integer >= 1, got 1\.5$/,
    ],
    [
      () => streamSink(new WritableStream(), { format: "xml" as "text" }),
      /^streamSink: format must be "ndjson" or "text", got "xml"$/,
    ],
    [
      () => httpSink({ url: "http://x/", format: "xml" as "text" }),
      /^httpSink: format must be "ndjson" or "text", got "xml"$/,
    ],
    [
      () => otlpSink({ timeoutMs: -1 }),
      /^otlpSink: timeoutMs must be a finite number of milliseconds >= 0, got -1$/,
    ],
    [
      () => syslogSink({ transport: "tls" as "udp" }),
      /^syslogSink: transport must be "udp" or "tcp", got "tls"$/,
    ],
  ];
  for (const [make, message] of cases) {
    assert.throws(
      make,
      (error: unknown) =>
        error instanceof TtlogConfigError && message.test(error.message),
      String(message),
    );
  }
});
