/**
 * Request logging as Hono middleware: what `withLogging` does, from inside
 * the app, so that it also sees the error Hono caught (`c.error`), which
 * Hono answers with a 500 of its own and would otherwise show only on its
 * console. Works wherever Hono runs (Deno, Bun, Node through
 * `@hono/node-server`, Cloudflare Workers, Vercel Edge); ttlog does not
 * import Hono.
 *
 * ```ts
 * import { Hono } from "hono";
 * import { createLogger } from "@ttlog/ttlog";
 * import { requestLogging } from "@ttlog/ttlog/hono";
 * const log = createLogger({ service: "api" });
 * const app = new Hono();
 * app.use(requestLogging({ log }));
 * app.get("/", (c) => c.text("hi"));
 * ```
 *
 * @module
 */

import {
  type RequestFields,
  RequestLog,
  requestLogger,
  type RequestLoggingOptions,
} from "./http/request.ts";

/**
 * Options of {@link requestLogging}: those of `withLogging`.
 *
 * @example Under the target "api", with a snapshot on every 5xx
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import type { HonoLoggingOptions } from "@ttlog/ttlog/hono";
 * import assert from "node:assert/strict";
 * const log = createLogger({ sinks: [memorySink()] });
 * const options: HonoLoggingOptions = { log, target: "api", snapshot: "5xx" };
 * assert.equal(options.snapshot, "5xx");
 * await log.close();
 * ```
 */
export type HonoLoggingOptions = RequestLoggingOptions;

/**
 * The part of Hono's `Context` the middleware uses.
 *
 * @example What a test double needs
 * ```ts
 * import type { HonoContextLike } from "@ttlog/ttlog/hono";
 * import assert from "node:assert/strict";
 * const vars = new Map<string, unknown>();
 * const c: HonoContextLike = {
 *   req: { raw: new Request("http://localhost/") },
 *   res: new Response("hi"),
 *   error: undefined,
 *   set: (key, value) => void vars.set(key, value),
 *   header: (name, value) => void c.res.headers.set(name, value),
 * };
 * c.set("requestId", "r-1");
 * assert.equal(vars.get("requestId"), "r-1");
 * ```
 */
export interface HonoContextLike {
  /** The request; `raw` is the Request the server passed. */
  readonly req: { readonly raw: Request };
  /** The response, once the handlers ran. */
  res: Response;
  /** The error a handler threw, which Hono's onError answered. */
  error: Error | undefined;
  /** Sets a context variable (`c.get(key)`, `c.var[key]`). */
  set(key: string, value: unknown): void;
  /** Sets a response header. */
  header(name: string, value: string): void;
}

/**
 * A Hono middleware handler.
 *
 * @example Call it by hand
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { type HonoMiddleware, requestLogging } from "@ttlog/ttlog/hono";
 * import assert from "node:assert/strict";
 * const log = createLogger({ sinks: [memorySink()] });
 * const middleware: HonoMiddleware = requestLogging({ log });
 * assert.equal(typeof middleware, "function");
 * await log.close();
 * ```
 */
export type HonoMiddleware = (
  c: HonoContextLike,
  next: () => Promise<void>,
) => Promise<void>;

/**
 * Hono middleware that logs every request as `withLogging` does: one event
 * with `method`, `path`, `status`, `ms` and `bytes` (info, warn for 4xx,
 * error for 5xx), the id from `x-request-id` or generated, echoed in the
 * response, the W3C `traceparent` ids, and every event logged while the
 * request is handled carrying them (where the runtime has
 * AsyncLocalStorage). When a route throws, Hono answers 500 through its
 * `onError`; the request's event then carries the error (`err`, with its
 * message and stack). Register it first (`app.use(...)` before the
 * routes) so it wraps them all.
 *
 * It sets two context variables: `requestId`, and `log`, a logger whose
 * events carry the request's ids even where there is no AsyncLocalStorage
 * (Cloudflare Workers without `nodejs_compat`): log through `c.get("log")`
 * there.
 *
 * @param options The logger and what to do.
 * @returns The middleware, for `app.use()`.
 * @throws {TtlogConfigError} When an option is invalid.
 *
 * @example A route that throws
 * ```ts
 * import { Hono } from "hono";
 * import { createLogger, type LoggedError, memorySink } from "@ttlog/ttlog";
 * import { requestLogging } from "@ttlog/ttlog/hono";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink] });
 * const app = new Hono();
 * app.use(requestLogging({ log }));
 * app.get("/pay", () => {
 *   throw new Error("card declined");
 * });
 * app.onError((_err, c) => c.text("sorry", 500));
 * const res = await app.fetch(new Request("http://localhost/pay"));
 * assert.equal(res.status, 500);
 * assert.ok(res.headers.get("x-request-id"));
 * await log.flush();
 * const event = sink.records.at(-1)!;
 * assert.equal(event.fields.status, 500);
 * assert.equal((event.fields.err as LoggedError).message, "card declined");
 * assert.match((event.fields.err as LoggedError).stack!, /card declined/);
 * await log.close();
 * ```
 */
export function requestLogging(options: HonoLoggingOptions): HonoMiddleware {
  const requests = new RequestLog("requestLogging (hono)", options, []);
  // Runs inside the request's context, so the request's own event (logged
  // after the handlers) carries the ids too.
  const handle = async (
    c: HonoContextLike,
    next: () => Promise<void>,
    fields: RequestFields,
  ): Promise<void> => {
    const request = c.req.raw;
    const start = performance.now();
    try {
      await next();
    } catch (error) {
      // What Hono does not catch itself (a thrown non-Error, or an error
      // its own onError threw): the server sees it, as without us.
      requests.failed(request, fields, start, error);
      throw error;
    }
    // An HTTPException(401) that Hono turned into its answer is the answer;
    // an error it answered with a 5xx is the request's failure.
    const status = c.res.status;
    requests.logResponse(
      request,
      fields,
      start,
      status,
      c.res.headers.get("content-length"),
      status >= 500 ? c.error : undefined,
    );
    c.header(requests.header, fields.request_id);
  };
  return (c, next) => {
    const fields = requests.fields(c.req.raw);
    c.set("requestId", fields.request_id);
    c.set(
      "log",
      requests.context ? requests.log : requestLogger(c.req.raw),
    );
    return requests.run(fields, handle, c, next, fields);
  };
}
