// @ts-check
/**
 * How scripts/test.mjs and scripts/bench.mjs run their child processes: a
 * tool from node_modules/.bin, in its own process group (so a time limit or
 * a Ctrl-C stops everything it started, workers included), from the repo
 * root, with NO_COLOR=1, killed past a time limit, and reaped when it ends.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The repository's root directory. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

/** How long a timed-out run gets between SIGTERM and SIGKILL. */
const killGraceMs = 10 * 1000;
// How long a run may keep its output pipes open after exiting (a leaked
// grandchild can hold them) before we stop waiting for them.
const pipeGraceMs = 5 * 1000;

/** @type {import("node:child_process").ChildProcess | null} */
let current = null;

/**
 * The path of a tool in node_modules/.bin.
 *
 * @param {string} name
 * @returns {string}
 */
export function bin(name) {
  return join(repoRoot, "node_modules", ".bin", name);
}

/**
 * Signals a child's whole process group: runners spawn their own workers,
 * which would otherwise outlive it.
 *
 * @param {import("node:child_process").ChildProcess} child
 * @param {NodeJS.Signals} signal
 */
export function signalGroup(child, signal) {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

/**
 * @typedef {object} GroupResult How a run ended.
 * @property {number | null} exitCode
 * @property {NodeJS.Signals | null} signal
 * @property {number | null} timedOutAfterMs The limit, when it was hit.
 * @property {Error | null} error Why it could not start, if it could not.
 */

/**
 * Runs a command in its own process group, from the repo root with
 * NO_COLOR=1. Past `timeoutMs` its group gets SIGTERM, then SIGKILL; when it
 * ends, whatever it left behind in its group is killed.
 *
 * @param {string} label What the run is, for the time-out message.
 * @param {string} command
 * @param {readonly string[]} args
 * @param {{ stdio: import("node:child_process").StdioOptions, timeoutMs: number }} options
 * @returns {{ child: import("node:child_process").ChildProcess, result: Promise<GroupResult> }}
 */
export function spawnGroup(label, command, args, { stdio, timeoutMs }) {
  const child = spawn(command, args, {
    cwd: repoRoot,
    // The same env for every run, so colour detection agrees.
    env: { ...process.env, NO_COLOR: "1" },
    stdio,
    // Own process group, so a timeout can kill the run's workers too.
    detached: true,
  });
  current = child;
  /** @type {number | null} */
  let timedOutAfterMs = null;
  const timeout = setTimeout(() => {
    timedOutAfterMs = timeoutMs;
    process.stderr.write(
      `\n${label}: still running after ${timeoutMs / 1000}s, killing it\n`,
    );
    signalGroup(child, "SIGTERM");
    setTimeout(() => signalGroup(child, "SIGKILL"), killGraceMs).unref();
  }, timeoutMs);
  child.on("exit", () => {
    setTimeout(() => {
      child.stdout?.destroy();
      child.stderr?.destroy();
    }, pipeGraceMs).unref();
  });
  const result = new Promise((resolve) => {
    let settled = false;
    /** @param {GroupResult} outcome */
    const settle = (outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      if (current === child) current = null;
      resolve(outcome);
    };
    child.on("error", (error) => {
      settle({ exitCode: null, signal: null, timedOutAfterMs, error });
    });
    child.on("close", (exitCode, signal) => {
      // What the run left behind would otherwise keep CI waiting.
      signalGroup(child, "SIGKILL");
      settle({ exitCode, signal, timedOutAfterMs, error: null });
    });
  });
  return { child, result };
}

/**
 * On SIGINT or SIGTERM: passes the signal on to the running child's group
 * (it lives in its own, so it misses the terminal's Ctrl-C), calls
 * `report`, and exits with status 130.
 *
 * @param {(signal: NodeJS.Signals) => void} report
 */
export function onInterrupt(report) {
  for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
    process.on(signal, () => {
      if (current !== null) signalGroup(current, signal);
      report(signal);
      process.exit(130);
    });
  }
}
