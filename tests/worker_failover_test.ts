// When the drain's worker dies, the caller's thread takes over every ring:
// its own, and those of other threads attached through log.port(), whose
// bell and flush requests keep working. Nothing logged is lost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Worker } from "node:worker_threads";
import { createLogger } from "../mod.ts";
import { crashSink } from "./fixtures/crash_sink.ts";
import { startTsWorker } from "./fixtures/spawn.ts";
import { assertAccounting } from "./helpers.ts";

const LIMIT = { timeout: 60_000 };

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8").split("\n").filter((l) => l).map((l) =>
    JSON.parse(l)
  );
}

function message(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
}

test(
  "the worker dies: the caller's thread drains its ring and an attached thread's, flushes included",
  LIMIT,
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "ttlog-failover-"));
    const path = join(dir, "out.ndjson");
    const log = createLogger({
      service: "failover",
      directives: "",
      sinks: [crashSink({ path })],
      worker: true,
    });
    let app: Worker | undefined;
    try {
      app = startTsWorker(
        new URL("./fixtures/app_worker.ts", import.meta.url),
        {
          workerData: { port: log.port(), count: 500, path, keepAlive: true },
        },
      );
      assert.equal(await message(app), "ready");
      for (let i = 0; i < 100; i++) log.info("before", { i });
      log.info("crash the drain");
      const deadline = Date.now() + 20_000;
      while (log.metrics().workerRestarts === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(log.metrics().workerRestarts, 1, "the worker did not die");
      // The drain runs on this thread now, and the metrics say so.
      assert.equal(log.metrics().worker, false);
      for (let i = 0; i < 100; i++) log.info("after", { i });
      // The attached thread logs and flushes through the old control block.
      const report = message(app);
      app.postMessage("go");
      const { inFile } = await report as { inFile: number };
      assert.equal(inFile, 500, "the attached thread's flush missed events");
      await assertAccounting(log);
      const got = lines(path);
      const count = (msg: string) => got.filter((l) => l.msg === msg).length;
      assert.equal(count("before"), 100);
      assert.equal(count("crash the drain"), 1);
      assert.equal(count("after"), 100);
      assert.equal(got.filter((l) => l.who === "worker").length, 500);
      // Sequence numbers are counted, not stored: the drain that took over
      // went on from the worker's read position and its seq (the read pair).
      const own = got.filter((l) => l.who !== "worker" && l.target !== "ttlog");
      assert.deepEqual(
        own.map((l) => l.seq),
        Array.from({ length: 201 }, (_, i) => i),
      );
      const theirs = got.filter((l) => l.who === "worker").map((l) => l.seq);
      assert.deepEqual(
        [...theirs].sort((a, b) => (a as number) - (b as number)),
        Array.from({ length: 500 }, (_, i) => i),
      );
    } finally {
      await app?.terminate();
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
