/**
 * The coarse clock's thread: publishes `Date.now()` into shared memory about
 * every millisecond, so producers read the time with one load instead of a
 * clock call (`clock: "coarse"`). It blocks in Atomics.wait between ticks
 * and stops when word 0 of its control is set.
 *
 * @module
 */

import { nodeWorkerThreads } from "../runtime/builtin.ts";

const threads = nodeWorkerThreads("the coarse clock");
const buffer = threads.workerData as SharedArrayBuffer;
const now = new Float64Array(buffer, 0, 1);
const words = new Int32Array(buffer, 8, 2);

now[0] = Date.now();
// Ready: producers may read the published time from now on.
Atomics.store(words, 1, 1);
Atomics.notify(words, 1);
while (Atomics.load(words, 0) === 0) {
  Atomics.wait(words, 0, 0, 1);
  now[0] = Date.now();
}
