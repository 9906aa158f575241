/**
 * Request logging as an Elysia plugin: the request's id (from
 * `x-request-id` or generated, echoed in the response), one event per
 * request with its status, and the error Elysia caught (which it answers
 * with a 500 of its own) on that event with its stack. Elysia has no hook
 * around a handler, so no AsyncLocalStorage context carries the ids into
 * the handler's events: log through `requestLogger(request)` there. ttlog
 * does not import Elysia.
 *
 * ```ts
 * import { Elysia } from "elysia";
 * import { createLogger } from "@ttlog/ttlog";
 * import { requestLogger } from "@ttlog/ttlog/http";
 * import { requestLogging } from "@ttlog/ttlog/elysia";
 * const log = createLogger({ service: "api" });
 * const app = new Elysia()
 *   .use(requestLogging({ log }))
 *   .get("/", ({ request }) => {
 *     requestLogger(request).info("hello"); // carries request_id
 *     return "hi";
 *   });
 * // app.listen(3000) on Bun; elsewhere serve app.fetch.
 * await app.handle(new Request("http://localhost/"));
 * await log.close();
 * ```
 *
 * @module
 */

import { TtlogConfigError } from "./errors.ts";
import {
  type RequestFields,
  RequestLog,
  type RequestLoggingOptions,
} from "./http/request.ts";

/**
 * Options of {@link requestLogging}: those of `withLogging` but `context`
 * (Elysia has no hook around a handler to run it in one).
 *
 * @example Under the target "api"
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import type { ElysiaLoggingOptions } from "@ttlog/ttlog/elysia";
 * import assert from "node:assert/strict";
 * const log = createLogger({ sinks: [memorySink()] });
 * const options: ElysiaLoggingOptions = { log, target: "api" };
 * assert.equal(options.target, "api");
 * await log.close();
 * ```
 */
export type ElysiaLoggingOptions = Omit<RequestLoggingOptions, "context">;

/**
 * What an Elysia lifecycle hook is given, as far as the plugin reads it.
 *
 * @example The shape of a hook's context
 * ```ts
 * import type { ElysiaHookContext } from "@ttlog/ttlog/elysia";
 * import assert from "node:assert/strict";
 * const c: ElysiaHookContext = {
 *   request: new Request("http://localhost/"),
 *   set: { headers: {}, status: 200 },
 * };
 * assert.equal(c.set.status, 200);
 * ```
 */
export interface ElysiaHookContext {
  /** The request. */
  readonly request: Request;
  /** The response being built: its headers and status. */
  readonly set: {
    headers: Record<string, unknown>;
    status?: number | string;
  };
  /** In onError: what was thrown. */
  readonly error?: unknown;
  /** In onError: Elysia's name for it (`"UNKNOWN"`, `"NOT_FOUND"`...). */
  readonly code?: unknown;
  /** In onAfterResponse: the Response sent, when the handler made one. */
  readonly response?: unknown;
}

/**
 * The part of an Elysia app the plugin registers its hooks on.
 *
 * @example What a test double needs
 * ```ts
 * import type { ElysiaAppLike } from "@ttlog/ttlog/elysia";
 * import assert from "node:assert/strict";
 * const hooks: string[] = [];
 * const app: ElysiaAppLike = {
 *   onRequest(fn) { hooks.push("request"); return app; },
 *   onError(_options, fn) { hooks.push("error"); return app; },
 *   onAfterResponse(_options, fn) { hooks.push("afterResponse"); return app; },
 * };
 * assert.equal(app.onRequest(() => {}), app);
 * ```
 */
export interface ElysiaAppLike {
  /** Runs `fn` first for every request. */
  onRequest(fn: (c: ElysiaHookContext) => void): unknown;
  /** Runs `fn` when a handler or hook throws. */
  onError(
    options: { as: "global" },
    fn: (c: ElysiaHookContext) => void,
  ): unknown;
  /** Runs `fn` once the response was sent. */
  onAfterResponse(
    options: { as: "global" },
    fn: (c: ElysiaHookContext) => void,
  ): unknown;
}

interface Pending {
  readonly fields: RequestFields;
  readonly start: number;
  error: unknown;
}

/**
 * The Elysia plugin: `app.use(requestLogging({ log }))`. Per request: the
 * id header echoed, and after the response is sent one event with
 * `method`, `path`, `status`, `ms` (until the response was sent) and
 * `bytes` when known, at info, warn for 4xx, error for 5xx; an error that
 * Elysia answered with a 5xx rides on it as `err`, message and stack. In a
 * handler, `requestLogger(request)` (from `@ttlog/ttlog/http`) logs with
 * the request's ids. Hooks are registered `as: "global"`, so routes of
 * apps that use this one are logged too.
 *
 * @param options The logger and what to do.
 * @returns The plugin, for `app.use()`.
 * @throws {TtlogConfigError} When an option is invalid.
 *
 * @example A route that throws
 * ```ts
 * import { Elysia } from "elysia";
 * import { createLogger, type LoggedError, memorySink } from "@ttlog/ttlog";
 * import { requestLogging } from "@ttlog/ttlog/elysia";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink] });
 * const app = new Elysia()
 *   .use(requestLogging({ log }))
 *   .get("/pay", () => {
 *     throw new Error("card declined");
 *   });
 * const res = await app.handle(new Request("http://localhost/pay"));
 * assert.equal(res.status, 500);
 * assert.ok(res.headers.get("x-request-id"));
 * await new Promise((done) => setTimeout(done, 10)); // after the response
 * await log.flush();
 * const event = sink.records.at(-1)!;
 * assert.equal(event.fields.status, 500);
 * assert.equal((event.fields.err as LoggedError).message, "card declined");
 * await log.close();
 * ```
 */
export function requestLogging(
  options: ElysiaLoggingOptions,
): <App extends ElysiaAppLike>(app: App) => App {
  if (
    typeof options === "object" && options !== null && "context" in options
  ) {
    throw new TtlogConfigError(
      `requestLogging (elysia): there is no context option (Elysia has no hook around a handler); log through requestLogger(request)`,
    );
  }
  const requests = new RequestLog("requestLogging (elysia)", {
    ...options,
    context: false,
  }, []);
  const pending = new WeakMap<Request, Pending>();
  return <App extends ElysiaAppLike>(app: App): App => {
    app.onRequest(({ request, set }) => {
      const fields = requests.fields(request);
      pending.set(request, {
        fields,
        start: performance.now(),
        error: undefined,
      });
      set.headers[requests.header] = fields.request_id;
    });
    app.onError({ as: "global" }, ({ request, error }) => {
      const state = pending.get(request);
      if (state !== undefined) state.error = error;
    });
    app.onAfterResponse({ as: "global" }, ({ request, set, response }) => {
      const state = pending.get(request);
      if (state === undefined) return;
      pending.delete(request);
      // A Response the handler returned has the status; `set` does not.
      const sent = response instanceof Response ? response : undefined;
      const status = sent?.status ?? statusOf(set.status);
      const length = sent !== undefined
        ? sent.headers.get("content-length")
        : set.headers["content-length"];
      requests.logResponse(
        request,
        state.fields,
        state.start,
        status,
        typeof length === "string" || typeof length === "number"
          ? String(length)
          : null,
        status >= 500 ? state.error : undefined,
      );
    });
    return app;
  };
}

/**
 * Elysia's `set.status` (by the time the response is sent, a number even
 * when the handler named it, such as "I'm a teapot"); 200 when unset.
 */
function statusOf(status: unknown): number {
  const code = typeof status === "number" ? status : Number(status);
  return Number.isInteger(code) && code >= 100 && code <= 999 ? code : 200;
}
