// Checks that scripts/test.mjs reads each runtime's summary correctly. The
// samples are real output captured from deno 2.9.6, bun 1.4.5 and Node 20
// (via tsx --test) running tests written with node:test.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  formatRuntimeLine,
  formatTotalLine,
  judgeRun,
  parseBunCounts,
  parseDenoCounts,
  parseNodeCounts,
  stripAnsi,
} from "../scripts/test_summary.mjs";

const ESC = String.fromCharCode(0x1b);

const denoPassing = `running 2 tests from ./tests/a_test.ts
one ... ok (758µs)
two ... ok (80µs)

ok | 2 passed | 0 failed (8ms)

`;

const denoColoured =
  `two ... ${ESC}[0m${ESC}[32mok${ESC}[0m ${ESC}[0m${ESC}[38;5;245m(89µs)${ESC}[0m

${ESC}[0m${ESC}[32mok${ESC}[0m | 2 passed | 0 failed ${ESC}[0m${ESC}[38;5;245m(8ms)${ESC}[0m

`;

const denoFailing = `running 5 tests from ./tests/x_test.ts
passes ... ok (752µs)
skipped ... ignored (0ms)
todo one ... ignored (0ms)
with steps ...
  s1 ... ok (0ms)
  s2 ... ok (0ms)
with steps ... ok (662µs)
fails ... FAILED (740µs)

 ERRORS 

fails => ./tests/x_test.ts:6:1
error: Error: boom
test("fails", () => { throw new Error("boom"); });
                            ^
    at NodeTestContext.<anonymous> (file:///tmp/hx2/tests/x_test.ts:6:29)

 FAILURES 

fails => ./tests/x_test.ts:6:1

FAILED | 2 passed (2 steps) | 1 failed | 2 ignored (8ms)

error: Test failed
`;

const denoMissingModule =
  `error: Module not found "file:///tmp/hx/tests/does_not_exist.ts".
    at file:///tmp/hx/tests/c_test.ts:3:22
`;

const bunPassing = `bun test v1.4.5 (a7733435c)

tests/a_test.ts:
(pass) one [1.04ms]
(pass) two [0.03ms]

 2 pass
 0 fail
Ran 2 tests across 1 file. [18.00ms]
`;

const bunFailing = `bun test v1.4.5 (a7733435c)

tests/x_test.ts:
(pass) passes [1.05ms]
(skip) skipped
(todo) todo one
(pass) with steps [0.30ms]
error: boom
      at <anonymous> (/tmp/hx2/tests/x_test.ts:6:33)
(fail) fails [0.19ms]

 2 pass
 1 skip
 1 todo
 1 fail
Ran 5 tests across 1 file. [14.00ms]
`;

const bunUnloadableFile = `tests/c_test.ts:

# Unhandled error between tests
-------------------------------
error: Cannot find module './does_not_exist.ts' from '/tmp/hx/tests/c_test.ts'
-------------------------------


 2 pass
 1 fail
 1 error
Ran 3 tests across 2 files. [14.00ms]
`;

const nodeTapFailing = `# Subtest: good
ok 4 - good
  ---
  duration_ms: 0.135001
  ...
1..4
# tests 4
# suites 0
# pass 3
# fail 1
# cancelled 0
# skipped 0
# todo 0
# duration_ms 371.622013
`;

const nodeSpecFailing = `✖ bad (1.274452ms)
ℹ tests 5
ℹ suites 0
ℹ pass 3
ℹ fail 1
ℹ cancelled 1
ℹ skipped 0
ℹ todo 0
ℹ duration_ms 446.350467

✖ failing tests:

test at tests/b_test.ts:3:1
✖ bad (1.274452ms)
`;

const garbage = `Segmentation fault (core dumped)
ok 1 - not a summary
 pass 3 passed | 0 failed
`;

const cleanExit = { exitCode: 0, signal: null, timedOutAfterMs: null };

test("stripAnsi removes colour sequences and carriage returns", () => {
  assert.equal(stripAnsi(`${ESC}[0m${ESC}[32mok${ESC}[0m\r\n`), "ok\n");
});

test("parseDenoCounts reads passing, coloured and failing summaries", () => {
  assert.deepEqual(parseDenoCounts(denoPassing), { passed: 2, failed: 0 });
  assert.deepEqual(parseDenoCounts(denoColoured), { passed: 2, failed: 0 });
  assert.deepEqual(parseDenoCounts(denoFailing), { passed: 2, failed: 1 });
});

test("parseBunCounts reads passing, failing and load-error summaries", () => {
  assert.deepEqual(parseBunCounts(bunPassing), { passed: 2, failed: 0 });
  assert.deepEqual(parseBunCounts(bunFailing), { passed: 2, failed: 1 });
  assert.deepEqual(parseBunCounts(bunUnloadableFile), { passed: 2, failed: 1 });
});

test("parseNodeCounts reads TAP and spec summaries, cancelled as failed", () => {
  assert.deepEqual(parseNodeCounts(nodeTapFailing), { passed: 3, failed: 1 });
  assert.deepEqual(parseNodeCounts(nodeSpecFailing), { passed: 3, failed: 2 });
});

test("parsers return null when there is no summary", () => {
  for (const parse of [parseDenoCounts, parseBunCounts, parseNodeCounts]) {
    assert.equal(parse(garbage), null);
    assert.equal(parse(""), null);
  }
  assert.equal(parseDenoCounts(denoMissingModule), null);
  // Another runtime's summary is not mistaken for this one's.
  assert.equal(parseDenoCounts(bunPassing), null);
  assert.equal(parseBunCounts(nodeTapFailing), null);
  assert.equal(parseNodeCounts(denoPassing), null);
});

test("judgeRun trusts a clean summary", () => {
  assert.deepEqual(judgeRun({ passed: 2, failed: 0 }, cleanExit), {
    passed: 2,
    failed: 0,
    problem: null,
  });
  assert.deepEqual(
    judgeRun({ passed: 2, failed: 1 }, { ...cleanExit, exitCode: 1 }),
    { passed: 2, failed: 1, problem: null },
  );
});

test("judgeRun counts untrustworthy runs as at least one failure", () => {
  const crashed = judgeRun(null, { ...cleanExit, exitCode: 1 });
  assert.equal(crashed.failed, 1);
  assert.match(crashed.problem ?? "", /no summary line/);

  const quietFailure = judgeRun({ passed: 4, failed: 0 }, {
    ...cleanExit,
    exitCode: 1,
  });
  assert.deepEqual(
    [quietFailure.passed, quietFailure.failed],
    [4, 1],
  );
  assert.match(quietFailure.problem ?? "", /exited with code 1/);

  const hung = judgeRun(null, {
    exitCode: null,
    signal: "SIGTERM",
    timedOutAfterMs: 900_000,
  });
  assert.equal(hung.failed, 1);
  assert.match(hung.problem ?? "", /longer than 900s/);

  const killed = judgeRun({ passed: 1, failed: 3 }, {
    exitCode: null,
    signal: "SIGKILL",
    timedOutAfterMs: null,
  });
  assert.equal(killed.failed, 3);
  assert.match(killed.problem ?? "", /SIGKILL/);

  const empty = judgeRun({ passed: 0, failed: 0 }, cleanExit);
  assert.equal(empty.failed, 1);
  assert.match(empty.problem ?? "", /no tests/);
});

test("summary lines have the documented shape", () => {
  const verdicts = [
    { passed: 40, failed: 0, problem: null },
    { passed: 39, failed: 1, problem: null },
    { passed: 0, failed: 1, problem: "no summary line found" },
  ];
  assert.equal(
    formatRuntimeLine("deno", verdicts[0]),
    "deno: 40 passed, 0 failed",
  );
  assert.equal(
    formatRuntimeLine("node", verdicts[2]),
    "node: 0 passed, 1 failed (no summary line found)",
  );
  assert.equal(formatTotalLine(verdicts), "79 passed, 2 failed");
});
