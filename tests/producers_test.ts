// Two producer threads into one file: the main thread and an application
// worker that attaches to the main logger through log.port(). Every event
// is in the file exactly once, each producer's order is kept, and each
// logger's counters add up. The drain runs in its own worker, then inline.
// Then flush() across threads: it keeps an attached thread alive, resolves
// while another thread keeps logging, and covers a producer that attached
// while the drain's worker was busy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Worker } from "node:worker_threads";
import { createLogger, type Logger, type Metrics } from "../mod.ts";
import { fileSink } from "../src/sinks/file.ts";
import { gateSink } from "./fixtures/gate_sink.ts";
import { slowSink } from "./fixtures/slow_sink.ts";
import { startTsWorker } from "./fixtures/spawn.ts";
import { sleep } from "./helpers.ts";

/** Per test: Bun stops a test after 5 s unless told otherwise. */
const LIMIT = { timeout: 60_000 };

const N = 10000;

interface Report {
  metrics: Metrics;
  inFile: number;
}

function assertIdentity(m: Metrics, who: string): void {
  assert.equal(m.pending, 0, `${who}: pending ${JSON.stringify(m)}`);
  assert.equal(
    m.logged,
    m.emitted + m.filtered + m.dropped + m.lost,
    `${who}: logged != emitted + filtered + dropped + lost: ${
      JSON.stringify(m)
    }`,
  );
  assert.equal(m.logged, N, `${who}: logged`);
  assert.equal(m.emitted, N, `${who}: emitted`);
}

/** An app worker running tests/fixtures/app_worker.ts, and its messages in order. */
class AppWorker {
  readonly worker: Worker;
  readonly exited: Promise<number>;
  #messages: unknown[] = [];
  #ended: Error | undefined;
  #arrived: () => void = () => {};

  constructor(log: Logger, path: string, keepAlive: boolean) {
    this.worker = startTsWorker(
      new URL("./fixtures/app_worker.ts", import.meta.url),
      { workerData: { port: log.port(), count: N, path, keepAlive } },
    );
    this.worker.on("message", (message: unknown) => {
      this.#messages.push(message);
      this.#arrived();
    });
    this.worker.on("error", (error: Error) => {
      this.#ended ??= error;
      this.#arrived();
    });
    this.exited = new Promise<number>((resolve) => {
      this.worker.once("exit", (code: number) => {
        this.#ended ??= new Error(
          `the app worker exited (code ${code}) before its message`,
        );
        resolve(code);
        this.#arrived();
      });
    });
  }

  /** The next message; throws if the worker failed or exited first. */
  async next(): Promise<unknown> {
    while (this.#messages.length === 0) {
      if (this.#ended !== undefined) throw this.#ended;
      await new Promise<void>((resolve) => this.#arrived = resolve);
    }
    return this.#messages.shift();
  }
}

/** Reads the file: every event once, i increasing by 1 per producer. */
function assertFile(path: string): void {
  const next: Record<string, number> = { main: 0, worker: 0 };
  const text = readFileSync(path, "utf8");
  assert.ok(text.endsWith("\n"), "the last line is cut");
  for (const line of text.slice(0, -1).split("\n")) {
    const event = JSON.parse(line);
    assert.equal(event.msg, "e", line);
    assert.ok(event.who in next, line);
    if (event.i !== next[event.who]) {
      assert.fail(`${event.who}: expected i ${next[event.who]}, got ${line}`);
    }
    next[event.who]++;
  }
  assert.deepEqual(next, { main: N, worker: N });
}

for (const worker of ["auto", false] as const) {
  const drain = worker === false ? "inline" : "in a worker";
  test(
    `two producer threads, drain ${drain}: every event once, per-producer order kept`,
    LIMIT,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "ttlog-producers-"));
      const path = join(dir, "both.ndjson");
      const log = createLogger({
        service: "producers",
        directives: "",
        sinks: [fileSink({ path })],
        worker,
      });
      try {
        assert.equal(log.metrics().worker, worker === "auto");
        const app = new AppWorker(log, path, true);
        assert.equal(await app.next(), "ready");
        app.worker.postMessage("go");
        // Both threads log at once; the main thread yields now and then.
        for (let i = 0; i < N; i++) {
          log.info("e", { who: "main", i });
          if (i % 1000 === 999) await new Promise((r) => setTimeout(r, 0));
        }
        const report = await app.next() as Report;
        assert.equal(await app.exited, 0);
        assert.equal(
          report.inFile,
          N,
          "the worker's flush() resolved before its events were in the file",
        );
        assertIdentity(report.metrics, "worker");
        await log.flush();
        assertIdentity(log.metrics(), "main");
        assertFile(path);
      } finally {
        await log.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test(
    `an attached logger's flush() keeps its thread alive until it resolves, drain ${drain}`,
    LIMIT,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "ttlog-producers-"));
      const path = join(dir, "alive.ndjson");
      const log = createLogger({
        service: "producers",
        directives: "",
        sinks: [fileSink({ path })],
        worker,
      });
      try {
        // Nothing but the pending flush() holds the worker open once it has
        // taken "go": the code after `await log.flush()` must still run.
        const app = new AppWorker(log, path, false);
        assert.equal(await app.next(), "ready");
        app.worker.postMessage("go");
        const report = await app.next() as Report;
        assert.equal(await app.exited, 0);
        assert.equal(report.inFile, N);
        assertIdentity(report.metrics, "worker");
      } finally {
        await log.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}

/** Waits until `words[index] >= value`, polling; false after `capMs`. */
async function waitFor(
  words: Int32Array,
  index: number,
  value: number,
  capMs: number,
): Promise<boolean> {
  const end = Date.now() + capMs;
  while (Atomics.load(words, index) < value) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

/** Resolves with the worker's first message; rejects if it exits first. */
function firstMessage(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code: number) => {
      reject(
        new Error(`the app worker exited (code ${code}) before its message`),
      );
    });
  });
}

for (const worker of ["auto", false] as const) {
  const drain = worker === false ? "inline" : "in a worker";
  test(
    `flush() resolves while another thread keeps logging, drain ${drain}`,
    LIMIT,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "ttlog-producers-"));
      const path = join(dir, "flood.ndjson");
      // A sink far slower than the flooding thread: the rings never run empty.
      const log = createLogger({
        service: "producers",
        directives: "",
        sinks: [slowSink({ path, delayMs: 5 })],
        worker,
      });
      let app: Worker | undefined;
      try {
        const flags = new Int32Array(new SharedArrayBuffer(8));
        app = startTsWorker(
          new URL("./fixtures/app_flood.ts", import.meta.url),
          {
            workerData: { port: log.port(), flags: flags.buffer, capMs: 3000 },
          },
        );
        const report = firstMessage(app);
        report.catch(() => {});
        assert.ok(
          await waitFor(flags, 1, 100_000, 5000),
          "the app worker did not start logging",
        );
        for (let i = 0; i < 10; i++) log.info("e", { who: "main", i });
        // Resolves once the ten events above are delivered, however much the
        // other thread logs meanwhile.
        await log.flush();
        Atomics.store(flags, 0, 1);
        const { stopped } = await report as { stopped: boolean };
        assert.ok(
          stopped,
          "flush() resolved only when the other thread stopped logging (after 3 s)",
        );
        const mine = readFileSync(path, "utf8").split("\n")
          .filter((line) => line.includes('"who":"main"'));
        assert.equal(mine.length, 10);
      } finally {
        await app?.terminate();
        await log.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}

test(
  "an attached logger's flush() covers its events when the drain's worker is busy as the port is made",
  LIMIT,
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "ttlog-producers-"));
    const path = join(dir, "gate.ndjson");
    const gate = new Int32Array(new SharedArrayBuffer(8));
    const log = createLogger({
      service: "producers",
      directives: "",
      sinks: [gateSink({ path, gate: gate.buffer, capMs: 10_000 })],
      worker: true,
    });
    let app: Worker | undefined;
    try {
      log.info("hold");
      // The drain's worker is now inside a write, waiting at the gate.
      assert.ok(await waitFor(gate, 1, 1, 10_000), "the drain never wrote");
      app = startTsWorker(
        new URL("./fixtures/app_gate.ts", import.meta.url),
        { workerData: { port: log.port(), count: N, path, gate: gate.buffer } },
      );
      const report = await firstMessage(app) as Report;
      assert.equal(
        report.metrics.pending,
        0,
        `after the worker's flush(): ${JSON.stringify(report.metrics)}`,
      );
      assert.equal(report.inFile, N);
      assertIdentity(report.metrics, "worker");
    } finally {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      await app?.terminate();
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
