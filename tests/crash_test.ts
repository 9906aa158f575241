// Crash, signal and exit snapshots: a child process logs N events (most of
// them debug, never emitted), then dies by an exception thrown in a timer,
// an unhandled rejection, SIGTERM, SIGINT or process.exit(1). The snapshot
// must exist, decode, and end with exactly the last events logged; the
// emitted events must all be in the sink's file; and the process must end
// exactly as the same program without ttlog does (the control).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Outcome, runScript } from "./fixtures/spawn.ts";
import { readTtlog } from "../src/ttlog_file/chunk_reader.ts";
import type { LogRecord } from "../src/record/values.ts";

const LIMIT = { timeout: 60_000 };
const N = 5000;
const CHILD = fileURLToPath(
  new URL("./fixtures/crash_child.ts", import.meta.url),
);

type How = "throw" | "reject" | "sigterm" | "sigint" | "exit1";
type Drain = "worker" | "inline" | "stuck" | "none";

function run(dir: string, how: How, drain: Drain): Outcome {
  return runScript(CHILD, [dir, how, drain, String(N)], `${how}, ${drain}`);
}

const controls = new Map<How, Outcome>();

function control(how: How): Outcome {
  let outcome = controls.get(how);
  if (outcome === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "ttlog-crash-control-"));
    try {
      outcome = run(dir, how, "none");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    controls.set(how, outcome);
  }
  return outcome;
}

const REASON: Record<How, string> = {
  throw: "crash",
  reject: "crash",
  sigterm: "signal",
  sigint: "signal",
  exit1: "exit",
};

/** The one snapshot in `dir`: its header and records, checked to decode whole. */
function theSnapshot(
  dir: string,
  how: How,
  label: string,
): { meta: Record<string, unknown>; records: LogRecord[] } {
  const snapshots = join(dir, "snapshots");
  assert.ok(existsSync(snapshots), `${label}: no snapshot directory`);
  const files = readdirSync(snapshots);
  assert.equal(files.length, 1, `${label}: files ${files.join(", ")}`);
  assert.match(
    files[0],
    new RegExp(
      `^ttlog-crashy-\\d+-\\d{8}T\\d{6}\\.\\d{3}Z-${REASON[how]}\\.ttlog$`,
    ),
    label,
  );
  const bytes = new Uint8Array(readFileSync(join(snapshots, files[0])));
  // The store got the same bytes, under the same name.
  assert.deepEqual(
    new Uint8Array(readFileSync(join(dir, `stored-${files[0]}`))),
    bytes,
    `${label}: the store's copy`,
  );
  const result = readTtlog(bytes);
  assert.equal(result.error, undefined, `${label}: ${result.error?.message}`);
  assert.equal(result.truncatedAt, undefined, `${label}: truncated`);
  assert.equal(result.items.at(-1)?.kind, "end", `${label}: no end chunk`);
  let meta: Record<string, unknown> = {};
  const records: LogRecord[] = [];
  for (const item of result.items) {
    if (item.kind === "header") meta = item.meta;
    if (item.kind === "events") {
      assert.equal(item.undecodable, 0, label);
      records.push(...item.records);
    }
  }
  return { meta, records };
}

/** The snapshot ends with the last events logged, debug ones included, in order. */
function assertLastEvents(records: LogRecord[], label: string): void {
  assert.ok(records.length >= 100, `${label}: only ${records.length} records`);
  const tail = records.slice(-100);
  for (let k = 0; k < tail.length; k++) {
    const i = N - tail.length + k;
    const expected = i % 10 === 9
      ? { level: "info", msg: "progress" }
      : { level: "debug", msg: "step" };
    const record = tail[k];
    if (
      record.level !== expected.level || record.msg !== expected.msg ||
      record.fields.i !== i || record.seq !== i
    ) {
      assert.fail(
        `${label}: record ${k} of the last 100 is ${
          JSON.stringify(record)
        }, expected ${expected.level} ${expected.msg} i=${i}`,
      );
    }
  }
}

/** Every emitted (info) event is in the sink's file, in order. */
function assertEmitted(dir: string, label: string): void {
  const path = join(dir, "out.ndjson");
  assert.ok(existsSync(path), `${label}: no sink file`);
  const lines = readFileSync(path, "utf8").split("\n").filter((l) => l);
  assert.equal(lines.length, N / 10, `${label}: ${lines.length} lines`);
  lines.forEach((line, k) => {
    const event = JSON.parse(line);
    if (event.msg !== "progress" || event.i !== k * 10 + 9) {
      assert.fail(`${label}: line ${k} is ${line}`);
    }
  });
}

function assertSameEnd(outcome: Outcome, expected: Outcome, label: string) {
  assert.deepEqual(
    { status: outcome.status, signal: outcome.signal },
    { status: expected.status, signal: expected.signal },
    `${label}: stderr ${outcome.stderr}`,
  );
}

const MESSAGES: Partial<Record<How, string>> = {
  throw: "boom in a timer",
  reject: "a rejection nobody handled",
};

for (const drain of ["worker", "inline"] as const) {
  for (
    const how of ["throw", "reject", "sigterm", "sigint", "exit1"] as const
  ) {
    test(
      `${how}, drain ${drain}: a snapshot with the last events, every emitted event delivered, the same end as without ttlog`,
      LIMIT,
      () => {
        const expected = control(how);
        const dir = mkdtempSync(join(tmpdir(), "ttlog-crash-"));
        const label = `${how}/${drain}`;
        try {
          const outcome = run(dir, how, drain);
          assert.match(
            outcome.stderr,
            new RegExp(`^worker=${drain === "worker"}$`, "m"),
            `${label}: stderr ${outcome.stderr}`,
          );
          assertSameEnd(outcome, expected, label);
          assert.doesNotMatch(outcome.stderr, /ttlog:/, label);
          const message = MESSAGES[how];
          if (message !== undefined) {
            // The runtime still reports the error itself.
            assert.match(outcome.stderr, new RegExp(message), label);
          }
          const { meta, records } = theSnapshot(dir, how, label);
          assertLastEvents(records, label);
          const trigger = meta.trigger as Record<string, unknown>;
          assert.equal(meta.reason, REASON[how], label);
          assert.equal(meta.service, "crashy", label);
          if (how === "throw" || how === "reject") {
            assert.equal(
              trigger.kind,
              how === "throw" ? "uncaught exception" : "unhandled rejection",
              label,
            );
            const error = trigger.error as Record<string, string>;
            assert.equal(error.message, message, label);
            assert.equal(error.name, "Error", label);
            assert.match(error.stack, /crash_child/, label);
          } else if (how === "exit1") {
            assert.deepEqual(trigger, { kind: "exit", code: 1 }, label);
          } else {
            assert.deepEqual(
              trigger,
              { kind: "signal", signal: how.toUpperCase() },
              label,
            );
          }
          assertEmitted(dir, label);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  }
}

for (const how of ["throw", "sigterm"] as const) {
  test(
    `${how}, drain stuck in a sink: the snapshot is still written from shared memory`,
    LIMIT,
    () => {
      const expected = control(how);
      const dir = mkdtempSync(join(tmpdir(), "ttlog-crash-"));
      const label = `${how}/stuck`;
      try {
        const outcome = run(dir, how, "stuck");
        assert.match(outcome.stderr, /^worker=true$/m, label);
        assertSameEnd(outcome, expected, label);
        assertLastEvents(theSnapshot(dir, how, label).records, label);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}

test(
  "the controls end as each path says (the comparisons above mean something)",
  LIMIT,
  () => {
    for (const how of ["throw", "reject", "exit1"] as const) {
      const { status, signal, stderr } = control(how);
      assert.deepEqual({ status, signal }, { status: 1, signal: null }, how);
      if (MESSAGES[how]) assert.match(stderr, new RegExp(MESSAGES[how]!), how);
    }
    for (
      const [how, name, code] of [
        ["sigterm", "SIGTERM", 143],
        ["sigint", "SIGINT", 130],
      ] as const
    ) {
      const { status, signal } = control(how);
      assert.ok(
        (status === null && signal === name) ||
          (status === code && signal === null),
        `${how}: status ${status}, signal ${signal}`,
      );
    }
  },
);
