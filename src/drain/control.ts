/**
 * The drain's control block: shared memory between the threads that log and
 * the drain's worker. Int32 words for signalling, then float64 counters the
 * worker publishes after every pass (the drain's metrics, read by
 * `log.metrics()` on any thread).
 *
 * @module
 */

import type { DrainCounters } from "./drain.ts";
import { PASS_TIMES } from "./drain.ts";

/** Int32 word: producers add 1 and notify to wake the worker. */
export const C_BELL = 0;
/** Int32 word: flush requests made so far. */
export const C_FLUSH_REQ = 1;
/** Int32 word: the last flush request the worker has completed. */
export const C_FLUSH_DONE = 2;
/** Int32 word: the worker's state (see `STATE_*`). */
export const C_STATE = 3;
/** Int32 word: replays posted to the worker so far (a flush waits for them). */
export const C_REPLAY_REQ = 4;

/** Worker state: starting (sinks being created). */
export const STATE_STARTING = 0;
/** Worker state: draining. */
export const STATE_RUNNING = 1;
/** Worker state: closed (sinks closed). */
export const STATE_CLOSED = 2;
/** Worker state: failed; the caller's thread drains instead. */
export const STATE_FAILED = 3;

const INT_BYTES = 64;
const F_EMITTED = 0;
const F_FILTERED = 1;
const F_LOST = 2;
const F_LOSS_RECORDS = 3;
const F_DROPPED_SEEN = 4;
const F_PASSES = 5;
const F_SINKS = 8;
/** Sinks whose counters the control block holds. */
export const MAX_SINKS = 32;
/** Numbers per sink: written, dropped, errors. */
const PER_SINK = 3;
const F_TIMES = F_SINKS + PER_SINK * MAX_SINKS;

/** Views of a control block. */
export interface Control {
  /** The shared memory. */
  readonly buffer: SharedArrayBuffer;
  /** Signalling words. */
  readonly words: Int32Array;
  /** Published counters. */
  readonly numbers: Float64Array;
}

/** Allocates a control block. */
export function allocateControl(): Control {
  return viewControl(
    new SharedArrayBuffer(INT_BYTES + 8 * (F_TIMES + PASS_TIMES)),
  );
}

/** Views an existing control block. */
export function viewControl(buffer: SharedArrayBuffer): Control {
  return {
    buffer,
    words: new Int32Array(buffer, 0, INT_BYTES >> 2),
    numbers: new Float64Array(buffer, INT_BYTES),
  };
}

/** The worker publishes its drain's counters. */
export function publishCounters(
  control: Control,
  counters: DrainCounters,
  sinks: readonly { written: number; dropped: number; errors: number }[],
  passTimes: Float64Array,
): void {
  const f = control.numbers;
  f[F_EMITTED] = counters.emitted;
  f[F_FILTERED] = counters.filtered;
  f[F_LOST] = counters.lost;
  f[F_LOSS_RECORDS] = counters.lossRecords;
  f[F_DROPPED_SEEN] = counters.droppedSeen;
  f[F_PASSES] = counters.passes;
  for (let i = 0; i < sinks.length && i < MAX_SINKS; i++) {
    f[F_SINKS + PER_SINK * i] = sinks[i].written;
    f[F_SINKS + PER_SINK * i + 1] = sinks[i].dropped;
    f[F_SINKS + PER_SINK * i + 2] = sinks[i].errors;
  }
  f.set(passTimes, F_TIMES);
}

/** Reads the counters the worker published. */
export function readCounters(control: Control): DrainCounters {
  const f = control.numbers;
  return {
    emitted: f[F_EMITTED],
    filtered: f[F_FILTERED],
    lost: f[F_LOST],
    lossRecords: f[F_LOSS_RECORDS],
    droppedSeen: f[F_DROPPED_SEEN],
    passes: f[F_PASSES],
  };
}

/** Reads the per-sink counters the worker published. */
export function readSinkCounters(
  control: Control,
  count: number,
): { written: number; dropped: number; errors: number }[] {
  const f = control.numbers;
  const out = [];
  for (let i = 0; i < count && i < MAX_SINKS; i++) {
    const at = F_SINKS + PER_SINK * i;
    out.push({ written: f[at], dropped: f[at + 1], errors: f[at + 2] });
  }
  return out;
}

/** Reads the pass durations the worker published. */
export function readPassTimes(control: Control): Float64Array {
  return control.numbers.slice(F_TIMES, F_TIMES + PASS_TIMES);
}
