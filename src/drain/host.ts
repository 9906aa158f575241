/**
 * What a logger asks of whatever runs its drain: {@link InlineHost} (the
 * caller's thread), {@link WorkerHost} (a worker, with the inline drain as
 * fallback) and {@link RemoteHost} (an application worker's logger, whose
 * drain runs on another thread). The logger talks to its host through this
 * interface alone.
 *
 * @module
 */

import type { DictionaryMemory } from "../record/dictionary.ts";
import type { RingMemory } from "../ring/ring.ts";
import type { ReplayDelivery } from "../snapshot/replay.ts";
import type { SinkMetrics } from "./drain.ts";

/** Recent drain pass durations (ms), and how many passes there were. */
export interface PassTimes {
  /** The last passes' durations, a ring of them. */
  readonly times: Float64Array;
  /** Passes so far. */
  readonly count: number;
}

/** One sink's counters, with its name. */
export type NamedSinkMetrics = { readonly name: string } & SinkMetrics;

/** The drain's side of a logger, wherever the drain runs. */
export interface DrainHost {
  /**
   * Whether the drain belongs to this logger (false for a logger attached to
   * another thread's drain, which can neither add producers nor replay).
   */
  readonly ownsDrain: boolean;
  /** Whether the drain runs in its worker now (not on this thread). */
  readonly inWorker: boolean;
  /** How many times the drain's worker failed and was replaced. */
  readonly restarts: number;
  /** Delivers everything committed so far, then waits for the sinks. */
  flush(): Promise<void>;
  /** As flush(), giving up after `timeoutMs`; resolves to whether it was all delivered. */
  flushWithin(timeoutMs: number): Promise<boolean>;
  /** As flush(), blocking this thread for at most `timeoutMs` (exit, crash, signal). */
  flushSync(timeoutMs: number): boolean;
  /** The sinks give up on what they have not delivered (close ran out of time). */
  abort(): void;
  /** Hands a replay to the drain (see Drain.replay); only when {@link ownsDrain}. */
  replay(delivery: ReplayDelivery): void;
  /**
   * Registers another thread's ring; returns the control block that thread
   * rings. Only when {@link ownsDrain}.
   */
  addProducer(
    ring: RingMemory,
    dictionary: DictionaryMemory,
  ): SharedArrayBuffer;
  /** Recent pass durations. */
  passTimes(): PassTimes;
  /** Per-sink counters, by position in the sinks list. */
  sinkMetrics(): NamedSinkMetrics[];
  /** Flushes, then releases the drain and closes the sinks. */
  close(): Promise<void>;
}
