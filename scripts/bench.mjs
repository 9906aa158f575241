#!/usr/bin/env node
// @ts-check
/**
 * Runs the benchmark scenarios (`bench/*.ts` except the helpers) under Deno,
 * Bun and Node, one after another, streaming their output, then rewrites
 * bench/README.md and the Speed section of README.md from
 * bench/results/*.json with bench/report.ts and formats them with deno fmt.
 *
 * Usage:
 *   node scripts/bench.mjs [scenario ...] [deno|bun|node ...]
 *
 * With no scenario, every one runs; with no runtime, all three. A run's old
 * result file is removed before it starts, so a run that fails shows as a
 * gap in the report instead of an old number. Exits non-zero when any run
 * failed (the report is still written from what there is).
 *
 * Environment:
 *   TTLOG_BENCH_TIMEOUT_MS  per-run limit, default 10 minutes.
 *   TTLOG_BENCH_ROUNDS      rounds per case (bench/harness.ts; default 5).
 *   TTLOG_BENCH_ONLY        a regular expression on "group / name": only
 *                           matching cases run; no result is saved, and
 *                           the old results and the reports stay.
 *
 * @module
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { bin, onInterrupt, repoRoot, spawnGroup } from "./spawn.mjs";

const benchDir = join(repoRoot, "bench");
/** Files in bench/ that are helpers, not scenarios. */
const helpers = new Set([
  "results.ts",
  "report.ts",
  "report_tables.ts",
  "report_sections.ts",
  "report_targets.ts",
  "harness.ts",
  "peers.ts",
  "discard_sink.ts",
  "workload.ts",
  "http_server.ts",
]);
const runtimeNames = /** @type {const} */ (["deno", "bun", "node"]);
/** @typedef {typeof runtimeNames[number]} RuntimeName */

const runTimeoutMs = Number(
  process.env.TTLOG_BENCH_TIMEOUT_MS ?? 10 * 60 * 1000,
);
if (!(runTimeoutMs > 0)) {
  process.stderr.write(
    `TTLOG_BENCH_TIMEOUT_MS must be a positive number of milliseconds, got "${process.env.TTLOG_BENCH_TIMEOUT_MS}".\n`,
  );
  process.exit(2);
}

/**
 * The command line that runs one TypeScript file under one runtime.
 *
 * @param {RuntimeName} runtime
 * @param {string} file Path relative to the repo root.
 * @returns {{ command: string, args: string[] }}
 */
function commandFor(runtime, file) {
  switch (runtime) {
    case "deno":
      return { command: bin("deno"), args: ["run", "-A", file] };
    case "bun":
      return { command: bin("bun"), args: [file] };
    case "node":
      return { command: bin("tsx"), args: [file] };
  }
}

/**
 * Lists the scenario names (`bench/<name>.ts`), sorted.
 *
 * @returns {string[]}
 */
function scenarioNames() {
  return readdirSync(benchDir)
    .filter((file) => file.endsWith(".ts") && !helpers.has(file))
    .sort()
    .map((file) => file.slice(0, -".ts".length));
}

/**
 * Runs a command with the terminal's output streams, NO_COLOR=1 and a time
 * limit.
 *
 * @param {string} label What the run is, for the header and errors.
 * @param {string} command
 * @param {readonly string[]} args
 * @returns {Promise<string | null>} null when it exited 0, else the problem.
 */
function runCommand(label, command, args) {
  process.stdout.write(`\n=== ${label}: ${args.join(" ")}\n\n`);
  const { result } = spawnGroup(label, command, args, {
    stdio: ["ignore", "inherit", "inherit"],
    timeoutMs: runTimeoutMs,
  });
  return result.then(({ exitCode, signal, timedOutAfterMs, error }) => {
    if (error !== null) return `could not start ${command}: ${error.message}`;
    if (timedOutAfterMs !== null) {
      return `timed out after ${timedOutAfterMs / 1000}s`;
    }
    if (signal !== null) return `killed by ${signal}`;
    if (exitCode !== 0) return `exited with code ${exitCode}`;
    return null;
  });
}

/**
 * Splits argv into scenarios and runtimes.
 *
 * @param {readonly string[]} argv Arguments after the script name.
 * @param {readonly string[]} known The scenarios in bench/.
 * @returns {{ scenarios: string[], runtimes: RuntimeName[] }}
 */
function parseArgs(argv, known) {
  /** @type {string[]} */
  const scenarios = [];
  /** @type {RuntimeName[]} */
  const runtimes = [];
  for (const arg of argv) {
    const name = arg.replace(/^bench\//, "").replace(/\.ts$/, "");
    if (known.includes(name)) {
      scenarios.push(name);
    } else if (runtimeNames.includes(/** @type {RuntimeName} */ (name))) {
      runtimes.push(/** @type {RuntimeName} */ (name));
    } else {
      process.stderr.write(
        `Unknown scenario or runtime "${arg}": scenarios are ${
          known.join(", ")
        }; runtimes are ${runtimeNames.join(", ")}.\n` +
          "Usage: node scripts/bench.mjs [scenario ...] [deno|bun|node ...]\n",
      );
      process.exit(2);
    }
  }
  return {
    scenarios: scenarios.length === 0
      ? [...known]
      : known.filter((s) => scenarios.includes(s)),
    runtimes: runtimes.length === 0
      ? [...runtimeNames]
      : runtimeNames.filter((r) => runtimes.includes(r)),
  };
}

onInterrupt((signal) => {
  process.stdout.write(`\ninterrupted by ${signal}\n`);
});

const { scenarios, runtimes } = parseArgs(
  process.argv.slice(2),
  scenarioNames(),
);

/** @type {string[]} */
const failures = [];
const started = Date.now();
// A partial run (some cases only) saves no result: the old files and the
// report stay as they are.
const partial = Boolean(process.env.TTLOG_BENCH_ONLY);
for (const scenario of scenarios) {
  for (const runtime of runtimes) {
    const resultFile = join(benchDir, "results", `${scenario}-${runtime}.json`);
    if (!partial && existsSync(resultFile)) rmSync(resultFile);
    const { command, args } = commandFor(runtime, `bench/${scenario}.ts`);
    const label = `${scenario} on ${runtime}`;
    const problem = await runCommand(label, command, args);
    if (partial) {
      if (problem !== null) failures.push(`${label}: ${problem}`);
    } else if (problem === null && !existsSync(resultFile)) {
      failures.push(`${label}: exited 0 but wrote no ${resultFile}`);
    } else if (problem !== null) {
      failures.push(`${label}: ${problem}`);
    }
  }
}

const reportProblem = partial
  ? null
  : await runCommand("report", bin("tsx"), ["bench/report.ts"]);
if (partial) {
  // Nothing saved, nothing to report.
} else if (reportProblem !== null) {
  failures.push(`report: ${reportProblem}`);
} else {
  // The report writes plain tables (in bench/README.md and the Speed
  // section of README.md); deno fmt aligns them, so `deno fmt --check`
  // stays clean.
  const fmtProblem = await runCommand("fmt", bin("deno"), [
    "fmt",
    "--quiet",
    "bench/README.md",
    "README.md",
    "bench/results/",
  ]);
  if (fmtProblem !== null) failures.push(`deno fmt: ${fmtProblem}`);
}

const minutes = ((Date.now() - started) / 60000).toFixed(1);
process.stdout.write(
  `\n=== summary (${minutes} min)\n` +
    (failures.length === 0
      ? `${scenarios.length} scenario(s) x ${runtimes.length} runtime(s) ok; ${
        partial
          ? "TTLOG_BENCH_ONLY: a partial run, results and reports left as they were"
          : "bench/README.md rewritten"
      }\n`
      : failures.map((line) => `FAILED ${line}`).join("\n") + "\n"),
);
process.exitCode = failures.length === 0 ? 0 : 1;
