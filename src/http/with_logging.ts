/**
 * withLogging: request logging around any fetch-style handler.
 *
 * @module
 */

import { TtlogConfigError } from "../errors.ts";
import {
  type FetchHandler,
  type RequestFields,
  RequestLog,
  type RequestLoggingOptions,
} from "./request.ts";

/**
 * Options of {@link withLogging}.
 *
 * @example Snapshot the events of a request that failed
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { withLogging, type WithLoggingOptions } from "@ttlog/ttlog/http";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, readdirSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * const dir = mkdtempSync(join(tmpdir(), "ttlog-doc-"));
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink], snapshot: { dir } });
 * const options: WithLoggingOptions = {
 *   log,
 *   target: "api",
 *   requestIdHeader: "x-correlation-id",
 *   snapshot: "5xx",
 * };
 * const handler = withLogging(() => new Response("down", { status: 503 }), options);
 * const res = await handler(
 *   new Request("http://localhost/pay", { headers: { "x-correlation-id": "c-9" } }),
 * );
 * assert.equal(res.headers.get("x-correlation-id"), "c-9");
 * await log.flush();
 * assert.equal(sink.records[0].target, "api");
 * assert.equal(sink.records[0].level, "error");
 * await log.close();
 * assert.equal(readdirSync(dir).length, 1);
 * rmSync(dir, { recursive: true });
 * ```
 */
export type WithLoggingOptions = RequestLoggingOptions;

/** A Response, or something shaped like one (another realm's, a polyfill's). */
function isResponse(value: unknown): value is Response {
  return value instanceof Response ||
    (typeof value === "object" && value !== null &&
      typeof (value as Response).status === "number" &&
      typeof (value as Response).headers?.get === "function");
}

function notAResponse(value: unknown): TypeError {
  const what = value === null
    ? "null"
    : Array.isArray(value)
    ? "an array"
    : typeof value === "object"
    ? "an object that is not a Response"
    : typeof value;
  return new TypeError(
    `withLogging: the handler must return a Response (or a promise of one), got ${what}`,
  );
}

/**
 * Wraps a fetch-style handler so that every request is logged and every
 * event logged while it is handled carries its id.
 *
 * Per request: one event with `method`, `path`, `status`, `ms` (handler
 * time, to the response's headers) and `bytes` (when the response's size is
 * known without reading it: a `content-length` header, or a 204 or 304
 * status), at info, or warn for 4xx and
 * error for 5xx. The request id comes from the `x-request-id` header when it
 * is valid, else it is generated, and it is echoed in the response; a W3C
 * `traceparent` header adds `trace_id`, `span_id` and `trace_flags`. A
 * generated id is a random 16-hex-digit prefix drawn once per process, a
 * dash and a counter in base 36 (`3f9a0c1d2b4e5f60-1k2`): unique without a
 * `crypto.randomUUID()` per request. A handler that throws is logged at
 * error with the error, then the error is thrown again (as a rejected
 * promise), so the server answers as it would have; a handler that returns
 * anything but a Response is such a failure too, with a TypeError naming
 * what it returned.
 *
 * The wrapper answers the way the handler does: a handler that returns a
 * Response gets it back at once, with the id header set (Deno.serve and
 * Bun.serve then skip a promise turn); one that returns a promise gets a
 * promise. `await` works on both.
 *
 * @param handler The handler to wrap.
 * @param options The logger and what to do.
 * @returns A handler with the same signature.
 * @throws {TtlogConfigError} When the handler is not a function or an
 *   option is invalid.
 *
 * @example Deno.serve, Bun.serve or any fetch handler
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { withLogging } from "@ttlog/ttlog/http";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink] });
 * const handler = withLogging((req: Request) => {
 *   log.info("hello", { from: new URL(req.url).searchParams.get("from") });
 *   return new Response("hi");
 * }, { log });
 * // Deno.serve(handler) or Bun.serve({ fetch: handler }) in a real server.
 * const res = await handler(
 *   new Request("http://localhost/greet?from=docs", {
 *     headers: { "x-request-id": "req-1" },
 *   }),
 * );
 * assert.equal(res.headers.get("x-request-id"), "req-1");
 * await log.flush();
 * assert.equal(sink.records[0].fields.request_id, "req-1");
 * assert.equal(sink.records[1].fields.status, 200);
 * assert.equal(sink.records[1].fields.path, "/greet");
 * await log.close();
 * ```
 */
export function withLogging<Rest extends unknown[]>(
  handler: FetchHandler<Rest>,
  options: WithLoggingOptions,
): (request: Request, ...rest: Rest) => Response | Promise<Response> {
  if (typeof handler !== "function") {
    throw new TtlogConfigError(
      `withLogging: handler must be a function, got ${typeof handler}`,
    );
  }
  const requests = new RequestLog("withLogging", options, []);

  // Per request: one fields object, and closures only when the handler
  // answers with a promise. A handler that answers synchronously gets its
  // Response back synchronously: Deno.serve and Bun.serve then skip a
  // promise turn.
  const failed = (
    request: Request,
    fields: RequestFields,
    start: number,
    error: unknown,
  ): never => {
    requests.failed(request, fields, start, error);
    throw error;
  };
  const run = (
    request: Request,
    fields: RequestFields,
    rest: Rest,
  ): Response | Promise<Response> => {
    const start = performance.now();
    let result: Response | Promise<Response>;
    try {
      result = handler(request, ...rest);
    } catch (error) {
      return Promise.reject(error).catch((error: unknown) =>
        failed(request, fields, start, error)
      );
    }
    if (result instanceof Response) {
      return requests.answered(request, fields, start, result);
    }
    return Promise.resolve(result).then(
      (response) =>
        isResponse(response)
          ? requests.answered(request, fields, start, response)
          : failed(request, fields, start, notAResponse(response)),
      (error: unknown) => failed(request, fields, start, error),
    );
  };

  return (request: Request, ...rest: Rest): Response | Promise<Response> => {
    const fields = requests.fields(request);
    return requests.run(fields, run, request, fields, rest);
  };
}
