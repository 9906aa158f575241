/**
 * The reference workload of issue 4: a deterministic mix of the events a web
 * service logs, used to measure on-disk bytes per event (bench/snapshot.ts)
 * and by tests that want realistic records.
 *
 * Per 100 events, on average:
 * - 60 `info` "request" (target `http`): method, path (a route, some with an
 *   id in it), status, ms, userId;
 * - 30 `debug` "cache lookup" (target `cache`): key (`user:<id>`,
 *   `product:<id>`, `session:<id>` or `cart:<id>`), hit;
 * - 9 `warn` "slow query" (target `db`): one of a few SQL texts, ms, rows;
 * - 1 `error` "request failed" (target `http`): method, path, status,
 *   userId and an Error (name, message with a number in it, a stack).
 *
 * Values come from a seeded PRNG: user ids from 5,000 users, skewed towards
 * active ones; durations long-tailed. No per-event random token (such as a
 * 128-bit trace id) is logged: one would add its own 16 to 32 incompressible
 * bytes to every event, in any format.
 *
 * @module
 */

import type { Logger } from "../mod.ts";

/** One event of the workload, in a form any logger can take. */
export interface WorkloadEvent {
  /** The child logger's target (pino: a `module` binding). */
  readonly target: "http" | "cache" | "db";
  /** The level method. */
  readonly level: "debug" | "info" | "warn" | "error";
  /** The message. */
  readonly msg: string;
  /** The fields. */
  readonly fields: Record<string, unknown>;
}

/** mulberry32: a tiny seeded PRNG, floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ROUTES: readonly { method: string; path: string; id?: number }[] = [
  { method: "GET", path: "/api/products" },
  { method: "GET", path: "/api/products/", id: 20_000 },
  { method: "GET", path: "/api/cart" },
  { method: "POST", path: "/api/cart/items" },
  { method: "DELETE", path: "/api/cart/items/", id: 20_000 },
  { method: "GET", path: "/api/users/me" },
  { method: "PATCH", path: "/api/users/me" },
  { method: "POST", path: "/api/orders" },
  { method: "GET", path: "/api/orders/", id: 1_000_000 },
  { method: "GET", path: "/api/search" },
  { method: "POST", path: "/api/login" },
  { method: "GET", path: "/healthz" },
];

const SQL = [
  "select * from orders where user_id = $1 order by created_at desc limit 50",
  "update carts set updated_at = now() where id = $1",
  "select p.* from products p join stock s on s.product_id = p.id where s.qty > 0",
  "insert into order_items (order_id, product_id, qty) values ($1, $2, $3)",
];

const FAILURES = [
  "upstream payments timed out after 3000 ms",
  "connect ECONNREFUSED 10.0.3.17:5432",
  "stock reservation conflict",
];

/**
 * Creates the workload's event source: `next()` returns the next event. The
 * same seed gives the same events, in every runtime.
 *
 * @param seed The PRNG seed (default 1).
 * @returns A function returning one event per call.
 */
export function workload(seed = 1): () => WorkloadEvent {
  const random = mulberry32(seed);
  const int = (n: number) => Math.floor(random() * n);
  // Active users log more: a power law over 5,000 ids.
  const user = () => 10_000 + Math.floor(5000 * random() ** 3);
  // Long-tailed durations: mostly a few ms, sometimes hundreds.
  const duration = () =>
    Math.max(1, Math.round(2 * Math.exp(4 * random() ** 2)));
  return () => {
    const r = random();
    if (r < 0.6 || r >= 0.99) {
      const route = ROUTES[int(ROUTES.length)];
      const path = route.id === undefined
        ? route.path
        : route.path + (1 + int(route.id));
      const userId = user();
      if (r >= 0.99) {
        const err = new Error(FAILURES[int(FAILURES.length)]);
        return {
          target: "http",
          level: "error",
          msg: "request failed",
          fields: { method: route.method, path, status: 500, userId, err },
        };
      }
      const s = random();
      const status = s < 0.9
        ? (route.method === "POST" ? 201 : 200)
        : s < 0.95
        ? 304
        : s < 0.99
        ? 404
        : 401;
      return {
        target: "http",
        level: "info",
        msg: "request",
        fields: { method: route.method, path, status, ms: duration(), userId },
      };
    }
    if (r < 0.9) {
      const kind = int(4);
      const key = kind === 0
        ? `user:${user()}`
        : kind === 1
        ? `product:${1 + int(20_000)}`
        : kind === 2
        ? `session:${user()}`
        : `cart:${user()}`;
      return {
        target: "cache",
        level: "debug",
        msg: "cache lookup",
        fields: { key, hit: random() < 0.8 },
      };
    }
    return {
      target: "db",
      level: "warn",
      msg: "slow query",
      fields: {
        sql: SQL[int(SQL.length)],
        ms: 200 + int(2800),
        rows: int(500),
      },
    };
  };
}

/**
 * Logs `count` workload events into a ttlog logger, through one child per
 * target.
 *
 * @param log The logger.
 * @param count How many events.
 * @param seed The PRNG seed (default 1).
 */
export function logWorkload(log: Logger, count: number, seed = 1): void {
  const next = workload(seed);
  const children = {
    http: log.child("http"),
    cache: log.child("cache"),
    db: log.child("db"),
  };
  for (let i = 0; i < count; i++) {
    const event = next();
    children[event.target][event.level](event.msg, event.fields);
  }
}
