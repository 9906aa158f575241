/**
 * The dashboard's `metrics` frames: a logger's counters sampled with the
 * tail's per-level counters, and the rates between two samples (events per
 * second, by level, per sink), as the page charts them.
 *
 * @module
 */

import { LEVEL_NAMES } from "../level.ts";
import type { Metrics } from "../metrics.ts";

/** One sample of the counters, taken when a frame is sent. */
export interface Sample {
  /** When it was taken (ms since the epoch). */
  readonly at: number;
  /** The logger's counters. */
  readonly metrics: Metrics;
  /** The tail's per-level event counters (wrapping at 2^32), if it has one. */
  readonly levels: readonly number[] | undefined;
  /** Tail events skipped by the per-level rate limit (wrapping at 2^32). */
  readonly skipped: number;
}

/**
 * One `metrics` frame: the counters, and rates since the previous frame.
 *
 * @param current The sample now.
 * @param previous The sample of the previous frame (none for the first).
 * @returns The frame, for `JSON.stringify`.
 *
 * @example Rates from two samples a second apart
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { metricsFrame } from "./metrics_frame.ts";
 * import assert from "node:assert/strict";
 * const log = createLogger({ sinks: [memorySink()] });
 * const before = { at: 0, metrics: log.metrics(), levels: [0, 0, 0, 0, 0, 0], skipped: 0 };
 * const now = { ...before, at: 1000, levels: [0, 0, 5, 0, 1, 0] };
 * const frame = metricsFrame(now, before) as { levels: Record<string, number> };
 * assert.equal(frame.levels.info, 5);
 * assert.equal(frame.levels.error, 1);
 * await log.close();
 * ```
 */
export function metricsFrame(
  current: Sample,
  previous: Sample | undefined,
): unknown {
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
