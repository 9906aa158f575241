// The LogTape bridge: a library logging through the real @logtape/logtape
// lands in ttlog, category as target, levels mapped, messages rendered,
// properties as fields, tagged templates as ttlog templates.
import { test } from "node:test";
import assert from "node:assert/strict";
import { configure, getLogger, reset } from "@logtape/logtape";
import { createLogger, memorySink, TtlogConfigError } from "../mod.ts";
import { ttlogSink } from "../src/logtape.ts";

test("a library logging through LogTape lands in ttlog", async () => {
  const sink = memorySink();
  const log = createLogger({ sinks: [sink], level: "trace", directives: "" });
  await configure({
    sinks: { ttlog: ttlogSink(log) },
    loggers: [
      { category: ["my-lib"], sinks: ["ttlog"], lowestLevel: "debug" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "fatal" },
    ],
  });
  try {
    const lib = getLogger(["my-lib", "db"]);
    lib.debug("connecting to {host}", { host: "db1", port: 5432 });
    lib.warn("slow query took {ms} ms", { ms: 812 });
    const rows = 3;
    lib.info`fetched ${rows} rows`;
    lib.error("query failed", { error: new Error("timeout") });
    lib.fatal("pool exhausted");
    getLogger(["my-lib", "weird name!"]).info("odd category");
    lib.trace("below lowestLevel: not delivered");
  } finally {
    await reset();
  }
  await log.flush();
  assert.deepEqual(
    sink.records.map((r) => [r.level, r.target, r.msg]),
    [
      ["debug", "my-lib.db", "connecting to db1"],
      ["warn", "my-lib.db", "slow query took 812 ms"],
      ["info", "my-lib.db", "fetched 3 rows"],
      ["error", "my-lib.db", "query failed"],
      ["fatal", "my-lib.db", "pool exhausted"],
      ["info", "my-lib.weird_name_", "odd category"],
    ],
  );
  assert.deepEqual(sink.records[0].fields, { host: "db1", port: 5432 });
  assert.deepEqual(sink.records[1].fields, { ms: 812 });
  assert.deepEqual(sink.records[2].fields, {});
  assert.equal((sink.records[3].fields.error as Error).message, "timeout");
  await log.close();
});

test("ttlogSink refuses a bad logger or prefix; a prefix goes before the category", async () => {
  assert.throws(
    () => ttlogSink({} as never),
    (error: Error) =>
      error instanceof TtlogConfigError &&
      /must be a logger from createLogger/.test(error.message),
  );
  const log = createLogger({ sinks: [memorySink()] });
  assert.throws(
    () => ttlogSink(log, { prefix: "a..b" }),
    /prefix "a\.\.b" is not a valid target/,
  );
  const sink = memorySink();
  const log2 = createLogger({ sinks: [sink] });
  ttlogSink(log2, { prefix: "deps" })({
    category: ["x"],
    level: "info",
    message: ["hi"],
    rawMessage: "hi",
    timestamp: Date.now(),
    properties: {},
  });
  await log2.flush();
  assert.equal(sink.records[0].target, "deps.x");
  await log.close();
  await log2.close();
});
