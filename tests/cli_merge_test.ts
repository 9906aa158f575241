import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger, memorySink } from "../mod.ts";
import { readTtlog } from "../src/ttlog_file/chunk_reader.ts";
import { selectEvents } from "../src/reader/select.ts";
import {
  at,
  encodeChunks,
  type TestEvent,
  ttlogFile,
} from "./fixtures/cli_records.ts";
import { ndjson, tempDir, ttlog } from "./fixtures/cli_run.ts";

function events(
  prefix: string,
  times: string[],
  level: TestEvent["level"] = "info",
): TestEvent[] {
  return times.map((t, i) => ({
    time: at(t),
    level,
    target: prefix,
    msg: `${prefix} ${i}`,
    fields: { i, p: prefix },
  }));
}

test(
  "merge: one time-ordered .ttlog file that view shows exactly as it shows the inputs together",
  { timeout: 60_000 },
  async () => {
    const dir = tempDir();
    try {
      // Two processes' files with colliding producer numbers, ties in time,
      // loss chunks (one before a later chunk, one trailing) and another service.
      const a = join(dir, "a.ttlog");
      writeFileSync(
        a,
        ttlogFile([
          { header: { service: "api", pid: 1 } },
          {
            producer: 0,
            events: events("a0", ["10:00:00", "10:00:02", "10:00:04"]),
          },
          {
            producer: 1,
            events: events("a1", ["10:00:01", "10:00:02"], "warn"),
          },
          {
            producer: 1,
            lost: 5,
            reason: "overwritten before the drain read them",
          },
          {
            producer: 1,
            events: events("a1b", ["10:00:05", "10:00:06"]),
            firstSeq: 10,
          },
          { producer: 0, lost: 2, reason: "dropped: the ring was full" },
          { end: true },
        ], "lz4"),
      );
      const b = join(dir, "b.ttlog");
      writeFileSync(
        b,
        ttlogFile([
          { header: { service: "worker", pid: 2 } },
          {
            producer: 0,
            events: events("b0", ["10:00:02", "10:00:03", "10:00:05"], "error"),
          },
          { end: true },
        ], "gzip"),
      );
      // A real snapshot: dictionary ids, templates, values of every kind.
      const log = createLogger({
        service: "shop",
        sinks: [memorySink()],
        snapshot: { dir },
      });
      const db = log.child("db", { pool: "main" });
      for (let i = 0; i < 50; i++) db.debug`query ${i} took ${i * 1.5}ms`;
      log.error("boom", {
        err: new TypeError("bad"),
        when: new Date(0),
        big: 12n,
        set: new Set([1]),
      });
      const c = await log.snapshot("merge test");
      await log.close();

      const merged = join(dir, "merged.ttlog");
      const run = await ttlog("merge", a, b, c, "--out", merged);
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, "");

      // The same records in the same order, field for field.
      const inputs = selectEvents([a, b, c], {}).records;
      const output = selectEvents([merged], {}).records;
      assert.equal(
        output.length,
        7 + 3 + 51 + 2,
        "events and two loss records",
      );
      assert.deepEqual(output, inputs);
      for (const format of ["ndjson", "text"]) {
        const together = await ttlog("view", a, b, c, "--format", format);
        const one = await ttlog("view", merged, "--format", format);
        assert.equal(one.stdout, together.stdout, format);
      }
      const warn = await ttlog(
        "view",
        merged,
        "--level",
        "warn",
        "--format",
        "ndjson",
      );
      assert.deepEqual(
        warn.stdout,
        (await ttlog("view", a, b, c, "--level", "warn", "--format", "ndjson"))
          .stdout,
      );
      assert.ok(
        ndjson(warn.stdout).some((r) =>
          r.msg === "lost 5 events" && r.service === "api"
        ),
      );

      // The file itself: header naming the inputs, renumbered producers,
      // loss chunks kept, chunks in time order, an end chunk that adds up.
      const { items, error, truncatedAt } = readTtlog(
        new Uint8Array(readFileSync(merged)),
      );
      assert.equal(error, undefined);
      assert.equal(truncatedAt, undefined);
      const header = items[0];
      assert.ok(header.kind === "header");
      assert.equal(header.meta.reason, "merge");
      assert.equal(header.meta.service, "api");
      assert.equal(header.meta.producers, 4);
      const list = header.meta.merged as {
        path: string;
        meta: { service: string };
        producers: Record<string, number>;
      }[];
      assert.deepEqual(list.map((m) => [m.path, m.meta.service, m.producers]), [
        [a, "api", { 0: 0, 1: 1 }],
        [b, "worker", { 0: 2 }],
        [c, "shop", { 0: 3 }],
      ]);
      const losses = items.filter((item) => item.kind === "loss");
      assert.deepEqual(
        losses.map((l) => l.kind === "loss" && [l.producer, l.lost]),
        [[0, 2], [1, 5]],
        "a trailing loss right after its producer's last chunk",
      );
      const firsts = items.flatMap((item) =>
        item.kind === "events" ? [item.records[0].time] : []
      );
      assert.deepEqual(
        firsts,
        [...firsts].sort((x, y) => x - y),
        "events chunks in time order",
      );
      const end = items.at(-1)!;
      assert.ok(end.kind === "end");
      assert.equal(end.events, 61);
      assert.equal(end.chunks, items.length - 1);
      assert.equal(
        readTtlog(new Uint8Array(readFileSync(merged))).compression,
        "lz4",
      );

      // Other compressions read back the same; merging a merged file changes nothing.
      for (const compression of ["none", "gzip"]) {
        const other = join(dir, `merged-${compression}.ttlog`);
        assert.equal(
          (await ttlog(
            "merge",
            a,
            b,
            c,
            "--out",
            other,
            "--compression",
            compression,
          )).status,
          0,
        );
        assert.equal(
          readTtlog(new Uint8Array(readFileSync(other))).compression,
          compression,
        );
        assert.deepEqual(selectEvents([other], {}).records, inputs);
      }
      const again = join(dir, "again.ttlog");
      assert.equal((await ttlog("merge", merged, "--out", again)).status, 0);
      assert.deepEqual(selectEvents([again], {}).records, inputs);
      const stats = JSON.parse((await ttlog("stats", merged, "--json")).stdout);
      assert.equal(stats.events, 61);
      assert.equal(stats.losses.lost, 7);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "merge refuses to write over an input, reads the whole chunks of a truncated input, and rejects a corrupt one",
  async () => {
    const dir = tempDir();
    try {
      const parts = encodeChunks([
        { header: { service: "api" } },
        { producer: 0, events: events("x", ["10:00:00"]) },
        { producer: 0, events: events("y", ["10:00:01"]) },
      ], "lz4");
      const whole = join(dir, "whole.ttlog");
      writeFileSync(whole, Buffer.concat(parts));
      const before = readFileSync(whole);
      const refused = await ttlog("merge", whole, "--out", whole);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /--out .*whole\.ttlog is the input file/);
      assert.deepEqual(readFileSync(whole), before);

      const cut = join(dir, "cut.ttlog");
      writeFileSync(
        cut,
        Buffer.concat([parts[0], parts[1], parts[2].subarray(0, 9)]),
      );
      const out = join(dir, "out.ttlog");
      const truncated = await ttlog("merge", cut, "--out", out);
      assert.equal(truncated.status, 0, truncated.stderr);
      assert.match(
        truncated.stderr,
        /cut\.ttlog is truncated at byte \d+; merging the whole chunks before it/,
      );
      assert.deepEqual(
        ndjson((await ttlog("view", out, "--format", "ndjson")).stdout).map((
          r,
        ) => r.msg),
        ["x 0"],
      );

      const bad = Buffer.concat(parts);
      bad[parts[0].length + parts[1].length + 20] ^= 0x55;
      const corrupt = join(dir, "corrupt.ttlog");
      writeFileSync(corrupt, bad);
      const rejected = await ttlog(
        "merge",
        whole,
        corrupt,
        "--out",
        join(dir, "never.ttlog"),
      );
      assert.equal(rejected.status, 1);
      assert.match(
        rejected.stderr,
        /^ttlog merge: .*corrupt\.ttlog: .*nothing was written/,
      );
      assert.throws(() => readFileSync(join(dir, "never.ttlog")));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
