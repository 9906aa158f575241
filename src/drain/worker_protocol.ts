/**
 * What the drain's worker is started with and the messages it takes: shared
 * by the worker (worker_main.ts, which ships bundled, not as a module) and
 * the host that starts it.
 *
 * @module
 */

import type { LevelValue } from "../level.ts";
import type { SinkSpec } from "../sinks/sink.ts";
import type { ReplayDelivery } from "../snapshot/replay.ts";

/** What the worker is started with. */
export interface WorkerConfig {
  /** The control block. */
  readonly control: SharedArrayBuffer;
  /** Producers known at start: ring and dictionary buffers. */
  readonly producers: readonly {
    ring: SharedArrayBuffer;
    dictionary: SharedArrayBuffer;
  }[];
  /** How to rebuild each sink. */
  readonly sinks: readonly SinkSpec[];
  /** The service name. */
  readonly service: string;
  /** The default emit level. */
  readonly level: LevelValue;
  /** The directives string, if any. */
  readonly directives: string | undefined;
  /**
   * A module to import and `register()` before any sink module: tsx's API,
   * when ttlog's TypeScript runs on Node and a sink's module is a `.ts` file
   * (Node passes no loader on to worker threads).
   */
  readonly loader?: string;
}

/** Messages the worker takes. */
export type WorkerMessage =
  | { type: "producer"; ring: SharedArrayBuffer; dictionary: SharedArrayBuffer }
  | { type: "replay"; delivery: ReplayDelivery }
  | { type: "abort" }
  | { type: "close" };
