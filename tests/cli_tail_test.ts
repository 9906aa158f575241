import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  appendFileSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger, fileSink, memorySink } from "../mod.ts";
import { runCli } from "../src/cli/run.ts";
import { readTtlog } from "../src/ttlog_file/chunk_reader.ts";
import { scriptCommand } from "./fixtures/spawn.ts";
import {
  at,
  encodeChunks,
  type TestEvent,
  ttlogFile,
} from "./fixtures/cli_records.ts";
import { lines, ndjson, tempDir, ttlog } from "./fixtures/cli_run.ts";
import { sleep } from "./helpers.ts";

const CLI = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));

function numbered(
  from: number,
  count: number,
  level: TestEvent["level"] = "info",
): TestEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    time: at("10:00:00") + (from + i) * 1000,
    level,
    msg: `event ${from + i}`,
  }));
}

async function waitFor(
  what: string,
  ready: () => boolean,
  ms = 20_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test("tail without -f: the last 10 events, -n N, -n all, -n 0, filters", async () => {
  const dir = tempDir();
  try {
    const path = join(dir, "a.ttlog");
    writeFileSync(
      path,
      ttlogFile([{ header: { service: "api" } }, {
        producer: 0,
        events: numbered(0, 15),
      }, {
        producer: 1,
        events: numbered(15, 3, "error"),
      }], "gzip"),
    );
    const msgs = async (...args: string[]) => {
      const run = await ttlog("tail", path, "--format", "ndjson", ...args);
      assert.equal(run.status, 0, run.stderr);
      return ndjson(run.stdout).map((r) => r.msg);
    };
    assert.deepEqual(await msgs(), numbered(8, 10).map((e) => e.msg));
    assert.deepEqual(await msgs("-n", "2"), ["event 16", "event 17"]);
    assert.equal((await msgs("--last", "all")).length, 18);
    assert.deepEqual(await msgs("-n", "0"), []);
    assert.deepEqual(await msgs("--level", "error", "-n", "2"), [
      "event 16",
      "event 17",
    ]);
    assert.deepEqual(await msgs("--since", "2s", "-n", "all"), [
      "event 15",
      "event 16",
      "event 17",
    ]);
    const text = await ttlog("tail", path, "-n", "1");
    assert.deepEqual(lines(text.stdout), [
      "2026-11-25T10:00:17.000Z ERROR event 17",
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  "tail -f in a child process prints chunks as they are appended, waits out a partial chunk, and starts over when the file is truncated",
  { timeout: 90_000 },
  async () => {
    const dir = tempDir();
    try {
      const path = join(dir, "live.ttlog");
      const parts = encodeChunks([
        // Padded: the file must be longer than the snapshot's header chunk
        // written after the truncation, which holds all of its metrics.
        {
          header: {
            service: "api",
            note: Array.from({ length: 200 }, (_, i) => i * 7919).join(","),
          },
        },
        { producer: 0, events: numbered(0, 3) },
        { producer: 0, events: numbered(3, 2) },
        { producer: 0, events: numbered(5, 2, "error"), firstSeq: 5 },
        {
          producer: 0,
          lost: 4,
          reason: "overwritten before the drain read them",
        },
        { producer: 0, events: numbered(11, 1), firstSeq: 11 },
      ], "lz4");
      writeFileSync(path, Buffer.concat(parts.slice(0, 2)));

      // A real snapshot, split into its chunks, for after the truncation.
      const log = createLogger({
        service: "shop",
        sinks: [memorySink()],
        snapshot: { dir },
      });
      for (let i = 0; i < 5; i++) log.info("step", { i });
      const snapshot = readTtlog(
        new Uint8Array(readFileSync(await log.snapshot("tail"))),
        { chunks: true },
      );
      await log.close();
      const chunks = snapshot.items.map((item) => item.chunk!);
      assert.equal(chunks.length, 3);

      const [command, base] = scriptCommand(CLI);
      const child = spawn(command, [
        ...base,
        "tail",
        path,
        "-f",
        "-n",
        "1",
        "--format",
        "ndjson",
        "--interval",
        "50",
        "--idle-exit",
        "3000",
      ], { env: { ...globalThis.process?.env, NO_COLOR: "1" } });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (data) => (stdout += data));
      child.stderr.on("data", (data) => (stderr += data));
      const exited = new Promise<number | null>((resolve) =>
        child.on("close", (code) => resolve(code))
      );
      const msgs = () => ndjson(stdout).map((r) => r.msg);
      try {
        await waitFor("the last existing event", () => stdout.includes("\n"));
        assert.deepEqual(msgs(), ["event 2"]);

        appendFileSync(path, parts[2]);
        await waitFor("the second chunk", () => msgs().length === 3);
        assert.deepEqual(msgs(), ["event 2", "event 3", "event 4"]);

        // Half a chunk: nothing new until the rest arrives.
        appendFileSync(path, parts[3].subarray(0, 25));
        await sleep(500);
        assert.equal(msgs().length, 3);
        appendFileSync(path, parts[3].subarray(25));
        await waitFor("the third chunk", () => msgs().length === 5);

        appendFileSync(path, Buffer.concat([parts[4], parts[5]]));
        await waitFor(
          "the loss and the fourth chunk",
          () => msgs().length === 7,
        );
        assert.deepEqual(msgs().slice(3), [
          "event 5",
          "event 6",
          "lost 4 events",
          "event 11",
        ]);

        // Truncated, then written again (smaller): read from the start.
        const size = readFileSync(path).length;
        assert.ok(
          chunks[0].stored.length < size,
          `${chunks[0].stored.length} ${size}`,
        );
        truncateSync(path, 0);
        appendFileSync(path, chunks[0].stored);
        await waitFor("the truncation notice", () => stderr.includes("shrank"));
        assert.match(
          stderr,
          new RegExp(
            `live\\.ttlog shrank from ${size} to \\d+ bytes \\(truncated\\); reading it again from its start`,
          ),
        );
        appendFileSync(path, chunks[1].stored);
        await waitFor("the snapshot's events", () => msgs().length === 12);
        const records = ndjson(stdout).slice(7);
        assert.deepEqual(
          records.map((r) => [r.service, r.msg, r.i]),
          [0, 1, 2, 3, 4].map((i) => ["shop", "step", i]),
        );
        appendFileSync(path, chunks[2].stored);
        assert.equal(await exited, 0, stderr);
        assert.equal(msgs().length, 12);
      } finally {
        child.kill();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "tail -f notices a rotated file (the path names a new file) and a file rewritten past where it was read",
  { timeout: 60_000 },
  async () => {
    const dir = tempDir();
    try {
      const path = join(dir, "app.ttlog");
      const first = encodeChunks([{ header: { service: "one" } }, {
        producer: 0,
        events: numbered(0, 2),
      }]);
      writeFileSync(path, Buffer.concat(first));
      let stdout = "";
      let stderr = "";
      const done = runCli(
        [
          "tail",
          path,
          "-f",
          "-n",
          "all",
          "--format",
          "ndjson",
          "--interval",
          "20",
          "--idle-exit",
          "1500",
        ],
        {
          stdout: (text) => (stdout += text),
          stderr: (text) => (stderr += text),
        },
      );
      assert.ok(done instanceof Promise);
      const msgs = () => ndjson(stdout).map((r) => `${r.service}:${r.msg}`);
      await waitFor("the first events", () => msgs().length === 2);

      renameSync(path, path + ".1");
      await sleep(100);
      writeFileSync(
        path,
        ttlogFile([{ header: { service: "two" } }, {
          producer: 0,
          events: numbered(10, 1),
        }], "gzip"),
      );
      await waitFor("the rotated file's event", () => msgs().length === 3);
      assert.match(
        stderr,
        /app\.ttlog was replaced \(rotated\); reading the new file from its start/,
      );

      // Rewritten in place, longer than before, between two looks.
      writeFileSync(
        path,
        ttlogFile([{ header: { service: "three", padding: "x".repeat(200) } }, {
          producer: 0,
          events: numbered(20, 2),
        }], "gzip"),
      );
      await waitFor("the rewritten file's events", () => msgs().length === 5);
      assert.match(
        stderr,
        /app\.ttlog was rewritten \(its first bytes changed\); reading it again from its start/,
      );
      assert.deepEqual(msgs(), [
        "one:event 0",
        "one:event 1",
        "two:event 10",
        "three:event 20",
        "three:event 21",
      ]);
      assert.equal(await done, 0);

      // A file that is not .ttlog fails at once; so does one that goes bad later.
      const foreign = join(dir, "notes.txt");
      writeFileSync(foreign, "plain text, not chunks\n");
      const notTtlog = await ttlog("tail", foreign, "-f", "--idle-exit", "100");
      assert.equal(notTtlog.status, 1);
      assert.match(notTtlog.stderr, /notes\.txt is not a \.ttlog file/);
      const later = join(dir, "later.ttlog");
      writeFileSync(later, Buffer.concat(first));
      let laterErr = "";
      const failing = runCli([
        "tail",
        later,
        "-f",
        "--interval",
        "20",
        "--idle-exit",
        "3000",
      ], {
        stdout: () => {},
        stderr: (text) => (laterErr += text),
      });
      await sleep(100);
      appendFileSync(later, "garbage that is no chunk");
      assert.equal(await failing, 1);
      assert.match(laterErr, /later\.ttlog: .*chunk at byte \d+/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "tail -f follows what a fileSink with format ttlog writes",
  { timeout: 60_000 },
  async () => {
    const dir = tempDir();
    try {
      const path = join(dir, "app.ttlog");
      const log = createLogger({
        service: "live",
        sinks: [fileSink({ path, format: "ttlog", compression: "lz4" })],
      });
      for (let i = 0; i < 3; i++) log.info("tick", { i });
      await log.flush();
      let stdout = "";
      let stderr = "";
      const done = runCli(
        [
          "tail",
          path,
          "-f",
          "-n",
          "all",
          "--format",
          "ndjson",
          "--interval",
          "20",
          "--idle-exit",
          "1500",
        ],
        {
          stdout: (text) => (stdout += text),
          stderr: (text) => (stderr += text),
        },
      );
      const seen = () =>
        ndjson(stdout).map((r) => `${r.service}:${r.msg}:${r.i ?? r.order}`);
      await waitFor("the events already written", () => seen().length === 3);
      log.error("payment failed", { order: 7 });
      log.info("tick", { i: 3 });
      await log.flush();
      await waitFor(
        "the events written while following",
        () => seen().length === 5,
      );
      await log.close();
      assert.equal(await done, 0, stderr);
      assert.deepEqual(seen(), [
        "live:tick:0",
        "live:tick:1",
        "live:tick:2",
        "live:payment failed:7",
        "live:tick:3",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
