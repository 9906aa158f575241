/**
 * A `/metrics` route: the logger's metrics in the Prometheus text format.
 *
 * @module
 */

import { TtlogConfigError } from "../errors.ts";
import { type HasMetrics, prometheusText } from "../metrics.ts";

/**
 * A fetch handler that answers with the logger's metrics in the Prometheus
 * text format (0.0.4), for a `/metrics` route; GET and HEAD only.
 *
 * @param log The logger (or anything with `metrics()`).
 * @param service The `service` label (default: the logger's service).
 * @returns The handler.
 *
 * @example Mount it beside your app
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { metricsHandler } from "@ttlog/ttlog/http";
 * import assert from "node:assert/strict";
 * const log = createLogger({ service: "shop", sinks: [memorySink()] });
 * const metrics = metricsHandler(log);
 * const res = await metrics(new Request("http://localhost/metrics"));
 * assert.match(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
 * assert.match(await res.text(), /^ttlog_events_logged_total\{service="shop"\} 0$/m);
 * await log.close();
 * ```
 */
export function metricsHandler(
  log: HasMetrics,
  service?: string,
): (request: Request) => Response {
  if (
    typeof log !== "object" || log === null ||
    typeof (log as HasMetrics).metrics !== "function"
  ) {
    throw new TtlogConfigError(
      `metricsHandler: the first argument must be a logger (something with metrics())`,
    );
  }
  return (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method Not Allowed\n", {
        status: 405,
        headers: { allow: "GET, HEAD" },
      });
    }
    return new Response(
      request.method === "HEAD" ? null : prometheusText(log, service),
      {
        headers: {
          "content-type": "text/plain; version=0.0.4; charset=utf-8",
          "cache-control": "no-store",
        },
      },
    );
  };
}
