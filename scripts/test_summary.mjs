// @ts-check
/**
 * Reads the pass/fail counts out of what `deno test`, `bun test` and
 * `node --test` print, and decides what a run counts as. Plain Node ESM
 * without dependencies so that `scripts/test.mjs` runs before any build.
 *
 * @module
 */

/**
 * Counts of top-level tests as reported by one runtime's summary.
 *
 * @typedef {{ passed: number, failed: number }} TestCounts
 */

/**
 * How a runtime's runner process ended.
 *
 * @typedef {object} RunEnding
 * @property {number | null} exitCode Exit code, null when killed by a signal.
 * @property {string | null} signal Signal that ended it, if any.
 * @property {number | null} timedOutAfterMs Set when the harness killed it for running too long.
 */

/**
 * What a runtime's run counts as in the grand total.
 *
 * @typedef {object} RunVerdict
 * @property {number} passed Passed tests.
 * @property {number} failed Failed tests, at least 1 when `problem` is set.
 * @property {string | null} problem Why the run failed beyond its own summary.
 */

// Built from a char code because deno lint rejects control characters in
// regular expression literals.
const ESC = String.fromCharCode(0x1b);
const ANSI_SEQUENCE = new RegExp(`${ESC}\\[[0-9;?]*[ -/]*[@-~]`, "g");

/**
 * Removes ANSI colour sequences and carriage returns, so summaries parse the
 * same whether or not the runner decided to colour them (Deno colours piped
 * output unless NO_COLOR is set).
 *
 * @param {string} output Raw runner output.
 * @returns {string} The output without escape sequences or `\r`.
 */
export function stripAnsi(output) {
  return output.replace(ANSI_SEQUENCE, "").replaceAll("\r", "");
}

/**
 * Returns the last match of a global, multiline pattern.
 *
 * @param {string} text Text to search.
 * @param {RegExp} pattern A pattern with the `g` flag.
 * @returns {RegExpMatchArray | undefined} The last match, if any.
 */
function lastMatch(text, pattern) {
  return [...text.matchAll(pattern)].at(-1);
}

/**
 * Parses Deno's final summary line, e.g.
 * `ok | 10 passed | 0 failed (15ms)` or
 * `FAILED | 2 passed (2 steps) | 1 failed | 2 ignored (8ms)`.
 * Step counts are left out: tests here are flat.
 *
 * @param {string} output Everything `deno test` printed.
 * @returns {TestCounts | null} The counts, or null when no summary is found.
 */
export function parseDenoCounts(output) {
  const summary = lastMatch(
    stripAnsi(output),
    /^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed\b/gm,
  );
  if (summary === undefined) return null;
  return { passed: Number(summary[1]), failed: Number(summary[2]) };
}

/**
 * Parses Bun's summary block, printed to stderr, e.g.
 * ` 2 pass` / ` 1 skip` / ` 1 fail` / ` 1 error` / `Ran 4 tests across 2 files.`
 * A file that fails to load shows up as both a `fail` and an `error`, so
 * errors are not added again.
 *
 * @param {string} output Everything `bun test` printed, stdout and stderr.
 * @returns {TestCounts | null} The counts, or null when no summary is found.
 */
export function parseBunCounts(output) {
  const text = stripAnsi(output);
  const pass = lastMatch(text, /^ *(\d+) pass$/gm);
  const fail = lastMatch(text, /^ *(\d+) fail$/gm);
  if (pass === undefined || fail === undefined) return null;
  return { passed: Number(pass[1]), failed: Number(fail[1]) };
}

/**
 * Parses the summary of Node's test runner in either reporter: TAP
 * (`# pass 3` / `# fail 1`) or spec (`ℹ pass 3` / `ℹ fail 1`). Cancelled tests
 * (timed out, or cut short by their file crashing) count as failed.
 *
 * @param {string} output Everything `node --test` printed.
 * @returns {TestCounts | null} The counts, or null when no summary is found.
 */
export function parseNodeCounts(output) {
  const text = stripAnsi(output);
  const pass = lastMatch(text, /^(?:#|ℹ) pass (\d+)$/gm);
  const fail = lastMatch(text, /^(?:#|ℹ) fail (\d+)$/gm);
  if (pass === undefined || fail === undefined) return null;
  const cancelled = lastMatch(text, /^(?:#|ℹ) cancelled (\d+)$/gm);
  return {
    passed: Number(pass[1]),
    failed: Number(fail[1]) + Number(cancelled?.[1] ?? 0),
  };
}

/** Parsers by runtime name. */
export const countParsers = Object.freeze({
  deno: parseDenoCounts,
  bun: parseBunCounts,
  node: parseNodeCounts,
});

/**
 * Combines a runtime's parsed counts with how its process ended. Anything that
 * keeps the summary from being trusted (a hang, a crash, a non-zero exit with
 * no reported failure, no summary, no tests at all) counts as at least one
 * failure, with the reason in `problem`.
 *
 * @param {TestCounts | null} counts Parsed counts, null if unparsable.
 * @param {RunEnding} ending How the process ended.
 * @returns {RunVerdict} What the run counts as.
 */
export function judgeRun(counts, ending) {
  const passed = counts?.passed ?? 0;
  const failed = counts?.failed ?? 0;
  /** @param {string} problem */
  const failedBecause = (problem) => ({
    passed,
    failed: Math.max(failed, 1),
    problem,
  });
  if (ending.timedOutAfterMs !== null) {
    return failedBecause(
      `killed after running longer than ${ending.timedOutAfterMs / 1000}s`,
    );
  }
  if (ending.signal !== null) {
    return failedBecause(`runner was killed by ${ending.signal}`);
  }
  if (counts === null) {
    return failedBecause(
      `no summary line found in its output; exit code ${ending.exitCode}`,
    );
  }
  if (ending.exitCode !== 0 && failed === 0) {
    return failedBecause(
      `exited with code ${ending.exitCode} although its summary reported no failures`,
    );
  }
  if (passed + failed === 0) {
    return failedBecause("ran no tests");
  }
  return { passed, failed, problem: null };
}

/**
 * Formats one runtime's line, e.g. `deno: 40 passed, 0 failed`.
 *
 * @param {string} runtime Runtime name.
 * @param {RunVerdict} verdict What its run counts as.
 * @returns {string} The line, with the problem appended when there is one.
 */
export function formatRuntimeLine(runtime, verdict) {
  const counts =
    `${runtime}: ${verdict.passed} passed, ${verdict.failed} failed`;
  return verdict.problem === null ? counts : `${counts} (${verdict.problem})`;
}

/**
 * Formats the grand total over all runtimes, e.g. `120 passed, 0 failed`.
 *
 * @param {readonly RunVerdict[]} verdicts One per runtime that ran.
 * @returns {string} The total line.
 */
export function formatTotalLine(verdicts) {
  let passed = 0;
  let failed = 0;
  for (const verdict of verdicts) {
    passed += verdict.passed;
    failed += verdict.failed;
  }
  return `${passed} passed, ${failed} failed`;
}
