/**
 * The dashboard demo: a simulated checkout service that keeps logging (about
 * 60 requests a second, with debug, slow queries, payment failures and now
 * and then a burst), and the live dashboard on the loopback. Run
 * `npm run demo:dashboard` and open the URL it prints. Options:
 * `--port N` (default 8077; 0 picks a free one), `--seconds N` (stop after
 * N seconds; default: until Ctrl-C).
 *
 * @module
 */

import { createServer } from "node:http";
import { mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createLogger } from "../mod.ts";
import { withLogging } from "../src/http.ts";
import {
  dashboardHandler,
  dashboardNodeListener,
  dashboardSink,
} from "../src/dashboard.ts";

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`${name} needs a whole number, got ${process.argv[at + 1]}`);
    process.exit(2);
  }
  return value;
}
const port = option("--port", 8077);
const seconds = option("--seconds", 0);

const dir = mkdtempSync(join(tmpdir(), "ttlog-dashboard-demo-"));
const tail = dashboardSink();
const log = createLogger({
  service: "checkout",
  level: "info",
  recordLevel: "trace",
  directives: "info,db=debug",
  // Everything emitted goes to the dashboard; the terminal gets a status
  // line every 10 s.
  sinks: [tail],
  snapshot: { dir, on: ["error"], minIntervalMs: 30_000 },
});

// A deterministic pseudo-random source.
let seed = 7;
function random(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}

const db = log.child("db", { pool: "main" });
const cache = log.child("cache");
const payments = log.child("payments", { provider: "acme" });
const users = ["ada", "grace", "linus", "barbara", "ken", "margaret"];

// The shop, as a fetch handler wrapped with request logging: its 5xx
// answers take a snapshot of that request's events.
const shop = withLogging(async (request: Request) => {
  const path = new URL(request.url).pathname;
  const user = users[Math.floor(random() * users.length)];
  log.trace("route matched", { path });
  const hit = random() < 0.6;
  cache.debug("cache lookup", { key: `cart:${user}`, hit });
  if (!hit) {
    const ms = Math.round(random() * random() * 1200);
    db.debug`SELECT * FROM carts WHERE user = ${user} took ${ms}ms`;
    if (ms > 700) db.warn("slow query", { ms, table: "carts" });
  }
  if (path === "/checkout") {
    const amount = Math.round(random() * 20000) / 100;
    payments.info("charging card", { user, amount, card: { last4: "4242" } });
    if (random() < 0.03) {
      payments.error(
        new Error("card declined", { cause: new Error("insufficient funds") }),
        "payment failed",
      );
      return new Response("payment failed", { status: 502 });
    }
  }
  await Promise.resolve();
  return new Response("ok");
}, { log, snapshot: "5xx" });

const paths = ["/", "/cart", "/cart", "/products", "/checkout"];
let ticks = 0;
const workload = setInterval(() => {
  ticks++;
  for (let i = 0; i < 3; i++) {
    const path = paths[Math.floor(random() * paths.length)];
    Promise.resolve(shop(new Request(`http://shop.internal${path}`))).catch(
      () => {},
    );
  }
  // Every 15 s a burst: the chart spikes and the tail's rate cap shows.
  if (ticks % 300 === 0) {
    for (let i = 0; i < 20_000; i++) cache.info("cache refill", { key: i });
  }
}, 50);

const handler = dashboardHandler(log, { tail });
const server = createServer(dashboardNodeListener(handler));
server.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EADDRINUSE" && port !== 0) {
    console.error(`port ${port} is in use; taking a free one`);
    server.listen(0, "127.0.0.1");
    return;
  }
  throw error;
});
server.on("listening", () => {
  const { port: bound } = server.address() as AddressInfo;
  console.log(
    `ttlog dashboard: http://127.0.0.1:${bound}/\n` +
      `(loopback only; snapshots in ${dir}; ${
        seconds > 0 ? `stops after ${seconds} s` : "Ctrl-C to stop"
      })`,
  );
});
server.listen(port, "127.0.0.1");

const status = setInterval(() => {
  const m = log.metrics();
  console.log(
    `${m.logged} events logged, ${m.emitted} emitted, ${m.dropped} dropped, ${m.lost} lost`,
  );
}, 10_000);

if (seconds > 0) {
  setTimeout(async () => {
    clearInterval(workload);
    clearInterval(status);
    server.closeAllConnections();
    server.close();
    const m = log.metrics();
    console.log(
      `stopped: ${m.logged} events logged, ${m.emitted} emitted, ${m.dropped} dropped, ${m.lost} lost`,
    );
    await log.close();
  }, seconds * 1000);
}
