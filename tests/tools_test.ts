// npm test's set-up step (scripts/tools.mjs): what it decides for missing
// tools, the one message it stops with, and that a present tool gives
// nothing. A missing tool is simulated with its override variable pointing
// at a file that does not exist, so these tests install nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";
import {
  locate,
  missingTools,
  planSetup,
  toolPath,
  TOOLS,
} from "../scripts/tools.mjs";

const TOOLS_SCRIPT = fileURLToPath(
  new URL("../scripts/tools.mjs", import.meta.url),
);
const TEST_SCRIPT = fileURLToPath(
  new URL("../scripts/test.mjs", import.meta.url),
);

function tool(name: string) {
  const found = TOOLS.find((candidate) => candidate.name === name);
  assert.ok(found, name);
  return found;
}

/** Runs one of the scripts with Node (npm test itself runs under Node). */
function node(script: string, args: string[], env: Record<string, string>) {
  const result = spawnSync("node", [script, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  assert.equal(result.error, undefined, String(result.error));
  return result;
}

test("tools: every tool the tests run is on the list, once, with a package and a reason", () => {
  const names = TOOLS.map((t) => t.name);
  assert.deepEqual(names, ["lz4", "gzip", "rsyslogd", "chromium", "taskset"]);
  for (const t of TOOLS) {
    assert.match(t.env, /^TTLOG_[A-Z0-9]+$/);
    assert.ok(t.debian.length > 0 && t.neededBy.length > 0, t.name);
  }
  assert.equal(new Set(TOOLS.map((t) => t.env)).size, TOOLS.length);
});

test("tools: nothing missing, nothing to do", () => {
  assert.deepEqual(
    planSetup({ missing: [], root: true, aptGet: true, platform: "linux" }),
    { action: "none" },
  );
  // npm test ran the set-up before this suite: every tool is here now.
  assert.deepEqual(missingTools(process.env), []);
  for (const t of TOOLS) assert.ok(toolPath(t.name).startsWith("/"), t.name);
});

test("tools: as root with apt-get, the missing tools are installed, with one line saying what and why", () => {
  const plan = planSetup({
    missing: [
      { tool: tool("rsyslogd"), overridden: false },
      { tool: tool("chromium"), overridden: false },
    ],
    root: true,
    aptGet: true,
    platform: "linux",
  });
  assert.equal(plan.action, "install");
  assert.ok(plan.action === "install");
  assert.deepEqual(plan.packages, ["rsyslog", "chromium"]);
  assert.doesNotMatch(plan.line, /\n/);
  assert.match(plan.line, /installing rsyslog, chromium with apt-get: /);
  assert.match(plan.line, /rsyslogd for the syslog sink's tests/);
  assert.match(plan.line, /chromium for the dashboard's browser test/);
});

test("tools: without root, or without apt-get, it stops with one message naming the tools and the command", () => {
  const missing = [
    { tool: tool("lz4"), overridden: false },
    { tool: tool("rsyslogd"), overridden: false },
  ];
  for (
    const facts of [
      { root: false, aptGet: true },
      { root: true, aptGet: false },
    ]
  ) {
    const plan = planSetup({ missing, ...facts, platform: "linux" });
    assert.ok(plan.action === "stop", JSON.stringify(facts));
    assert.match(plan.message, /runs no suite/);
    assert.match(plan.message, /^ {2}lz4 \(Debian package lz4\), for /m);
    assert.match(plan.message, /^ {2}rsyslogd \(Debian package rsyslog\)/m);
    assert.match(plan.message, /sudo apt-get install -y lz4 rsyslog/);
  }
  const mac = planSetup({
    missing,
    root: false,
    aptGet: false,
    platform: "darwin",
  });
  assert.ok(mac.action === "stop");
  assert.match(mac.message, /brew install/);
  assert.match(mac.message, /TTLOG_CHROMIUM/);
});

test("tools: an override that names no executable is reported, never installed over", () => {
  const plan = planSetup({
    missing: [{ tool: tool("chromium"), overridden: true }],
    root: true,
    aptGet: true,
    platform: "linux",
  });
  assert.ok(plan.action === "stop");
  assert.match(plan.message, /TTLOG_CHROMIUM does not name an executable file/);
  const bad = locate(tool("lz4"), { TTLOG_LZ4: "/nonexistent/lz4" });
  assert.deepEqual(bad, { path: undefined, overridden: true });
  const relative = locate(tool("lz4"), { TTLOG_LZ4: "lz4" });
  assert.deepEqual(relative, { path: undefined, overridden: true });
  const good = locate(tool("lz4"), { TTLOG_LZ4: toolPath("lz4") });
  assert.deepEqual(good, { path: toolPath("lz4"), overridden: true });
});

test("tools: a tool found only outside PATH (sbin) is still found", () => {
  const found = locate(tool("rsyslogd"), { PATH: "/nonexistent" });
  assert.equal(found.overridden, false);
  assert.ok(found.path?.endsWith("/rsyslogd"), String(found.path));
});

test("tools --check: a missing tool gives the message and exit 1; all present give nothing", () => {
  const missing = node(TOOLS_SCRIPT, ["--check"], {
    TTLOG_LZ4: "/nonexistent/lz4",
  });
  assert.equal(missing.status, 1);
  assert.equal(missing.stdout, "");
  assert.match(missing.stderr, /lz4, for the LZ4 interop tests/);
  assert.match(missing.stderr, /TTLOG_LZ4 does not name an executable file/);
  assert.doesNotMatch(missing.stderr, /rsyslogd|chromium/);

  const present = node(TOOLS_SCRIPT, ["--check"], {});
  assert.equal(present.status, 0, present.stderr);
  assert.equal(present.stdout + present.stderr, "");
});

test("npm test stops before any suite when a tool is missing, with the message and a summary line", () => {
  const run = node(TEST_SCRIPT, ["deno"], {
    TTLOG_RSYSLOGD: "/nonexistent/rsyslogd",
  });
  assert.equal(run.status, 1);
  assert.doesNotMatch(run.stdout, /=== deno/, "no suite ran");
  assert.match(run.stderr, /rsyslogd, for the syslog sink's tests/);
  assert.match(run.stdout, /0 passed, 1 failed\n$/);
});

test("toolPath: a missing tool's error says what to install", () => {
  const saved = process.env.TTLOG_GZIP;
  process.env.TTLOG_GZIP = "/nonexistent/gzip";
  try {
    assert.throws(
      () => toolPath("gzip"),
      /TTLOG_GZIP=\/nonexistent\/gzip is not an executable file/,
    );
  } finally {
    if (saved === undefined) delete process.env.TTLOG_GZIP;
    else process.env.TTLOG_GZIP = saved;
  }
  assert.throws(() => toolPath("nope"), /unknown tool "nope"/);
});
