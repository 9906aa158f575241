/**
 * The demo: a small simulated checkout service logging at every level.
 * Emitted events (info and up, debug for the `db` target) print to stdout;
 * everything at debug and up is recorded in the ring. Run: `npm run demo`.
 *
 * @module
 */

import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { consoleSink, createLogger, fileSink } from "../mod.ts";
import { decodeLz4Frame } from "../src/codec/lz4_frame.ts";
import { runCli } from "../src/cli/run.ts";

const dir = mkdtempSync(join(tmpdir(), "ttlog-demo-"));
const file = join(dir, "checkout.ndjson.lz4");

const log = createLogger({
  service: "checkout",
  level: "info",
  recordLevel: "trace",
  directives: "info,db=debug",
  sinks: [
    consoleSink({ format: "text" }),
    fileSink({ path: file, format: "ndjson", compression: "lz4" }),
  ],
  redact: ["password", "authorization"],
  snapshot: { dir },
});

let snapshotPath = "";

// A deterministic pseudo-random source, so every run prints the same story.
let seed = 42;
function random(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}

const http = log.child("http");
const db = log.child("db", { pool: "main" });
const cache = log.child("cache");
const payments = log.child("payments", { provider: "acme" });

log.info("service starting", { version: "0.1.0", port: 8080 });
log.trace("config loaded", { dictionaryBytes: 1 << 20 });

for (let i = 1; i <= 12; i++) {
  const requestId = `req-${String(i).padStart(4, "0")}`;
  const user = ["ada", "grace", "linus", "barbara"][i % 4];
  const started = 1000 + i * 37;
  http.debug`request ${requestId} GET /cart/${user}`;
  const hit = random() < 0.5;
  cache.debug("cache lookup", { key: `cart:${user}`, hit });
  if (!hit) {
    const ms = Math.round(random() * 900);
    db.debug`SELECT * FROM carts WHERE user = ${user} took ${ms}ms`;
    if (ms > 700) db.warn("slow query", { ms, table: "carts", requestId });
  }
  if (i % 5 === 0) {
    payments.info("charging card", {
      requestId,
      amount: 42.5,
      card: { last4: "4242", authorization: "Bearer secret-token" },
    });
  }
  if (i === 11) {
    const err = new Error("card declined", {
      cause: new Error("insufficient funds"),
    });
    payments.error(err, "payment failed");
    // Time travel: the last events of everything, debug and trace included.
    snapshotPath = await log.snapshot("payment failed");
  }
  http.info`${requestId} ${user} 200 in ${started % 97}ms`;
}

log.warn("shutting down", { reason: "demo finished" });
await log.flush();

const m = log.metrics();
console.log(
  `\n${m.logged} events logged: ${m.emitted} emitted above, ${m.filtered} debug/trace events ` +
    `recorded in the ring only (${m.recordedBytes} ring bytes, ${
      (m.recordedBytes / m.recorded).toFixed(1)
    } per event), ${m.dropped} dropped, ${m.lost} lost.`,
);
await log.close();
const lines = new TextDecoder().decode(decodeLz4Frame(readFileSync(file)))
  .trimEnd().split("\n");
console.log(
  `The drain ran ${m.worker ? "in a worker thread" : "on this thread"}; ` +
    `${file} holds the same ${lines.length} events as ndjson in LZ4 frames ` +
    `(${statSync(file).size} bytes, decoded back here).`,
);

console.log(
  `\nThe payment error took a snapshot: the events that led up to it, ` +
    `with the debug events that were never printed above ` +
    `(ttlog view ${snapshotPath.slice(dir.length + 1)} --last 8):\n`,
);
runCli(["view", snapshotPath, "--last", "8"]);
console.log(`\nttlog stats of the same snapshot:\n`);
runCli(["stats", snapshotPath]);
rmSync(dir, { recursive: true });
