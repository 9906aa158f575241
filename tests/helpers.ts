// Shared helpers of the core tests: a seeded PRNG, a canonical form for
// comparing decoded values portably, and the accounting check every test
// that logs ends with.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { toolPath } from "../scripts/tools.mjs";
import { createLogger } from "../src/logger/logger.ts";
import type { LoggerOptions } from "../src/logger/options.ts";
import type { Logger } from "../src/logger/types.ts";
import type { Metrics } from "../src/metrics.ts";
import { LoggedError, type LogRecord, Marker } from "../src/record/values.ts";
import { type MemorySink, memorySink } from "../src/sinks/memory.ts";

/** mulberry32: a tiny seeded PRNG, floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random integer in [0, n). */
export function randomInt(random: () => number, n: number): number {
  return Math.floor(random() * n);
}

/** Picks one item. */
export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[randomInt(random, items.length)];
}

/**
 * A logger writing to a fresh memory sink: every level emitted unless the
 * options say otherwise, and no directives from the TTLOG environment variable.
 */
export function memoryLogger(
  options: LoggerOptions = {},
): { log: Logger; sink: MemorySink } {
  const sink = memorySink();
  const log = createLogger({
    level: "trace",
    directives: "",
    ...options,
    sinks: [sink],
  });
  return { log, sink };
}

/** The events a sink received, without "lost N events" records. */
export function events(sink: MemorySink): LogRecord[] {
  return sink.records.filter((r) => r.seq !== -1);
}

/** The "lost N events" records a sink received. */
export function lossRecords(sink: MemorySink): LogRecord[] {
  return sink.records.filter((r) => r.seq === -1);
}

/**
 * Flushes, then checks that every logged event is accounted for:
 * logged = emitted + filtered + dropped + lost, nothing pending.
 */
export async function assertAccounting(log: Logger): Promise<Metrics> {
  await log.flush();
  const m = log.metrics();
  assert.equal(m.pending, 0, `pending after flush: ${JSON.stringify(m)}`);
  assert.equal(
    m.logged,
    m.emitted + m.filtered + m.dropped + m.lost,
    `logged != emitted + filtered + dropped + lost: ${JSON.stringify(m)}`,
  );
  assert.equal(m.recorded + m.dropped, m.logged);
  return m;
}

/** assertAccounting, then close. */
export async function finish(log: Logger): Promise<Metrics> {
  const m = await assertAccounting(log);
  await log.close();
  return m;
}

/**
 * A canonical, JSON-like form of a decoded value, so that comparisons do not
 * depend on each runtime's deepEqual of Maps, Dates, -0 or class instances.
 */
export function canon(value: unknown): unknown {
  switch (typeof value) {
    case "number":
      return {
        number: Object.is(value, -0) ? "-0" : String(value),
      };
    case "bigint":
      return { bigint: value.toString() };
    case "undefined":
      return { undefined: true };
    case "string":
    case "boolean":
      return value;
    case "symbol":
    case "function":
      return { unexpected: typeof value };
    default:
      if (value === null) return null;
      if (value instanceof Marker) {
        return { marker: value.kind, text: value.text };
      }
      if (value instanceof LoggedError) {
        return {
          error: value.name,
          message: value.message,
          stack: value.stack ?? { undefined: true },
          cause: canon(value.cause),
          props: canonObject(value.props),
        };
      }
      if (value instanceof Date) return { date: String(value.getTime()) };
      if (Array.isArray(value)) return { array: value.map(canon) };
      if (value instanceof Map) {
        return { map: [...value].map(([k, v]) => [canon(k), canon(v)]) };
      }
      if (value instanceof Set) return { set: [...value].map(canon) };
      if (Object.getPrototypeOf(value) !== Object.prototype) {
        return { unexpected: Object.prototype.toString.call(value) };
      }
      return canonObject(value as Record<string, unknown>);
  }
}

function canonObject(value: Record<string, unknown>): unknown {
  // Entries, sorted: own keys only, `__proto__` included as a plain key.
  const entries = Object.keys(value).sort().map((key) => [
    key,
    canon(value[key]),
  ]);
  return { object: entries };
}

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** The index of `needle` in `haystack`, or -1. */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/** Every key of the Metrics object, sorted. */
export const METRICS_KEYS = [
  "dictionaryBytes",
  "dictionaryEntries",
  "drainBatchMsP50",
  "drainBatchMsP99",
  "drainPasses",
  "dropped",
  "emitted",
  "filtered",
  "logged",
  "lossRecords",
  "lost",
  "pending",
  "recorded",
  "recordedBytes",
  "replayed",
  "replays",
  "ringBytes",
  "ringHighWater",
  "ringUsed",
  "service",
  "sinks",
  "snapshotStoreErrors",
  "snapshotStoresPending",
  "snapshotsStored",
  "worker",
  "workerRestarts",
] as const;

/** A hand-made record for sink tests: event `i`, at a fixed time plus `i` ms. */
export function sampleRecord(i: number, msg = "event"): LogRecord {
  return {
    time: Date.UTC(2026, 10, 25, 15, 4, 2, 123) + i,
    level: "info",
    target: "",
    msg,
    fields: { i },
    service: "test",
    seq: i,
  };
}

/** What an outside tool printed and how it ended. */
export interface ToolRun {
  status: number;
  stdout: Uint8Array;
  stderr: string;
}

/**
 * Runs an outside tool from scripts/tools.mjs's list (lz4, gzip, ...), found
 * where `npm test` installed it. A missing tool fails the test saying what to
 * install; it never skips.
 */
export function runTool(name: string, args: readonly string[]): ToolRun {
  const result = spawnSync(toolPath(name), args, { maxBuffer: 1 << 28 });
  if (result.error !== undefined) {
    assert.fail(
      `cannot run ${name} ${args.join(" ")}: ${result.error.message}`,
    );
  }
  return {
    status: result.status ?? -1,
    stdout: new Uint8Array(result.stdout),
    stderr: String(result.stderr),
  };
}

/** runTool, failing the test unless the tool exits 0; returns its stdout. */
export function runToolOk(name: string, args: readonly string[]): Uint8Array {
  const result = runTool(name, args);
  assert.equal(
    result.status,
    0,
    `${name} ${args.join(" ")} failed: ${result.stderr}`,
  );
  return result.stdout;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
