/**
 * Hot path: the caller-side cost of one log call, ttlog beside pino,
 * LogTape, winston and console in one process, for each kind of call:
 * a disabled level, a static message, the reference call (message + 3
 * fields), a tagged template with 3 values, a child logger with bound
 * fields (made once, and made per request), a 10-field event and an Error
 * with a stack. Run with `npm run bench` (all three runtimes) or
 * `node scripts/bench.mjs hot_path deno`.
 *
 * ttlog's drain runs in its worker thread (as it does with console, file
 * and HTTP sinks) into a sink that discards; its ring (the default 8 MiB)
 * overwrites, so the numbers are what the calling thread pays (the drain's
 * decode and format cost is in bench/end_to_end.ts). ttlog logs faster than
 * its drain decodes, so after each case the drains are flushed, outside the
 * clock: no case runs beside another case's backlog. The peers' setups are in bench/peers.ts;
 * each formats inside the call, as it does in use. Each mitata iteration
 * is about 2 ms of calls (1,000 to 10,000) and one turn of the event loop
 * (work winston defers to the next tick is paid inside the clock; the turn
 * adds well under 1% to a call); cases are measured in interleaved rounds
 * (bench/harness.ts).
 *
 * @module
 */

import { do_not_optimize } from "mitata";
import { createLogger, type LogRecord } from "../mod.ts";
import { detectRuntime } from "../src/sink.ts";
import { internals } from "../src/logger/logger.ts";
import { batchCase, type BenchCase, runRounds } from "./harness.ts";
import { saveRows } from "./results.ts";
import { discardSink } from "./discard_sink.ts";
import {
  consoleDiscard,
  discarded,
  logtapeJson,
  pinoDevNull,
  sampleError,
  winstonDiscard,
} from "./peers.ts";

// The drain runs in its worker thread, as it does for users with console,
// file or HTTP sinks: the timed thread pays only for the log call.
const discard = discardSink();

const ttlog = createLogger({
  service: "bench",
  level: "info",
  recordLevel: "info",
  directives: "",
  sinks: [discard],
  worker: true,
  ring: { overflow: "overwrite" },
});

// The same logger with the coarse clock (a thread publishes the time; an
// event reads it instead of calling Date.now()). Wait for its first tick.
const ttlogCoarse = createLogger({
  service: "bench",
  level: "info",
  recordLevel: "info",
  directives: "",
  sinks: [discard],
  worker: true,
  clock: "coarse",
  ring: { overflow: "overwrite" },
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

const pinoLog = pinoDevNull();
const logtape = await logtapeJson();
const winstonLog = winstonDiscard();
const cons = consoleDiscard();
const err = sampleError();

// Bytes per reference event in the ring.
let bytesPerEvent: number;
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

const NO_LEVELS = "console has no levels: console.debug always writes";
const NO_CHILD = "console has no child loggers or bound fields";

const a = 1, b = "two", c = true;
const requestId = "r-7f3a", userId = 10_042;

const cases: BenchCase[] = [
  batchCase("clock", "Date.now()", () => do_not_optimize(Date.now())),
  batchCase(
    "clock",
    "performance.now()",
    () => do_not_optimize(performance.now()),
  ),

  ...peerGroup("disabled level", {
    ttlog: () => ttlog.debug("hello world", { a: 1, b: "two", c: true }),
    pino: () => pinoLog.debug({ a: 1, b: "two", c: true }, "hello world"),
    logtape: () => logtape.debug("hello world", { a: 1, b: "two", c: true }),
    winston: () => winstonLog.debug("hello world", { a: 1, b: "two", c: true }),
    console: NO_LEVELS,
  }),

  ...peerGroup("static message", {
    ttlog: () => ttlog.info("hello world"),
    pino: () => pinoLog.info("hello world"),
    logtape: () => logtape.info("hello world"),
    winston: () => winstonLog.info("hello world"),
    console: () => cons.log("hello world"),
  }),

  ...peerGroup("reference call: message + 3 fields", {
    ttlog: () => ttlog.info("hello world", { a: 1, b: "two", c: true }),
    "ttlog, coarse clock": () =>
      ttlogCoarse.info("hello world", { a: 1, b: "two", c: true }),
    pino: () => pinoLog.info({ a: 1, b: "two", c: true }, "hello world"),
    logtape: () => logtape.info("hello world", { a: 1, b: "two", c: true }),
    winston: () => winstonLog.info("hello world", { a: 1, b: "two", c: true }),
    console: () => cons.log("hello world", { a: 1, b: "two", c: true }),
  }),

  ...peerGroup("tagged template, 3 values", {
    ttlog: () => ttlog.info`hello world a=${a} b=${b} c=${c}`,
    logtape: () => logtape.info`hello world a=${a} b=${b} c=${c}`,
    // No tagged templates: their nearest form is printf-style arguments.
    "pino, printf-style (no tagged templates)": () =>
      pinoLog.info("hello world a=%d b=%s c=%s", a, b, c),
    "winston, printf-style with splat() (no tagged templates)": () =>
      winstonLog.info("hello world a=%d b=%s c=%s", a, b, c),
    "console, printf-style (no tagged templates)": () =>
      cons.log("hello world a=%d b=%s c=%s", a, b, c),
  }),

  ...(() => {
    const ttlogChild = ttlog.child({ requestId, userId });
    const pinoChild = pinoLog.child({ requestId, userId });
    const logtapeChild = logtape.with({ requestId, userId });
    const winstonChild = winstonLog.child({ requestId, userId });
    return peerGroup("child logger, 2 bound fields, reference call", {
      ttlog: () => ttlogChild.info("hello world", { a: 1, b: "two", c: true }),
      pino: () => pinoChild.info({ a: 1, b: "two", c: true }, "hello world"),
      logtape: () =>
        logtapeChild.info("hello world", { a: 1, b: "two", c: true }),
      winston: () =>
        winstonChild.info("hello world", { a: 1, b: "two", c: true }),
      console: NO_CHILD,
    });
  })(),

  ...peerGroup("new child per request (2 bound fields) + one call", {
    ttlog: () =>
      ttlog.child({ requestId, userId }).info("hello world", {
        a: 1,
        b: "two",
        c: true,
      }),
    pino: () =>
      pinoLog.child({ requestId, userId }).info(
        { a: 1, b: "two", c: true },
        "hello world",
      ),
    logtape: () =>
      logtape.with({ requestId, userId }).info("hello world", {
        a: 1,
        b: "two",
        c: true,
      }),
    winston: () =>
      winstonLog.child({ requestId, userId }).info("hello world", {
        a: 1,
        b: "two",
        c: true,
      }),
    console: NO_CHILD,
  }),

  ...peerGroup("10 fields", {
    ttlog: () => ttlog.info("request", tenFields()),
    pino: () => pinoLog.info(tenFields(), "request"),
    logtape: () => logtape.info("request", tenFields()),
    winston: () => winstonLog.info("request", tenFields()),
    console: () => cons.log("request", tenFields()),
  }),

  ...peerGroup("Error with a stack", {
    ttlog: () => ttlog.error("request failed", { err }),
    pino: () => pinoLog.error({ err }, "request failed"),
    logtape: () => logtape.error("request failed", { err }),
    "winston (errors({ stack: true }), error as meta)": () =>
      winstonLog.error("request failed", err),
    console: () => cons.error("request failed", err),
  }),
];

/** Ten fields of the usual kinds, made per call as user code does. */
function tenFields() {
  return {
    method: "GET",
    path: "/api/orders/1234",
    status: 200,
    ms: 12.5,
    userId: 10_042,
    cache: true,
    bytes: 5120,
    region: "eu-west-1",
    retries: 0,
    traceSampled: false,
  };
}

/** One case per logger; a string instead of a function says why there is none. */
function peerGroup(
  group: string,
  peers: Record<string, (() => unknown) | string>,
): BenchCase[] {
  return Object.entries(peers).map(([name, fn]) =>
    typeof fn === "string"
      ? { group, name, na: fn }
      : batchCase(group, name, fn)
  );
}

const rows = await runRounds(cases, {
  settle: async () => {
    await ttlog.flush();
    await ttlogCoarse.flush();
  },
});
saveRows("hot_path", rows, { bytesPerEvent });
console.log(
  `${detectRuntime().name}: ${
    bytesPerEvent.toFixed(1)
  } ring bytes per reference event; ${discarded.chars} chars discarded by peers`,
);
await ttlog.close();
await ttlogCoarse.close();
pinoLog.flush();
