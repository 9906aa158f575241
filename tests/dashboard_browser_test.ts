// The dashboard end to end in headless Chromium (Debian's chromium,
// driven by playwright-core), served by this runtime's own server
// (Deno.serve, Bun.serve, or node:http through dashboardNodeListener) with
// a token: the page loads without console errors (so without CSP
// violations), the events-per-second chart moves, the tail filters by
// level, pauses and resumes, and the snapshot button writes a file that
// then appears in the list, opens, filters and downloads. A screenshot is
// saved under .artifacts/ (not committed).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { createLogger } from "../mod.ts";
import { dashboardHandler, dashboardSink } from "../src/dashboard.ts";
import { listSnapshots } from "../src/dashboard/snapshots.ts";
import { detectRuntime } from "../src/runtime/mod.ts";
import { serveDashboard } from "./fixtures/dashboard_serve.ts";
import { runScenario } from "./fixtures/dashboard_scenario.ts";
import { toolPath } from "../scripts/tools.mjs";

const ARTIFACTS = fileURLToPath(new URL("../.artifacts/", import.meta.url));
const TOKEN = "browser-test-token-" + "0123456789abcdef";

test(
  "dashboard in Chromium: chart moves, tail filters and pauses, the snapshot button's file is listed, opens and downloads",
  { timeout: 120_000 },
  async () => {
    const chromiumPath = toolPath("chromium");
    const runtime = detectRuntime().name;
    const dir = mkdtempSync(join(tmpdir(), "ttlog-dashboard-e2e-"));
    const tail = dashboardSink();
    const log = createLogger({
      service: "e2e-shop",
      sinks: [tail],
      level: "debug",
      directives: "",
      snapshot: { dir },
    });
    const handler = dashboardHandler(log, {
      tail,
      token: TOKEN,
      snapshotDir: dir,
      intervalMs: 250,
    });
    const served = await serveDashboard(handler);
    let tick = 0;
    const workload = setInterval(() => {
      tick++;
      for (let i = 0; i < 4; i++) {
        log.child("http").info("request served", {
          status: 200,
          ms: tick % 50,
          i,
        });
      }
      log.child("cache").debug("cache lookup", { hit: tick % 2 === 0 });
      if (tick % 4 === 0) {
        log.child("db").warn("slow query", { ms: 700 + tick });
      }
      if (tick % 8 === 0) {
        log.child("payments").error("card declined", { order: tick });
      }
    }, 25);
    mkdirSync(ARTIFACTS, { recursive: true });
    const screenshot = join(ARTIFACTS, `dashboard-${runtime}.png`);
    try {
      assert.equal(log.metrics().worker, true, "the drain runs in its worker");
      const result = await runScenario(chromium, {
        url: served.url,
        token: TOKEN,
        executablePath: chromiumPath,
        screenshot,
        download: join(dir, "downloaded.bin"),
      });
      assert.deepEqual(
        result.consoleErrors,
        [],
        "no console errors (a CSP violation would be one)",
      );
      assert.equal(
        result.tokenHidden,
        true,
        "the token is taken off the address bar",
      );

      const { chart } = result;
      assert.ok(
        chart.samplesAfter >= chart.samplesBefore + 3,
        JSON.stringify(chart),
      );
      assert.notEqual(
        chart.pointsAfter,
        chart.pointsBefore,
        "the info line moved",
      );
      assert.ok(chart.pointsAfter.split(" ").length >= 3);
      assert.ok(chart.latest > 0, "events per second shown");

      assert.ok(
        result.tailLevels.includes("info") &&
          result.tailLevels.includes("warn"),
        result.tailLevels.join(),
      );
      assert.deepEqual(result.filteredLevels, ["error"]);

      const { pause } = result;
      assert.equal(pause.second, pause.first, "no rows added while paused");
      assert.match(pause.status, /paused, \d+ waiting/);
      assert.ok(pause.resumed > pause.second);

      const { snapshot } = result;
      assert.match(snapshot.name, /^ttlog-e2e-shop-\d+-.*-e2e_check\.ttlog$/);
      const file = listSnapshots(dir).find((f) => f.name === snapshot.name);
      assert.ok(file !== undefined, "the file is in the snapshot directory");
      assert.equal(file.reason, "e2e check");
      assert.ok(snapshot.viewCount > 10, `${snapshot.viewCount} events shown`);
      assert.match(snapshot.viewStatus, /reason e2e check/);
      assert.ok(
        snapshot.viewLevels.includes("debug"),
        "the snapshot holds debug events",
      );
      assert.ok(
        snapshot.filteredViewLevels.length > 0 &&
          snapshot.filteredViewLevels.every((level) =>
            ["warn", "error"].includes(level)
          ),
        snapshot.filteredViewLevels.join(),
      );
      assert.equal(
        snapshot.downloadedBytes,
        readFileSync(join(dir, snapshot.name)).length,
      );

      const png = readFileSync(screenshot);
      assert.deepEqual(
        [...png.subarray(0, 4)],
        [0x89, 0x50, 0x4e, 0x47],
        "a PNG",
      );
      console.log(
        `dashboard e2e on ${served.kind}: screenshot ${screenshot} (${png.length} bytes)`,
      );
    } finally {
      clearInterval(workload);
      await served.close();
      await log.close();
      rmSync(dir, { recursive: true });
    }
  },
);
