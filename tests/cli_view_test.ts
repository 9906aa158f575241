import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  at,
  encodeChunks,
  encodeRecord,
  type TestEvent,
  ttlogFile,
} from "./fixtures/cli_records.ts";
import { lines, ndjson, tempDir, ttlog } from "./fixtures/cli_run.ts";

const EVENTS: TestEvent[] = [
  {
    time: at("10:00:00"),
    level: "info",
    msg: "login",
    fields: { user: { id: 42 }, ok: true },
  },
  {
    time: at("10:00:01"),
    level: "info",
    msg: "login",
    fields: { user: { id: "42" } },
  },
  {
    time: at("10:00:02"),
    level: "warn",
    target: "db",
    msg: "slow",
    fields: { ms: 900, "http.status": 200 },
  },
  {
    time: at("10:00:03"),
    level: "error",
    target: "db.pool",
    msg: "boom",
    fields: { user: { id: 7 } },
  },
];

function withFile(
  name: string,
  bytes: Uint8Array,
  body: (path: string, dir: string) => Promise<void>,
): () => Promise<void> {
  return async () => {
    const dir = tempDir();
    try {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      await body(path, dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const basic = ttlogFile([{ header: { service: "api" } }, {
  producer: 0,
  events: EVENTS,
}, { end: true }], "lz4");

async function msgs(...args: string[]): Promise<string[]> {
  const run = await ttlog(...args, "--format", "ndjson");
  assert.equal(run.status, 0, run.stderr);
  return ndjson(run.stdout).map((r) =>
    `${r.msg}@${new Date(r.time as number).toISOString().slice(11, 19)}`
  );
}

test(
  "view --where: dotted paths, literal dotted keys, != (absent or different), presence, absence, all must hold",
  withFile("a.ttlog", basic, async (path) => {
    assert.deepEqual(await msgs("view", path, "--where", "user.id=42"), [
      "login@10:00:00",
      "login@10:00:01",
    ]);
    assert.deepEqual(await msgs("view", path, "--where", "user.id!=42"), [
      "slow@10:00:02",
      "boom@10:00:03",
    ]);
    assert.deepEqual(await msgs("view", path, "--where", "ms"), [
      "slow@10:00:02",
    ]);
    assert.deepEqual(await msgs("view", path, "--where", "!user"), [
      "slow@10:00:02",
    ]);
    assert.deepEqual(await msgs("view", path, "--where", "http.status=200"), [
      "slow@10:00:02",
    ]);
    assert.deepEqual(
      await msgs("view", path, "--where", "user.id=42", "--where", "ok=true"),
      ["login@10:00:00"],
    );
    assert.deepEqual(
      await msgs(
        "view",
        path,
        "--where=ms=900",
        "--level",
        "warn",
        "--target",
        "db",
      ),
      [
        "slow@10:00:02",
      ],
    );
    assert.deepEqual(
      await msgs("view", path, "--target", "db", "--level", "error"),
      ["boom@10:00:03"],
    );
    assert.deepEqual(await msgs("view", path, "--grep", "900"), [
      "slow@10:00:02",
    ]);
    for (const bad of ["=1", "a..b=1", "!", ".x"]) {
      const run = await ttlog("view", path, "--where", bad);
      assert.equal(run.status, 1, bad);
      assert.match(
        run.stderr,
        /--where .* needs a field name or a dotted path/,
      );
      assert.equal(run.stdout, "");
    }
  }),
);

test(
  "view --since/--until: ISO times (inclusive, zones, dates) and durations back from the newest event of all files",
  withFile("a.ttlog", basic, async (path, dir) => {
    assert.deepEqual(
      await msgs(
        "view",
        path,
        "--since",
        "2026-11-25T10:00:01Z",
        "--until",
        "2026-11-25T10:00:02Z",
      ),
      [
        "login@10:00:01",
        "slow@10:00:02",
      ],
    );
    assert.deepEqual(
      await msgs("view", path, "--since", "2026-11-25T11:00:02.5+01:00"),
      ["boom@10:00:03"],
    );
    assert.deepEqual(
      await msgs("view", path, "--since", "2026-11-25 10:00:03"),
      ["boom@10:00:03"],
    );
    assert.equal((await msgs("view", path, "--since", "2026-11-25")).length, 4);
    assert.deepEqual(await msgs("view", path, "--since", "1s"), [
      "slow@10:00:02",
      "boom@10:00:03",
    ]);
    assert.deepEqual(await msgs("view", path, "--until", "2s"), [
      "login@10:00:00",
      "login@10:00:01",
    ]);
    assert.deepEqual(
      await msgs("view", path, "--since", "1500ms", "--level", "error"),
      ["boom@10:00:03"],
    );
    // The newest event of all the files given: a later file moves "1s" forward.
    const later = join(dir, "later.ttlog");
    writeFileSync(
      later,
      ttlogFile([{
        producer: 0,
        events: [{ time: at("10:00:10"), level: "info", msg: "later" }],
      }]),
    );
    assert.deepEqual(await msgs("view", path, later, "--since", "8s"), [
      "slow@10:00:02",
      "boom@10:00:03",
      "later@10:00:10",
    ]);
    assert.deepEqual(
      await msgs("view", path, later, "--since", "0.5m", "--last", "2"),
      ["boom@10:00:03", "later@10:00:10"],
    );

    for (
      const bad of [
        "yesterday",
        "10:00",
        "5x",
        "2026-13-01",
        "2026-02-30T00:00:00Z",
        "-5m",
        "",
      ]
    ) {
      const run = await ttlog("view", path, "--since", bad);
      assert.equal(run.status, 1, bad);
      assert.match(run.stderr, /--since .* is not a time: give an ISO time/);
    }
    const until = await ttlog("view", path, "--until", "soon");
    assert.match(until.stderr, /--until "soon" is not a time/);
  }),
);

test(
  "view merges producers and files by time: ties go to the earlier file, then the lower producer; each producer keeps its own order",
  async () => {
    const dir = tempDir();
    try {
      const a = join(dir, "a.ttlog");
      const b = join(dir, "b.ttlog");
      writeFileSync(
        a,
        ttlogFile([
          { header: { service: "a" } },
          // Producer 1's chunk comes first in the file; producer 0 still wins ties.
          {
            producer: 1,
            events: [{ time: at("10:00:01"), level: "info", msg: "a1-x" }],
          },
          {
            producer: 0,
            events: [
              { time: at("10:00:01"), level: "info", msg: "a0-x" },
              // The clock stepped back: still after a0-x, its producer's order.
              { time: at("10:00:00"), level: "info", msg: "a0-y" },
              { time: at("10:00:02"), level: "info", msg: "a0-z" },
            ],
          },
        ], "gzip"),
      );
      writeFileSync(
        b,
        ttlogFile([{ header: { service: "b" } }, {
          producer: 0,
          events: [{ time: at("10:00:00"), level: "info", msg: "b0-x" }, {
            time: at("10:00:01"),
            level: "info",
            msg: "b0-y",
          }],
        }]),
      );
      const run = await ttlog("view", a, b, "--format", "ndjson");
      assert.equal(run.status, 0, run.stderr);
      const records = ndjson(run.stdout);
      assert.deepEqual(records.map((r) => r.msg), [
        "b0-x",
        "a0-x",
        "a0-y",
        "a1-x",
        "b0-y",
        "a0-z",
      ]);
      assert.deepEqual(records.map((r) => r.service), [
        "b",
        "a",
        "a",
        "a",
        "b",
        "a",
      ]);
      // Text, and only the last N.
      const text = await ttlog("view", a, b, "--last", "2");
      assert.deepEqual(lines(text.stdout), [
        "2026-11-25T10:00:01.000Z INFO  b0-y",
        "2026-11-25T10:00:02.000Z INFO  a0-z",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

const withLosses = ttlogFile([
  { header: { service: "api" } },
  {
    producer: 0,
    events: [{ time: at("10:00:00"), level: "info", msg: "first" }],
  },
  { producer: 0, lost: 5, reason: "overwritten before the drain read them" },
  {
    producer: 0,
    events: [{ time: at("10:00:02"), level: "debug", msg: "after" }],
  },
  {
    producer: 1,
    events: [{ time: at("10:00:01"), level: "info", msg: "other" }],
  },
  { producer: 1, lost: 2, reason: "dropped: the ring was full" },
  { end: true },
]);

test(
  "loss chunks show as 'lost N events' records (target ttlog, warn) before the producer's next event, or after its last",
  withFile("loss.ttlog", withLosses, async (path) => {
    const run = await ttlog("view", path, "--format", "ndjson");
    assert.equal(run.status, 0, run.stderr);
    const records = ndjson(run.stdout);
    assert.deepEqual(
      records.map((r) => `${r.msg}@${(r.time as number) - at("10:00:00")}`),
      [
        "first@0",
        "other@1000",
        "lost 2 events@1000",
        "lost 5 events@2000",
        "after@2000",
      ],
    );
    assert.deepEqual(records[3], {
      time: at("10:00:02"),
      level: "warn",
      target: "ttlog",
      msg: "lost 5 events",
      service: "api",
      lost: 5,
      reason: "overwritten before the drain read them",
    });
    assert.deepEqual(await msgs("view", path, "--target", "ttlog"), [
      "lost 2 events@10:00:01",
      "lost 5 events@10:00:02",
    ]);
  }),
);

test(
  "stats: counts by level, target and call site, events per second in at most 60 round buckets, losses, first and last",
  withFile("loss.ttlog", withLosses, async (path, dir) => {
    const run = await ttlog("stats", path, "--json");
    assert.equal(run.status, 0, run.stderr);
    const stats = JSON.parse(run.stdout);
    assert.equal(stats.events, 3);
    assert.equal(stats.first, "2026-11-25T10:00:00.000Z");
    assert.equal(stats.last, "2026-11-25T10:00:02.000Z");
    assert.equal(stats.spanMs, 2000);
    assert.deepEqual(stats.levels, { debug: 1, info: 2 });
    assert.deepEqual(stats.targets, { "": 3 });
    assert.deepEqual(stats.losses, {
      lost: 7,
      lossChunks: 2,
      lossRecords: 0,
      byReason: {
        "overwritten before the drain read them": 5,
        "dropped: the ring was full": 2,
      },
      undecodable: 0,
    });
    assert.equal(stats.rate.bucketMs, 50);
    assert.equal(stats.rate.buckets.length, 41);
    assert.equal(stats.rate.peakPerSecond, 20);
    assert.equal(stats.rate.meanPerSecond, (3 * 1000) / (41 * 50));
    assert.equal(
      stats.rate.buckets.reduce(
        (n: number, b: { events: number }) => n + b.events,
        0,
      ),
      3,
    );
    assert.deepEqual(stats.rate.buckets[0], {
      start: "2026-11-25T10:00:00.000Z",
      events: 1,
      perSecond: 20,
    });
    assert.equal(stats.files[0].service, "api");

    // A busier file over two hours: coarser buckets, the busiest sites first,
    // a "lost N events" record among the events counted as a loss too.
    const events: TestEvent[] = [];
    for (let i = 0; i < 500; i++) {
      events.push({
        time: at("10:00:00") + i * 14_400,
        level: i % 10 === 0 ? "error" : "info",
        target: i % 2 === 0 ? "http" : "db",
        msg: i % 10 === 0 ? "failed" : i % 3 === 0 ? "query" : "request",
        fields: { i },
      });
    }
    events.push({
      time: at("12:00:00"),
      level: "warn",
      target: "ttlog",
      msg: "lost 9 events",
      fields: { lost: 9, reason: "dropped" },
    });
    const busy = join(dir, "busy.ttlog");
    writeFileSync(
      busy,
      ttlogFile(
        [{ header: { service: "api" } }, { producer: 0, events }],
        "lz4",
      ),
    );
    const json = JSON.parse(
      (await ttlog("stats", busy, "--json", "--top", "2")).stdout,
    );
    assert.equal(json.events, 501);
    assert.equal(json.rate.bucketMs, 300_000);
    assert.ok(json.rate.buckets.length <= 60);
    assert.equal(
      json.rate.buckets.reduce(
        (n: number, b: { events: number }) => n + b.events,
        0,
      ),
      501,
    );
    const count = (level: string, target: string, msg: string) =>
      events.filter((e) =>
        e.level === level && e.target === target && e.msg === msg
      ).length;
    assert.deepEqual(json.sites, [
      {
        level: "info",
        target: "db",
        msg: "request",
        count: count("info", "db", "request"),
      },
      {
        level: "info",
        target: "http",
        msg: "request",
        count: count("info", "http", "request"),
      },
    ]);
    assert.ok(
      json.sites[0].count > count("info", "db", "query"),
      "the busiest first",
    );
    assert.equal(json.siteCount, 6);
    assert.deepEqual(json.targets, { db: 250, http: 250, ttlog: 1 });
    assert.equal(json.losses.lossRecords, 1);
    assert.equal(json.losses.lost, 9);
    const filtered = JSON.parse(
      (await ttlog("stats", busy, "--json", "--level", "error")).stdout,
    );
    assert.deepEqual(filtered.levels, { error: 50 });

    const text = await ttlog("stats", busy);
    assert.equal(text.status, 0, text.stderr);
    assert.match(
      text.stdout,
      /^501 events, 2026-11-25T10:00:00.000Z to 2026-11-25T12:00:00.000Z \(2h\)/,
    );
    assert.match(
      text.stdout,
      new RegExp(
        `busiest call sites \\(6 in all\\):\n +${
          count("info", "db", "request")
        } +info +db "request"`,
      ),
    );
    assert.match(
      text.stdout,
      /events per second \(5m buckets, peak [\d.]+\/s, mean [\d.]+\/s\):\n {2}[▁▂▃▄▅▆▇█ ]{25}\n/,
    );
    assert.match(
      text.stdout,
      /losses: 9 events lost \(0 loss chunks, 1 loss records\)\n +9 +dropped/,
    );
  }),
);

test(
  "convert: ndjson or text to stdout or, through a temporary file, to --out; never over the input",
  withFile("a.ttlog", basic, async (path, dir) => {
    const viewed = await ttlog("view", path, "--format", "ndjson");
    const converted = await ttlog("convert", path, "--to", "ndjson");
    assert.equal(converted.status, 0, converted.stderr);
    assert.equal(converted.stdout, viewed.stdout);
    assert.equal(ndjson(converted.stdout).length, 4);

    const out = join(dir, "a.txt");
    const toFile = await ttlog(
      "convert",
      path,
      "--to",
      "text",
      "--out",
      out,
      "--level",
      "warn",
    );
    assert.equal(toFile.status, 0, toFile.stderr);
    assert.equal(toFile.stdout, "");
    assert.deepEqual(lines(readFileSync(out, "utf8")), [
      "2026-11-25T10:00:02.000Z WARN  db slow ms=900 http.status=200",
      "2026-11-25T10:00:03.000Z ERROR db.pool boom user={id:7}",
    ]);
    assert.equal(statSync(out).mode & 0o777, 0o600);

    const before = readFileSync(path);
    for (const target of [path, join(dir, ".", "a.ttlog")]) {
      const refused = await ttlog(
        "convert",
        path,
        "--to",
        "ndjson",
        "--out",
        target,
      );
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /--out .* is the input file/);
    }
    assert.deepEqual(readFileSync(path), before);

    const noTo = await ttlog("convert", path);
    assert.equal(noTo.status, 1);
    assert.match(noTo.stderr, /--to ndjson or --to text is required/);
    const badTo = await ttlog("convert", path, "--to", "xml");
    assert.match(badTo.stderr, /--to must be text or ndjson, got "xml"/);
    const two = await ttlog("convert", path, path, "--to", "text");
    assert.match(two.stderr, /give exactly one FILE \(got 2\)/);
    const noDir = await ttlog(
      "convert",
      path,
      "--to",
      "text",
      "--out",
      join(dir, "missing", "x.txt"),
    );
    assert.equal(noDir.status, 1);
    assert.match(noDir.stderr, /cannot write .*x\.txt/);
  }),
);

test(
  "a truncated file shows what came before (status 0); a corrupt chunk stops reading there (status 1, earlier events shown)",
  async () => {
    const dir = tempDir();
    try {
      const parts = encodeChunks([
        { header: { service: "api" } },
        { producer: 0, events: EVENTS.slice(0, 2) },
        { producer: 0, events: EVENTS.slice(2) },
      ]);
      const cut = join(dir, "cut.ttlog");
      writeFileSync(
        cut,
        Buffer.concat([parts[0], parts[1], parts[2].subarray(0, 20)]),
      );
      const truncated = await ttlog("view", cut);
      assert.equal(truncated.status, 0);
      assert.equal(lines(truncated.stdout).length, 2);
      assert.match(
        truncated.stderr,
        /cut\.ttlog is truncated at byte \d+; read what came before/,
      );

      const bad = Buffer.concat(parts);
      bad[parts[0].length + parts[1].length + 30] ^= 0xff;
      const corrupt = join(dir, "corrupt.ttlog");
      writeFileSync(corrupt, bad);
      const damaged = await ttlog("view", corrupt);
      assert.equal(damaged.status, 1);
      assert.equal(lines(damaged.stdout).length, 2);
      assert.match(
        damaged.stderr,
        /corrupt\.ttlog: .*checksum.*; read the chunks before it/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "one events chunk of 300,000 records (more than a call's arguments can hold) is read and filtered",
  { timeout: 60_000 },
  async () => {
    const dir = tempDir();
    try {
      const n = 300_000;
      const one = encodeRecord({
        time: at("10:00:00"),
        level: "info",
        msg: "tick",
      });
      const error = encodeRecord({
        time: at("10:00:01"),
        level: "error",
        msg: "boom",
      });
      assert.equal(one.length, error.length);
      const records = new Uint8Array(one.length * n);
      for (let i = 0; i < n; i++) {
        records.set(i % 1000 === 999 ? error : one, i * one.length);
      }
      const { eventsChunk, encodeChunk } = await import(
        "../src/ttlog_file/chunk_writer.ts"
      );
      const path = join(dir, "big.ttlog");
      const seqs = Array.from({ length: n }, (_, i) => i);
      writeFileSync(
        path,
        encodeChunk(
          2,
          eventsChunk(0, [], { records, seqs, timeBase: 0 }),
          "lz4",
        ),
      );
      const run = await ttlog(
        "view",
        path,
        "--level",
        "error",
        "--format",
        "ndjson",
      );
      assert.equal(run.status, 0, run.stderr);
      assert.equal(lines(run.stdout).length, n / 1000);
      const stats = JSON.parse((await ttlog("stats", path, "--json")).stdout);
      assert.deepEqual(stats.levels, { info: n - n / 1000, error: n / 1000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
