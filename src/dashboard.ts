/**
 * The live dashboard: a web page for a logger's metrics, a live tail of its
 * events and its snapshots, served by a fetch handler.
 *
 * ```ts
 * import { consoleSink, createLogger } from "@ttlog/ttlog";
 * import { dashboardHandler, dashboardSink } from "@ttlog/ttlog/dashboard";
 * const tail = dashboardSink();
 * const log = createLogger({ sinks: [consoleSink(), tail], snapshot: { dir: "snapshots" } });
 * const handler = dashboardHandler(log, { tail, snapshotDir: "snapshots" });
 * // Deno.serve({ hostname: "127.0.0.1", port: 8077 }, handler);
 * // Bun.serve({ hostname: "127.0.0.1", port: 8077, fetch: handler });
 * // createServer(dashboardNodeListener(handler)).listen(8077, "127.0.0.1");
 * await log.close();
 * ```
 *
 * How the live tail reaches the page. The drain runs in a worker thread by
 * default, and a sink without a spec would pull it back onto the caller's
 * thread, so the tail cannot be a plain object sink. `dashboardSink()` has a
 * spec: the worker rebuilds it over the same SharedArrayBuffer, a small
 * single-producer ring of tail entries (each event's ndjson line for the
 * page, formatted once, with the values the tail's filters test beside it,
 * so the handler parses nothing) plus per-level event counters. The
 * handler, on the thread that serves HTTP, reads that ring only while an
 * event stream is open (every 100 ms), so an unwatched dashboard costs the
 * drain a counter update per batch and the serving thread nothing. A
 * BroadcastChannel would also cross threads, but it costs a structured
 * clone per message, keeps an event-loop handle open in some runtimes, and
 * needs the worker to time its messages; a ring read on demand needs none
 * of that, and the same code serves a drain on the caller's thread (where
 * the ring is written directly) and edge runtimes (an ArrayBuffer ring).
 *
 * The sink sees the emitted events, as every sink does (not the debug events
 * that are only recorded; a snapshot has those). The tail shows at most
 * `rate` events per level per second (200 by default) so that a flood of
 * info events cannot hide the errors; the per-level rates count every
 * event. Filters of the tail and of a snapshot's view are those of
 * `ttlog view` (the parser and filter code of src/reader/, which the CLI
 * uses too).
 *
 * @module
 */

export {
  type DashboardHandler,
  dashboardHandler,
} from "./dashboard/handler.ts";
export type { DashboardLogger, DashboardOptions } from "./dashboard/options.ts";
export { dashboardNodeListener } from "./dashboard/node.ts";
export {
  type DashboardSink,
  dashboardSink,
  type DashboardSinkOptions,
} from "./dashboard/sink.ts";
export type { RemoteAddress } from "./dashboard/access.ts";
