// ttlog stats groups events by call site: a tagged template's events are
// one site whatever their values, shown with {} where the values go.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { createLogger, memorySink } from "../mod.ts";
import { tempDir, ttlog } from "./fixtures/cli_run.ts";

test("stats: a tagged template's events are one call site, whatever their values", async () => {
  const dir = tempDir();
  try {
    const log = createLogger({ sinks: [memorySink()], snapshot: { dir } });
    const db = log.child("db");
    for (let i = 0; i < 50; i++) db.debug`query took ${i}ms on ${"orders"}`;
    for (let i = 0; i < 3; i++) log.info("started", { i });
    log.info(`built message ${1}`);
    log.info(`built message ${2}`);
    const path = await log.snapshot("stats");
    await log.close();
    const run = await ttlog("stats", path, "--json");
    assert.equal(run.status, 0, run.stderr);
    const stats = JSON.parse(run.stdout);
    assert.equal(stats.events, 55);
    assert.equal(stats.siteCount, 4);
    assert.deepEqual(stats.sites[0], {
      level: "debug",
      target: "db",
      msg: "query took {}ms on {}",
      count: 50,
    });
    assert.deepEqual(stats.sites[1], {
      level: "info",
      target: "",
      msg: "started",
      count: 3,
    });
    // Messages built before the call are different sites (as they are).
    assert.deepEqual(
      stats.sites.slice(2).map((s: { msg: string }) => s.msg).sort(),
      ["built message 1", "built message 2"],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
