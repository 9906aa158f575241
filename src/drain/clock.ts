/**
 * The coarse clock (`clock: "coarse"`): a thread that publishes the time in
 * shared memory about every millisecond. Reading it costs about a
 * nanosecond where `Date.now()` costs 30-40 ns, which is a third of a log
 * call. Timestamps stay within a few milliseconds of the wall clock (the
 * thread's wake-ups, under load), and order within a producer never depends
 * on them: the sequence number orders records.
 *
 * @module
 */

import { startWorker, type WorkerHandle } from "../runtime/worker.ts";
import { CLOCK_WORKER_SOURCE } from "./_worker_sources.ts";

/** A started coarse clock. */
export class CoarseClock {
  /** The published time (epoch ms); `now[0]` is what producers read. */
  readonly now: Float64Array;
  #words: Int32Array;
  #worker: WorkerHandle;

  /** Starts the clock's thread and waits (briefly) for its first tick. */
  constructor() {
    const buffer = new SharedArrayBuffer(16);
    this.now = new Float64Array(buffer, 0, 1);
    this.#words = new Int32Array(buffer, 8, 2);
    this.#worker = startWorker(CLOCK_WORKER_SOURCE, buffer);
    this.#worker.unref();
  }

  /**
   * Calls `ready` once the thread publishes the time (until then, producers
   * keep reading `Date.now()`: a thread can take 100 ms to start).
   */
  onReady(ready: () => void): void {
    whenClockReady(this.now.buffer as SharedArrayBuffer, ready);
  }

  /** Stops the clock's thread. */
  async stop(): Promise<void> {
    Atomics.store(this.#words, 0, 1);
    Atomics.notify(this.#words, 0);
    await this.#worker.terminate();
  }
}

/**
 * Calls `ready` once the clock in `buffer` (a {@link CoarseClock}'s, maybe
 * from another thread) publishes the time.
 */
export function whenClockReady(
  buffer: SharedArrayBuffer,
  ready: () => void,
): void {
  const words = new Int32Array(buffer, 8, 2);
  if (Atomics.load(words, 1) === 1) return ready();
  const wait = Atomics.waitAsync(words, 1, 0);
  if (wait.async) wait.value.then(() => ready());
  else ready();
}
