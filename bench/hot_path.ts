/**
 * Hot path: caller-side cost of one log call, ttlog vs pino vs LogTape, in
 * one process. Run with `npm run bench` (all three runtimes) or directly:
 * `deno run -A bench/hot_path.ts`, `bun bench/hot_path.ts`, `tsx bench/hot_path.ts`.
 *
 * ttlog's drain runs in its worker thread (as it does with console, file
 * and HTTP sinks) into a sink that discards; its ring overwrites, so the
 * numbers are what the calling thread pays (the drain's decode and format
 * cost is measured in bench/end_to_end.ts). pino writes to /dev/null through
 * pino.destination (asynchronous sonic-boom); LogTape to a sink that
 * discards.
 *
 * @module
 */

import { bench, do_not_optimize, group, run, summary } from "mitata";
import pino from "pino";
import { configure, getLogger } from "@logtape/logtape";
import { createLogger, detectRuntime, type LogRecord } from "../mod.ts";
import { saveResults } from "./results.ts";
import { discardSink } from "./discard_sink.ts";
import { internals } from "../src/logger.ts";

// The drain runs in its worker thread, as it does for users with console,
// file or HTTP sinks: the timed thread pays only for the log call.
const discard = discardSink();

const ttlog = createLogger({
  service: "bench",
  level: "info",
  record: "info",
  directives: "",
  sinks: [discard],
  worker: true,
  ring: { bytes: 64 * 1024 * 1024, overflow: "overwrite" },
});

// The same logger with the coarse clock (a thread publishes the time; an
// event reads it instead of calling Date.now()). Wait for its first tick.
const ttlogCoarse = createLogger({
  service: "bench",
  level: "info",
  record: "info",
  directives: "",
  sinks: [discard],
  worker: true,
  clock: "coarse",
  ring: { bytes: 64 * 1024 * 1024, overflow: "overwrite" },
});
{
  const deadline = Date.now() + 30_000;
  while (internals(ttlogCoarse).recorder.coarse === null) {
    if (Date.now() > deadline) {
      throw new Error("the coarse clock did not start");
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const pinoLog = pino(
  { base: undefined },
  pino.destination({ dest: "/dev/null", sync: false, minLength: 4096 }),
);

await configure({
  sinks: { discard: () => {} },
  loggers: [
    { category: ["bench"], lowestLevel: "info", sinks: ["discard"] },
    { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
  ],
});
const logtape = getLogger(["bench"]);

// Bytes per reference event in the ring.
{
  const probe = createLogger({
    sinks: [{ name: "discard", write(_records: readonly LogRecord[]) {} }],
    directives: "",
  });
  for (let i = 0; i < 1000; i++) {
    probe.info("hello world", { a: 1, b: "two", c: true });
  }
  const m = probe.metrics();
  bytesPerEvent = m.recordedBytes / m.recorded;
  await probe.close();
}
// deno-lint-ignore no-var
var bytesPerEvent: number;

group("clock", () => {
  bench("Date.now()", () => do_not_optimize(Date.now()));
  bench("performance.now()", () => do_not_optimize(performance.now()));
});

summary(() => {
  group("reference call: message + 3 fields", () => {
    bench(
      "ttlog",
      () => ttlog.info("hello world", { a: 1, b: "two", c: true }),
    );
    bench(
      "ttlog, coarse clock",
      () => ttlogCoarse.info("hello world", { a: 1, b: "two", c: true }),
    );
    bench(
      "pino",
      () => pinoLog.info({ a: 1, b: "two", c: true }, "hello world"),
    );
    bench(
      "logtape",
      () => logtape.info("hello world", { a: 1, b: "two", c: true }),
    );
  });
});

summary(() => {
  group("tagged template, 3 values", () => {
    const a = 1, b = "two", c = true;
    bench("ttlog", () => ttlog.info`hello world a=${a} b=${b} c=${c}`);
    bench("logtape", () => logtape.info`hello world a=${a} b=${b} c=${c}`);
  });
});

summary(() => {
  group("disabled level", () => {
    bench(
      "ttlog",
      () => ttlog.debug("hello world", { a: 1, b: "two", c: true }),
    );
    bench(
      "pino",
      () => pinoLog.debug({ a: 1, b: "two", c: true }, "hello world"),
    );
    bench(
      "logtape",
      () => logtape.debug("hello world", { a: 1, b: "two", c: true }),
    );
  });
});

const results = await run();
await saveResults("hot_path", results, { bytesPerEvent });
console.log(
  `${detectRuntime().name}: ${
    bytesPerEvent.toFixed(1)
  } ring bytes per reference event`,
);
await ttlog.close();
await ttlogCoarse.close();
pinoLog.flush();
