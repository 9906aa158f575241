import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { scriptCommand } from "./fixtures/spawn.ts";

const CHILD = fileURLToPath(
  new URL("./fixtures/console_child.ts", import.meta.url),
);
const LINES_CHILD = fileURLToPath(
  new URL("./fixtures/console_lines_child.ts", import.meta.url),
);

test("consoleSink in the drain's worker never splits a line when another thread writes to stdout too", () => {
  const [command, args] = scriptCommand(CHILD);
  const run = spawnSync(command, [...args], {
    encoding: "utf8",
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...globalThis.process?.env, NO_COLOR: "1" },
  });
  assert.equal(run.status, 0, `child failed: ${run.stderr}`);
  const lines = run.stdout.split("\n");
  assert.equal(lines.pop(), "", "output ends with a newline");
  const seen: number[] = [];
  let own = 0;
  for (const line of lines) {
    if (line.startsWith("main:")) {
      assert.equal(line, "main:" + "m".repeat(300));
      own++;
      continue;
    }
    const record = JSON.parse(line);
    assert.equal(record.msg, "worker line");
    assert.equal(record.pad, "w".repeat(200));
    seen.push(record.i);
  }
  assert.equal(own, 300);
  assert.deepEqual(seen, [...Array(3000).keys()]);
});

// Inline: a memory sink cannot go to the worker. The worker's lines are
// the same code's, and the test above checks them on stdout there.
test('consoleSink({ format: "ndjson" }): stdout holds ndjsonFormatter\'s lines, byte for byte', () => {
  const [command, args] = scriptCommand(LINES_CHILD);
  const run = spawnSync(command, [...args], {
    encoding: "utf8",
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...globalThis.process?.env, NO_COLOR: "1" },
  });
  assert.equal(run.status, 0, `child failed: ${run.stderr}`);
  const expected = JSON.parse(run.stderr) as string;
  assert.equal(expected.split("\n").length - 1, 1011, "every event");
  assert.equal(run.stdout, expected);
});
