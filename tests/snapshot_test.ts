import { test } from "node:test";
import assert from "node:assert/strict";
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import process from "node:process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  attachLogger,
  createLogger,
  memorySink,
  TtlogConfigError,
} from "../mod.ts";
import { readTtlog } from "../src/ttlog_file/chunk_reader.ts";
import type { LogRecord } from "../mod.ts";
import { runToolOk } from "./helpers.ts";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "ttlog-snap-"));
}

function eventsOf(
  path: string,
): { meta: Record<string, unknown>; records: LogRecord[] } {
  const result = readTtlog(new Uint8Array(readFileSync(path)));
  assert.equal(result.error, undefined, String(result.error));
  assert.equal(result.truncatedAt, undefined);
  let meta: Record<string, unknown> = {};
  const records: LogRecord[] = [];
  for (const item of result.items) {
    if (item.kind === "header") meta = item.meta;
    if (item.kind === "events") records.push(...item.records);
  }
  assert.equal(result.items.at(-1)?.kind, "end");
  return { meta, records };
}

test("log.snapshot() writes the ring's last events, debug included, as a .ttlog file", async () => {
  const dir = tempDir();
  try {
    const sink = memorySink();
    const log = createLogger({
      service: "checkout",
      level: "warn",
      recordLevel: "debug",
      sinks: [sink],
      snapshot: { dir },
    });
    for (let i = 0; i < 200; i++) log.debug("step", { i });
    log.error("payment failed", { order: 7 });
    await log.flush();
    assert.equal(sink.records.length, 1, "only the error was emitted");
    const path = await log.snapshot("payment failed!");
    assert.match(
      path.slice(dir.length + 1),
      /^ttlog-checkout-\d+-\d{8}T\d{6}\.\d{3}Z-payment_failed_\.ttlog$/,
    );
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith(".tmp")), []);
    const { meta, records } = eventsOf(path);
    assert.equal(meta.service, "checkout");
    assert.equal(meta.reason, "payment failed!");
    assert.equal(typeof meta.pid, "number");
    assert.equal(records.length, 201);
    assert.deepEqual(records.slice(0, 200).map((r) => r.fields.i), [
      ...Array(200).keys(),
    ]);
    assert.equal(records.at(-1)!.msg, "payment failed");
    assert.equal(records.at(-1)!.level, "error");
    await log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("snapshots are readable by the lz4 and gzip tools, unique within a millisecond, and pruned to keep", async () => {
  const dir = tempDir();
  try {
    for (const compression of ["lz4", "gzip", "none"] as const) {
      const log = createLogger({
        service: `svc-${compression}`,
        sinks: [memorySink()],
        snapshot: { dir, compression, keep: 3 },
      });
      log.info("hello", { compression });
      const paths: string[] = [];
      for (let i = 0; i < 5; i++) paths.push(await log.snapshot("burst"));
      assert.equal(new Set(paths).size, 5, "every snapshot has its own name");
      const kept = readdirSync(dir).filter((n) =>
        n.startsWith(`ttlog-svc-${compression}-`)
      );
      assert.equal(kept.length, 3, "the newest three are kept");
      const last = paths.at(-1)!;
      assert.ok(kept.includes(last.slice(dir.length + 1)));
      if (compression !== "none") {
        const tool = compression === "lz4" ? "lz4" : "gzip";
        runToolOk(tool, ["-t", last]);
      }
      assert.equal(eventsOf(last).records[0].fields.compression, compression);
      await log.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a snapshot holds every producer's ring, an attached thread's too", async () => {
  const dir = tempDir();
  try {
    const log = createLogger({ sinks: [memorySink()], snapshot: { dir } });
    const remote = attachLogger(log.port());
    log.info("main");
    remote.info("worker");
    const { records } = eventsOf(await log.snapshot("both"));
    assert.deepEqual(records.map((r) => r.msg).sort(), ["main", "worker"]);
    await log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the window keeps the newest bytes; bad snapshot options are clear errors", async () => {
  const dir = tempDir();
  try {
    const log = createLogger({
      sinks: [memorySink()],
      snapshot: { dir, window: { bytes: 400 } },
    });
    for (let i = 0; i < 100; i++) log.info("e", { i });
    const { records } = eventsOf(await log.snapshot("window"));
    assert.ok(records.length > 0 && records.length < 100);
    assert.equal(records.at(-1)!.fields.i, 99);
    await assert.rejects(log.snapshot(""), TtlogConfigError);
    await log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (
    const [snapshot, pattern] of [
      [{ on: "crash" }, /snapshot\.on must be an array/],
      [
        { on: ["crash", "oops"] },
        /unknown snapshot\.on trigger "oops" \(known: "error", "crash", "signal" or "exit"\)/,
      ],
      [{ minIntervalMs: -1 }, /snapshot\.minIntervalMs must be/],
      [{ keep: 0 }, /snapshot\.keep must be an integer >= 1, got 0/],
      [{ compression: "zstd" }, /snapshot\.compression must be/],
      [{ window: { minutes: 1 } }, /unknown snapshot\.window option "minutes"/],
      [{ dir: "" }, /snapshot\.dir must be a non-empty string/],
    ] as const
  ) {
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => createLogger({ sinks: [memorySink()], snapshot: snapshot as any }),
      (error: Error) =>
        error instanceof TtlogConfigError && pattern.test(error.message),
    );
  }
});

test('snapshot.on ["error"]: an error event takes a snapshot that includes it, at most every minIntervalMs', async () => {
  const dir = tempDir();
  try {
    const log = createLogger({
      service: "pay",
      level: "fatal",
      sinks: [memorySink()],
      snapshot: { dir, on: ["error"], minIntervalMs: 60_000 },
    });
    for (let i = 0; i < 30; i++) log.debug("step", { i });
    log.error("card declined", { order: 1 });
    log.error("card declined again", { order: 2 });
    const files = readdirSync(dir).filter((n) => n.endsWith(".ttlog"));
    assert.equal(
      files.length,
      1,
      "the second error falls within minIntervalMs",
    );
    assert.match(files[0], /-error\.ttlog$/);
    const { meta, records } = eventsOf(join(dir, files[0]));
    assert.equal(records.length, 31);
    assert.equal(records.at(-1)!.msg, "card declined");
    assert.deepEqual(records.at(-1)!.fields, { order: 1 });
    const trigger = meta.trigger as Record<string, unknown>;
    assert.equal(trigger.kind, "error event");
    assert.equal(trigger.seq, 30);
    assert.equal(trigger.producer, 0);
    // The header holds the event's text, as the ndjson formatter gives it.
    const event = trigger.event as Record<string, unknown>;
    assert.equal(event.msg, "card declined");
    assert.equal(event.level, "error");
    assert.equal(event.order, 1);
    assert.equal(event.seq, 30);
    assert.equal(event.service, "pay");
    await log.close();

    const every = createLogger({
      service: "every",
      sinks: [memorySink()],
      snapshot: { dir, on: ["error"], minIntervalMs: 0 },
    });
    every.info("fine");
    every.fatal("down");
    every.error("still down");
    assert.equal(
      readdirSync(dir).filter((n) => n.startsWith("ttlog-every-")).length,
      2,
    );
    await every.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("snapshot() calls made together share one file; a later call writes another", async () => {
  const dir = tempDir();
  try {
    const log = createLogger({
      service: "share",
      sinks: [memorySink()],
      snapshot: { dir },
    });
    log.info("first");
    const [a, b, c] = await Promise.all([
      log.snapshot("burst"),
      log.snapshot("other"),
      log.snapshot(),
    ]);
    assert.equal(a, b);
    assert.equal(b, c);
    assert.match(a, /-burst\.ttlog$/);
    log.info("second");
    const d = await log.snapshot("later");
    assert.notEqual(d, a);
    assert.deepEqual(
      eventsOf(d).records.map((r) => r.msg),
      ["first", "second"],
    );
    assert.equal(
      readdirSync(dir).filter((n) => n.endsWith(".ttlog")).length,
      2,
    );
    // A bad reason is refused without sharing or spoiling the next one.
    await assert.rejects(
      log.snapshot(42 as unknown as string),
      /reason must be a non-empty string, got 42/,
    );
    assert.match(await log.snapshot("after"), /-after\.ttlog$/);
    await log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("snapshot({ where }) keeps only the matching events (one request's, by its id)", async () => {
  const dir = tempDir();
  try {
    const log = createLogger({ sinks: [memorySink()], snapshot: { dir } });
    for (let i = 0; i < 30; i++) {
      log.debug("step", { request_id: `r-${i % 3}`, i });
    }
    log.info("no id");
    const path = await log.snapshot("request", {
      where: { request_id: "r-1" },
    });
    const { meta, records } = eventsOf(path);
    assert.deepEqual(
      records.map((r) => r.fields.i),
      [1, 4, 7, 10, 13, 16, 19, 22, 25, 28],
    );
    assert.deepEqual(meta.trigger, {
      kind: "manual",
      where: { request_id: "r-1" },
    });
    for (
      const bad of [{ where: 5 }, { filter: {} }, null, { where: [1] }]
    ) {
      await assert.rejects(
        log.snapshot("x", bad as never),
        (error: Error) =>
          error instanceof TtlogConfigError &&
          /snapshot: options must be \{ where\?/.test(error.message),
      );
    }
    await log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("keep prunes a service's own files only: not those of a service whose name it begins (api, api-admin, api-1)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ttlog-keep-"));
  try {
    const loggers = ["api", "api-admin", "api-1"].map((service) =>
      createLogger({
        service,
        sinks: [memorySink()],
        snapshot: { dir, keep: 2 },
      })
    );
    for (let round = 0; round < 3; round++) {
      for (const log of loggers) await log.snapshot(`round ${round}`);
    }
    const files = readdirSync(dir).sort();
    const of = (service: string) =>
      files.filter((name) =>
        new RegExp(`^ttlog-${service}-\\d+-\\d{8}T`).test(name)
      );
    assert.equal(of("api").length, 2, files.join("\n"));
    assert.equal(of("api-admin").length, 2, files.join("\n"));
    assert.equal(of("api-1").length, 2, files.join("\n"));
    for (const log of loggers) await log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a writer's temporary file left by a dead process (or over five minutes old) is removed by the next snapshot; a live one stays", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ttlog-tmp-"));
  try {
    const stamp = "20261203T101010.123Z";
    // A pid that cannot run (above the kernel's pid limit).
    const dead = `.ttlog-api-4194999-${stamp}-crash.ttlog.abc123.tmp`;
    const old = `.ttlog-api-${process.pid}-${stamp}-crash.ttlog.def456.tmp`;
    const live = `.ttlog-api-${process.pid}-${stamp}-manual.ttlog.ghi789.tmp`;
    const other = "notes.tmp";
    for (const name of [dead, old, live, other]) {
      writeFileSync(join(dir, name), "partial");
    }
    const tenMinutesAgo = new Date(Date.now() - 600_000);
    utimesSync(join(dir, old), tenMinutesAgo, tenMinutesAgo);
    const log = createLogger({
      service: "web",
      sinks: [memorySink()],
      snapshot: { dir },
    });
    await log.snapshot("now");
    const names = readdirSync(dir);
    assert.ok(!names.includes(dead), names.join(", "));
    assert.ok(!names.includes(old), names.join(", "));
    assert.ok(names.includes(live), names.join(", "));
    assert.ok(names.includes(other), names.join(", "));
    await log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
