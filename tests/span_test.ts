// Spans: start and end events with the duration; failures attached; ends
// once; `using`, `await using`, run() with sync and async work.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger, memorySink, Span, TtlogConfigError } from "../mod.ts";

function setup() {
  const sink = memorySink();
  const log = createLogger({ sinks: [sink], level: "debug", directives: "" });
  return { sink, log };
}

test("using: started at debug, ended at info with ms; fields on both; ends once", async () => {
  const { sink, log } = setup();
  {
    using span = log.span("db.query", { table: "users" });
    assert.ok(span instanceof Span);
    await new Promise((r) => setTimeout(r, 15));
    span.end({ rows: 3 });
  }
  await log.flush();
  assert.deepEqual(
    sink.records.map((r) => [r.level, r.msg]),
    [["debug", "db.query started"], ["info", "db.query ended"]],
  );
  assert.deepEqual(sink.records[0].fields, { table: "users" });
  const end = sink.records[1].fields;
  assert.equal(end.table, "users");
  assert.equal(end.rows, 3);
  // Timers may fire a little early; 15 ms asked, at least 10 measured.
  assert.ok((end.ms as number) >= 10, `ms ${end.ms}`);
  await log.close();
});

test("await using ends the span; run() ends it with the outcome of sync and async work", async () => {
  const { sink, log } = setup();
  {
    await using _span = log.span("upload");
  }
  assert.equal(log.span("sum").run(() => 1 + 1), 2);
  assert.equal(
    await log.span("fetch").run(() => Promise.resolve("body")),
    "body",
  );
  assert.throws(
    () =>
      log.span("parse").run(() => {
        throw new SyntaxError("bad json");
      }),
    SyntaxError,
  );
  await assert.rejects(
    log.span("charge").run(() => Promise.reject(new Error("declined"))),
    /declined/,
  );
  await log.flush();
  assert.deepEqual(sink.records.map((r) => r.msg), [
    "upload started",
    "upload ended",
    "sum started",
    "sum ended",
    "fetch started",
    "fetch ended",
    "parse started",
    "parse failed",
    "charge started",
    "charge failed",
  ]);
  const parse = sink.records[7];
  assert.equal(parse.level, "error");
  assert.equal((parse.fields.err as Error).message, "bad json");
  assert.equal((parse.fields.err as Error).name, "SyntaxError");
  assert.equal(
    (sink.records[9].fields.err as Error).message,
    "declined",
  );
  await log.close();
});

test("a span's events follow the logger's target; a bad name is a clear error", async () => {
  const { sink, log } = setup();
  log.child("db").span("connect").end();
  await log.flush();
  assert.deepEqual(sink.records.map((r) => r.target), ["db", "db"]);
  for (const name of ["", 42, undefined]) {
    assert.throws(
      () => log.span(name as never),
      (error: Error) =>
        error instanceof TtlogConfigError &&
        /span: name must be a non-empty string/.test(error.message),
    );
  }
  await log.close();
});
