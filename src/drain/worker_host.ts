/**
 * The worker host: the drain runs in a worker thread, woken through the
 * control block's bell only when it may be asleep. The worker never keeps
 * the process alive by itself (it is unref'd); `flush()` refs it until done.
 * If the worker fails to start or dies, the caller's thread takes over with
 * the inline host and the original sinks: nothing in the ring is lost.
 *
 * @module
 */

import type { LevelValue } from "../level.ts";
import type { DictionaryMemory } from "../record/dictionary.ts";
import type { Recorder } from "../record/encode.ts";
import { CTL_READ, CTL_WAITING, type RingMemory } from "../ring/ring.ts";
import {
  startWorker,
  typeScriptLoader,
  type WorkerHandle,
} from "../runtime/worker.ts";
import type { Sink, SinkSpec } from "../sinks/sink.ts";
import type { ReplayDelivery } from "../snapshot/replay.ts";
import {
  allocateControl,
  C_BELL,
  C_FLUSH_DONE,
  C_FLUSH_REQ,
  C_REPLAY_REQ,
  C_STATE,
  type Control,
  readCounters,
  readPassTimes,
  readSinkCounters,
  STATE_CLOSED,
  STATE_FAILED,
} from "./control.ts";
import type { Drain, DrainCounters } from "./drain.ts";
import type { DrainHost, NamedSinkMetrics, PassTimes } from "./host.ts";
import { InlineHost } from "./inline.ts";
import type { WorkerConfig, WorkerMessage } from "./worker_protocol.ts";
import { DRAIN_WORKER_SOURCE } from "./_worker_sources.ts";

/** How long a full `block` ring waits for the worker before it drops. */
const BLOCK_WAIT_MS = 5000;

/** Hosts the drain in a worker thread. */
export class WorkerHost implements DrainHost {
  readonly ownsDrain = true;
  #control: Control;
  #worker: WorkerHandle | undefined;
  #recorder: Recorder;
  #ring: RingMemory;
  #sinks: readonly Sink[];
  #makeDrain: () => Drain;
  #report: (message: string) => void;
  #fallback: InlineHost | undefined;
  /** Rings of other threads handed to the worker (see addProducer). */
  #producers: { ring: RingMemory; dictionary: DictionaryMemory }[] = [];
  #fallbackDrain: Drain | undefined;
  #refs = 0;
  #closed = false;
  /** Times the drain moved to the caller's thread because the worker failed. */
  restarts = 0;

  constructor(options: {
    recorder: Recorder;
    ring: RingMemory;
    dictionary: DictionaryMemory;
    sinks: readonly Sink[];
    service: string;
    level: LevelValue;
    directives: string | undefined;
    makeDrain: () => Drain;
    report: (message: string) => void;
  }) {
    this.#recorder = options.recorder;
    this.#ring = options.ring;
    this.#sinks = options.sinks;
    this.#makeDrain = options.makeDrain;
    this.#report = options.report;
    this.#control = allocateControl();
    const specs = options.sinks.map((sink) => sink.spec as SinkSpec);
    const words = this.#control.words;
    const ctl = options.ring.ctl;
    options.recorder.wake = () => {
      Atomics.store(ctl, CTL_WAITING, 0);
      Atomics.add(words, C_BELL, 1);
      Atomics.notify(words, C_BELL);
    };
    options.recorder.waitForSpace = (position) => this.#waitForSpace(position);
    try {
      const config: WorkerConfig = {
        control: this.#control.buffer,
        producers: [{
          ring: options.ring.buffer as SharedArrayBuffer,
          dictionary: options.dictionary.buffer as SharedArrayBuffer,
        }],
        sinks: specs,
        service: options.service,
        level: options.level,
        directives: options.directives,
        loader: typeScriptLoader(specs.map((spec) => spec.module)),
      };
      const worker = this.#worker = startWorker(DRAIN_WORKER_SOURCE, config);
      worker.unref();
      worker.on("error", (error: unknown) => this.#fail(error));
      worker.on("exit", (code: number) => {
        // A worker that closed (close() asked, and it said so in the
        // control block) may exit before close() has seen that: not a
        // failure.
        const closed =
          Atomics.load(this.#control.words, C_STATE) === STATE_CLOSED;
        if (!this.#closed && !closed) {
          this.#fail(new Error(`the worker exited with code ${code}`));
        }
      });
    } catch (error) {
      // No worker here after all (a runtime that refuses to start one):
      // the same drain runs on this thread, and metrics() says so.
      this.#fail(error, "could not start");
    }
  }

  /** Whether the drain runs in the worker now (not on the caller's thread). */
  get inWorker(): boolean {
    return this.#fallback === undefined;
  }

  #waitForSpace(position: number): boolean {
    if (this.#fallback !== undefined) return false;
    const ctl = this.#ring.ctl;
    const deadline = Date.now() + BLOCK_WAIT_MS;
    this.#recorder.wake();
    for (;;) {
      const read = Atomics.load(ctl, CTL_READ);
      if (((position - read) | 0) <= 0) return true;
      const left = deadline - Date.now();
      if (left <= 0 || this.#failed()) return false;
      Atomics.wait(ctl, CTL_READ, read, Math.min(left, 50));
    }
  }

  #failed(): boolean {
    return Atomics.load(this.#control.words, C_STATE) === STATE_FAILED;
  }

  #fail(error: unknown, what = "failed"): void {
    if (this.#fallback !== undefined || this.#closed) return;
    Atomics.store(this.#control.words, C_STATE, STATE_FAILED);
    Atomics.notify(this.#control.words, C_FLUSH_DONE);
    if (this.#worker !== undefined) this.restarts++;
    this.#report(
      `ttlog: the drain's worker ${what} (${
        error instanceof Error ? error.message : String(error)
      }); draining on the caller's thread from now on`,
    );
    this.#fallbackDrain = this.#makeDrain();
    this.#fallback = new InlineHost(this.#fallbackDrain, this.#recorder);
    // Other threads' rings move too; they keep ringing the same control
    // block, which the fallback now watches.
    for (const { ring, dictionary } of this.#producers) {
      this.#fallback.addProducer(ring, dictionary, this.#control);
    }
    this.#recorder.wake();
  }

  #ref(): void {
    if (this.#refs++ === 0) this.#worker?.ref();
  }

  #unref(): void {
    if (--this.#refs === 0) this.#worker?.unref();
  }

  #request(): number {
    const target = Atomics.add(this.#control.words, C_FLUSH_REQ, 1) + 1;
    Atomics.add(this.#control.words, C_BELL, 1);
    Atomics.notify(this.#control.words, C_BELL);
    return target;
  }

  /** Delivers everything committed so far and waits for the sinks. */
  async flush(): Promise<void> {
    await this.flushWithin(Infinity);
  }

  /**
   * As flush(), giving up after `timeoutMs` (then the worker is released
   * again, so a stuck sink cannot hold the process at its end). Returns
   * whether everything was delivered in time.
   */
  async flushWithin(timeoutMs: number): Promise<boolean> {
    if (this.#fallback !== undefined) {
      return await this.#fallback.flushWithin(timeoutMs);
    }
    if (this.#closed) return true;
    const deadline = Date.now() + timeoutMs;
    this.#ref();
    try {
      const words = this.#control.words;
      const target = this.#request();
      for (;;) {
        const done = Atomics.load(words, C_FLUSH_DONE);
        if (((done - target) | 0) >= 0) return true;
        if (this.#failed()) break;
        const left = deadline - Date.now();
        if (left <= 0) return false;
        const wait = Atomics.waitAsync(
          words,
          C_FLUSH_DONE,
          done,
          Math.min(left, 100),
        );
        if (wait.async) await wait.value;
      }
    } finally {
      this.#unref();
    }
    const fallback = this.#fallback as InlineHost | undefined;
    return fallback === undefined
      ? false
      : await fallback.flushWithin(Math.max(0, deadline - Date.now()));
  }

  /**
   * Delivers everything committed so far, blocking this thread for at most
   * `timeoutMs` (exit hooks: only synchronous work runs there).
   * Returns whether it finished in time.
   */
  flushSync(timeoutMs: number): boolean {
    if (this.#fallback !== undefined) {
      return this.#fallback.flushSync(timeoutMs);
    }
    if (this.#closed) return true;
    const words = this.#control.words;
    const target = this.#request();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const done = Atomics.load(words, C_FLUSH_DONE);
      if (((done - target) | 0) >= 0) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      if (this.#failed()) {
        this.#fail(new Error("failed while flushing"));
        return this.#fallback!.flushSync(left);
      }
      Atomics.wait(words, C_FLUSH_DONE, done, Math.min(left, 50));
    }
  }

  /** The sinks give up on what they have not delivered (close ran out of time). */
  abort(): void {
    if (this.#fallback !== undefined) {
      this.#fallback.abort();
      return;
    }
    try {
      this.#worker?.postMessage({ type: "abort" } satisfies WorkerMessage);
    } catch { /* the worker is gone: nothing to abort there */ }
  }

  /**
   * Hands a replay to the drain (in the worker: as a message, which the
   * next flush waits for).
   */
  replay(delivery: ReplayDelivery): void {
    if (this.#fallback !== undefined) {
      this.#fallback.replay(delivery);
      return;
    }
    if (this.#closed) return;
    Atomics.add(this.#control.words, C_REPLAY_REQ, 1);
    this.#worker!.postMessage(
      { type: "replay", delivery } satisfies WorkerMessage,
    );
    Atomics.add(this.#control.words, C_BELL, 1);
    Atomics.notify(this.#control.words, C_BELL);
  }

  /**
   * Registers another producer's ring (an application worker that logs);
   * returns the control block that producer rings.
   */
  addProducer(
    ring: RingMemory,
    dictionary: DictionaryMemory,
  ): SharedArrayBuffer {
    if (this.#fallback !== undefined) {
      return this.#fallback.addProducer(ring, dictionary);
    }
    this.#producers.push({ ring, dictionary });
    const message: WorkerMessage = {
      type: "producer",
      ring: ring.buffer as SharedArrayBuffer,
      dictionary: dictionary.buffer as SharedArrayBuffer,
    };
    this.#worker!.postMessage(message);
    return this.#control.buffer;
  }

  /** The drain's counters. */
  counters(): DrainCounters {
    const worker = readCounters(this.#control);
    const fallback = this.#fallbackDrain?.counters;
    if (fallback === undefined) return worker;
    return {
      emitted: worker.emitted + fallback.emitted,
      filtered: worker.filtered + fallback.filtered,
      lost: worker.lost + fallback.lost,
      lossRecords: worker.lossRecords + fallback.lossRecords,
      droppedSeen: worker.droppedSeen + fallback.droppedSeen,
      passes: worker.passes + fallback.passes,
    };
  }

  /** Per-sink counters. */
  sinkMetrics(): NamedSinkMetrics[] {
    const worker = readSinkCounters(this.#control, this.#sinks.length);
    const fallback = this.#fallbackDrain?.sinkMetrics();
    return this.#sinks.map((sink, i) => ({
      name: sink.name,
      written: (worker[i]?.written ?? 0) + (fallback?.[i]?.written ?? 0),
      dropped: (worker[i]?.dropped ?? 0) + (fallback?.[i]?.dropped ?? 0),
      errors: (worker[i]?.errors ?? 0) + (fallback?.[i]?.errors ?? 0),
    }));
  }

  /** Recent pass durations (ms). */
  passTimes(): PassTimes {
    if (this.#fallbackDrain !== undefined) {
      return {
        times: this.#fallbackDrain.passTimes,
        count: this.#fallbackDrain.counters.passes,
      };
    }
    return {
      times: readPassTimes(this.#control),
      count: readCounters(this.#control).passes,
    };
  }

  /** Flushes, closes the sinks in the worker and stops it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    if (this.#fallback !== undefined) {
      this.#closed = true;
      await this.#fallback.close();
      await this.#worker?.terminate();
      return;
    }
    this.#ref();
    try {
      const words = this.#control.words;
      this.#worker!.postMessage({ type: "close" } satisfies WorkerMessage);
      for (;;) {
        const state = Atomics.load(words, C_STATE);
        if (state === STATE_CLOSED || state === STATE_FAILED) break;
        const wait = Atomics.waitAsync(words, C_STATE, state, 100);
        if (wait.async) await wait.value;
      }
      this.#closed = true;
    } finally {
      this.#unref();
    }
    await this.#worker!.terminate();
    // The main thread's own sink objects were never written to: release them.
    await Promise.all(this.#sinks.map(async (sink) => {
      try {
        await sink.close?.();
      } catch { /* nothing was written through them */ }
    }));
  }
}
