/**
 * The remote host: used by a logger attached, in an application worker, to
 * a drain that runs elsewhere (on the main thread or in the drain's worker).
 * It only rings the drain's bell and makes flush requests through the shared
 * control block.
 *
 * @module
 */

import type { Recorder } from "../record/encode.ts";
import {
  CTL_READ,
  CTL_REGISTERED,
  CTL_WAITING,
  type RingMemory,
} from "../ring/ring.ts";
import { C_BELL, C_FLUSH_DONE, C_FLUSH_REQ, type Control } from "./control.ts";

/** How long a full `block` ring waits for the drain before it drops. */
const BLOCK_WAIT_MS = 5000;

/** Talks to a drain on another thread through its control block. */
export class RemoteHost {
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
