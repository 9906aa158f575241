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
 * @module
 */

import { LEVEL_NAMES, TtlogConfigError } from "../level.ts";
import { SNAPSHOT_DIR } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import { ReaderError } from "../reader/errors.ts";
import { recordTest } from "../reader/filter.ts";
import { parseLast } from "../reader/select.ts";
import { nodeFs, tryBuiltin } from "../runtime/builtin.ts";
import {
  isLoopbackAddress,
  isLoopbackHost,
  type RemoteAddress,
  requestToken,
  serverRemoteAddress,
  tokensEqual,
} from "./access.ts";
import { dashboardPage } from "./page.ts";
import type { DashboardSink } from "./sink.ts";
import {
  filterFromQuery,
  listSnapshots,
  readRegularFile,
  resolveSnapshot,
  VIEW_PARAMS,
  viewSnapshot,
} from "./snapshots.ts";
import { type TailEntry, TailHub } from "./tail_hub.ts";

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

const OPTION_KEYS = [
  "token",
  "snapshotDir",
  "tail",
  "basePath",
  "remoteAddress",
  "intervalMs",
];
const TOKEN = /^[\x21-\x7e]{16,512}$/;
// deno-lint-ignore no-control-regex
const REASON = /^[^\x00-\x1f\x7f]{1,80}$/;
/** Events a new stream gets from before it opened, at most. */
const BACKFILL = 200;
/** Tail lines kept for streams that open later. */
const KEEP = 2000;
/** Lines one stream may have queued; past it the oldest are dropped and counted. */
const STREAM_QUEUE = 1000;
/** Frames a client may leave unread before its stream is closed. */
const STREAM_BACKLOG = 256;

function fail(message: string): never {
  throw new TtlogConfigError(`dashboardHandler: ${message}`);
}

function validate(log: unknown, options: unknown): void {
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

const SECURITY_HEADERS: Record<string, string> = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      ...SECURITY_HEADERS,
      "content-type": "application/json; charset=utf-8",
    },
  });
}

function problem(status: number, error: string, headers = {}): Response {
  const response = json({ error }, status);
  for (const [name, value] of Object.entries(headers)) {
    response.headers.set(name, value as string);
  }
  return response;
}

/** Per-second rates between two metrics samples. */
interface Sample {
  readonly at: number;
  readonly metrics: Metrics;
  readonly levels: readonly number[] | undefined;
  readonly skipped: number;
}

/** One `metrics` frame: the counters, and rates since the previous frame. */
function metricsFrame(current: Sample, previous: Sample | undefined): unknown {
  const m = current.metrics;
  const seconds = previous === undefined
    ? 0
    : (current.at - previous.at) / 1000;
  const rate = (now: number, before: number) =>
    seconds > 0 ? Math.max(0, now - before) / seconds : 0;
  const p = previous?.metrics;
  const rates = p === undefined || seconds <= 0 ? null : {
    logged: rate(m.logged, p.logged),
    emitted: rate(m.emitted, p.emitted),
    filtered: rate(m.filtered, p.filtered),
    dropped: rate(m.dropped, p.dropped),
    lost: rate(m.lost, p.lost),
  };
  let levels: Record<string, number> | null = null;
  if (
    current.levels !== undefined && previous?.levels !== undefined &&
    seconds > 0
  ) {
    levels = {};
    LEVEL_NAMES.forEach((name, i) => {
      // The ring's counters wrap at 2^32.
      levels![name] = ((current.levels![i] - previous.levels![i]) >>> 0) /
        seconds;
    });
  }
  const sinks = m.sinks.map((sink) => {
    const before = p?.sinks.find((s) => s.name === sink.name);
    const errorsPerSecond = before === undefined
      ? 0
      : rate(sink.errors, before.errors);
    return {
      name: sink.name,
      written: sink.written,
      errors: sink.errors,
      writtenPerSecond: before === undefined
        ? 0
        : rate(sink.written, before.written),
      errorsPerSecond,
      healthy: errorsPerSecond === 0,
    };
  });
  return {
    time: current.at,
    service: m.service,
    metrics: m,
    rates,
    levels,
    ringFill: m.ringBytes > 0 ? m.ringUsed / m.ringBytes : 0,
    sinks,
    tail: {
      attached: current.levels !== undefined,
      skippedPerSecond: previous === undefined || seconds <= 0
        ? 0
        : ((current.skipped - previous.skipped) >>> 0) / seconds,
    },
  };
}

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
  validate(log, options);
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

  /** Refuses a request that may not use the dashboard; undefined lets it through. */
  const refuse = (
    request: Request,
    url: URL,
    info: unknown,
  ): Response | undefined => {
    if (token !== undefined) {
      const given = requestToken(request, url);
      if (given === undefined || !tokensEqual(given, token)) {
        return problem(
          401,
          "this dashboard needs its token: authorization: Bearer <token>, or ?token=<token> on the page's URL",
          { "www-authenticate": 'Bearer realm="ttlog dashboard"' },
        );
      }
      return undefined;
    }
    let address: string | undefined;
    try {
      address = remoteAddress(request, info);
    } catch {
      address = undefined;
    }
    if (address === undefined || address === "") {
      return problem(
        403,
        "the dashboard cannot tell where this request came from, and without a token it answers only the loopback: serve it with Deno.serve, Bun.serve or dashboardNodeListener (node:http), give a remoteAddress option, or set a token",
      );
    }
    if (!isLoopbackAddress(address)) {
      return problem(
        403,
        `the dashboard answers only the loopback without a token; this request came from ${address}: set a token to open it to other machines`,
      );
    }
    for (const header of ["forwarded", "x-forwarded-for", "x-real-ip"]) {
      if (request.headers.has(header)) {
        return problem(
          403,
          `the request came through a proxy (${header} header), so its loopback address says nothing about the client: set a token`,
        );
      }
    }
    const host = request.headers.get("host") ?? url.host;
    if (!isLoopbackHost(host)) {
      return problem(
        403,
        `Host ${
          JSON.stringify(host)
        } is not a loopback name; open the dashboard as http://127.0.0.1:<port>/ or http://localhost:<port>/, or set a token`,
      );
    }
    return undefined;
  };

  /** A state-changing request must not come from another site's page. */
  const refuseCrossSite = (
    request: Request,
    url: URL,
  ): Response | undefined => {
    const origin = request.headers.get("origin");
    if (origin !== null && origin !== url.origin) {
      const host = request.headers.get("host");
      let originHost: string | undefined;
      try {
        originHost = new URL(origin).host;
      } catch {
        originHost = undefined;
      }
      if (originHost === undefined || originHost !== host) {
        return problem(403, `cross-site request from ${origin} refused`);
      }
    }
    if (request.headers.get("sec-fetch-site") === "cross-site") {
      return problem(403, `cross-site request refused`);
    }
    const type = request.headers.get("content-type") ?? "";
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      return problem(
        415,
        `send the request as JSON (content-type: application/json)`,
      );
    }
    return undefined;
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

  const stream = (request: Request, url: URL): Response => {
    let filter;
    try {
      filter = filterFromQuery(url.searchParams, {
        level: "--level",
        target: "--target",
        q: "--grep",
      });
    } catch (error) {
      if (error instanceof ReaderError) return problem(400, error.message);
      throw error;
    }
    const keep = recordTest(filter);
    const afterText = url.searchParams.get("after") ??
      request.headers.get("last-event-id") ?? "0";
    const after = /^\d{1,15}$/.test(afterText) ? Number(afterText) : 0;
    const encoder = new TextEncoder();
    let stop = () => {};
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        let closed = false;
        let previous: Sample | undefined;
        let dropped = 0;
        let missed = false;
        let queue: TailEntry[] = [];
        let lastId = after;
        const send = (text: string): boolean => {
          if (closed) return false;
          if ((controller.desiredSize ?? 0) < -STREAM_BACKLOG) {
            stop(); // the client stopped reading
            try {
              controller.close();
            } catch { /* already closed */ }
            return false;
          }
          try {
            controller.enqueue(encoder.encode(text));
            return true;
          } catch {
            stop();
            return false;
          }
        };
        const tick = () => {
          const current = sample();
          send(
            `event: metrics\ndata: ${
              JSON.stringify(metricsFrame(current, previous))
            }\n\n`,
          );
          previous = current;
        };
        const flushTail = () => {
          if (queue.length === 0 && dropped === 0 && !missed) return;
          const entries = queue;
          queue = [];
          if (entries.length > 0) lastId = entries[entries.length - 1].id;
          // Lines are JSON objects on one line: the array needs no escaping.
          const data = `{"events":[${
            entries.map((e) => e.line).join(",")
          }],"dropped":${dropped},"lapped":${missed}}`;
          dropped = 0;
          missed = false;
          send(`id: ${lastId}\nevent: tail\ndata: ${data}\n\n`);
        };
        send(`retry: 2000\n: ttlog dashboard\n\n`);
        tick();
        const timer = setInterval(tick, intervalMs);
        // Bun.serve closes connections idle for 10 s (its default): a slow
        // metrics interval gets a comment line in between.
        const heartbeat = intervalMs > 5000
          ? setInterval(() => send(`: keep-alive\n\n`), 5000)
          : undefined;
        let unlisten = () => {};
        if (hub !== undefined) {
          unlisten = hub.listen({
            test: keep,
            deliver(entries, lapped) {
              for (const entry of entries) queue.push(entry);
              if (queue.length > STREAM_QUEUE) {
                dropped += queue.length - STREAM_QUEUE;
                queue.splice(0, queue.length - STREAM_QUEUE);
              }
              if (lapped) missed = true;
              flushTail();
            },
          });
          queue = hub.recent(keep, after, BACKFILL);
          flushTail();
        }
        stop = () => {
          if (closed) return;
          closed = true;
          clearInterval(timer);
          clearInterval(heartbeat);
          unlisten();
        };
      },
      // Deno.serve, Bun.serve and nodeListener cancel the body when the
      // client goes away.
      cancel() {
        stop();
      },
    });
    return new Response(body, {
      headers: {
        ...SECURITY_HEADERS,
        "content-type": "text/event-stream; charset=utf-8",
        "x-accel-buffering": "no",
      },
    });
  };

  const takeSnapshot = async (request: Request): Promise<Response> => {
    let reason = "dashboard";
    const text = await request.text();
    if (text.trim() !== "") {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return problem(
          400,
          `the body must be JSON such as {"reason":"slow checkout"}`,
        );
      }
      const given = (body as { reason?: unknown } | null)?.reason;
      if (given !== undefined && given !== "") {
        if (typeof given !== "string" || !REASON.test(given)) {
          return problem(
            400,
            `reason must be a string of 1 to 80 characters without control characters`,
          );
        }
        reason = given;
      }
    }
    const path = await log.snapshot(reason);
    const fs = nodeFs("the dashboard's snapshots");
    const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
    const name = path.slice(slash + 1);
    const pathModule = tryBuiltin<{ resolve(...parts: string[]): string }>(
      "node:path",
    );
    const inDir = pathModule === undefined
      ? path === `${snapshotDir}/${name}`
      : pathModule.resolve(path.slice(0, Math.max(slash, 0)) || ".") ===
        pathModule.resolve(snapshotDir);
    return json({
      name,
      path,
      reason,
      size: fs.statSync(path).size,
      listed: inDir,
      warning: inDir
        ? undefined
        : `the logger wrote the snapshot to ${path}, outside the dashboard's snapshotDir (${snapshotDir}): give dashboardHandler the same snapshotDir as createLogger's snapshot.dir`,
    }, 201);
  };

  const snapshotRoute = (
    request: Request,
    url: URL,
    rest: string,
  ): Response | Promise<Response> => {
    if (rest === "") {
      if (request.method === "GET") {
        return json({ dir: snapshotDir, files: listSnapshots(snapshotDir) });
      }
      if (request.method === "POST") {
        return refuseCrossSite(request, url) ?? takeSnapshot(request);
      }
      return problem(405, `use GET or POST`, { allow: "GET, POST" });
    }
    const parts = rest.split("/");
    if (parts.length > 2 || (parts.length === 2 && parts[1] !== "events")) {
      return problem(404, `no such route`);
    }
    if (request.method !== "GET") {
      return problem(405, `use GET`, { allow: "GET" });
    }
    let name: string;
    try {
      name = decodeURIComponent(parts[0]);
    } catch {
      return problem(400, `the snapshot name is not valid percent-encoding`);
    }
    const found = resolveSnapshot(snapshotDir, name);
    if (found.status !== undefined) return problem(found.status, found.error);
    if (parts.length === 1) {
      let bytes: Uint8Array;
      try {
        bytes = readRegularFile(found.path);
      } catch {
        return problem(404, `no snapshot ${name} in ${snapshotDir}`);
      }
      return new Response(bytes as BodyInit, {
        headers: {
          ...SECURITY_HEADERS,
          "content-type": "application/octet-stream",
          "content-disposition": `attachment; filename="${name}"`,
          "content-length": String(bytes.length),
        },
      });
    }
    try {
      const filter = filterFromQuery(url.searchParams, VIEW_PARAMS);
      const last = parseLast(
        "dashboard",
        "last",
        url.searchParams.get("last") || undefined,
      ) ?? 1000;
      if (last > 100_000) {
        return problem(400, `last must be at most 100000, got ${last}`);
      }
      const view = viewSnapshot(found.path, filter, last);
      const { lines, ...rest } = view;
      // The lines are JSON already: spliced in, not parsed and stringified again.
      const head = JSON.stringify({ name, last, ...rest });
      return new Response(
        `${head.slice(0, -1)},"lines":[${lines.join(",")}]}`,
        {
          headers: {
            ...SECURITY_HEADERS,
            "content-type": "application/json; charset=utf-8",
          },
        },
      );
    } catch (error) {
      if (error instanceof ReaderError) {
        // A bad query is the client's; a file that cannot be read, not.
        return problem(error.kind === "argument" ? 400 : 422, error.message);
      }
      throw error;
    }
  };

  return async (request: Request, info?: unknown): Promise<Response> => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return problem(400, `bad request URL`);
    }
    const refused = refuse(request, url, info);
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
        return stream(request, url);
      }
      if (path === "/api/snapshots" || path.startsWith("/api/snapshots/")) {
        return await snapshotRoute(
          request,
          url,
          path.slice("/api/snapshots/".length),
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
