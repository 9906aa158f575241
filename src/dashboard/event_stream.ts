/**
 * The dashboard's event stream (`GET /api/stream`): Server-Sent Events
 * carrying `metrics` frames on a timer and `tail` frames of the live tail,
 * filtered as `ttlog view` filters, with backpressure: a slow client loses
 * its oldest queued events (counted), a stalled one is dropped.
 *
 * @module
 */

import { ReaderError } from "../reader/errors.ts";
import { textTest } from "../reader/filter.ts";
import { metricsFrame, type Sample } from "./metrics_frame.ts";
import { problem, SECURITY_HEADERS } from "./responses.ts";
import { filterFromQuery } from "./snapshots.ts";
import type { TailEntry } from "./tail_entry.ts";
import type { TailHub } from "./tail_hub.ts";

/** Events a new stream gets from before it opened, at most. */
const BACKFILL = 200;
/** Lines one stream may have queued; past it the oldest are dropped and counted. */
const STREAM_QUEUE = 1000;
/** Frames a client may leave unread before its stream is closed. */
const STREAM_BACKLOG = 256;

/** What an event stream needs from the handler. */
export interface StreamSource {
  /** The live tail, when the dashboard has one. */
  readonly hub: TailHub | undefined;
  /** How often to send a `metrics` frame, in ms. */
  readonly intervalMs: number;
  /** Samples the counters for a `metrics` frame. */
  readonly sample: () => Sample;
}

/**
 * The `/api/stream` answer: Server-Sent Events, a `metrics` frame every
 * `intervalMs` and, with a tail, `tail` frames of the events that pass the
 * query's filters (`level`, `target`, `q`), starting after the event id in
 * `?after=` or `Last-Event-ID` with up to 200 events from before. A client
 * that stops reading is dropped; one that reads slowly loses its oldest
 * queued events, counted in the next frame's `dropped`.
 *
 * @param request The request.
 * @param url Its URL, parsed.
 * @param source The tail, the interval and the counters.
 * @returns The stream (or a 400 for a bad filter).
 *
 * @example A bad filter is refused before the stream opens
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { eventStream } from "./event_stream.ts";
 * import assert from "node:assert/strict";
 * const log = createLogger({ sinks: [memorySink()] });
 * const url = new URL("http://127.0.0.1/api/stream?level=loud");
 * const sample = () => ({ at: Date.now(), metrics: log.metrics(), levels: undefined, skipped: 0 });
 * const res = eventStream(new Request(url), url, { hub: undefined, intervalMs: 1000, sample });
 * assert.equal(res.status, 400);
 * await log.close();
 * ```
 */
export function eventStream(
  request: Request,
  url: URL,
  source: StreamSource,
): Response {
  const { hub, intervalMs, sample } = source;
  let keep;
  try {
    const filter = filterFromQuery(url.searchParams, {
      level: "--level",
      target: "--target",
      q: "--grep",
    });
    keep = textTest("dashboard", filter);
  } catch (error) {
    if (error instanceof ReaderError) return problem(400, error.message);
    throw error;
  }
  const afterText = url.searchParams.get("after") ??
    request.headers.get("last-event-id") ?? "0";
  const after = /^\d{1,15}$/.test(afterText) ? Number(afterText) : 0;
  const encoder = new TextEncoder();
  let stop = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let closed = false;
      let previous: Sample | undefined;
      let dropped = 0;
      let missed = false;
      let queue: TailEntry[] = [];
      let lastId = after;
      const send = (text: string): boolean => {
        if (closed) return false;
        if ((controller.desiredSize ?? 0) < -STREAM_BACKLOG) {
          stop(); // the client stopped reading
          try {
            controller.close();
          } catch { /* already closed */ }
          return false;
        }
        try {
          controller.enqueue(encoder.encode(text));
          return true;
        } catch {
          stop();
          return false;
        }
      };
      const tick = () => {
        const current = sample();
        send(
          `event: metrics\ndata: ${
            JSON.stringify(metricsFrame(current, previous))
          }\n\n`,
        );
        previous = current;
      };
      const flushTail = () => {
        if (queue.length === 0 && dropped === 0 && !missed) return;
        const entries = queue;
        queue = [];
        if (entries.length > 0) lastId = entries[entries.length - 1].id;
        // Lines are JSON objects on one line: the array needs no escaping.
        const data = `{"events":[${
          entries.map((e) => e.line).join(",")
        }],"dropped":${dropped},"lapped":${missed}}`;
        dropped = 0;
        missed = false;
        send(`id: ${lastId}\nevent: tail\ndata: ${data}\n\n`);
      };
      send(`retry: 2000\n: ttlog dashboard\n\n`);
      tick();
      const timer = setInterval(tick, intervalMs);
      // Bun.serve closes connections idle for 10 s (its default): a slow
      // metrics interval gets a comment line in between.
      const heartbeat = intervalMs > 5000
        ? setInterval(() => send(`: keep-alive\n\n`), 5000)
        : undefined;
      let unlisten = () => {};
      if (hub !== undefined) {
        unlisten = hub.listen({
          test: keep,
          deliver(entries, lapped) {
            for (const entry of entries) queue.push(entry);
            if (queue.length > STREAM_QUEUE) {
              dropped += queue.length - STREAM_QUEUE;
              queue.splice(0, queue.length - STREAM_QUEUE);
            }
            if (lapped) missed = true;
            flushTail();
          },
        });
        queue = hub.recent(keep, after, BACKFILL);
        flushTail();
      }
      stop = () => {
        if (closed) return;
        closed = true;
        clearInterval(timer);
        clearInterval(heartbeat);
        unlisten();
      };
    },
    // Deno.serve, Bun.serve and nodeListener cancel the body when the
    // client goes away.
    cancel() {
      stop();
    },
  });
  return new Response(body, {
    headers: {
      ...SECURITY_HEADERS,
      "content-type": "text/event-stream; charset=utf-8",
      "x-accel-buffering": "no",
    },
  });
}
