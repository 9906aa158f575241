// captureConsole: console methods land in ttlog at their levels, formatted
// as the console would, errors attached; restore puts everything back;
// capturing twice is a clear error.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  captureConsole,
  createLogger,
  memorySink,
  TtlogConfigError,
} from "../mod.ts";

test("console methods log at their levels, formatted, with errors attached; restore puts them back", async () => {
  const sink = memorySink();
  const log = createLogger({ sinks: [sink], level: "trace", directives: "" });
  const before = { ...console };
  const restore = captureConsole(log);
  let restored = false;
  try {
    assert.notEqual(console.log, before.log);
    console.log("user %s has %d items", "ada", 3);
    console.info("plain", { a: 1 });
    console.warn("careful");
    console.error("failed:", new TypeError("bad input"));
    console.debug("details %o", [1, 2]);
    console.trace("tracing");
  } finally {
    restore();
    restored = true;
  }
  assert.ok(restored);
  for (const method of ["log", "info", "warn", "error", "debug", "trace"]) {
    assert.equal(
      (console as unknown as Record<string, unknown>)[method],
      (before as unknown as Record<string, unknown>)[method],
      method,
    );
  }
  await log.flush();
  assert.deepEqual(
    sink.records.map((r) => [r.level, r.target]),
    [
      ["info", "console"],
      ["info", "console"],
      ["warn", "console"],
      ["error", "console"],
      ["debug", "console"],
      ["trace", "console"],
    ],
  );
  assert.equal(sink.records[0].msg, "user ada has 3 items");
  assert.equal(sink.records[1].msg, "plain { a: 1 }");
  assert.match(sink.records[3].msg, /^failed: TypeError: bad input/);
  assert.equal((sink.records[3].fields.err as Error).name, "TypeError");
  assert.match(sink.records[4].msg, /^details \[ 1, 2/);
  // Restored: nothing more is captured.
  const count = sink.records.length;
  console.debug("%s", "after restore (printed by the real console)");
  await log.flush();
  assert.equal(sink.records.length, count);
  await log.close();
});

test("capturing twice is a clear error; restoring twice is harmless; a bad logger is refused", async () => {
  const log = createLogger({ sinks: [memorySink()] });
  const restore = captureConsole(log, { target: "legacy" });
  try {
    assert.throws(
      () => captureConsole(log),
      (error: Error) =>
        error instanceof TtlogConfigError &&
        /already captured/.test(error.message),
    );
  } finally {
    restore();
  }
  restore();
  const again = captureConsole(log);
  again();
  assert.throws(
    () => captureConsole({} as never),
    (error: Error) =>
      error instanceof TtlogConfigError &&
      /must be a logger from createLogger/.test(error.message),
  );
  await log.close();
});
