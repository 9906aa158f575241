/**
 * What `dashboardHandler` takes: the logger it watches
 * ({@link DashboardLogger}), its options ({@link DashboardOptions}), and the
 * check of both, which names what is wrong.
 *
 * @module
 */

import { TtlogConfigError } from "../errors.ts";
import type { Metrics } from "../metrics.ts";
import type { RemoteAddress } from "./access.ts";
import type { DashboardSink } from "./sink.ts";

/**
 * What the dashboard needs of a logger: its counters and its snapshots. A
 * logger from `createLogger` is one.
 *
 * @example A logger is a DashboardLogger
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import type { DashboardLogger } from "@ttlog/ttlog/dashboard";
 * import assert from "node:assert/strict";
 * const log = createLogger({ sinks: [memorySink()] });
 * const watched: DashboardLogger = log;
 * assert.equal(watched.metrics().logged, 0);
 * await log.close();
 * ```
 */
export interface DashboardLogger {
  /** The counters. */
  metrics(): Metrics;
  /** Takes a snapshot; resolves to its path. */
  snapshot(reason?: string): Promise<string>;
}

/**
 * Options of {@link dashboardHandler}.
 *
 * @example Mounted under /ttlog, with a token
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { dashboardHandler, type DashboardOptions } from "@ttlog/ttlog/dashboard";
 * import assert from "node:assert/strict";
 * const log = createLogger({ sinks: [memorySink()] });
 * const options: DashboardOptions = {
 *   token: crypto.randomUUID(),
 *   basePath: "/ttlog",
 *   intervalMs: 2000,
 * };
 * const handler = dashboardHandler(log, options);
 * const refused = await handler(new Request("http://127.0.0.1/ttlog/"));
 * assert.equal(refused.status, 401);
 * await log.close();
 * ```
 */
export interface DashboardOptions {
  /**
   * A secret every request must carry: `authorization: Bearer <token>`, or
   * `?token=<token>` on GET requests (the page, its event stream, downloads).
   * At least 16 visible ASCII characters (`crypto.randomUUID()` will do).
   * Without a token the dashboard answers only requests from the loopback
   * (127.0.0.0/8, ::1) whose Host header names the loopback and that came
   * through no proxy, and refuses everything when it cannot tell the
   * remote address.
   */
  readonly token?: string;
  /**
   * The directory to list snapshots from (default: where the logger writes
   * them, its `snapshot.dir`; `"ttlog-snapshots"` for a logger that is not
   * ttlog's own).
   */
  readonly snapshotDir?: string;
  /**
   * The {@link DashboardSink} in the logger's sinks: the live tail and the
   * events per second by level come from it. Without it the page shows the
   * logger's counters and snapshots only.
   */
  readonly tail?: DashboardSink;
  /**
   * The path the dashboard is mounted at, such as `"/ttlog"` (default `""`:
   * the root). Requests outside it get 404.
   */
  readonly basePath?: string;
  /**
   * Finds the remote address of a request, for servers other than
   * `Deno.serve`, `Bun.serve` and node:http through `dashboardNodeListener`
   * (which are read without it). Return undefined when unknown.
   */
  readonly remoteAddress?: RemoteAddress;
  /** How often the event stream sends metrics, in ms (default 1000, from 10 to 60000). */
  readonly intervalMs?: number;
}

const OPTION_KEYS = [
  "token",
  "snapshotDir",
  "tail",
  "basePath",
  "remoteAddress",
  "intervalMs",
];
const TOKEN = /^[\x21-\x7e]{16,512}$/;

function fail(message: string): never {
  throw new TtlogConfigError(`dashboardHandler: ${message}`);
}
/**
 * Checks `dashboardHandler`'s arguments.
 *
 * @param log What was given as the logger.
 * @param options What was given as the options.
 * @throws {TtlogConfigError} When the logger is not one, an option is
 * unknown, or a value is unusable; the message names it.
 *
 * @example An unknown option is named
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { validateDashboard } from "./options.ts";
 * import assert from "node:assert/strict";
 * const log = createLogger({ sinks: [memorySink()] });
 * assert.throws(() => validateDashboard(log, { tokn: "x" }), /unknown option "tokn"/);
 * await log.close();
 * ```
 */
export function validateDashboard(log: unknown, options: unknown): void {
  if (
    typeof log !== "object" || log === null ||
    typeof (log as DashboardLogger).metrics !== "function" ||
    typeof (log as DashboardLogger).snapshot !== "function"
  ) {
    fail(`the first argument must be a logger from createLogger()`);
  }
  if (typeof options !== "object" || options === null) {
    fail(`options must be an object such as { token, snapshotDir, tail }`);
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) {
      fail(
        `unknown option ${JSON.stringify(key)} (known: ${
          OPTION_KEYS.join(", ")
        })`,
      );
    }
  }
  const o = options as DashboardOptions;
  if (
    o.token !== undefined &&
    (typeof o.token !== "string" || !TOKEN.test(o.token))
  ) {
    fail(
      `token must be a string of at least 16 visible ASCII characters, without spaces (crypto.randomUUID() gives one), got ${
        typeof o.token === "string"
          ? `a string of ${o.token.length} characters`
          : typeof o.token
      }`,
    );
  }
  if (
    o.snapshotDir !== undefined &&
    (typeof o.snapshotDir !== "string" || o.snapshotDir === "")
  ) {
    fail(`snapshotDir must be a non-empty string (a directory)`);
  }
  if (
    o.tail !== undefined &&
    (typeof o.tail !== "object" || o.tail === null ||
      (o.tail as DashboardSink).kind !== "ttlog-dashboard-sink")
  ) {
    fail(
      `tail must be the dashboardSink() given to createLogger's sinks, got ${
        o.tail === null ? "null" : typeof o.tail
      }`,
    );
  }
  if (
    o.basePath !== undefined &&
    (typeof o.basePath !== "string" ||
      !/^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*$/.test(o.basePath))
  ) {
    fail(
      `basePath must be "" or a path such as "/ttlog" (starting with /, not ending with /), got ${
        JSON.stringify(o.basePath)
      }`,
    );
  }
  if (o.remoteAddress !== undefined && typeof o.remoteAddress !== "function") {
    fail(`remoteAddress must be a function (request, info) => address`);
  }
  if (
    o.intervalMs !== undefined &&
    (typeof o.intervalMs !== "number" || !(o.intervalMs >= 10) ||
      !(o.intervalMs <= 60_000))
  ) {
    fail(
      `intervalMs must be a number of ms from 10 to 60000, got ${
        String(o.intervalMs)
      }`,
    );
  }
}
