/**
 * The dashboard's sink: it counts emitted events per level and writes a
 * rate-capped sample of them into a shared tail ring (./tail_ring.ts) that
 * the dashboard handler reads: each as the ndjson line the page gets,
 * formatted once here, with what the tail's filters test beside it
 * (./tail_entry.ts). It has a spec, so the
 * drain stays in its worker: the worker's copy of the sink writes the same
 * shared memory.
 *
 * @module
 */

import { ndjsonFormatter } from "../format/ndjson.ts";
import { TtlogConfigError } from "../errors.ts";
import { Level } from "../level.ts";
import type { LogRecord } from "../record/values.ts";
import {
  BUILTIN_SINK_MODULE,
  type Sink,
  type SinkSpec,
} from "../sinks/sink.ts";
import { TailEntryWriter, type TailEvent } from "./tail_entry.ts";
import { allocateTailRing, TailRing } from "./tail_ring.ts";

/**
 * Options of {@link dashboardSink}.
 *
 * @example A bigger tail, fewer lines per second
 * ```ts
 * import { dashboardSink, type DashboardSinkOptions } from "@ttlog/ttlog/dashboard";
 * import assert from "node:assert/strict";
 * const options: DashboardSinkOptions = { rate: 50, bytes: 1 << 20 };
 * const tail = dashboardSink(options);
 * assert.equal(tail.memory.byteLength >= 1 << 20, true);
 * ```
 */
export interface DashboardSinkOptions {
  /**
   * At most this many events per level per second go into the tail (default
   * 200); the rest are counted (the page shows how many) but not shown, so
   * that a flood of info events costs the drain little and cannot crowd the
   * errors out. The per-level rates on the page count every event.
   */
  readonly rate?: number;
  /**
   * Bytes of the shared ring the tail goes through: a power of two from 4 KiB
   * to 64 MiB (default 256 KiB, about a thousand recent lines).
   */
  readonly bytes?: number;
}

/**
 * What {@link dashboardSink} returns: a sink to give both to `createLogger`
 * and to `dashboardHandler`.
 *
 * @example
 * ```ts
 * import { createLogger } from "@ttlog/ttlog";
 * import { dashboardHandler, type DashboardSink, dashboardSink } from "@ttlog/ttlog/dashboard";
 * import assert from "node:assert/strict";
 * const tail: DashboardSink = dashboardSink();
 * assert.equal(tail.kind, "ttlog-dashboard-sink");
 * const log = createLogger({ sinks: [tail] });
 * dashboardHandler(log, { tail });
 * await log.close();
 * ```
 */
export interface DashboardSink extends Sink {
  /** Marks the object as a dashboard sink. */
  readonly kind: "ttlog-dashboard-sink";
  /** The shared memory the tail and counters go through. */
  readonly memory: SharedArrayBuffer | ArrayBuffer;
}

/** What the worker rebuilds the sink from. */
interface SpecOptions {
  readonly memory: SharedArrayBuffer;
  readonly rate: number;
}

/** The longest line sent to the page; longer events lose their fields. */
const MAX_LINE_BYTES = 16 * 1024;

const NO_FIELDS = Object.freeze({});

/** Writes records into a tail ring: counts every event, samples entries. */
class TailWriter {
  readonly #ring: TailRing;
  readonly #rate: number;
  readonly #format = ndjsonFormatter({ seq: true });
  readonly #entries = new TailEntryWriter();
  #second = -1;
  readonly #used = [0, 0, 0, 0, 0, 0];

  constructor(memory: SharedArrayBuffer | ArrayBuffer, rate: number) {
    this.#ring = new TailRing(memory);
    this.#rate = rate;
  }

  write(records: readonly LogRecord[]): void {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#used.fill(0);
    }
    const levels = [0, 0, 0, 0, 0, 0];
    let skipped = 0;
    for (const record of records) {
      const level = Level[record.level];
      // "lost N events" records are not events: shown, never counted.
      if (record.seq !== -1) levels[level]++;
      if (this.#used[level] >= this.#rate) {
        skipped++;
        continue;
      }
      this.#used[level]++;
      const { time, target, msg } = record;
      const line = this.#format(record);
      // The fields start where the same line without them closes.
      const head = this.#format({ ...record, fields: NO_FIELDS });
      let entry = this.#entries.encode({
        time,
        level: record.level,
        target,
        msg,
        line,
        fieldsAt: head.length - 1,
      });
      if (
        entry.lineBytes > MAX_LINE_BYTES ||
        entry.bytes.length > this.#ring.maxRecord
      ) {
        entry = this.#entries.encode(cut(record, entry.lineBytes));
        if (entry.bytes.length > this.#ring.maxRecord) {
          skipped++; // a ring too small for even the cut line
          continue;
        }
      }
      this.#ring.write(entry.bytes);
    }
    this.#ring.count(levels, skipped);
  }
}

/** An event too long for the page: the message, cut, without fields. */
function cut(record: LogRecord, size: number): TailEvent {
  const target = record.target.slice(0, 256);
  const msg = record.msg.slice(0, 1024);
  const head = JSON.stringify({
    time: record.time,
    level: record.level,
    target,
    msg,
    service: record.service.slice(0, 256),
    seq: record.seq,
  });
  const note = `the event took ${size} bytes as JSON; its fields are left out`;
  return {
    time: record.time,
    level: record.level,
    target,
    msg,
    line: `${head.slice(0, -1)},"cut":${JSON.stringify(note)}}`,
    fieldsAt: head.length - 1,
  };
}

function makeSink(
  memory: SharedArrayBuffer | ArrayBuffer,
  rate: number,
): DashboardSink {
  const writer = new TailWriter(memory, rate);
  const spec: SinkSpec | undefined = memory instanceof ArrayBuffer
    ? undefined
    : {
      module: BUILTIN_SINK_MODULE,
      factory: "dashboardSinkFromSpec",
      options: { memory, rate } satisfies SpecOptions,
    };
  return {
    name: "dashboard",
    kind: "ttlog-dashboard-sink",
    memory,
    spec,
    write(records: readonly LogRecord[]): void {
      writer.write(records);
    },
  };
}

/**
 * Creates the sink that feeds the dashboard's live tail and its events per
 * second by level. Give it to `createLogger` (one logger per sink) and to
 * `dashboardHandler` as `tail`. Its events are the emitted ones (at or
 * above their target's emit level), as every sink's.
 *
 * It runs wherever the drain runs: in the drain's worker (the default), the
 * worker rebuilds it from its spec over the same shared memory; on the
 * caller's thread, it writes that memory directly.
 *
 * @param options The rate cap and the ring's size.
 * @returns The sink.
 * @throws {TtlogConfigError} When an option is invalid.
 *
 * @example A logger whose dashboard shows a live tail
 * ```ts
 * import { createLogger } from "@ttlog/ttlog";
 * import { dashboardHandler, dashboardSink } from "@ttlog/ttlog/dashboard";
 * import assert from "node:assert/strict";
 * const tail = dashboardSink({ rate: 100 });
 * const log = createLogger({ sinks: [tail] });
 * const handler = dashboardHandler(log, { tail });
 * // Deno.serve({ hostname: "127.0.0.1", port: 8077 }, handler)
 * const res = await handler(new Request("http://127.0.0.1/"), {
 *   remoteAddr: { hostname: "127.0.0.1" },
 * });
 * assert.equal(res.status, 200);
 * await log.close();
 * ```
 */
export function dashboardSink(
  options: DashboardSinkOptions = {},
): DashboardSink {
  if (typeof options !== "object" || options === null) {
    throw new TtlogConfigError(
      `dashboardSink: options must be an object such as { rate: 200 }`,
    );
  }
  for (const key of Object.keys(options)) {
    if (key !== "rate" && key !== "bytes") {
      throw new TtlogConfigError(
        `dashboardSink: unknown option ${
          JSON.stringify(key)
        } (known: rate, bytes)`,
      );
    }
  }
  const rate = options.rate ?? 200;
  if (!Number.isInteger(rate) || rate < 1 || rate > 1_000_000) {
    throw new TtlogConfigError(
      `dashboardSink: rate must be a whole number of events per level per second from 1 to 1000000, got ${
        String(rate)
      }`,
    );
  }
  return makeSink(allocateTailRing(options.bytes ?? 256 * 1024), rate);
}

/**
 * Rebuilds a dashboard sink in the drain's worker from its spec, over the
 * shared memory of the sink it copies. Not for direct use: the worker calls
 * it.
 *
 * @param options The spec's options: the shared memory and the rate cap.
 * @returns The sink.
 * @throws {TtlogConfigError} When the options are not a dashboard sink's spec.
 *
 * @example What the worker does with the spec
 * ```ts
 * import { dashboardSink, dashboardSinkFromSpec } from "./sink.ts";
 * import assert from "node:assert/strict";
 * const sink = dashboardSink();
 * const copy = dashboardSinkFromSpec(sink.spec!.options);
 * assert.equal(copy.memory, sink.memory);
 * ```
 */
export function dashboardSinkFromSpec(options: unknown): DashboardSink {
  const { memory, rate } = (options ?? {}) as Partial<SpecOptions>;
  if (
    !(memory instanceof SharedArrayBuffer) || typeof rate !== "number"
  ) {
    throw new TtlogConfigError(
      `dashboardSinkFromSpec: expected a dashboard sink's spec options ({ memory: SharedArrayBuffer, rate })`,
    );
  }
  return makeSink(memory, rate);
}
