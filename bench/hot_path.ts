/**
 * Hot path: caller-side cost of one log call, ttlog vs pino vs LogTape, in
 * one process. Run with `npm run bench` (all three runtimes) or directly:
 * `deno run -A bench/hot_path.ts`, `bun bench/hot_path.ts`, `tsx bench/hot_path.ts`.
 *
 * ttlog's sink discards; its ring overwrites, so the numbers are what the
 * calling thread pays (the drain's decode and format cost is measured in
 * bench/end_to_end.ts). pino writes to /dev/null through
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

const discard = { name: "discard", write(_records: readonly LogRecord[]) {} };

const ttlog = createLogger({
  service: "bench",
  level: "info",
  record: "info",
  directives: "",
  sinks: [discard],
  ring: { bytes: 64 * 1024 * 1024, overflow: "overwrite" },
});

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
  const probe = createLogger({ sinks: [discard], directives: "" });
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
pinoLog.flush();
