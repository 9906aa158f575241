// Context fields (withContext/getContext): carried by every event logged
// inside, through awaits and timers, never mixed between concurrent tasks,
// encoded correctly for each logger, and a clear error where the runtime
// has no AsyncLocalStorage.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  createLogger,
  getContext,
  type LogRecord,
  memorySink,
  TtlogConfigError,
  withContext,
} from "../mod.ts";
import { scriptCommand } from "./fixtures/spawn.ts";

const LIMIT = { timeout: 60_000 };

function logger() {
  const sink = memorySink();
  const log = createLogger({ sinks: [sink], directives: "", level: "trace" });
  return { sink, log };
}

test("every form of log call inside a context carries its fields, in order: bound, context, the call's own", async () => {
  const { sink, log } = logger();
  const child = log.child("db", { pool: "main" });
  withContext({ request_id: "r-1", user: 7 }, () => {
    log.info("plain");
    log.info("with fields", { rows: 3 });
    log.warn`template ${42}`;
    log.error(new Error("bad"), "error first");
    log.debug({ k: "v" }, "fields first");
    child.info("child", { rows: 1 });
    // The call's own field of the same name wins.
    log.info("override", { user: 8 });
  });
  log.info("outside");
  await log.flush();
  const by = (msg: string) => sink.records.find((r) => r.msg === msg)!;
  assert.deepEqual(by("plain").fields, { request_id: "r-1", user: 7 });
  assert.deepEqual(by("with fields").fields, {
    request_id: "r-1",
    user: 7,
    rows: 3,
  });
  assert.deepEqual(by("template 42").fields, { request_id: "r-1", user: 7 });
  assert.equal(by("error first").fields.request_id, "r-1");
  assert.equal((by("error first").fields.err as Error).message, "bad");
  assert.deepEqual(by("fields first").fields, {
    request_id: "r-1",
    user: 7,
    k: "v",
  });
  assert.deepEqual(Object.keys(by("child").fields), [
    "pool",
    "request_id",
    "user",
    "rows",
  ]);
  assert.equal(by("override").fields.user, 8);
  assert.deepEqual(by("outside").fields, {});
  await log.close();
});

test(
  "contexts follow awaits and timers, nest, and never mix between concurrent tasks",
  LIMIT,
  async () => {
    const { sink, log } = logger();
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const task = (id: number) =>
      withContext({ request_id: `r-${id}` }, async () => {
        for (let step = 0; step < 5; step++) {
          log.info("step", { id, step });
          await sleep((id * 7 + step * 3) % 5);
          if (step === 2) {
            await withContext({ phase: "inner" }, async () => {
              assert.deepEqual(getContext(), {
                request_id: `r-${id}`,
                phase: "inner",
              });
              await Promise.resolve();
              log.info("inner", { id });
            });
          }
        }
        queueMicrotask(() => log.info("microtask", { id }));
        await new Promise<void>((r) =>
          setTimeout(() => {
            log.info("timer", { id });
            r();
          }, 1)
        );
      });
    await Promise.all(Array.from({ length: 40 }, (_, id) => task(id)));
    await log.flush();
    assert.equal(sink.records.length, 40 * 8);
    for (const record of sink.records) {
      assert.equal(
        record.fields.request_id,
        `r-${record.fields.id}`,
        JSON.stringify(record),
      );
      assert.equal(
        record.fields.phase,
        record.msg === "inner" ? "inner" : undefined,
      );
    }
    assert.equal(getContext(), undefined);
    await log.close();
  },
);

test("one context used by two loggers is encoded for each (their dictionaries differ)", async () => {
  const a = logger();
  const b = logger();
  // Different keys interned first, so the two dictionaries' ids differ.
  a.log.info("warm", { alpha: 1, beta: 2 });
  b.log.info("warm", { gamma: 3 });
  withContext({ request_id: "r-9", tenant: "acme" }, () => {
    a.log.info("in a");
    b.log.info("in b");
    a.log.info("in a again");
  });
  await a.log.flush();
  await b.log.flush();
  const fields = (records: LogRecord[], msg: string) =>
    records.find((r) => r.msg === msg)!.fields;
  const expected = { request_id: "r-9", tenant: "acme" };
  assert.deepEqual(fields(a.sink.records, "in a"), expected);
  assert.deepEqual(fields(b.sink.records, "in b"), expected);
  assert.deepEqual(fields(a.sink.records, "in a again"), expected);
  await a.log.close();
  await b.log.close();
});

test("a context's later events copy its fields from the ring while they are there, and encode them again once evicted or out of room", async () => {
  // A small ring that blocks: nothing is lost, and the drain's reading lets
  // the first event's bytes be overwritten while the context lives on.
  const sink = memorySink();
  const log = createLogger({
    sinks: [sink],
    directives: "",
    worker: false,
    ring: { bytes: 64 * 1024, overflow: "block", maxRecordBytes: 512 },
  });
  const fields = { request_id: "r-evict", tenant: "acme", n: 12345678 };
  let resume!: () => void;
  const resumed = new Promise<void>((r) => (resume = r));
  const inside = withContext(fields, async () => {
    log.info("first");
    log.info("second", { k: 1 });
    await resumed;
    log.info("after eviction");
    log.info("copied again", { k: 2 });
    // The message leaves no room for the copy: the fields are written in
    // place as far as they fit, never a torn copy.
    log.info("x".repeat(353));
    // A cut encoding is never copied: the next event has them all.
    log.info("after the cut");
  });
  for (let i = 0; i < 2000; i++) log.info("filler", { i, pad: "p".repeat(40) });
  resume();
  await inside;
  await log.flush();
  const m = log.metrics();
  assert.equal(m.lost + m.dropped, 0);
  const by = (msg: string) => sink.records.find((r) => r.msg === msg)!;
  assert.deepEqual(by("first").fields, fields);
  assert.deepEqual(by("second").fields, { ...fields, k: 1 });
  assert.deepEqual(by("after eviction").fields, fields);
  assert.deepEqual(by("copied again").fields, { ...fields, k: 2 });
  assert.deepEqual(by("after the cut").fields, fields);
  // What fits is right; the rest is counted by the "…" marker.
  const cut = sink.records.find((r) => r.msg.startsWith("xxx"))!;
  assert.equal(cut.msg.length, 353);
  assert.ok(Object.keys(cut.fields).length < 3, JSON.stringify(cut.fields));
  for (const [key, value] of Object.entries(cut.fields)) {
    if (key === "…") assert.match(String(value), /^\[\d more keys?\]$/);
    else assert.equal(value, fields[key as keyof typeof fields], key);
  }
  assert.equal(sink.records.filter((r) => r.msg === "filler").length, 2000);
  await log.close();
});

test("context fields are redacted like any field", async () => {
  const sink = memorySink();
  const log = createLogger({ sinks: [sink], redact: ["token"] });
  withContext({ token: "secret", user: 1 }, () => log.info("call"));
  await log.flush();
  assert.deepEqual(
    JSON.stringify(sink.records[0].fields),
    JSON.stringify({
      token: "[Redacted]",
      user: 1,
    }),
  );
  await log.close();
});

test("bad arguments to withContext are clear errors and do not run the function", () => {
  let ran = false;
  for (
    const [fields, fn, pattern] of [
      [null, () => ran = true, /fields must be a plain object, got null/],
      [[1], () => ran = true, /fields must be a plain object, got an array/],
      ["id", () => ran = true, /fields must be a plain object, got string/],
      [{ a: 1 }, 42, /second argument must be a function, got number/],
    ] as const
  ) {
    assert.throws(
      () => withContext(fields as never, fn as never),
      (error: Error) =>
        error instanceof TtlogConfigError && pattern.test(error.message),
    );
  }
  assert.equal(ran, false);
});

test(
  "without AsyncLocalStorage, withContext is a clear error and logging goes on",
  LIMIT,
  () => {
    const [command, args] = scriptCommand(
      fileURLToPath(new URL("./fixtures/no_async_hooks.ts", import.meta.url)),
    );
    const result = spawnSync(command, args, {
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(result.status, 0, result.stderr);
    const out = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
    assert.match(
      out.outcome,
      /^TtlogConfigError: withContext needs AsyncLocalStorage \(node:async_hooks\), which this runtime does not provide$/,
    );
    assert.equal(out.context, null);
    assert.deepEqual(out.msgs, ["before", "after"]);
  },
);
