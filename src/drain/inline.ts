/**
 * The inline host: runs the drain on the caller's thread, scheduled after the
 * current task, and synchronously on `flush()` or when a `block` ring is full.
 * Used where there is no worker: edge runtimes, sinks that cannot cross
 * threads, `worker: false`, and processes limited to one CPU.
 *
 * @module
 */

import type { DictionaryMemory } from "../record/dictionary.ts";
import type { Recorder } from "../record/encode.ts";
import { CTL_READ, CTL_WAITING, type RingMemory } from "../ring/ring.ts";
import {
  allocateControl,
  C_BELL,
  C_FLUSH_DONE,
  C_FLUSH_REQ,
  type Control,
} from "./control.ts";
import type { ReplayDelivery } from "../snapshot/replay.ts";
import type { Drain } from "./drain.ts";
import type { DrainHost, NamedSinkMetrics, PassTimes } from "./host.ts";

/** Records delivered per scheduled pass before yielding to other tasks. */
const PASS_RECORDS = 16384;

/** Hosts a {@link Drain} on the caller's thread. */
export class InlineHost implements DrainHost {
  readonly ownsDrain = true;
  readonly inWorker = false;
  readonly restarts = 0;
  #drain: Drain;
  #recorder: Recorder;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #closed = false;
  /** Rings of other threads (application workers), and their bell. */
  #remote: Int32Array[] = [];
  #control: Control | undefined;

  constructor(drain: Drain, recorder: Recorder) {
    this.#drain = drain;
    this.#recorder = recorder;
    recorder.wake = () => this.#schedule();
    recorder.waitForSpace = (position) => this.#drainNow(position);
  }

  #schedule(): void {
    // Cleared until the pass runs: producers skip the wake-up meanwhile.
    Atomics.store(this.#recorder.ctl, CTL_WAITING, 0);
    if (this.#timer === undefined && !this.#closed) {
      this.#timer = setTimeout(() => this.#pass(), 0);
    }
  }

  #pass(): void {
    this.#timer = undefined;
    let delivered = 0;
    this.#running = true;
    const drain = this.#drain;
    try {
      let n: number;
      while (
        delivered < PASS_RECORDS && !drain.backlogged() &&
        (n = drain.pump()) > 0
      ) {
        delivered += n;
      }
    } finally {
      this.#running = false;
    }
    if (drain.backlogged()) {
      // A slow sink: read on once it has caught up (the ring holds the rest).
      drain.unclog().then(() => this.#schedule());
    } else if (drain.hasPending()) {
      this.#timer = setTimeout(() => this.#pass(), 0);
    } else {
      Atomics.store(this.#recorder.ctl, CTL_WAITING, 1);
    }
  }

  /**
   * Runs the drain now, until the drain has read up to `position` (a full
   * `block` ring); false when already inside the drain (a sink that logs).
   */
  #drainNow(position: number): boolean {
    if (this.#running) return false;
    this.#running = true;
    const ctl = this.#recorder.ctl;
    try {
      while (
        ((position - Atomics.load(ctl, CTL_READ)) | 0) > 0 &&
        this.#drain.pump() > 0
      ) { /* until there is room */ }
    } finally {
      this.#running = false;
    }
    return true;
  }

  /**
   * Delivers what the rings hold so far (the failure that asked for the
   * replay comes first), then the replay; the next flush waits for it.
   */
  replay(delivery: ReplayDelivery): void {
    if (this.#closed) return;
    const drain = this.#drain;
    if (!this.#running) {
      this.#running = true;
      try {
        const marks = drain.marks();
        while (!drain.reached(marks) && drain.pump() > 0) { /* up to now */ }
      } finally {
        this.#running = false;
      }
    }
    drain.replay(delivery);
  }

  /** The sinks give up on what they have not delivered (close ran out of time). */
  abort(): void {
    this.#drain.abortSinks();
  }

  /** Delivers everything committed so far, then waits for the sinks. */
  async flush(): Promise<void> {
    await this.flushWithin(Infinity);
  }

  /**
   * As flush(), giving up on slow sinks after `timeoutMs`. Reading stops at
   * the rings' commit positions as they were when it was called, so another
   * thread that keeps logging cannot keep it going. Returns whether
   * everything was delivered in time.
   */
  async flushWithin(timeoutMs: number): Promise<boolean> {
    // After close() the sinks are closed: nothing more is handed to them.
    if (this.#closed) return true;
    const deadline = Date.now() + timeoutMs;
    if (!this.#running) {
      const drain = this.#drain;
      const marks = drain.marks();
      while (!drain.reached(marks)) {
        // A slow sink: wait for it here too, rather than pile up writes.
        if (drain.backlogged()) {
          await drain.unclog();
          if (Date.now() > deadline) return false;
          continue;
        }
        this.#running = true;
        let n: number;
        try {
          n = drain.pump();
        } finally {
          this.#running = false;
        }
        if (n === 0) break;
      }
      if (this.#timer !== undefined && !drain.hasPending()) {
        // Nothing left for the scheduled pass. Where a platform cancels the
        // timers of a request that ended (Cloudflare Workers), that pass
        // would never run and producers, seeing it pending, would never
        // ring again: start afresh with the next event.
        clearTimeout(this.#timer);
        this.#timer = undefined;
        Atomics.store(this.#recorder.ctl, CTL_WAITING, 1);
      }
    }
    timeoutMs = Math.max(0, deadline - Date.now());
    if (timeoutMs === Infinity) {
      await this.#drain.settle();
      return true;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([
        this.#drain.settle().then(() => true),
        expired,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Delivers everything committed so far without yielding (exit hooks),
   * for at most `timeoutMs`; asks the sinks to flush but cannot wait for
   * asynchronous ones. Returns whether the rings were emptied in time.
   */
  flushSync(timeoutMs: number): boolean {
    if (this.#closed || this.#running) return this.#closed;
    const deadline = Date.now() + timeoutMs;
    this.#running = true;
    try {
      while (this.#drain.pump() > 0) {
        if (Date.now() > deadline) return false;
      }
      this.#drain.flushSinksNow();
      return true;
    } finally {
      this.#running = false;
    }
  }

  /**
   * Registers another thread's ring; returns the control block that thread
   * rings. This thread watches the bell with Atomics.waitAsync, which does
   * not keep the process alive.
   */
  addProducer(
    ring: RingMemory,
    dictionary: DictionaryMemory,
    control?: Control,
  ): SharedArrayBuffer {
    this.#drain.add({ ring, dictionary });
    this.#remote.push(ring.ctl);
    if (this.#control === undefined) {
      // A failed worker's producers keep the control block they were given:
      // watch that one.
      this.#control = control ?? allocateControl();
      this.#watch(this.#control);
    }
    return this.#control.buffer;
  }

  async #watch(control: Control): Promise<void> {
    const words = control.words;
    while (!this.#closed) {
      const bell = Atomics.load(words, C_BELL);
      const request = Atomics.load(words, C_FLUSH_REQ);
      if (request !== Atomics.load(words, C_FLUSH_DONE)) {
        await this.flush();
        Atomics.store(words, C_FLUSH_DONE, request);
        Atomics.notify(words, C_FLUSH_DONE);
        continue;
      }
      for (const ctl of this.#remote) Atomics.store(ctl, CTL_WAITING, 1);
      if (this.#drain.hasPending()) this.#schedule();
      const wait = Atomics.waitAsync(words, C_BELL, bell, 1000);
      if (wait.async) await wait.value;
      if (this.#drain.hasPending()) this.#schedule();
    }
    // Closed: answer any flush request still waiting.
    Atomics.store(words, C_FLUSH_DONE, Atomics.load(words, C_FLUSH_REQ));
    Atomics.notify(words, C_FLUSH_DONE);
  }

  /** Recent pass durations. */
  passTimes(): PassTimes {
    return { times: this.#drain.passTimes, count: this.#drain.counters.passes };
  }

  /** Per-sink counters. */
  sinkMetrics(): NamedSinkMetrics[] {
    return this.#drain.sinkMetrics();
  }

  /** Flushes, stops scheduling and closes the sinks. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#drain.closeSinks();
  }
}
