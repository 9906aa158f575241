import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger, memorySink } from "../mod.ts";
import { scriptCommand } from "./fixtures/spawn.ts";

const CLI = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));

function cli(
  ...args: string[]
): { status: number | null; stdout: string; stderr: string } {
  const [command, base] = scriptCommand(CLI);
  const run = spawnSync(command, [...base, ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...globalThis.process?.env, NO_COLOR: "1" },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

test(
  "ttlog view and stats read a snapshot: the debug events that were never emitted appear",
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "ttlog-cli-"));
    try {
      const log = createLogger({
        service: "shop",
        level: "error",
        sinks: [memorySink()],
        snapshot: { dir },
      });
      const db = log.child("db");
      for (let i = 0; i < 20; i++) db.debug`query ${i}`;
      log.warn("slow", { ms: 900 });
      log.error("boom", { order: 7 });
      const path = await log.snapshot("boom");
      await log.close();

      const all = cli("view", path);
      assert.equal(all.status, 0, all.stderr);
      const lines = all.stdout.trimEnd().split("\n");
      assert.equal(lines.length, 22);
      assert.match(lines[0], /DEBUG db query 0$/);
      assert.match(lines.at(-1)!, /ERROR boom order=7$/);

      const warn = cli("view", path, "--level", "warn", "--format", "ndjson");
      assert.equal(warn.status, 0, warn.stderr);
      const records = warn.stdout.trimEnd().split("\n").map((line) =>
        JSON.parse(line)
      );
      assert.deepEqual(records.map((r) => r.msg), ["slow", "boom"]);

      const target = cli("view", path, "--target", "db", "--last", "2");
      assert.deepEqual(
        target.stdout.trimEnd().split("\n").map((l) => l.replace(/^\S+ /, "")),
        [
          "DEBUG db query 18",
          "DEBUG db query 19",
        ],
      );
      assert.equal(
        cli("view", path, "--grep", "order").stdout.trimEnd().split("\n")
          .length,
        1,
      );

      const stats = cli("stats", path, "--json");
      assert.equal(stats.status, 0, stats.stderr);
      const counts = JSON.parse(stats.stdout);
      assert.equal(counts.events, 22);
      assert.deepEqual(counts.levels, { debug: 20, warn: 1, error: 1 });
      assert.deepEqual(counts.targets, { db: 20, "": 2 });
      assert.match(cli("stats", path).stdout, /^22 events/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "ttlog says clearly what is wrong: a missing file, a file that is not .ttlog, a bad option",
  { timeout: 120_000 },
  () => {
    const dir = mkdtempSync(join(tmpdir(), "ttlog-cli-"));
    try {
      const missing = cli("view", join(dir, "nope.ttlog"));
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /cannot read .*nope\.ttlog/);
      const foreign = join(dir, "notes.txt");
      writeFileSync(foreign, "just some text\n");
      const notTtlog = cli("view", foreign);
      assert.equal(notTtlog.status, 1);
      assert.match(notTtlog.stderr, /is not a \.ttlog file/);
      const badLevel = cli("view", foreign, "--level", "loud");
      assert.equal(badLevel.status, 1);
      assert.match(badLevel.stderr, /--level must be one of/);
      const unknown = cli("frobnicate");
      assert.equal(unknown.status, 1);
      assert.match(unknown.stderr, /unknown command "frobnicate"/);
      const help = cli("view", "--help");
      assert.equal(help.status, 0);
      assert.match(help.stdout, /usage: ttlog view FILE/);
      assert.equal(cli().status, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
