/**
 * Request logging for fetch-style handlers: `Deno.serve`, `Bun.serve`,
 * Hono's `app.fetch`, Cloudflare's `fetch`, or node:http through an adapter.
 * One event per request, the request id in every event logged while it is
 * handled (see `withContext`), and on a failure a snapshot holding
 * only that request's events.
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

import { runInContext } from "./context.ts";
import { TtlogConfigError } from "./level.ts";
import type { Logger } from "./logger.ts";
import { type HasMetrics, prometheusText } from "./metrics.ts";

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
export interface WithLoggingOptions {
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
   * (the handler threw), `"5xx"` (it threw or answered 500-599), or `false`
   * (default). Snapshots go where `createLogger`'s `snapshot.dir` says.
   */
  readonly snapshot?: "error" | "5xx" | false;
  /**
   * Whether the handler runs inside a context carrying the request's ids, so
   * that every event it logs carries them (default true). `false` saves the
   * `AsyncLocalStorage` switch (about 0.1 µs on Bun, 0.5 µs on Deno per
   * request): only the request event then carries the ids, and `snapshot`
   * is not available.
   */
  readonly context?: boolean;
}

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

// The fields a request's context carries.
interface RequestFields {
  request_id: string;
  trace_id?: string;
  span_id?: string;
  trace_flags?: string;
  [key: string]: unknown;
}

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
function elapsedMs(start: number): number {
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

/** The response with `name: value` set, copied first if its headers are immutable. */
function withHeader(response: Response, name: string, value: string): Response {
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
  if (typeof options !== "object" || options === null) {
    throw new TtlogConfigError(
      `withLogging: options must be an object with a logger: { log }`,
    );
  }
  for (const key of Object.keys(options)) {
    if (
      !["log", "target", "requestIdHeader", "snapshot", "context"].includes(
        key,
      )
    ) {
      throw new TtlogConfigError(
        `withLogging: unknown option ${JSON.stringify(key)}`,
      );
    }
  }
  const { log } = options;
  if (
    typeof log !== "object" || log === null ||
    typeof (log as Logger).child !== "function"
  ) {
    throw new TtlogConfigError(
      `withLogging: options.log must be a logger from createLogger()`,
    );
  }
  const header = (options.requestIdHeader ?? "x-request-id").toLowerCase();
  if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(header)) {
    throw new TtlogConfigError(
      `withLogging: requestIdHeader ${
        JSON.stringify(options.requestIdHeader)
      } is not a valid header name`,
    );
  }
  const snapshot = options.snapshot ?? false;
  if (snapshot !== false && snapshot !== "error" && snapshot !== "5xx") {
    throw new TtlogConfigError(
      `withLogging: snapshot must be "error", "5xx" or false, got ${
        JSON.stringify(snapshot)
      }`,
    );
  }
  const context = options.context ?? true;
  if (typeof context !== "boolean") {
    throw new TtlogConfigError(
      `withLogging: context must be true or false, got ${
        JSON.stringify(context)
      }`,
    );
  }
  if (!context && snapshot !== false) {
    throw new TtlogConfigError(
      `withLogging: snapshot needs context: true (a request's events are found by the request_id the context adds to them)`,
    );
  }
  const http = log.child(options.target ?? "http");

  const takeSnapshot = (id: string) => {
    log.snapshot("request", { where: { request_id: id } }).catch(
      (error: unknown) =>
        http.warn("the request snapshot failed", { error, request_id: id }),
    );
  };

  // Per request: one fields object, and closures only when the handler
  // answers with a promise. A handler that answers synchronously gets its
  // Response back synchronously: Deno.serve and Bun.serve then skip a
  // promise turn.
  const answered = (
    request: Request,
    fields: RequestFields,
    start: number,
    response: Response,
  ): Response => {
    const ms = elapsedMs(start);
    const status = response.status;
    const method = request.method;
    const path = pathOf(request.url);
    // Never touch response.body: in Deno.serve and Bun.serve that turns
    // a static body into a stream and loses the servers' fast path.
    const length = response.headers.get("content-length");
    const bytes = length !== null
      ? Number(length)
      : status === 204 || status === 304
      ? 0
      : undefined;
    let event: Record<string, unknown> = bytes === undefined
      ? { method, path, status, ms }
      : { method, path, status, ms, bytes };
    // Without a context, the request event carries the ids itself.
    if (!context) event = { ...fields, ...event };
    if (status >= 500) {
      http.error("request", event);
      if (snapshot === "5xx") takeSnapshot(fields.request_id);
    } else if (status >= 400) http.warn("request", event);
    else http.info("request", event);
    return withHeader(response, header, fields.request_id);
  };
  const failed = (
    request: Request,
    fields: RequestFields,
    start: number,
    error: unknown,
  ): never => {
    const ms = elapsedMs(start);
    const method = request.method;
    const path = pathOf(request.url);
    http.error(
      "request failed",
      context
        ? { method, path, ms, err: error }
        : { ...fields, method, path, ms, err: error },
    );
    if (snapshot !== false) takeSnapshot(fields.request_id);
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
      return answered(request, fields, start, result);
    }
    return Promise.resolve(result).then(
      (response) =>
        isResponse(response)
          ? answered(request, fields, start, response)
          : failed(request, fields, start, notAResponse(response)),
      (error: unknown) => failed(request, fields, start, error),
    );
  };

  return (request: Request, ...rest: Rest): Response | Promise<Response> => {
    const given = request.headers.get(header);
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
    return context
      ? runInContext(fields, run, request, fields, rest)
      : run(request, fields, rest);
  };
}

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

/**
 * The parts of node:http's IncomingMessage that {@link nodeListener} reads.
 *
 * @example Feed a listener a request body without a server
 * ```ts
 * import { nodeListener, type NodeRequestLike } from "@ttlog/ttlog/http";
 * import assert from "node:assert/strict";
 * const req: NodeRequestLike = {
 *   method: "POST",
 *   url: "/echo",
 *   headers: { host: "example.test" },
 *   async *[Symbol.asyncIterator]() {
 *     yield new TextEncoder().encode("ping");
 *   },
 * };
 * const echo = nodeListener(async (request) => new Response(await request.text()));
 * let body = "";
 * await new Promise((done) => {
 *   echo(req, {
 *     headersSent: false,
 *     writeHead() {},
 *     write(chunk) {
 *       body += new TextDecoder().decode(chunk);
 *       return true;
 *     },
 *     end: done,
 *     once() {},
 *     destroy: done,
 *   });
 * });
 * assert.equal(body, "ping");
 * ```
 */
export interface NodeRequestLike extends AsyncIterable<Uint8Array> {
  /** The method. */
  readonly method?: string;
  /** The path and query. */
  readonly url?: string;
  /** Header names (lowercase) to values. */
  readonly headers: Record<string, string | string[] | undefined>;
  /** The connection (a node:tls socket has `encrypted: true`). */
  readonly socket?: object | null;
}

/**
 * The parts of node:http's ServerResponse that {@link nodeListener} uses.
 *
 * @example Read the status and headers a listener sends
 * ```ts
 * import { nodeListener, type NodeResponseLike } from "@ttlog/ttlog/http";
 * import assert from "node:assert/strict";
 * let status = 0;
 * let headers: string[] = [];
 * await new Promise((done) => {
 *   const res: NodeResponseLike = {
 *     headersSent: false,
 *     writeHead(code, list) {
 *       status = code;
 *       headers = list.flat();
 *     },
 *     write: () => true,
 *     end: done,
 *     once: () => {},
 *     destroy: done,
 *   };
 *   const listener = nodeListener(() => new Response(null, { status: 204, headers: { "x-app": "shop" } }));
 *   listener({ method: "GET", url: "/", headers: {}, async *[Symbol.asyncIterator]() {} }, res);
 * });
 * assert.equal(status, 204);
 * assert.deepEqual(headers, ["x-app", "shop"]);
 * ```
 */
export interface NodeResponseLike {
  /** Whether the status line was sent. */
  readonly headersSent: boolean;
  /** Sends the status line and headers. */
  writeHead(status: number, headers: [string, string][] | string[]): unknown;
  /** Sends a piece of the body; false when the socket's buffer is full. */
  write(chunk: Uint8Array): boolean;
  /** Ends the response. */
  end(chunk?: string): unknown;
  /** Waits for room: "drain". */
  once(event: "drain" | "close", listener: () => void): unknown;
  /** Drops the connection. */
  destroy(error?: Error): unknown;
}

/**
 * Adapts a fetch-style handler to node:http's `(req, res)` listener, for
 * Node (Deno and Bun have `Deno.serve` and `Bun.serve`, which take the
 * handler as it is). Request bodies are streamed in, response bodies
 * streamed out with backpressure. A handler that throws gets a bare 500.
 *
 * @param handler The handler (wrap it with {@link withLogging} first).
 * @returns A listener for `http.createServer()`.
 *
 * @example With node:http
 * ```ts
 * import { createServer } from "node:http";
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { nodeListener, withLogging } from "@ttlog/ttlog/http";
 * import assert from "node:assert/strict";
 * const log = createLogger({ sinks: [memorySink()] });
 * const server = createServer(
 *   nodeListener(withLogging(() => new Response("hi"), { log })),
 * );
 * await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
 * const { port } = server.address() as { port: number };
 * const res = await fetch(`http://127.0.0.1:${port}/`);
 * assert.equal(await res.text(), "hi");
 * assert.ok(res.headers.get("x-request-id"));
 * await new Promise((ok) => server.close(ok));
 * await log.close();
 * ```
 */
export function nodeListener(
  handler: FetchHandler<[]>,
): (req: NodeRequestLike, res: NodeResponseLike) => void {
  if (typeof handler !== "function") {
    throw new TtlogConfigError(
      `nodeListener: handler must be a function, got ${typeof handler}`,
    );
  }
  return (req, res) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) {
        for (const item of value) headers.append(name, item);
      } else headers.set(name, value);
    }
    const method = req.method ?? "GET";
    const scheme =
      (req.socket as { encrypted?: boolean } | null | undefined)?.encrypted
        ? "https"
        : "http";
    const url = `${scheme}://${headers.get("host") ?? "localhost"}${
      req.url ?? "/"
    }`;
    const hasBody = method !== "GET" && method !== "HEAD";
    const init: RequestInit & { duplex?: "half" } = { method, headers };
    if (hasBody) {
      const iterator = req[Symbol.asyncIterator]();
      init.body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { value, done } = await iterator.next();
          if (done) controller.close();
          else controller.enqueue(value);
        },
        async cancel() {
          await iterator.return?.();
        },
      });
      init.duplex = "half";
    }
    let request: Request;
    try {
      request = new Request(url, init);
    } catch {
      res.writeHead(400, [["content-type", "text/plain"]]);
      res.end("Bad Request");
      return;
    }
    Promise.resolve()
      .then(() => handler(request))
      .then(async (response) => {
        const out: string[] = [];
        response.headers.forEach((value, name) => {
          if (name !== "set-cookie") out.push(name, value);
        });
        for (const cookie of response.headers.getSetCookie?.() ?? []) {
          out.push("set-cookie", cookie);
        }
        res.writeHead(response.status, out);
        if (response.body === null || method === "HEAD") {
          res.end();
          return;
        }
        const reader = response.body.getReader();
        let closed = false;
        let wake: (() => void) | undefined;
        res.once("close", () => {
          closed = true;
          wake?.();
          reader.cancel().catch(() => {});
        });
        while (!closed) {
          const { value, done } = await reader.read();
          if (done) break;
          if (!res.write(value)) {
            // Room again, or the client went away.
            await new Promise<void>((ok) => {
              wake = ok;
              res.once("drain", ok);
            });
          }
        }
        res.end();
      })
      .catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, [["content-type", "text/plain"]]);
          res.end("Internal Server Error");
        } else res.destroy(error instanceof Error ? error : undefined);
      });
  };
}
