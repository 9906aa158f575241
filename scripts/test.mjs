#!/usr/bin/env node
// @ts-check
/**
 * Runs the test suite under Deno, Bun and Node, one after another, then the
 * JSDoc examples (`deno test --doc`), streaming each runner's output while
 * capturing it, then prints one line per run and, as the very last line,
 * `N passed, N failed` summed over all of them. Exits non-zero when anything
 * failed.
 *
 * Before any suite it checks the outside tools the tests run (the list is in
 * scripts/tools.mjs) and installs the missing ones where it can; where it
 * cannot, it stops with one message saying what to install.
 *
 * Usage:
 *   node scripts/test.mjs [deno|bun|node|docs ...] [-- runner args...]
 *
 * Runner args that start with `-` are passed to each test runner as they are
 * (use `--flag=value` so the value is not taken for a path); any other arg is
 * a test file that replaces the default set, `tests/*_test.ts`, and leaves
 * the doc examples out unless `docs` is named.
 *
 * Environment:
 *   TTLOG_TEST_TIMEOUT_MS  per-runtime limit, default 15 minutes.
 *
 * @module
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { bin, onInterrupt, repoRoot, spawnGroup } from "./spawn.mjs";
import {
  countParsers,
  formatRuntimeLine,
  formatTotalLine,
  judgeRun,
} from "./test_summary.mjs";
import { ensureTools } from "./tools.mjs";

/** @typedef {import("./test_summary.mjs").RunVerdict} RunVerdict */
/** @typedef {"deno" | "bun" | "node" | "docs"} RuntimeName */

/** @type {RuntimeName[]} */
const runtimeNames = ["deno", "bun", "node", "docs"];
/** Which summary each run prints: the doc examples run under deno test. */
const parserFor = /** @type {const} */ ({
  deno: countParsers.deno,
  bun: countParsers.bun,
  node: countParsers.node,
  docs: countParsers.deno,
});
// What the JSDoc examples may do: temporary files, local servers and
// sockets, the environment, the host name. Nothing else, so an example that
// needs more fails here rather than in a reader's hands.
const docPermissions = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-sys",
];

const runtimeTimeoutMs = Number(
  process.env.TTLOG_TEST_TIMEOUT_MS ?? 15 * 60 * 1000,
);
if (!(runtimeTimeoutMs > 0)) {
  process.stderr.write(
    `TTLOG_TEST_TIMEOUT_MS must be a positive number of milliseconds, got "${process.env.TTLOG_TEST_TIMEOUT_MS}".\n`,
  );
  process.exit(2);
}
// Bun kills a test after 5s by default and ignores `timeout` in bunfig.toml
// (oven-sh/bun#7789); Deno and Node have no per-test limit, so give Bun a
// generous one to keep the runtimes failing for the same reasons.
const bunPerTestTimeoutMs = 60 * 1000;

/**
 * Bun takes a bare argument for a file-name filter, and a path only when it
 * starts with `./`, `../` or `/`.
 *
 * @param {string} file
 * @returns {string}
 */
function asBunPath(file) {
  return /^\.{0,2}\//.test(file) ? file : `./${file}`;
}

/**
 * Builds the command line for one runtime. Every runtime gets the same
 * explicit file list: by themselves Deno also picks up `*.test.ts` and Bun
 * also `*.test.*` and `*.spec.*`, which would make the counts disagree.
 *
 * @param {RuntimeName} runtime
 * @param {readonly string[]} files Test files relative to the repo root.
 * @param {readonly string[]} flags Extra runner flags.
 * @returns {{ command: string, args: string[] }}
 */
function commandFor(runtime, files, flags) {
  switch (runtime) {
    case "deno":
      return { command: bin("deno"), args: ["test", "-A", ...flags, ...files] };
    case "bun":
      return {
        command: bin("bun"),
        args: [
          "test",
          `--timeout=${bunPerTestTimeoutMs}`,
          ...flags,
          ...files.map(asBunPath),
        ],
      };
    case "node":
      return {
        command: bin("tsx"),
        // spec, not the TAP that Node picks for pipes: it reads better in logs
        args: ["--test", "--test-reporter=spec", ...flags, ...files],
      };
    case "docs":
      return {
        command: bin("deno"),
        args: ["test", "--doc", ...docPermissions, "mod.ts", "src/"],
      };
  }
}

/**
 * Lists `tests/*_test.ts`, sorted, relative to the repo root.
 *
 * @returns {string[]}
 */
function defaultTestFiles() {
  const testsDir = join(repoRoot, "tests");
  if (!existsSync(testsDir)) return [];
  return readdirSync(testsDir)
    .filter((name) => name.endsWith("_test.ts"))
    .sort()
    .map((name) => `tests/${name}`);
}

/**
 * Runs one runtime's suite, streaming its output and judging the result.
 *
 * @param {RuntimeName} runtime
 * @param {readonly string[]} files
 * @param {readonly string[]} flags
 * @returns {Promise<RunVerdict>}
 */
function runRuntime(runtime, files, flags) {
  const { command, args } = commandFor(runtime, files, flags);
  process.stdout.write(`\n=== ${runtime}: ${args.join(" ")}\n\n`);
  const { child, result } = spawnGroup(runtime, command, args, {
    stdio: ["ignore", "pipe", "pipe"],
    timeoutMs: runtimeTimeoutMs,
  });
  /** @type {Buffer[]} */
  const chunks = [];
  child.stdout?.on("data", (/** @type {Buffer} */ chunk) => {
    chunks.push(chunk);
    process.stdout.write(chunk);
  });
  child.stderr?.on("data", (/** @type {Buffer} */ chunk) => {
    chunks.push(chunk);
    process.stderr.write(chunk);
  });
  return result.then(({ exitCode, signal, timedOutAfterMs, error }) => {
    if (error !== null) {
      return {
        passed: 0,
        failed: 1,
        problem: `could not start ${command}: ${error.message}`,
      };
    }
    const output = Buffer.concat(chunks).toString("utf8");
    return judgeRun(parserFor[runtime](output), {
      exitCode,
      signal,
      timedOutAfterMs,
    });
  });
}

/**
 * Splits argv into runtimes to run, runner flags and test files.
 *
 * @param {readonly string[]} argv Arguments after the script name.
 * @returns {{ runtimes: RuntimeName[], flags: string[], files: string[] }}
 */
function parseArgs(argv) {
  const separator = argv.indexOf("--");
  const own = separator === -1 ? argv : argv.slice(0, separator);
  const passed = separator === -1 ? [] : argv.slice(separator + 1);
  for (const name of own) {
    if (!runtimeNames.includes(/** @type {RuntimeName} */ (name))) {
      process.stderr.write(
        `Unknown runtime "${name}": expected ${runtimeNames.join(", ")}.\n` +
          "Usage: node scripts/test.mjs [deno|bun|node|docs ...] [-- runner args...]\n",
      );
      process.exit(2);
    }
  }
  const files = passed.filter((arg) => !arg.startsWith("-"));
  // Chosen test files are a quick run of those files: the doc examples come
  // along only when asked for by name.
  const byDefault = files.length === 0
    ? runtimeNames
    : runtimeNames.filter((name) => name !== "docs");
  return {
    runtimes: own.length === 0
      ? byDefault
      : runtimeNames.filter((name) => own.includes(name)),
    flags: passed.filter((arg) => arg.startsWith("-")),
    files,
  };
}

/** @type {Array<[string, RunVerdict]>} */
const results = [];

onInterrupt((signal) => {
  const interrupted = { passed: 0, failed: 1, problem: `got ${signal}` };
  const verdicts = [...results.map(([, verdict]) => verdict), interrupted];
  process.stdout.write(`\ninterrupted\n${formatTotalLine(verdicts)}\n`);
});

const { runtimes, flags, files: chosenFiles } = parseArgs(
  process.argv.slice(2),
);
const files = chosenFiles.length > 0 ? chosenFiles : defaultTestFiles();

const tools = ensureTools();
if (!tools.ok && chosenFiles.length === 0) {
  // One message instead of a pile of failures: nothing has run yet.
  process.stdout.write(
    `\n=== summary\ntools: ${
      tools.message?.split("\n")[0]
    }\n0 passed, 1 failed\n`,
  );
  process.exit(1);
}

if (files.length === 0) {
  results.push(["tests", {
    passed: 0,
    failed: 1,
    problem: "tests/*_test.ts matched no files",
  }]);
} else {
  for (const runtime of runtimes) {
    results.push([runtime, await runRuntime(runtime, files, flags)]);
  }
}

const lines = results.map(([runtime, verdict]) =>
  formatRuntimeLine(runtime, verdict)
);
const cleanTotals = new Set(
  results
    .filter(([runtime, verdict]) =>
      runtime !== "docs" && verdict.problem === null
    )
    .map(([, verdict]) => verdict.passed + verdict.failed),
);
if (cleanTotals.size > 1) {
  lines.push(
    "warning: runtimes ran different numbers of tests (skipped tests, or a file one runtime missed?)",
  );
}
const verdicts = results.map(([, verdict]) => verdict);
lines.push(formatTotalLine(verdicts));
process.stdout.write(`\n=== summary\n${lines.join("\n")}\n`);
process.exitCode = verdicts.some((verdict) => verdict.failed > 0) ? 1 : 0;
