import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger, memorySink } from "../mod.ts";
import { scriptCommand } from "./fixtures/spawn.ts";
import { at, ttlogFile } from "./fixtures/cli_records.ts";
import { tempDir, ttlog } from "./fixtures/cli_run.ts";

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

test(
  "every command has --help, and says clearly what is wrong: a missing file, a file that is not .ttlog, an unknown option, a missing value",
  async () => {
    const dir = tempDir();
    try {
      const good = join(dir, "good.ttlog");
      writeFileSync(
        good,
        ttlogFile([{ header: { service: "api" } }, {
          producer: 0,
          events: [{ time: at("10:00:00"), level: "info", msg: "hi" }],
        }]),
      );
      const foreign = join(dir, "notes.txt");
      writeFileSync(foreign, "just some text\n");
      const empty = join(dir, "empty.ttlog");
      writeFileSync(empty, "");
      const missing = join(dir, "nope.ttlog");
      const out = join(dir, "out.ttlog");
      const extra: Record<string, string[]> = {
        view: [],
        stats: [],
        convert: ["--to", "text"],
        tail: [],
        merge: ["--out", out],
      };
      for (const command of ["view", "stats", "convert", "tail", "merge"]) {
        const help = await ttlog(command, "--help");
        assert.equal(help.status, 0, command);
        assert.match(help.stdout, new RegExp(`^usage: ttlog ${command} FILE`));
        assert.equal((await ttlog("help", command)).stdout, help.stdout);
        assert.equal((await ttlog(command, good, "-h")).stdout, help.stdout);

        const cases: [string[], RegExp][] = [
          [[missing], /^ttlog: cannot read .*nope\.ttlog: /],
          [
            [foreign],
            /^ttlog: .*notes\.txt is not a \.ttlog file \(.*not a \.ttlog file/,
          ],
          [[empty], /^ttlog: .*empty\.ttlog is not a \.ttlog file/],
          [[dir], /^ttlog: (cannot read|.* is not a \.ttlog file)/],
          [
            [good, "--frobnicate"],
            new RegExp(
              `^ttlog ${command}: unknown option "--frobnicate"\\n\\nusage: ttlog ${command}`,
            ),
          ],
          [[good, "-x"], /unknown option "-x"/],
          [[], new RegExp(`^ttlog ${command}: no FILE given`)],
        ];
        for (const [args, expected] of cases) {
          const run = await ttlog(command, ...args, ...extra[command]);
          assert.equal(run.status, 1, `${command} ${args.join(" ")}`);
          assert.match(run.stderr, expected, `${command} ${args.join(" ")}`);
          assert.equal(run.stdout, "", `${command} ${args.join(" ")}`);
        }
        const valueOption = command === "merge" ? "--compression" : "--level";
        const noValue = await ttlog(
          command,
          good,
          ...extra[command],
          valueOption,
        );
        assert.equal(noValue.status, 1);
        assert.match(
          noValue.stderr,
          new RegExp(`^ttlog ${command}: ${valueOption} needs a value`),
        );
        const swallowed = await ttlog(command, good, valueOption, "--help");
        assert.equal(swallowed.status, 1);
        assert.match(swallowed.stderr, /needs a value/);
      }
      assert.match(
        (await ttlog("view", good, "--json")).stderr,
        /unknown option "--json"/,
      );
      assert.match(
        (await ttlog("view", good, "--last", "0")).stderr,
        /--last must be a positive integer, got "0"/,
      );
      assert.match(
        (await ttlog("view", good, "--format", "xml")).stderr,
        /--format must be text or ndjson/,
      );
      assert.match(
        (await ttlog("view", good, "--level", "x", "--level", "y")).stderr,
        /--level is given more than once/,
      );
      assert.match(
        (await ttlog("stats", good, "--json=yes")).stderr,
        /--json takes no value/,
      );
      assert.match(
        (await ttlog("stats", good, "--top", "many")).stderr,
        /--top must be a positive integer/,
      );
      assert.match(
        (await ttlog("merge", good)).stderr,
        /--out PATH is required/,
      );
      assert.match(
        (await ttlog("merge", good, "--out", out, "--compression", "zip"))
          .stderr,
        /--compression must be lz4, gzip or none/,
      );
      assert.match(
        (await ttlog("tail", good, "-n", "-3")).stderr,
        /--last must be a whole number or "all"/,
      );
      assert.match(
        (await ttlog("tail", good, "--interval", "0")).stderr,
        /--interval must be a positive whole number/,
      );
      assert.match(
        (await ttlog("tail", good, good)).stderr,
        /give exactly one FILE \(got 2\)/,
      );
      assert.match(
        (await ttlog("tail", good, "-f", "--until", "5m")).stderr,
        /a relative --until cannot be followed/,
      );
      // A file name that starts with a dash, after --.
      const dashed = join(dir, "-odd.ttlog");
      writeFileSync(dashed, readFileSync(good));
      const odd = await ttlog("view", "--", dashed);
      assert.equal(odd.status, 0, odd.stderr);
      assert.match(odd.stdout, /INFO {2}hi/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "the ttlog program exits with the status runCli returns: 0, 1 for a failure, 2 without a command",
  { timeout: 120_000 },
  () => {
    const dir = tempDir();
    try {
      const path = join(dir, "a.ttlog");
      writeFileSync(
        path,
        ttlogFile([{
          producer: 0,
          events: [{ time: at("10:00:00"), level: "warn", msg: "w" }],
        }]),
      );
      const ok = cli("stats", path, "--json");
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(JSON.parse(ok.stdout).events, 1);
      const bad = cli("stats", path, "--where", "=");
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /--where "=" needs a field name/);
      const none = cli();
      assert.equal(none.status, 2);
      assert.match(none.stderr, /^ttlog: read \.ttlog files/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("ttlog --version prints the version deno.json and package.json give", () => {
  const deno = JSON.parse(
    readFileSync(new URL("../deno.json", import.meta.url), "utf8"),
  );
  const npm = JSON.parse(
    readFileSync(new URL("../package.json", import.meta.url), "utf8"),
  );
  assert.equal(npm.version, deno.version);
  for (const flag of ["--version", "-V"]) {
    const run = cli(flag);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, `ttlog ${deno.version}\n`);
  }
  assert.match(cli("--help").stdout, /ttlog --version/);
});
