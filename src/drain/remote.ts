/**
 * The remote host: used by a logger attached, in an application worker, to
 * a drain that runs elsewhere (on the main thread or in the drain's worker).
 * It only rings the drain's bell and makes flush requests through the shared
 * control block.
 *
 * @module
 */

import type { DictionaryMemory } from "../record/dictionary.ts";
import type { Recorder } from "../record/encode.ts";
import type { ReplayDelivery } from "../snapshot/replay.ts";
import {
  CTL_READ,
  CTL_REGISTERED,
  CTL_WAITING,
  type RingMemory,
} from "../ring/ring.ts";
import { C_BELL, C_FLUSH_DONE, C_FLUSH_REQ, type Control } from "./control.ts";
import type { DrainHost, NamedSinkMetrics, PassTimes } from "./host.ts";

/** How long a full `block` ring waits for the drain before it drops. */
const BLOCK_WAIT_MS = 5000;

/** Talks to a drain on another thread through its control block. */
export class RemoteHost implements DrainHost {
  /** The drain is another thread's: no producers, no replays from here. */
  readonly ownsDrain = false;
  readonly inWorker = false;
  readonly restarts = 0;
  #control: Control;
  #ring: RingMemory;
  #closed = false;

  constructor(control: Control, ring: RingMemory, recorder: Recorder) {
    this.#control = control;
    this.#ring = ring;
    const words = control.words;
    recorder.wake = () => {
      Atomics.store(ring.ctl, CTL_WAITING, 0);
      Atomics.add(words, C_BELL, 1);
      Atomics.notify(words, C_BELL);
    };
    recorder.waitForSpace = (position) => {
      const deadline = Date.now() + BLOCK_WAIT_MS;
      recorder.wake();
      for (;;) {
        const read = Atomics.load(ring.ctl, CTL_READ);
        if (((position - read) | 0) <= 0) return true;
        const left = deadline - Date.now();
        if (left <= 0) return false;
        Atomics.wait(ring.ctl, CTL_READ, read, Math.min(left, 50));
      }
    };
  }

  #request(): number {
    const words = this.#control.words;
    const target = Atomics.add(words, C_FLUSH_REQ, 1) + 1;
    Atomics.add(words, C_BELL, 1);
    Atomics.notify(words, C_BELL);
    return target;
  }

  /** Asks the drain to deliver everything so far and waits until it has. */
  async flush(): Promise<void> {
    if (this.#closed) return;
    // Atomics.waitAsync does not keep a thread alive: a timer does, while
    // this thread waits for the drain.
    const keepAlive = setInterval(() => {}, 1000);
    try {
      const ctl = this.#ring.ctl;
      // The drain learns of this ring by message; wait until it has it, or
      // the request below could be answered before this ring is read.
      while (Atomics.load(ctl, CTL_REGISTERED) === 0) {
        const wait = Atomics.waitAsync(ctl, CTL_REGISTERED, 0, 100);
        if (wait.async) await wait.value;
      }
      const words = this.#control.words;
      const target = this.#request();
      for (;;) {
        const done = Atomics.load(words, C_FLUSH_DONE);
        if (((done - target) | 0) >= 0) return;
        const wait = Atomics.waitAsync(words, C_FLUSH_DONE, done, 100);
        if (wait.async) await wait.value;
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** As flush(), blocking this thread for at most `timeoutMs`. */
  flushSync(timeoutMs: number): boolean {
    if (this.#closed) return true;
    const deadline = Date.now() + timeoutMs;
    const ctl = this.#ring.ctl;
    while (Atomics.load(ctl, CTL_REGISTERED) === 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      Atomics.wait(ctl, CTL_REGISTERED, 0, Math.min(left, 50));
    }
    const words = this.#control.words;
    const target = this.#request();
    for (;;) {
      const done = Atomics.load(words, C_FLUSH_DONE);
      if (((done - target) | 0) >= 0) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      Atomics.wait(words, C_FLUSH_DONE, done, Math.min(left, 50));
    }
  }

  /** As flush(), giving up after `timeoutMs`. */
  async flushWithin(timeoutMs: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        this.flush().then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Nothing to give up on here: the sinks are the owning thread's. */
  abort(): void {}

  /** Replays are the owning logger's: it throws. */
  replay(_delivery: ReplayDelivery): void {
    throw new Error("replay: the drain runs on another thread");
  }

  /** Producers are added by the owning logger: it throws. */
  addProducer(_ring: RingMemory, _dictionary: DictionaryMemory): never {
    throw new Error("addProducer: the drain runs on another thread");
  }

  /** The drain's passes are timed on its own thread: none here. */
  passTimes(): PassTimes {
    return { times: new Float64Array(0), count: 0 };
  }

  /** The sinks are the owning thread's: none here. */
  sinkMetrics(): NamedSinkMetrics[] {
    return [];
  }

  /** Flushes; the ring stays registered with the drain, which reads what is left. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  /** The ring this host serves. */
  get ring(): RingMemory {
    return this.#ring;
  }
}
