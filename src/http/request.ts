/**
 * What every request-logging front (withLogging, the Hono middleware, the
 * Elysia plugin) shares: its options, the request's ids (from the request
 * id header or generated, and a W3C traceparent), the context that carries
 * them into every event, and the one event per request.
 *
 * @module
 */

import { currentStore, hasAsyncContext, runInContext } from "../context.ts";
import { TtlogConfigError } from "../errors.ts";
import { REPLAY, REPLAY_MARK } from "../logger/logger.ts";
import type { Logger } from "../logger/types.ts";
import type { ReplayResult, ReplayStart } from "../snapshot/replay.ts";
import { edgePlatform } from "../runtime/edge.ts";
import { runtime } from "../runtime/mod.ts";

/**
 * A fetch-style handler: a Request (and whatever the server passes) in, a Response out.
 *
 * @example Type a handler, then wrap it
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { type FetchHandler, withLogging } from "@ttlog/ttlog/http";
 * import assert from "node:assert/strict";
 * const hello: FetchHandler = (req) =>
 *   new Response(`hello ${new URL(req.url).searchParams.get("name")}`);
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink] });
 * const res = await withLogging(hello, { log })(new Request("http://localhost/?name=ada"));
 * assert.equal(await res.text(), "hello ada");
 * await log.flush();
 * assert.equal(sink.records[0].fields.status, 200);
 * await log.close();
 * ```
 */
export type FetchHandler<Rest extends unknown[] = unknown[]> = (
  request: Request,
  ...rest: Rest
) => Response | Promise<Response>;

/**
 * The options every request-logging front takes.
 *
 * @example Log the requests of a Hono app under the target "api"
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import type { RequestLoggingOptions } from "@ttlog/ttlog/http";
 * import assert from "node:assert/strict";
 * const log = createLogger({ sinks: [memorySink()] });
 * const options: RequestLoggingOptions = { log, target: "api", context: false };
 * assert.equal(options.target, "api");
 * await log.close();
 * ```
 */
export interface RequestLoggingOptions {
  /** The logger (its child with target `target` logs the requests). */
  readonly log: Logger;
  /** The target of the request events (default `"http"`). */
  readonly target?: string;
  /**
   * The header carrying the request id, read from the request when present
   * and valid (at most 128 visible ASCII characters), else generated, and
   * set on the response (default `"x-request-id"`).
   */
  readonly requestIdHeader?: string;
  /**
   * When to take a snapshot holding only the request's events: `"error"`
   * (the handler threw, or the framework caught its error), `"5xx"` (that,
   * or it answered 500-599), or `false` (default). Snapshots go where
   * `createLogger`'s `snapshot` says (`dir`, `store`). A request's events
   * are found by their `request_id`: the context adds it, or log through
   * `requestLogger(request)`.
   */
  readonly snapshot?: "error" | "5xx" | false;
  /**
   * When to replay into the sinks the request's events that were recorded
   * but not emitted (its debug lead-up): `"error"`, `"5xx"` (as for
   * `snapshot`) or `false` (default). After the request's own event, the
   * sinks get a summary event (`replay: <reason>`, with `replayed` and
   * `overwritten`: what the ring lost since the request began), then each
   * event in its original order and time, with `replay` set to the reason
   * (`"request failed"` or `"status 503"`). See `Logger.replay`.
   */
  readonly replay?: "error" | "5xx" | false;
  /**
   * Whether the handler runs inside a context carrying the request's ids, so
   * that every event it logs carries them. Unset (the default): where the
   * runtime has AsyncLocalStorage, else (Cloudflare Workers without
   * `nodejs_compat`, Vercel's edge-runtime) not, with one notice; the
   * request's own event carries the ids either way. `true` insists (a
   * TtlogConfigError where there is no AsyncLocalStorage); `false` saves
   * the switch (about 0.1 µs on Bun, 0.5 µs on Deno per request).
   */
  readonly context?: boolean;
}

/** The fields a request's context carries. */
export interface RequestFields {
  /** The request's id. */
  request_id: string;
  /** From a traceparent header. */
  trace_id?: string;
  /** From a traceparent header. */
  span_id?: string;
  /** From a traceparent header. */
  trace_flags?: string;
  [key: string]: unknown;
}

const OPTION_KEYS = [
  "log",
  "target",
  "requestIdHeader",
  "snapshot",
  "replay",
  "context",
];
const ID_PATTERN = /^[\x21-\x7e]{1,128}$/;
const TRACEPARENT =
  /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = "00000000000000000000000000000000";
const ZERO_SPAN = "0000000000000000";

/**
 * The trace and span ids and the trace flags of a W3C `traceparent` header,
 * or `undefined` when it is absent or malformed (all-zero ids and version ff
 * are invalid; a version above 00 may carry more fields after the flags,
 * version 00 may not). `trace_flags` is two hex digits, `"01"` when the
 * caller sampled the trace; otlpSink sends it as the record's flags.
 *
 * @param header The header's value.
 * @returns `{ trace_id, span_id, trace_flags }` in lowercase hex, or
 *   `undefined`.
 *
 * @example
 * ```ts
 * import { parseTraceparent } from "@ttlog/ttlog/http";
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
 *   {
 *     trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
 *     span_id: "00f067aa0ba902b7",
 *     trace_flags: "01",
 *   },
 * );
 * assert.equal(parseTraceparent("garbage"), undefined);
 * ```
 */
export function parseTraceparent(
  header: string | null | undefined,
): { trace_id: string; span_id: string; trace_flags: string } | undefined {
  if (typeof header !== "string") return undefined;
  const match = TRACEPARENT.exec(header.trim().toLowerCase());
  if (
    match === null || match[1] === "ff" || match[2] === ZERO_TRACE ||
    match[3] === ZERO_SPAN || (match[1] === "00" && match[5] !== undefined)
  ) return undefined;
  return { trace_id: match[2], span_id: match[3], trace_flags: match[4] };
}

// Generated request ids: a random prefix drawn once per process, then a
// counter: unique across processes and restarts with overwhelming odds, and
// a few nanoseconds each where crypto.randomUUID() costs 60-300 ns.
let idPrefix: string | undefined;
let idCount = 0;

function newRequestId(): string {
  if (idPrefix === undefined) {
    const bytes = new Uint8Array(8);
    const crypto = (globalThis as {
      crypto?: { getRandomValues?: (array: Uint8Array) => Uint8Array };
    }).crypto;
    if (typeof crypto?.getRandomValues === "function") {
      crypto.getRandomValues(bytes);
    } else {
      for (let i = 0; i < bytes.length; i++) {
        bytes[i] = Math.floor(Math.random() * 256);
      }
    }
    idPrefix = Array.from(bytes, (b) => b.toString(16).padStart(2, "0"))
      .join("") + "-";
  }
  idCount = (idCount + 1) % Number.MAX_SAFE_INTEGER;
  return idPrefix + idCount.toString(36);
}

/** Milliseconds since `start` (a `performance.now()`), to the microsecond. */
export function elapsedMs(start: number): number {
  return Math.round((performance.now() - start) * 1000) / 1000;
}

function pathOf(url: string): string {
  // "http://host/path?query" -> "/path" without building a URL object.
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  let end = url.length;
  const query = url.indexOf("?", start);
  if (query >= 0) end = query;
  const hash = url.indexOf("#", start);
  if (hash >= 0 && hash < end) end = hash;
  return url.slice(start, end);
}

/** The response with `name: value` set, copied first if its headers are immutable. */
export function withHeader(
  response: Response,
  name: string,
  value: string,
): Response {
  try {
    response.headers.set(name, value);
    return response;
  } catch {
    // Immutable headers (a Response from fetch(), Response.redirect()).
    const copy = new Response(response.body, response);
    copy.headers.set(name, value);
    return copy;
  }
}

/** Errors that a framework caught and reported with requestFailed(). */
const reported = new WeakMap<Request, unknown>();
/** Whether requestFailed() was ever called: until then no lookup per request. */
let anyReported = false;

/**
 * Tells request logging that `request` failed with `error`, for frameworks
 * that catch a route's error themselves and answer 500 (Hono's `onError`,
 * Elysia's `onError`): the request's event then carries the error, its
 * message and stack, as when the handler throws. The Hono middleware and
 * the Elysia plugin do this by themselves; call it from the framework's
 * error hook when you wrap its `fetch` with `withLogging` instead.
 *
 * @param request The request as the server passed it (Hono's `c.req.raw`).
 * @param error What was thrown.
 *
 * @example Hono's onError under withLogging
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { requestFailed, withLogging } from "@ttlog/ttlog/http";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink] });
 * // What a framework does: catch, report, answer 500.
 * const app = (request: Request) => {
 *   try {
 *     throw new Error("no stock");
 *   } catch (error) {
 *     requestFailed(request, error);
 *     return new Response("Internal Server Error", { status: 500 });
 *   }
 * };
 * await withLogging(app, { log })(new Request("http://localhost/buy"));
 * await log.flush();
 * const event = sink.records.at(-1)!;
 * assert.equal(event.fields.status, 500);
 * assert.equal((event.fields.err as Error).message, "no stock");
 * await log.close();
 * ```
 */
export function requestFailed(request: Request, error: unknown): void {
  if (typeof request === "object" && request !== null) {
    reported.set(request, error);
    anyReported = true;
  }
}

/** What requestLogger() finds for a request being logged. */
interface RequestState {
  readonly requests: RequestLog;
  readonly fields: RequestFields;
  logger: Logger | undefined;
}

const states = new WeakMap<Request, RequestState>();

/**
 * The logger to use while handling `request`: its events carry the
 * request's ids even where the runtime has no AsyncLocalStorage (Cloudflare
 * Workers without `nodejs_compat`, Vercel's edge-runtime, handlers of the
 * Elysia plugin). Where a context carries the ids, it is the logger itself.
 *
 * @param request The request as the server passed it to the wrapped handler.
 * @returns A logger bound to the request's ids.
 * @throws {TtlogConfigError} When the request is not being logged by
 *   withLogging, the Hono middleware or the Elysia plugin.
 *
 * @example In a handler, with or without AsyncLocalStorage
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { requestLogger, withLogging } from "@ttlog/ttlog/http";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink], level: "debug" });
 * const handler = withLogging((req: Request) => {
 *   requestLogger(req).debug("looking up the cart");
 *   return new Response("ok");
 * }, { log, context: false });
 * await handler(new Request("http://localhost/", { headers: { "x-request-id": "r-7" } }));
 * await log.flush();
 * assert.equal(sink.records[0].fields.request_id, "r-7");
 * await log.close();
 * ```
 */
export function requestLogger(request: Request): Logger {
  const state = typeof request === "object" && request !== null
    ? states.get(request)
    : undefined;
  if (state === undefined) {
    // In a request's context its ids ride on every event: the front's
    // logger is the one (no per-request entry was made).
    const front = currentStore()?.front;
    if (front instanceof RequestLog) return front.log;
    throw new TtlogConfigError(
      "requestLogger: this request is not being logged (pass the Request that withLogging, the Hono middleware or the Elysia plugin received)",
    );
  }
  return state.logger ??= state.requests.context
    ? state.requests.log
    : state.requests.log.child(state.fields);
}

/** A logger from createLogger, as request fronts use it for replays. */
interface Replayable {
  [REPLAY_MARK](): ReplayStart;
  [REPLAY](
    reason: string,
    where: Readonly<Record<string, unknown>>,
    start: ReplayStart | undefined,
  ): ReplayResult;
}

let noticedNoContext = false;

/**
 * One request-logging front's settings and the work it does per request.
 * Per request: one fields object, no closures.
 */
export class RequestLog {
  readonly log: Logger;
  readonly http: Logger;
  readonly header: string;
  readonly snapshot: "error" | "5xx" | false;
  readonly replay: "error" | "5xx" | false;
  /** With `replay`: where in the ring each request began. */
  #starts = new WeakMap<RequestFields, ReplayStart>();
  #what: string;
  #wantContext: boolean | undefined;
  /** Set once a context is known to be there (it never goes away). */
  #inContext = false;

  /**
   * Whether requests run in a context (AsyncLocalStorage): asked per
   * request, since useAsyncLocalStorage() may hand one over after the
   * wrapper was made.
   */
  get context(): boolean {
    if (this.#inContext) return true;
    if (this.#wantContext === false) return false;
    if (hasAsyncContext()) return this.#inContext = true;
    if (this.#wantContext === undefined && !noticedNoContext) {
      noticedNoContext = true;
      runtime.write(
        "stderr",
        `ttlog: ${this.#what}: this runtime has no AsyncLocalStorage${
          edgePlatform() === "cloudflare"
            ? " (the nodejs_compat or nodejs_als compatibility flag adds it; before the 2024-09-23 compatibility date, also call useAsyncLocalStorage(AsyncLocalStorage))"
            : ""
        }, so only each request's own event carries its request_id, not the events logged while it is handled (log through requestLogger(request) for that)\n`,
      );
    }
    return false;
  }

  /**
   * @param what The front's name, for error messages.
   * @param options Its options, as the user gave them.
   * @param extraKeys Option keys the front adds.
   * @throws {TtlogConfigError} When an option is invalid.
   */
  constructor(what: string, options: unknown, extraKeys: readonly string[]) {
    if (typeof options !== "object" || options === null) {
      throw new TtlogConfigError(
        `${what}: options must be an object with a logger: { log }`,
      );
    }
    for (const key of Object.keys(options)) {
      if (!OPTION_KEYS.includes(key) && !extraKeys.includes(key)) {
        throw new TtlogConfigError(
          `${what}: unknown option ${JSON.stringify(key)}`,
        );
      }
    }
    const given = options as RequestLoggingOptions;
    const { log } = given;
    if (
      typeof log !== "object" || log === null ||
      typeof (log as Logger).child !== "function"
    ) {
      throw new TtlogConfigError(
        `${what}: options.log must be a logger from createLogger()`,
      );
    }
    this.log = log;
    const header = given.requestIdHeader ?? "x-request-id";
    if (
      typeof header !== "string" ||
      !/^[a-z0-9!#$%&'*+.^_`|~-]+$/i.test(header)
    ) {
      throw new TtlogConfigError(
        `${what}: requestIdHeader ${
          JSON.stringify(header)
        } is not a valid header name`,
      );
    }
    this.header = header.toLowerCase();
    const snapshot = given.snapshot ?? false;
    if (snapshot !== false && snapshot !== "error" && snapshot !== "5xx") {
      throw new TtlogConfigError(
        `${what}: snapshot must be "error", "5xx" or false, got ${
          JSON.stringify(snapshot)
        }`,
      );
    }
    this.snapshot = snapshot;
    const replay = given.replay ?? false;
    if (replay !== false && replay !== "error" && replay !== "5xx") {
      throw new TtlogConfigError(
        `${what}: replay must be "error", "5xx" or false, got ${
          JSON.stringify(replay)
        }`,
      );
    }
    this.replay = replay;
    const context = given.context;
    if (context !== undefined && typeof context !== "boolean") {
      throw new TtlogConfigError(
        `${what}: context must be true or false, got ${
          JSON.stringify(context)
        }`,
      );
    }
    if (context === true && !hasAsyncContext()) {
      throw new TtlogConfigError(
        `${what}: context: true needs AsyncLocalStorage, which this runtime does not provide${
          edgePlatform() === "cloudflare"
            ? " (enable the nodejs_compat or nodejs_als compatibility flag)"
            : ""
        }; leave context unset to log without it`,
      );
    }
    this.#what = what;
    this.#wantContext = context;
    const target = given.target ?? "http";
    this.http = log.child(target);
  }

  /** The request's ids: from its headers, or a new id. */
  fields(request: Request): RequestFields {
    const given = request.headers.get(this.header);
    const id = given !== null && ID_PATTERN.test(given)
      ? given
      : newRequestId();
    const trace = parseTraceparent(request.headers.get("traceparent"));
    const fields: RequestFields = trace === undefined ? { request_id: id } : {
      request_id: id,
      trace_id: trace.trace_id,
      span_id: trace.span_id,
      trace_flags: trace.trace_flags,
    };
    // Without a context, requestLogger() finds the ids here; with one, in
    // the context (saving a WeakMap entry per request).
    if (!this.context) {
      states.set(request, { requests: this, fields, logger: undefined });
    }
    if (this.replay !== false) {
      this.#starts.set(
        fields,
        (this.log as unknown as Replayable)[REPLAY_MARK](),
      );
    }
    return fields;
  }

  /** Calls `fn(a, b, c)` inside the request's context, if there is one. */
  run<A, B, C, R>(
    fields: RequestFields,
    fn: (a: A, b: B, c: C) => R,
    a: A,
    b: B,
    c: C,
  ): R {
    return this.context ? runInContext(fields, fn, a, b, c, this) : fn(a, b, c);
  }

  /**
   * Logs the request's event for a response and returns the response with
   * the id header.
   */
  answered(
    request: Request,
    fields: RequestFields,
    start: number,
    response: Response,
  ): Response {
    this.logResponse(
      request,
      fields,
      start,
      response.status,
      // Never touch response.body: in Deno.serve and Bun.serve that turns
      // a static body into a stream and loses the servers' fast path.
      response.headers.get("content-length"),
      undefined,
    );
    return withHeader(response, this.header, fields.request_id);
  }

  /**
   * Logs the request's event for an answer with `status` (and a
   * content-length, when known), with the error a framework caught
   * (`caught`, or one reported with requestFailed) when there is one.
   */
  logResponse(
    request: Request,
    fields: RequestFields,
    start: number,
    status: number,
    length: string | null,
    caught: unknown,
  ): void {
    const ms = elapsedMs(start);
    const method = request.method;
    const path = pathOf(request.url);
    const bytes = length !== null
      ? Number(length)
      : status === 204 || status === 304
      ? 0
      : undefined;
    let event: Record<string, unknown> = bytes === undefined
      ? { method, path, status, ms }
      : { method, path, status, ms, bytes };
    const error = caught ??
      (anyReported ? reported.get(request) : undefined);
    if (error !== undefined) event.err = error;
    // Without a context, the request event carries the ids itself.
    if (!this.context) event = { ...fields, ...event };
    if (status >= 500 || error !== undefined) {
      this.http.error("request", event);
      if (
        this.replay === "5xx" ||
        (this.replay === "error" && error !== undefined)
      ) {
        this.#replay(
          fields,
          error !== undefined ? "request failed" : `status ${status}`,
        );
      }
      if (
        this.snapshot === "5xx" ||
        (this.snapshot === "error" && error !== undefined)
      ) {
        this.#takeSnapshot(fields.request_id);
      }
    } else if (status >= 400) this.http.warn("request", event);
    else this.http.info("request", event);
  }

  /** Logs a request whose handler threw (nothing answered it). */
  failed(
    request: Request,
    fields: RequestFields,
    start: number,
    error: unknown,
  ): void {
    const ms = elapsedMs(start);
    const method = request.method;
    const path = pathOf(request.url);
    this.http.error(
      "request failed",
      this.context
        ? { method, path, ms, err: error }
        : { ...fields, method, path, ms, err: error },
    );
    if (this.replay !== false) this.#replay(fields, "request failed");
    if (this.snapshot !== false) this.#takeSnapshot(fields.request_id);
  }

  #replay(fields: RequestFields, reason: string): void {
    const id = fields.request_id;
    try {
      (this.log as unknown as Replayable)[REPLAY](
        reason,
        { request_id: id },
        this.#starts.get(fields),
      );
    } catch (error) {
      this.http.warn("the request replay failed", { error, request_id: id });
    }
  }

  #takeSnapshot(id: string): void {
    this.log.snapshot("request", { where: { request_id: id } }).catch(
      (error: unknown) =>
        this.http.warn("the request snapshot failed", {
          error,
          request_id: id,
        }),
    );
  }
}
