// The drain in a worker thread: every event reaches the file in order after
// flush() and after close(); where the worker is chosen; it survives idle
// periods; a sink slower than the producer under "drop" and "block"; the
// metrics it publishes; a failing sink beside a working one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createLogger,
  type Logger,
  type LoggerOptions,
  memorySink,
  TtlogConfigError,
} from "../mod.ts";
import { usableCpus } from "../src/runtime/worker.ts";
import { fileSink } from "../src/sinks/file.ts";
import { scriptCommand } from "./fixtures/spawn.ts";
import { failingSink } from "./fixtures/failing_sink.ts";
import { slowSink } from "./fixtures/slow_sink.ts";
import { assertAccounting, sleep } from "./helpers.ts";
import { toolPath } from "../scripts/tools.mjs";

/** Per test: Bun stops a test after 5 s unless told otherwise. */
const LIMIT = { timeout: 60_000 };

/** Runs `body` with a fresh temporary directory, removed afterwards. */
async function inTemp(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "ttlog-worker-"));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The file's NDJSON lines, parsed. */
function readLines(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8");
  if (text === "") return [];
  assert.ok(text.endsWith("\n"), "the last line is cut");
  return text.slice(0, -1).split("\n").map((line) => JSON.parse(line));
}

function isLoss(line: Record<string, unknown>): boolean {
  return line.target === "ttlog";
}

/** Asserts that `lines` are events "e" with i = 0..n-1, in order. */
function assertSequence(lines: Record<string, unknown>[], n: number): void {
  assert.equal(lines.length, n, `${lines.length} lines, expected ${n}`);
  for (let i = 0; i < n; i++) {
    const line = lines[i];
    if (line.msg !== "e" || line.i !== i) {
      assert.fail(`line ${i} is ${JSON.stringify(line)}`);
    }
  }
}

function workerLogger(options: LoggerOptions): Logger {
  return createLogger({
    service: "worker-test",
    level: "info",
    directives: "",
    worker: true,
    ...options,
  });
}

const N = 20000;

test(
  "worker: N events in an NDJSON file, in order, after flush()",
  LIMIT,
  async () => {
    await inTemp(async (dir) => {
      const path = join(dir, "out.ndjson");
      const log = workerLogger({ sinks: [fileSink({ path })] });
      try {
        assert.equal(log.metrics().worker, true);
        for (let i = 0; i < N; i++) log.info("e", { i });
        await log.flush();
        assertSequence(readLines(path), N);
        await assertAccounting(log);
        assert.equal(log.metrics().emitted, N);
        assert.equal(log.metrics().workerRestarts, 0);
      } finally {
        await log.close();
      }
      assertSequence(readLines(path), N);
    });
  },
);

test(
  "worker: N events in an NDJSON file, in order, after close() alone",
  LIMIT,
  async () => {
    await inTemp(async (dir) => {
      const path = join(dir, "out.ndjson");
      const log = workerLogger({ sinks: [fileSink({ path })] });
      for (let i = 0; i < N; i++) log.info("e", { i });
      await log.close();
      assertSequence(readLines(path), N);
      const m = log.metrics();
      assert.equal(m.worker, true);
      assert.equal(m.pending, 0);
      assert.equal(m.emitted, N);
      assert.equal(m.workerRestarts, 0);
    });
  },
);

test(
  "worker: true with a sink that has no spec is a TtlogConfigError naming the sink",
  LIMIT,
  () => {
    assert.throws(
      () => createLogger({ sinks: [memorySink()], worker: true }),
      (error: unknown) => {
        assert.ok(error instanceof TtlogConfigError, String(error));
        assert.match(error.message, /"memory"/);
        assert.match(error.message, /worker/);
        return true;
      },
    );
  },
);

test(
  'worker: "auto" drains inline with a memory sink, in a worker with a file sink',
  LIMIT,
  async () => {
    const memory = createLogger({ sinks: [memorySink()], worker: "auto" });
    try {
      assert.equal(memory.metrics().worker, false);
    } finally {
      await memory.close();
    }
    await inTemp(async (dir) => {
      const path = join(dir, "auto.ndjson");
      const log = createLogger({
        directives: "",
        sinks: [fileSink({ path })],
        worker: "auto",
      });
      try {
        // On one CPU "auto" drains inline (the next test).
        assert.equal(log.metrics().worker, (usableCpus() ?? 2) > 1);
        log.info("e", { i: 0 });
        await log.flush();
        assertSequence(readLines(path), 1);
      } finally {
        await log.close();
      }
    });
  },
);

test(
  'worker: "auto" drains on the caller\'s thread in a process pinned to one CPU; worker: true still starts a worker there',
  LIMIT,
  async () => {
    await inTemp((dir) => {
      const [command, args] = scriptCommand(
        fileURLToPath(
          new URL("./fixtures/auto_worker_child.ts", import.meta.url),
        ),
      );
      const child = spawnSync(toolPath("taskset"), [
        "-c",
        "0",
        command,
        ...args,
        dir,
      ], {
        encoding: "utf8",
        timeout: 60_000,
      });
      assert.equal(child.error, undefined, String(child.error));
      assert.equal(child.status, 0, child.stderr);
      assert.deepEqual(JSON.parse(child.stdout), {
        cpus: 1,
        auto: false,
        forced: true,
        lines: [1, 1],
      });
      return Promise.resolve();
    });
  },
);

test(
  "worker: does not exit while idle longer than its wait timeout",
  LIMIT,
  async () => {
    await inTemp(async (dir) => {
      const path = join(dir, "idle.ndjson");
      const log = workerLogger({ sinks: [fileSink({ path })] });
      try {
        for (let i = 0; i < 100; i++) log.info("e", { i });
        await log.flush();
        assertSequence(readLines(path), 100);
        // Longer than the worker's 1 s Atomics.waitAsync timeout.
        await sleep(1500);
        for (let i = 100; i < 200; i++) log.info("e", { i });
        await log.flush();
        assertSequence(readLines(path), 200);
        const m = log.metrics();
        assert.equal(m.worker, true);
        assert.equal(m.workerRestarts, 0, "the worker died and was replaced");
        await assertAccounting(log);
      } finally {
        await log.close();
      }
    });
  },
);

const BURST = 50_000;
/**
 * Smaller: a producer blocked on a full ring polls every 50 ms (the drain
 * does not notify it), so this takes about 1 s per 25,000 events.
 */
const BLOCK_BURST = 25_000;

for (const worker of [true, false]) {
  test(
    `${
      worker ? "worker" : "inline"
    }: a sink slower than the producer under "drop": written + dropped == logged, loss records add up`,
    LIMIT,
    async () => {
      await inTemp(async (dir) => {
        const path = join(dir, "slow.ndjson");
        const log = workerLogger({
          sinks: [slowSink({ path, delayMs: 5 })],
          ring: { bytes: 64 * 1024, overflow: "drop" },
          worker,
        });
        for (let i = 0; i < BURST; i++) log.info("e", { i });
        await log.close();
        const m = log.metrics();
        assert.equal(m.worker, worker);
        assert.equal(m.logged, BURST);
        assert.ok(
          m.dropped > 0,
          "a 64 KiB ring kept up with a 5 ms-per-batch sink",
        );
        const lines = readLines(path);
        const events = lines.filter((line) => !isLoss(line));
        const losses = lines.filter(isLoss);
        assert.equal(events.length + m.dropped, BURST);
        assert.equal(m.emitted, events.length);
        assert.equal(m.pending, 0);
        assert.equal(m.logged, m.emitted + m.filtered + m.dropped + m.lost);
        // The events that made it are in order.
        let last = -1;
        for (const event of events) {
          assert.equal(event.msg, "e");
          assert.ok(
            (event.i as number) > last,
            `event ${event.i} after ${last}`,
          );
          last = event.i as number;
        }
        let lost = 0;
        for (const loss of losses) {
          const match = /^lost (\d+) events$/.exec(loss.msg as string);
          assert.ok(match, `loss record ${JSON.stringify(loss)}`);
          assert.equal(loss.lost, Number(match[1]));
          lost += Number(match[1]);
        }
        assert.equal(
          lost,
          m.dropped,
          `the file's ${losses.length} "lost N events" record(s) report ${lost} of the ${m.dropped} dropped events`,
        );
        assert.ok(losses.length > 0);
        assert.equal(m.lossRecords, losses.length);
      });
    },
  );
}

for (const worker of [true, false]) {
  test(
    `${
      worker ? "worker" : "inline"
    }: a sink slower than the producer under "block": nothing dropped, all in order`,
    LIMIT,
    async () => {
      await inTemp(async (dir) => {
        const path = join(dir, "block.ndjson");
        const log = workerLogger({
          sinks: [slowSink({ path, delayMs: 2 })],
          ring: { bytes: 64 * 1024, overflow: "block" },
          worker,
        });
        for (let i = 0; i < BLOCK_BURST; i++) log.info("e", { i });
        await log.close();
        const m = log.metrics();
        assert.equal(m.worker, worker);
        assert.equal(m.dropped, 0);
        assert.equal(m.lost, 0);
        assert.equal(m.emitted, BLOCK_BURST);
        assertSequence(readLines(path), BLOCK_BURST);
      });
    },
  );
}

test("worker: metrics published by the worker add up", LIMIT, async () => {
  await inTemp(async (dir) => {
    const path = join(dir, "metrics.ndjson");
    const log = workerLogger({
      sinks: [fileSink({ path })],
      recordLevel: "debug",
    });
    try {
      for (let i = 0; i < 1000; i++) {
        log.info("e", { i });
        // Recorded (record level debug) but below the emit level: filtered.
        log.debug("d", { i });
        // Below the record level: not logged at all.
        log.trace("t", { i });
      }
      await assertAccounting(log);
      const m = log.metrics();
      assert.equal(m.worker, true);
      assert.equal(m.logged, 2000);
      assert.equal(m.emitted, 1000);
      assert.equal(m.filtered, 1000);
      assert.equal(m.dropped, 0);
      assert.equal(m.lost, 0);
      assert.equal(m.sinks.length, 1);
      assert.equal(m.sinks[0].name, `file:${path}`);
      assert.equal(m.sinks[0].written, 1000);
      assert.equal(m.sinks[0].errors, 0);
      assert.ok(m.drainPasses > 0, `drainPasses ${m.drainPasses}`);
      assert.ok(m.drainBatchMsP50 >= 0, `p50 ${m.drainBatchMsP50}`);
      assert.ok(
        m.drainBatchMsP99 >= m.drainBatchMsP50,
        `p99 ${m.drainBatchMsP99} < p50 ${m.drainBatchMsP50}`,
      );
      assertSequence(readLines(path), 1000);
    } finally {
      await log.close();
    }
  });
});

test(
  "worker: sinks that throw or reject do not stop the file sink; their errors are counted",
  LIMIT,
  async () => {
    await inTemp(async (dir) => {
      const path = join(dir, "beside.ndjson");
      const log = workerLogger({
        sinks: [
          failingSink({ how: "throw" }),
          fileSink({ path }),
          failingSink({ how: "reject" }),
        ],
      });
      try {
        for (let i = 0; i < 5000; i++) {
          log.info("e", { i });
          if (i % 1000 === 999) await log.flush();
        }
        await assertAccounting(log);
        assertSequence(readLines(path), 5000);
        const sinks = log.metrics().sinks;
        assert.deepEqual(sinks.map((s) => s.name), [
          "failing-throw",
          `file:${path}`,
          "failing-reject",
        ]);
        assert.ok(sinks[0].errors > 0, JSON.stringify(sinks));
        assert.equal(sinks[1].errors, 0, JSON.stringify(sinks));
        assert.equal(sinks[1].written, 5000, JSON.stringify(sinks));
        assert.ok(sinks[2].errors > 0, JSON.stringify(sinks));
      } finally {
        await log.close();
      }
      assertSequence(readLines(path), 5000);
    });
  },
);
