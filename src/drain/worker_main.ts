/**
 * The drain's worker thread: rebuilds the sinks from their specs, then runs
 * the one drain loop, sleeping on the control block's bell with
 * Atomics.waitAsync between passes.
 *
 * This module is not loaded by URL: scripts/build_workers.mjs bundles it,
 * with the built-in sinks, into src/drain/_worker_sources.ts, and the worker
 * starts from that code. Run `npm run build:workers` after changing anything
 * it imports (a test fails while the bundled copy is stale).
 *
 * @module
 */

import { levelFor, parseDirectives } from "../directives.ts";
import { viewRing } from "../ring/ring.ts";
import { CTL_WAITING, WAITING_ASLEEP, WAITING_LINGER } from "../ring/ring.ts";
import { nodeWorkerThreads } from "../runtime/builtin.ts";
import { runtime } from "../runtime/mod.ts";
import type { Sink, SinkSpec } from "../sinks/sink.ts";
import type { ReplayDelivery } from "../snapshot/replay.ts";
import { sinkFromSpec } from "./sink_specs.ts";
import type { WorkerConfig, WorkerMessage } from "./worker_protocol.ts";
import {
  C_BELL,
  C_FLUSH_DONE,
  C_FLUSH_REQ,
  C_REPLAY_REQ,
  C_STATE,
  publishCounters,
  STATE_CLOSED,
  STATE_FAILED,
  STATE_RUNNING,
  viewControl,
} from "./control.ts";
import { Drain } from "./drain.ts";

const threads = nodeWorkerThreads("the drain's worker");
const config = threads.workerData as WorkerConfig;
const port = threads.parentPort!;
const control = viewControl(config.control);
const words = control.words;
const rings: Int32Array[] = [];
let drain: Drain | undefined;
let closing = false;

/** Lets the worker end (Deno's parentPort has no close()). */
function closePort(): void {
  (port as { close?: () => void }).close?.();
}

function report(message: string): void {
  runtime.write("stderr", message + "\n");
}

/** Producers announced before the drain was built (the sinks were loading). */
const early: { ring: SharedArrayBuffer; dictionary: SharedArrayBuffer }[] = [];

function addProducer(
  ring: SharedArrayBuffer,
  dictionary: SharedArrayBuffer,
): void {
  if (drain === undefined) {
    early.push({ ring, dictionary });
    return;
  }
  const memory = viewRing(ring);
  rings.push(memory.ctl);
  drain!.add({ ring: memory, dictionary: { buffer: dictionary } });
}

async function buildSinks(): Promise<Sink[]> {
  if (config.loader !== undefined) {
    const loader = await import(config.loader) as { register(): void };
    loader.register();
  }
  return await Promise.all(
    config.sinks.map((spec: SinkSpec) => sinkFromSpec(spec)),
  );
}

function setWaiting(value: number): void {
  for (const ctl of rings) Atomics.store(ctl, CTL_WAITING, value);
}

function publish(): void {
  publishCounters(
    control,
    drain!.counters,
    drain!.sinkMetrics(),
    drain!.passTimes,
  );
}

/** Lets queued messages (new producers, close) and timers run. */
function macrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * After the rings run dry the worker lingers: it polls every LINGER_MS
 * (producers do not ring it unless a ring fills past a quarter), for
 * LINGER_POLLS polls without an event, then sleeps until rung. A steady
 * trickle of events (a server's) then costs producers no wake-up syscalls;
 * a burst still wakes it at once.
 */
const LINGER_MS = 2;
const LINGER_POLLS = 25;

/** Replays received and not delivered yet, and how many were received. */
const replays: ReplayDelivery[] = [];
let replaysReceived = 0;

/** Delivers what the rings hold up to now (the failure first), then the replays. */
function deliverReplays(d: Drain): void {
  if (replays.length === 0) return;
  const marks = d.marks();
  while (!d.reached(marks) && d.pump() > 0) { /* up to now */ }
  for (const delivery of replays.splice(0)) d.replay(delivery);
}

async function loop(): Promise<void> {
  const d = drain!;
  let busy = 0;
  let idle = 0;
  while (!closing) {
    setWaiting(0);
    const request = Atomics.load(words, C_FLUSH_REQ);
    deliverReplays(d);
    if (request !== Atomics.load(words, C_FLUSH_DONE)) {
      // Replays posted before the flush was asked for are part of it.
      const wanted = Atomics.load(words, C_REPLAY_REQ);
      while (((wanted - replaysReceived) | 0) > 0) await macrotask();
      deliverReplays(d);
      // Deliver up to where the rings were when the request was seen, so a
      // thread that keeps logging cannot hold the flush forever.
      const marks = d.marks();
      let passes = 0;
      while (!d.reached(marks)) {
        if (d.backlogged()) await d.unclog();
        else if (d.pump() === 0) break;
        if (++passes % 16 === 0) await macrotask();
      }
      await d.settle();
      publish();
      Atomics.store(words, C_FLUSH_DONE, request);
      Atomics.notify(words, C_FLUSH_DONE);
      continue;
    }
    let passes = 0;
    while (!d.backlogged() && passes < 64 && d.pump() > 0) passes++;
    publish();
    if (d.backlogged()) {
      await d.unclog();
      continue;
    }
    if (passes === 64) {
      // Still busy: yield so that messages and timers are not starved.
      if (++busy % 4 === 0) await macrotask();
      continue;
    }
    busy = 0;
    if (passes > 0) idle = 0;
    // Announce sleep, then look once more: a producer that committed before
    // seeing WAITING is caught here; one that commits after rings the bell
    // (when lingering, only if the ring is filling up).
    const bell = Atomics.load(words, C_BELL);
    const linger = idle < LINGER_POLLS;
    setWaiting(linger ? WAITING_LINGER : WAITING_ASLEEP);
    if (d.hasPending() || Atomics.load(words, C_FLUSH_REQ) !== request) {
      continue;
    }
    if (linger) idle++;
    const wait = Atomics.waitAsync(
      words,
      C_BELL,
      bell,
      linger ? LINGER_MS : 1000,
    );
    if (wait.async) await wait.value;
  }
}

port.on("message", (message: WorkerMessage) => {
  if (message.type === "producer") {
    addProducer(message.ring, message.dictionary);
    Atomics.add(words, C_BELL, 1);
    Atomics.notify(words, C_BELL);
  } else if (message.type === "replay") {
    replays.push(message.delivery);
    replaysReceived++;
    Atomics.add(words, C_BELL, 1);
    Atomics.notify(words, C_BELL);
  } else if (message.type === "abort") {
    drain?.abortSinks();
  } else if (message.type === "close") {
    closing = true;
    Atomics.add(words, C_BELL, 1);
    Atomics.notify(words, C_BELL);
  }
});

try {
  const sinks = await buildSinks();
  const directives = config.directives === undefined
    ? undefined
    : parseDirectives(config.directives);
  drain = new Drain({
    service: config.service,
    sinks,
    emitLevel: (target) =>
      directives === undefined
        ? config.level
        : levelFor(directives, target, config.level),
    report,
  });
  for (const producer of [...config.producers, ...early]) {
    addProducer(producer.ring, producer.dictionary);
  }
  Atomics.store(words, C_STATE, STATE_RUNNING);
  Atomics.notify(words, C_STATE);
  await loop();
  deliverReplays(drain);
  while (drain.pump() > 0) { /* the last events before close */ }
  await drain.settle();
  await drain.closeSinks();
  publish();
  Atomics.store(words, C_STATE, STATE_CLOSED);
  Atomics.notify(words, C_STATE);
  Atomics.store(words, C_FLUSH_DONE, Atomics.load(words, C_FLUSH_REQ));
  Atomics.notify(words, C_FLUSH_DONE);
  closePort();
} catch (error) {
  report(
    `ttlog: the drain's worker failed: ${
      error instanceof Error ? error.stack ?? error.message : String(error)
    }`,
  );
  Atomics.store(words, C_STATE, STATE_FAILED);
  Atomics.notify(words, C_STATE);
  closePort();
}
