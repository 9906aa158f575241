/**
 * `dashboardHandler`: the fetch handler behind the dashboard page, its event
 * stream and its snapshot API. Routes, relative to `basePath`:
 *
 * | method | path                            | answer                                        |
 * | ------ | ------------------------------- | --------------------------------------------- |
 * | GET    | `/`                             | the page (one HTML file, inline JS and CSS)   |
 * | GET    | `/api/stream`                   | Server-Sent Events: `metrics`, `tail`         |
 * | GET    | `/api/metrics`                  | one metrics frame as JSON                     |
 * | GET    | `/api/snapshots`                | the snapshot files                            |
 * | POST   | `/api/snapshots`                | takes a snapshot (`{ "reason": "..." }`)      |
 * | GET    | `/api/snapshots/NAME`           | the file, as a download                       |
 * | GET    | `/api/snapshots/NAME/events`    | its events, with the filters of `ttlog view`  |
 *
 * This file checks access (./access.ts) and routes; the event stream is
 * ./event_stream.ts, the snapshot API ./snapshot_routes.ts, the options
 * ./options.ts.
 *
 * @module
 */

import { TtlogConfigError } from "../errors.ts";
import { SNAPSHOT_DIR } from "../logger/logger.ts";
import { refuseRequest, serverRemoteAddress } from "./access.ts";
import { eventStream } from "./event_stream.ts";
import { metricsFrame, type Sample } from "./metrics_frame.ts";
import {
  type DashboardLogger,
  type DashboardOptions,
  validateDashboard,
} from "./options.ts";
import { dashboardPage } from "./page.ts";
import { json, problem, SECURITY_HEADERS } from "./responses.ts";
import { snapshotRoute } from "./snapshot_routes.ts";
import { TailHub } from "./tail_hub.ts";

/**
 * The dashboard's fetch handler. The second argument is whatever the server
 * passes beside the request (`Deno.serve`'s info, `Bun.serve`'s server):
 * it is how the handler learns the remote address.
 *
 * @example Without a token, a request whose address is unknown is refused
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { dashboardHandler, type DashboardHandler } from "@ttlog/ttlog/dashboard";
 * import assert from "node:assert/strict";
 * const log = createLogger({ sinks: [memorySink()] });
 * const handler: DashboardHandler = dashboardHandler(log);
 * const res = await handler(new Request("http://127.0.0.1/"));
 * assert.equal(res.status, 403);
 * await log.close();
 * ```
 */
export type DashboardHandler = (
  request: Request,
  info?: unknown,
) => Promise<Response>;

/** Tail lines kept for streams that open later. */
const KEEP = 2000;

function randomNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}

/**
 * Creates the dashboard: a fetch handler serving one self-contained page
 * (no CDN; works offline) with live metrics over Server-Sent Events (events
 * per second by level as a chart, emitted, dropped and lost events, ring
 * fill, per-sink health, drain pass time), a live tail with level, target
 * and text filters, pause and resume, and the snapshots: take one, list,
 * download, and view one's events with the filters of `ttlog view`.
 *
 * Mount it in `Deno.serve(handler)`, `Bun.serve({ fetch: handler })`,
 * node:http with `createServer(dashboardNodeListener(handler))`, or a
 * router (with `basePath`, and `remoteAddress` when the router hides the
 * server's second argument).
 *
 * Secure by default: without a `token` it answers only requests from the
 * loopback, and 403 when it cannot tell where a request came from; with a
 * token, every request needs it. Snapshot names are checked against the
 * pattern the writer uses and the directory's listing: nothing else is
 * ever opened.
 *
 * @param log The logger.
 * @param options Token, snapshot directory, tail sink and mounting.
 * @returns The handler.
 * @throws {TtlogConfigError} When the logger or an option is invalid.
 *
 * @example Serve the dashboard with Deno.serve on the loopback
 * ```ts
 * import { createLogger, consoleSink } from "@ttlog/ttlog";
 * import { dashboardHandler, dashboardSink } from "@ttlog/ttlog/dashboard";
 * import assert from "node:assert/strict";
 * const tail = dashboardSink();
 * const log = createLogger({ sinks: [consoleSink(), tail] });
 * const handler = dashboardHandler(log, { tail, snapshotDir: "ttlog-snapshots" });
 * // Deno.serve({ hostname: "127.0.0.1", port: 8077 }, handler);
 * const info = { remoteAddr: { transport: "tcp", hostname: "127.0.0.1" } };
 * const page = await handler(new Request("http://127.0.0.1:8077/"), info);
 * assert.match(page.headers.get("content-type")!, /^text\/html/);
 * const metrics = await handler(new Request("http://127.0.0.1:8077/api/metrics"), info);
 * assert.equal((await metrics.json()).metrics.logged, 0);
 * const remote = { remoteAddr: { transport: "tcp", hostname: "192.0.2.7" } };
 * assert.equal((await handler(new Request("http://127.0.0.1:8077/"), remote)).status, 403);
 * await log.close();
 * ```
 *
 * @example With a token, from anywhere
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { dashboardHandler } from "@ttlog/ttlog/dashboard";
 * import assert from "node:assert/strict";
 * const log = createLogger({ sinks: [memorySink()] });
 * const token = crypto.randomUUID();
 * const handler = dashboardHandler(log, { token });
 * const url = "http://dashboard.example/api/metrics";
 * assert.equal((await handler(new Request(url))).status, 401);
 * const res = await handler(new Request(url, { headers: { authorization: `Bearer ${token}` } }));
 * assert.equal(res.status, 200);
 * await log.close();
 * ```
 */
export function dashboardHandler(
  log: DashboardLogger,
  options: DashboardOptions = {},
): DashboardHandler {
  validateDashboard(log, options);
  const token = options.token === undefined
    ? undefined
    : new TextEncoder().encode(options.token);
  const own = (log as { [SNAPSHOT_DIR]?: unknown })[SNAPSHOT_DIR];
  const snapshotDir = options.snapshotDir ??
    (typeof own === "string" ? own : "ttlog-snapshots");
  const basePath = options.basePath ?? "";
  const intervalMs = options.intervalMs ?? 1000;
  const remoteAddress = options.remoteAddress ?? serverRemoteAddress;
  const hub = options.tail === undefined
    ? undefined
    : new TailHub(options.tail.memory, {
      pollMs: Math.min(100, intervalMs),
      keep: KEEP,
    });

  const sample = (): Sample => {
    const counters = hub?.counters();
    return {
      at: Date.now(),
      metrics: log.metrics(),
      levels: counters?.levels,
      skipped: counters?.skipped ?? 0,
    };
  };

  const page = (): Response => {
    const nonce = randomNonce();
    return new Response(dashboardPage(nonce), {
      headers: {
        ...SECURITY_HEADERS,
        "content-type": "text/html; charset=utf-8",
        "content-security-policy":
          `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      },
    });
  };

  return async (request: Request, info?: unknown): Promise<Response> => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return problem(400, `bad request URL`);
    }
    const refused = refuseRequest(request, url, info, token, remoteAddress);
    if (refused !== undefined) return refused;
    let path = url.pathname;
    if (basePath !== "") {
      if (path === basePath) {
        const query = url.search;
        return new Response(null, {
          status: 308,
          headers: { location: `${basePath}/${query}` },
        });
      }
      if (!path.startsWith(basePath + "/")) {
        return problem(404, `no such route`);
      }
      path = path.slice(basePath.length);
    }
    try {
      if (path === "/") {
        if (request.method !== "GET" && request.method !== "HEAD") {
          return problem(405, `use GET`, { allow: "GET, HEAD" });
        }
        return page();
      }
      if (path === "/api/stream" || path === "/api/metrics") {
        if (request.method !== "GET") {
          return problem(405, `use GET`, { allow: "GET" });
        }
        if (path === "/api/metrics") {
          return json(metricsFrame(sample(), undefined));
        }
        return eventStream(request, url, { hub, intervalMs, sample });
      }
      if (path === "/api/snapshots" || path.startsWith("/api/snapshots/")) {
        return await snapshotRoute(
          request,
          url,
          path.slice("/api/snapshots/".length),
          log,
          snapshotDir,
        );
      }
      return problem(404, `no such route`);
    } catch (error) {
      if (error instanceof TtlogConfigError) return problem(501, error.message);
      return problem(
        500,
        `the dashboard failed: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    }
  };
}
