// Exit paths: a child process logs N events into an NDJSON file through the
// drain (in a worker, and inline), then ends by falling off the end,
// process.exit(3), SIGTERM or SIGINT. Every event must be in the file, in
// order, and the process must end exactly as the same program without
// ttlog does (the control), without hanging. With the drain's worker stuck
// in a sink, each path still ends, within the exit timeout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Outcome, runScript } from "./fixtures/spawn.ts";

/** Per test: Bun stops a test after 5 s unless told otherwise. */
const LIMIT = { timeout: 60_000 };

const N = 20000;
const CHILD = fileURLToPath(
  new URL("./fixtures/exit_child.ts", import.meta.url),
);
/** Far above a normal run (well under a second); hitting it is a hang. */
const HANG_MS = 30_000;

type How = "end" | "exit" | "deno-exit" | "sigterm" | "sigint";

/** The ways to end: `Deno.exit()` exists only on Deno. */
const HOWS: readonly How[] = [
  "end",
  "exit",
  ...("Deno" in globalThis ? ["deno-exit" as const] : []),
  "sigterm",
  "sigint",
];
type Drain = "worker" | "inline" | "stuck" | "none";

function run(
  path: string,
  how: How,
  drain: Drain,
  hangMs = HANG_MS,
): Outcome {
  return runScript(
    CHILD,
    [path, how, drain, String(N)],
    `${how}, ${drain}`,
    hangMs,
  );
}

/** How this runtime reports each way of ending, without ttlog. */
const controls = new Map<How, Outcome>();

function control(how: How): Outcome {
  let outcome = controls.get(how);
  if (outcome === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "ttlog-exit-control-"));
    try {
      outcome = run(join(dir, "none.ndjson"), how, "none");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    controls.set(how, outcome);
  }
  return outcome;
}

function assertAllInOrder(path: string, label: string): void {
  assert.ok(existsSync(path), `${label}: no output file`);
  const text = readFileSync(path, "utf8");
  assert.ok(text.endsWith("\n"), `${label}: the last line is cut`);
  const lines = text.slice(0, -1).split("\n");
  assert.equal(lines.length, N, `${label}: ${lines.length} of ${N} lines`);
  for (let i = 0; i < N; i++) {
    const event = JSON.parse(lines[i]);
    if (event.msg !== "e" || event.i !== i) {
      assert.fail(`${label}: line ${i} is ${lines[i]}`);
    }
  }
}

for (const drain of ["worker", "inline"] as const) {
  for (const how of HOWS) {
    test(
      `${how}, drain ${drain}: every event in order, same exit as without ttlog`,
      LIMIT,
      () => {
        const expected = control(how);
        const dir = mkdtempSync(join(tmpdir(), "ttlog-exit-"));
        try {
          const path = join(dir, "out.ndjson");
          const outcome = run(path, how, drain);
          const label = `${how}/${drain}`;
          assert.match(
            outcome.stderr,
            new RegExp(`^worker=${drain === "worker"}$`, "m"),
            `${label}: stderr ${outcome.stderr}`,
          );
          assert.doesNotMatch(outcome.stderr, /pending|failed/, label);
          assert.deepEqual(
            { status: outcome.status, signal: outcome.signal },
            { status: expected.status, signal: expected.signal },
            `${label}: stderr ${outcome.stderr}`,
          );
          assertAllInOrder(path, label);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  }
}

/** A stuck sink with exitTimeoutMs 500: 20 times that is a hang. */
const STUCK_HANG_MS = 10_000;

for (const how of HOWS) {
  test(
    `${how}, drain worker stuck in a sink: ends within the exit timeout, as without ttlog`,
    LIMIT,
    () => {
      const expected = control(how);
      const dir = mkdtempSync(join(tmpdir(), "ttlog-exit-"));
      try {
        const outcome = run(
          join(dir, "stuck.ndjson"),
          how,
          "stuck",
          STUCK_HANG_MS,
        );
        const label = `${how}/stuck`;
        assert.match(outcome.stderr, /^worker=true$/m, label);
        if (how === "exit") {
          assert.match(
            outcome.stderr,
            /still pending at exit: exitTimeoutMs \(500 ms\) spent/,
            label,
          );
        }
        assert.deepEqual(
          { status: outcome.status, signal: outcome.signal },
          { status: expected.status, signal: expected.signal },
          `${label}: stderr ${outcome.stderr}`,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}

test(
  "the controls end as each path says (the comparison above means something)",
  LIMIT,
  () => {
    assert.deepEqual(
      { status: control("end").status, signal: control("end").signal },
      { status: 0, signal: null },
    );
    assert.deepEqual(
      { status: control("exit").status, signal: control("exit").signal },
      { status: 3, signal: null },
    );
    for (
      const [how, name, code] of [
        ["sigterm", "SIGTERM", 143],
        ["sigint", "SIGINT", 130],
      ] as const
    ) {
      const { status, signal } = control(how);
      // Killed by the signal, reported as such or as 128 + its number.
      assert.ok(
        (status === null && signal === name) ||
          (status === code && signal === null),
        `${how}: status ${status}, signal ${signal}`,
      );
    }
  },
);

test(
  "one ending waits exitTimeoutMs once, not once per hook: the end of the program with a stuck sink in the worker",
  LIMIT,
  () => {
    const dir = mkdtempSync(join(tmpdir(), "ttlog-exit-once-"));
    try {
      // How long this runtime takes to start and end the same program.
      const t0 = Date.now();
      control("end");
      const base = Date.now() - t0;
      const started = Date.now();
      const outcome = runScript(
        CHILD,
        [join(dir, "stuck.ndjson"), "end", "stuck", String(N), "3000"],
        "end, stuck, 3000",
        STUCK_HANG_MS * 2,
      );
      const took = Date.now() - started;
      assert.equal(outcome.status, 0, outcome.stderr);
      // The flush at the end of the program spent the budget; the exit
      // hook that follows has none left (it used to wait another 3000 ms).
      assert.match(
        outcome.stderr,
        /still pending at the end of the program: exitTimeoutMs \(3000 ms\) spent/,
      );
      assert.match(outcome.stderr, /still pending at exit/);
      // 3000 ms plus this runtime's own start and end, with room to spare;
      // waiting twice would take 6000.
      assert.ok(took < base + 3000 + 2000, `${took} ms (base ${base} ms)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
