/**
 * Request logging for fetch-style handlers: `Deno.serve`, `Bun.serve`,
 * Hono's `app.fetch`, Cloudflare's `fetch`, or node:http through an adapter.
 * One event per request, the request id in every event logged while it is
 * handled (see `withContext`), and on a failure a snapshot holding
 * only that request's events. Hono and Elysia have their own integrations
 * (`@ttlog/ttlog/hono`, `@ttlog/ttlog/elysia`), which also see the errors
 * those frameworks catch.
 *
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { withLogging } from "@ttlog/ttlog/http";
 * const log = createLogger({ sinks: [memorySink()] });
 * const handler = withLogging((_req: Request) => new Response("hi"), { log });
 * const res = await handler(new Request("http://localhost/"));
 * console.log(res.headers.get("x-request-id"));
 * await log.close();
 * ```
 *
 * @module
 */

export {
  type FetchHandler,
  parseTraceparent,
  requestFailed,
  requestLogger,
  type RequestLoggingOptions,
} from "./http/request.ts";
export { withLogging, type WithLoggingOptions } from "./http/with_logging.ts";
export { metricsHandler } from "./http/metrics_handler.ts";
export {
  nodeListener,
  type NodeRequestLike,
  type NodeResponseLike,
} from "./http/node.ts";
