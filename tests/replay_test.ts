// Replay: a failed request's events that were recorded but not emitted
// (its debug lead-up) reach the ordinary sinks after the fact, marked, in
// order, each at most once, only that request's; through the runtime's own
// server (Deno.serve, Bun.serve, node:http), with the drain inline and in
// its worker; log.replay() by hand, its counts, its clear errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createLogger,
  fileSink,
  type LogRecord,
  memorySink,
  prometheusText,
  TtlogConfigError,
} from "../mod.ts";
import { requestLogger, withLogging } from "../src/http.ts";
import { requestLogging } from "../src/hono.ts";
import { requestLogging as elysiaLogging } from "../src/elysia.ts";
import { Hono } from "hono";
import { Elysia } from "elysia";
import { readTtlog } from "../src/ttlog_file/chunk_reader.ts";
import { serve } from "./fixtures/serve.ts";

const LIMIT = { timeout: 60_000 };

function readNdjson(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8").split("\n").filter((l) => l !== "").map(
    (l) => JSON.parse(l),
  );
}

/**
 * Concurrent requests through the runtime's server, each logging `steps`
 * debug events around awaits; those with `fail` answer 503 or throw.
 */
async function serveRequests(
  handler: (request: Request) => Response | Promise<Response>,
): Promise<Map<string, number>> {
  const served = await serve(handler);
  const statuses = new Map<string, number>();
  try {
    const plan = Array.from({ length: 12 }, (_, i) => ({
      id: `q-${i}`,
      fail: i % 3 === 0 ? "503" : i % 3 === 1 ? "throw" : "no",
      steps: 10 + i,
    }));
    await Promise.all(plan.map(async ({ id, fail, steps }) => {
      const res = await fetch(
        `${served.url}/work?fail=${fail}&steps=${steps}`,
        { headers: { "x-request-id": id } },
      );
      await res.text();
      statuses.set(id, res.status);
    }));
  } finally {
    await served.close();
  }
  return statuses;
}

function app(log: ReturnType<typeof createLogger>) {
  return async (request: Request) => {
    const url = new URL(request.url);
    const steps = Number(url.searchParams.get("steps"));
    for (let step = 0; step < steps; step++) {
      log.debug("step", { step });
      if (step % 4 === 0) await new Promise((ok) => setTimeout(ok, 1));
    }
    log.info("answering");
    const fail = url.searchParams.get("fail");
    if (fail === "throw") throw new Error("boom");
    return new Response("x", { status: fail === "503" ? 503 : 200 });
  };
}

/** What each request's events must be, given what the sinks got. */
function checkReplays(
  events: readonly Record<string, unknown>[],
  statuses: Map<string, number>,
): number {
  let replayedTotal = 0;
  for (const [id, status] of statuses) {
    const i = Number(id.slice(2));
    const steps = 10 + i;
    const mine = events.filter((e) => e.request_id === id);
    const failed = i % 3 !== 2;
    assert.equal(status, failed ? (i % 3 === 0 ? 503 : 500) : 200, id);
    if (!failed) {
      assert.deepEqual(mine.map((e) => e.msg), ["answering", "request"], id);
      continue;
    }
    const reason = i % 3 === 0 ? "status 503" : "request failed";
    const live = mine.filter((e) => e.replay === undefined);
    const replayed = mine.filter((e) => e.replay !== undefined);
    assert.deepEqual(live.map((e) => e.msg), [
      "answering",
      i % 3 === 0 ? "request" : "request failed",
    ]);
    assert.equal(replayed[0].msg, `replay: ${reason}`, id);
    assert.equal(replayed[0].target, "ttlog");
    assert.equal(replayed[0].replayed, steps);
    assert.equal(replayed[0].emitted, 2);
    assert.equal(replayed[0].overwritten, 0);
    // Each step once, in order, at debug, with its own (earlier) time.
    assert.deepEqual(
      replayed.slice(1).map((e) => [e.msg, e.level, e.step, e.replay]),
      Array.from({ length: steps }, (_, s) => ["step", "debug", s, reason]),
      id,
    );
    const failure = live[1];
    for (const e of replayed.slice(1)) {
      assert.ok((e.time as number) <= (failure.time as number));
    }
    // The failure is delivered before its replay.
    assert.ok(events.indexOf(failure) < events.indexOf(replayed[0]));
    replayedTotal += steps;
  }
  // No other event is marked.
  assert.equal(
    events.filter((e) => e.replay !== undefined).length,
    replayedTotal + 8,
  );
  return replayedTotal;
}

for (const worker of [false, true]) {
  test(
    `withLogging replay "error" via the runtime's server, drain ${
      worker ? "in its worker" : "inline"
    }: concurrent failing requests each replay only their own debug events`,
    LIMIT,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "ttlog-replay-"));
      try {
        const path = join(dir, "events.ndjson");
        const log = createLogger({
          level: "info",
          directives: "",
          worker,
          sinks: [fileSink({ path, format: "ndjson" })],
        });
        const handler = withLogging(app(log), { log, replay: "5xx" });
        const statuses = await serveRequests((request) =>
          Promise.resolve(handler(request)).catch(() =>
            new Response("failed", { status: 500 })
          )
        );
        await log.flush();
        const events = readNdjson(path);
        const replayed = checkReplays(events, statuses);
        const m = log.metrics();
        assert.equal(m.worker, worker);
        assert.equal(m.replayed, replayed);
        assert.equal(m.replays, 8);
        // Accounting: replays are not logged or emitted events.
        assert.equal(
          m.logged,
          m.emitted + m.filtered + m.dropped + m.lost + m.pending,
        );
        assert.equal(m.emitted, events.length - replayed - 8);
        assert.equal(m.sinks[0].written, events.length);
        assert.match(
          prometheusText(log),
          new RegExp(
            `^ttlog_events_replayed_total\\{service="app"\\} ${replayed}$`,
            "m",
          ),
        );
        await log.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}

test(
  "the Hono middleware's replay: a route's caught error replays its lead-up",
  LIMIT,
  async () => {
    const sink = memorySink();
    const log = createLogger({ level: "info", sinks: [sink] });
    const hono = new Hono();
    hono.use(requestLogging({ log, replay: "error" }));
    hono.get("/buy", () => {
      log.debug("checking stock");
      log.debug("reserving");
      throw new Error("no stock");
    });
    hono.get("/gone", (c) => {
      log.debug("looking");
      return c.text("gone", 503);
    });
    const res = await hono.fetch(
      new Request("http://x/buy", { headers: { "x-request-id": "h-1" } }),
    );
    assert.equal(res.status, 500);
    // "error": a 5xx answer without an error replays nothing.
    assert.equal((await hono.fetch(new Request("http://x/gone"))).status, 503);
    await log.flush();
    assert.deepEqual(
      sink.records.map((r) => [r.msg, r.fields.request_id, r.fields.replay]),
      [
        ["request", "h-1", undefined],
        ["replay: request failed", "h-1", "request failed"],
        ["checking stock", "h-1", "request failed"],
        ["reserving", "h-1", "request failed"],
        ["request", sink.records[4]?.fields.request_id, undefined],
      ],
    );
    await log.close();
  },
);

test("log.replay by hand: each event at most once, only matching and unemitted ones, counts returned", async () => {
  const sink = memorySink();
  const log = createLogger({
    level: "info",
    recordLevel: "trace",
    directives: "db=debug",
    sinks: [sink],
  });
  const a = log.child({ job: "a" });
  const db = log.child("db", { job: "a" });
  a.trace("t0");
  a.debug("d1");
  db.debug("emitted, its target emits debug");
  log.child({ job: "b" }).debug("other job");
  a.info("i2");
  assert.deepEqual(log.replay("a failed", { where: { job: "a" } }), {
    replayed: 2,
    emitted: 2,
    overwritten: 0,
  });
  a.debug("d3");
  // Again: only the new one.
  assert.deepEqual(log.replay("a failed again", { where: { job: "a" } }), {
    replayed: 1,
    emitted: 2,
    overwritten: 0,
  });
  // Nothing new: nothing delivered, not even a summary.
  assert.equal(log.replay("a third time", { where: { job: "a" } }).replayed, 0);
  await log.flush();
  assert.deepEqual(
    sink.records.map((
      r: LogRecord,
    ) => [r.msg, r.level, r.fields.replay ?? null]),
    [
      ["emitted, its target emits debug", "debug", null],
      ["i2", "info", null],
      ["replay: a failed", "info", "a failed"],
      ["t0", "trace", "a failed"],
      ["d1", "debug", "a failed"],
      ["replay: a failed again", "info", "a failed again"],
      ["d3", "debug", "a failed again"],
    ],
  );
  const m = log.metrics();
  assert.equal(m.replayed, 3);
  assert.equal(m.replays, 2);
  assert.equal(m.sinks[0].written, m.emitted + 3 + 2);
  await log.close();
});

test("log.replay after the ring wrapped: what is gone is counted as overwritten, what is left replays", async () => {
  const sink = memorySink();
  const log = createLogger({
    level: "info",
    ring: { bytes: 64 * 1024 },
    sinks: [sink],
  });
  const since = log.metrics().recorded;
  const job = log.child({ job: 1 });
  for (let i = 0; i < 5000; i++) job.debug("step", { i });
  const result = log.replay("wrapped", { where: { job: 1 }, since });
  assert.ok(
    result.replayed > 0 && result.replayed < 5000,
    String(result.replayed),
  );
  assert.equal(result.replayed + result.overwritten, 5000);
  await log.flush();
  const replayed = sink.records.filter((r) => r.msg === "step");
  assert.equal(replayed.length, result.replayed);
  // The newest ones, in order.
  assert.deepEqual(
    replayed.map((r) => r.fields.i),
    Array.from(
      { length: result.replayed },
      (_, k) => 5000 - result.replayed + k,
    ),
  );
  await log.close();
});

test("a raw sink (.ttlog file) gets no replays; the file stays readable", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ttlog-replay-raw-"));
  try {
    const path = join(dir, "events.ttlog");
    const sink = memorySink();
    const log = createLogger({
      level: "info",
      worker: false,
      sinks: [fileSink({ path, format: "ttlog" }), sink],
    });
    log.child({ job: 1 }).debug("lead-up");
    log.child({ job: 1 }).error("failed");
    assert.equal(log.replay("failed", { where: { job: 1 } }).replayed, 1);
    await log.close();
    const result = readTtlog(new Uint8Array(readFileSync(path)));
    assert.equal(result.error, undefined);
    const records = result.items.flatMap((item) =>
      item.kind === "events" ? item.records : []
    );
    assert.deepEqual(records.map((r) => r.msg), ["failed"]);
    assert.deepEqual(sink.records.map((r) => r.msg), [
      "failed",
      "replay: failed",
      "lead-up",
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("log.replay: bad input is a clear error, and nothing logged is lost by it", async () => {
  const sink = memorySink();
  const log = createLogger({ level: "info", sinks: [sink] });
  log.info("before");
  const cases: [unknown, unknown, RegExp][] = [
    [
      "",
      { where: { a: 1 } },
      /replay: reason must be a non-empty string, got ""/,
    ],
    [42, { where: { a: 1 } }, /reason must be a non-empty string, got 42/],
    ["x", undefined, /options.where must name the fields/],
    ["x", { where: {} }, /options.where must name the fields/],
    ["x", { where: [1] }, /options.where must name the fields/],
    [
      "x",
      { where: { a: 1 }, until: 3 },
      /options must be \{ where, since\? \}/,
    ],
    [
      "x",
      { where: { a: 1 }, since: -1 },
      /since must be a count from metrics\(\).recorded, got -1/,
    ],
    ["x", { where: { a: 1 }, since: "now" }, /since must be a count/],
  ];
  for (const [reason, options, pattern] of cases) {
    assert.throws(
      () => log.replay(reason as string, options as never),
      (error: Error) =>
        error instanceof TtlogConfigError && pattern.test(error.message),
      `${String(reason)} ${JSON.stringify(options)}`,
    );
  }
  log.info("after");
  await log.flush();
  assert.deepEqual(sink.records.map((r) => r.msg), ["before", "after"]);
  assert.equal(log.metrics().replayed, 0);
  await log.close();
  assert.throws(
    () => log.replay("late", { where: { a: 1 } }),
    /replay: the logger is closed/,
  );
  assert.throws(
    () => withLogging(() => new Response(), { log, replay: "always" as never }),
    /withLogging: replay must be "error", "5xx" or false, got "always"/,
  );
});

test("a request whose lead-up outgrew the ring: the summary says how much is gone, the rest replays", async () => {
  const sink = memorySink();
  const log = createLogger({
    level: "info",
    ring: { bytes: 64 * 1024 },
    sinks: [sink],
  });
  log.debug("before the request"); // not the request's: never replayed
  const handler = withLogging(() => {
    for (let i = 0; i < 5000; i++) log.debug("step", { i });
    return new Response("down", { status: 503 });
  }, { log, replay: "5xx" });
  await handler(new Request("http://x/", { headers: { "x-request-id": "w" } }));
  await log.flush();
  const summary = sink.records.find((r) => r.msg === "replay: status 503")!;
  const replayed = summary.fields.replayed as number;
  const overwritten = summary.fields.overwritten as number;
  assert.ok(overwritten > 0 && replayed > 0, `${replayed} ${overwritten}`);
  // Everything the request recorded is replayed or counted as gone.
  assert.equal(replayed + overwritten, 5000);
  const steps = sink.records.filter((r) => r.msg === "step");
  assert.equal(steps.length, replayed);
  assert.equal(steps.at(-1)!.fields.i, 4999);
  assert.ok(!sink.records.some((r) => r.msg === "before the request"));
  await log.close();
});

test(
  "the Elysia plugin's replay: a route's error replays its lead-up, logged through requestLogger",
  LIMIT,
  async () => {
    const sink = memorySink();
    const log = createLogger({ level: "info", sinks: [sink] });
    const app = new Elysia()
      .use(elysiaLogging({ log, replay: "error" }))
      .get("/buy", ({ request }) => {
        requestLogger(request).debug("checking stock");
        throw new Error("no stock");
      })
      .get("/ok", ({ request }) => {
        requestLogger(request).debug("fine");
        return "ok";
      });
    const res = await app.fetch(
      new Request("http://localhost/buy", {
        headers: { "x-request-id": "e-1" },
      }),
    );
    assert.equal(res.status, 500);
    await res.text();
    await (await app.fetch(new Request("http://localhost/ok"))).text();
    // Elysia logs a request after its response was sent.
    const deadline = Date.now() + 5000;
    while (
      !sink.records.some((r) => r.msg === "checking stock") &&
      Date.now() < deadline
    ) {
      await new Promise((done) => setTimeout(done, 10));
      await log.flush();
    }
    assert.deepEqual(
      sink.records.filter((r) => r.fields.request_id === "e-1").map((r) => [
        r.msg,
        r.fields.replay,
      ]),
      [
        ["request", undefined],
        ["replay: request failed", "request failed"],
        ["checking stock", "request failed"],
      ],
    );
    assert.ok(!sink.records.some((r) => r.msg === "fine"));
    await log.close();
  },
);
