/**
 * The counters a logger keeps, and how they add up.
 *
 * @module
 */

/**
 * A logger's counters. For every logger, at every moment:
 * `logged = emitted + filtered + dropped + lost + pending`, and after
 * `flush()` nothing is pending. Every loss (dropped or lost) also appears in
 * the output as one "lost N events" record.
 *
 * @example Check that the counters add up
 * ```ts
 * import { createLogger, memorySink, type Metrics } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const log = createLogger({ level: "info", recordLevel: "debug", sinks: [memorySink()] });
 * log.info("emitted");
 * log.debug("recorded, not emitted");
 * await log.flush();
 * const m: Metrics = log.metrics();
 * assert.equal(m.logged, 2);
 * assert.equal(m.emitted, 1);
 * assert.equal(m.filtered, 1);
 * assert.equal(m.pending, 0);
 * assert.equal(m.logged, m.emitted + m.filtered + m.dropped + m.lost + m.pending);
 * await log.close();
 * ```
 */
export interface Metrics {
  /** The logger's service name. */
  readonly service: string;
  /** Events that passed the level check (recorded or dropped). */
  readonly logged: number;
  /** Events encoded into the ring. */
  readonly recorded: number;
  /** Ring bytes those events took (padding included). */
  readonly recordedBytes: number;
  /** Events delivered to the sinks. */
  readonly emitted: number;
  /** Events recorded but below their target's emit level (kept for snapshots only). */
  readonly filtered: number;
  /** Events not recorded because the ring was full (`drop`, or `block` when it could not wait). */
  readonly dropped: number;
  /** Events overwritten in the ring before the drain read them (`overwrite`). */
  readonly lost: number;
  /** Events recorded and not yet read by the drain. */
  readonly pending: number;
  /** "lost N events" records written to the sinks. */
  readonly lossRecords: number;
  /** The ring's capacity in bytes. */
  readonly ringBytes: number;
  /** Ring bytes holding records now (history included). */
  readonly ringUsed: number;
  /** The most ring bytes held at once. */
  readonly ringHighWater: number;
  /** Entries in the dictionary (keys, targets, call sites). */
  readonly dictionaryEntries: number;
  /** Bytes the dictionary uses. */
  readonly dictionaryBytes: number;
  /** Drain passes that read at least one record. */
  readonly drainPasses: number;
  /** Median duration of a drain pass (read, decode, deliver), in ms, over recent passes. */
  readonly drainBatchMsP50: number;
  /** 99th-percentile duration of a drain pass, in ms, over recent passes. */
  readonly drainBatchMsP99: number;
  /** Whether the drain runs in a worker thread. */
  readonly worker: boolean;
  /** Times the drain moved to the caller's thread because its worker failed. */
  readonly workerRestarts: number;
  /**
   * Events replayed into the sinks after the fact (`log.replay()`, request
   * logging's `replay`): not logged or emitted events, so not in the sum
   * above. Each replay also writes one summary event (counted in `replays`).
   */
  readonly replayed: number;
  /** Replays done (each one summary event in the sinks). */
  readonly replays: number;
  /** Snapshots the store took (`snapshot.store`). */
  readonly snapshotsStored: number;
  /** Snapshots the store threw or rejected on. */
  readonly snapshotStoreErrors: number;
  /** Snapshots whose store promise has not settled. */
  readonly snapshotStoresPending: number;
  /**
   * Per sink: records that reached it (for a network sink that batches,
   * its destination), records lost on the way, and failures; counted the
   * same whichever thread drains.
   */
  readonly sinks: readonly {
    name: string;
    written: number;
    dropped: number;
    errors: number;
  }[];
}

/**
 * Anything with a `metrics()` method, such as a logger.
 *
 * @example Sum the losses of several loggers
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { type HasMetrics } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * function lostOrDropped(sources: readonly HasMetrics[]): number {
 *   return sources.reduce((sum, s) => sum + s.metrics().lost + s.metrics().dropped, 0);
 * }
 * const api = createLogger({ service: "api", sinks: [memorySink()] });
 * const jobs = createLogger({ service: "jobs", sinks: [memorySink()] });
 * api.info("request");
 * jobs.info("job");
 * await Promise.all([api.flush(), jobs.flush()]);
 * assert.equal(lostOrDropped([api, jobs]), 0);
 * await Promise.all([api.close(), jobs.close()]);
 * ```
 */
export interface HasMetrics {
  /** The counters. */
  metrics(): Metrics;
}

const COUNTERS: readonly [keyof Metrics, string, string][] = [
  [
    "logged",
    "ttlog_events_logged_total",
    "Events that passed the level check.",
  ],
  ["recorded", "ttlog_events_recorded_total", "Events encoded into the ring."],
  [
    "recordedBytes",
    "ttlog_recorded_bytes_total",
    "Ring bytes taken by recorded events.",
  ],
  ["emitted", "ttlog_events_emitted_total", "Events delivered to the sinks."],
  [
    "filtered",
    "ttlog_events_filtered_total",
    "Events recorded but below their target's emit level.",
  ],
  [
    "dropped",
    "ttlog_events_dropped_total",
    "Events not recorded because the ring was full.",
  ],
  [
    "lost",
    "ttlog_events_lost_total",
    "Events overwritten before the drain read them.",
  ],
  [
    "lossRecords",
    "ttlog_loss_records_total",
    '"lost N events" records written.',
  ],
  [
    "drainPasses",
    "ttlog_drain_passes_total",
    "Drain passes that read at least one record.",
  ],
  [
    "workerRestarts",
    "ttlog_worker_restarts_total",
    "Times the drain left its failed worker.",
  ],
  [
    "replayed",
    "ttlog_events_replayed_total",
    "Events replayed into the sinks after the fact (not logged events).",
  ],
  ["replays", "ttlog_replays_total", "Replays done."],
  [
    "snapshotsStored",
    "ttlog_snapshots_stored_total",
    "Snapshots the snapshot store took.",
  ],
  [
    "snapshotStoreErrors",
    "ttlog_snapshot_store_errors_total",
    "Snapshots the snapshot store failed on.",
  ],
];

const GAUGES: readonly [keyof Metrics, string, string][] = [
  [
    "pending",
    "ttlog_events_pending",
    "Events recorded and not yet read by the drain.",
  ],
  ["ringBytes", "ttlog_ring_bytes", "The ring's capacity in bytes."],
  ["ringUsed", "ttlog_ring_used_bytes", "Ring bytes holding records now."],
  [
    "ringHighWater",
    "ttlog_ring_high_water_bytes",
    "The most ring bytes held at once.",
  ],
  [
    "dictionaryEntries",
    "ttlog_dictionary_entries",
    "Entries in the dictionary.",
  ],
  ["dictionaryBytes", "ttlog_dictionary_bytes", "Bytes the dictionary uses."],
  [
    "snapshotStoresPending",
    "ttlog_snapshot_stores_pending",
    "Snapshots whose store call has not settled.",
  ],
  [
    "drainBatchMsP50",
    "ttlog_drain_pass_ms_p50",
    "Median drain pass duration over recent passes, in ms.",
  ],
  [
    "drainBatchMsP99",
    "ttlog_drain_pass_ms_p99",
    "99th-percentile drain pass duration over recent passes, in ms.",
  ],
];

function label(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(
    /\n/g,
    "\\n",
  );
}

/**
 * A logger's metrics in the Prometheus text exposition format (version
 * 0.0.4), one sample per counter and gauge, labelled with the service, plus
 * per-sink written and error counters.
 *
 * @param log A logger (or anything with `metrics()`).
 * @param service The value of the `service` label (default: the logger's service).
 * @returns The exposition text, ending with a newline.
 *
 * @example Expose metrics
 * ```ts
 * import { createLogger, memorySink, prometheusText } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const log = createLogger({ sinks: [memorySink()] });
 * log.info("hello");
 * await log.flush();
 * const text = prometheusText(log, "checkout");
 * assert.match(text, /^ttlog_events_emitted_total\{service="checkout"\} 1$/m);
 * await log.close();
 * ```
 */
export function prometheusText(log: HasMetrics, service?: string): string {
  const m = log.metrics();
  service ??= m.service;
  const base = `service="${label(service)}"`;
  let out = "";
  for (const [key, name, help] of COUNTERS) {
    out += `# HELP ${name} ${help}\n# TYPE ${name} counter\n${name}{${base}} ${
      m[key]
    }\n`;
  }
  for (const [key, name, help] of GAUGES) {
    out += `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name}{${base}} ${
      m[key]
    }\n`;
  }
  out +=
    `# HELP ttlog_worker Whether the drain runs in a worker thread (1) or not (0).\n# TYPE ttlog_worker gauge\nttlog_worker{${base}} ${
      m.worker ? 1 : 0
    }\n`;
  out +=
    `# HELP ttlog_sink_written_total Records that reached each sink (a network sink's destination).\n# TYPE ttlog_sink_written_total counter\n`;
  for (const sink of m.sinks) {
    out += `ttlog_sink_written_total{${base},sink="${
      label(sink.name)
    }"} ${sink.written}\n`;
  }
  out +=
    `# HELP ttlog_sink_dropped_total Records each sink lost or gave up on.\n# TYPE ttlog_sink_dropped_total counter\n`;
  for (const sink of m.sinks) {
    out += `ttlog_sink_dropped_total{${base},sink="${
      label(sink.name)
    }"} ${sink.dropped}\n`;
  }
  out +=
    `# HELP ttlog_sink_errors_total Failed writes per sink.\n# TYPE ttlog_sink_errors_total counter\n`;
  for (const sink of m.sinks) {
    out += `ttlog_sink_errors_total{${base},sink="${
      label(sink.name)
    }"} ${sink.errors}\n`;
  }
  return out;
}
