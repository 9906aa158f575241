/**
 * To a file through the drain's worker: N reference events logged and
 * written as ndjson to /dev/null, ttlog with the drain in its worker thread
 * (the calling thread only encodes into the ring), ttlog with the drain on
 * the calling thread, and pino (`pino.destination`, asynchronous sonic-boom),
 * in one process. One mitata iteration logs the whole batch and waits until
 * it is written. Run with `npm run bench`, or directly under one runtime.
 *
 * @module
 */

import { bench, group, run, summary } from "mitata";
import pino from "pino";
import { createLogger, detectRuntime, fileSink } from "../mod.ts";
import { saveResults } from "./results.ts";

/** Events per batch: one mitata iteration logs them all. */
const EVENTS = 100_000;

function ttlog(worker: boolean) {
  return createLogger({
    service: "bench",
    level: "info",
    record: "info",
    directives: "",
    worker,
    sinks: [fileSink({ path: "/dev/null", format: "ndjson" })],
    ring: { bytes: 64 * 1024 * 1024, overflow: "block" },
  });
}

const inWorker = ttlog(true);
const inline = ttlog(false);
await inWorker.flush(); // the worker is up before the clock starts

const pinoDest = pino.destination({ dest: "/dev/null", sync: false });
const pinoLog = pino({ base: undefined }, pinoDest);

/** Resolves once pino has flushed and sonic-boom has written everything. */
function pinoDone(): Promise<void> {
  return new Promise((resolve, reject) => {
    pinoLog.flush((error) => {
      if (error) return reject(error);
      const busy = (pinoDest as unknown as { _writing: boolean })._writing;
      if (busy) pinoDest.once("drain", () => resolve());
      else resolve();
    });
  });
}

summary(() => {
  group(`${EVENTS} reference events to an ndjson file`, () => {
    bench("ttlog, drain in a worker", async () => {
      for (let i = 0; i < EVENTS; i++) {
        inWorker.info("hello world", { a: 1, b: "two", c: true });
      }
      await inWorker.flush();
    });
    bench("ttlog, drain on the calling thread", async () => {
      for (let i = 0; i < EVENTS; i++) {
        inline.info("hello world", { a: 1, b: "two", c: true });
      }
      await inline.flush();
    });
    bench("pino", async () => {
      for (let i = 0; i < EVENTS; i++) {
        pinoLog.info({ a: 1, b: "two", c: true }, "hello world");
      }
      await pinoDone();
    });
  });
});

const results = await run();
const worker = inWorker.metrics();
const ok = worker.worker && worker.emitted === worker.logged &&
  worker.dropped === 0 && worker.lost === 0;
console.log(
  `${detectRuntime().name}: worker accounting ${ok ? "ok" : "WRONG"}: ` +
    `logged ${worker.logged}, emitted ${worker.emitted}, dropped ${worker.dropped}, lost ${worker.lost}`,
);
saveResults("worker_file", results, { events: EVENTS, accountingOk: ok });
await inWorker.close();
await inline.close();
