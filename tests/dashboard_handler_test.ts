// The dashboard's handler, called directly and through real servers: who
// gets in (loopback without a token, the token otherwise), snapshot names
// that try to leave the directory, the event stream's framing and rates,
// the snapshot list, download and view, and clear errors for bad options.
import { test } from "node:test";
import { spawn } from "node:child_process";
import process from "node:process";
import assert from "node:assert/strict";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createLogger,
  type Logger,
  memorySink,
  TtlogConfigError,
} from "../mod.ts";
import {
  type DashboardHandler,
  dashboardHandler,
  dashboardNodeListener,
  type DashboardOptions,
  type DashboardSink,
  dashboardSink,
} from "../src/dashboard.ts";
import { serveDashboard } from "./fixtures/dashboard_serve.ts";
import { readFrames, type SseFrame } from "./fixtures/sse.ts";

const LIMIT = { timeout: 60_000 };
const TOKEN = "dashboard-test-token-0123456789";
const LOOPBACK = { remoteAddr: { transport: "tcp", hostname: "127.0.0.1" } };

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "ttlog-dashboard-"));
}

function setup(
  options: DashboardOptions & { worker?: boolean; sink?: boolean } = {},
): {
  log: Logger;
  handler: DashboardHandler;
  dir: string;
  tail?: DashboardSink;
} {
  const dir = tempDir();
  const { worker, sink, ...rest } = options;
  const tail = sink === false ? undefined : dashboardSink();
  const log = createLogger({
    sinks: tail === undefined ? [memorySink()] : [tail],
    directives: "",
    level: "debug",
    worker: worker ?? "auto",
    snapshot: { dir },
  });
  const handler = dashboardHandler(log, {
    tail,
    snapshotDir: dir,
    intervalMs: 50,
    ...rest,
  });
  return { log, handler, dir, tail };
}

/** Calls the handler as a server would; the info is the loopback's unless given (even as undefined). */
function call(
  handler: DashboardHandler,
  path: string,
  init: RequestInit = {},
  ...info: unknown[]
): Promise<Response> {
  return handler(
    new Request(`http://127.0.0.1:8077${path}`, init),
    info.length === 0 ? LOOPBACK : info[0],
  );
}

test(
  "dashboard: the page is one HTML document, its script and style allowed by a fresh nonce, nothing loaded from elsewhere",
  LIMIT,
  async () => {
    const { log, handler, dir } = setup();
    try {
      const res = await call(handler, "/");
      assert.equal(res.status, 200);
      assert.match(
        res.headers.get("content-type")!,
        /^text\/html; charset=utf-8$/,
      );
      const csp = res.headers.get("content-security-policy")!;
      const nonce = /'nonce-([^']+)'/.exec(csp)![1];
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /frame-ancestors 'none'/);
      const html = await res.text();
      assert.ok(html.includes(`<script nonce="${nonce}">`));
      assert.ok(html.includes(`<style nonce="${nonce}">`));
      assert.equal(html.match(/<script/g)!.length, 1, "one inline script");
      // No file but this one: the icon is empty data, so no favicon request either.
      assert.doesNotMatch(
        html,
        /<(script|link|img|iframe)[^>]+(src|href)=["'](?!data:)/i,
      );
      assert.match(html, /<link rel="icon" href="data:,">/);
      // The only absolute URL is the SVG namespace name (never fetched).
      assert.deepEqual(
        [...new Set(html.match(/https?:\/\/[^\s"'<>]+/g))],
        ["http://www.w3.org/2000/svg"],
      );
      const again = await call(handler, "/");
      const second = /'nonce-([^']+)'/.exec(
        again.headers.get("content-security-policy")!,
      )![1];
      assert.notEqual(second, nonce);
    } finally {
      await log.close();
      rmSync(dir, { recursive: true });
    }
  },
);

test(
  "dashboard: without a token only loopback addresses get in, as Deno.serve, Bun.serve or the remoteAddress option report them",
  LIMIT,
  async () => {
    const { log, handler, dir } = setup();
    const deno = (hostname: string) => ({
      remoteAddr: { transport: "tcp", hostname, port: 5000 },
    });
    const bun = (address: string) => ({
      requestIP: () => ({ address, family: "IPv4", port: 5000 }),
    });
    try {
      for (
        const address of [
          "127.0.0.1",
          "127.8.9.10",
          "::1",
          "::ffff:127.0.0.1",
          "0:0:0:0:0:0:0:1",
        ]
      ) {
        assert.equal(
          (await call(handler, "/api/metrics", {}, deno(address))).status,
          200,
          address,
        );
        assert.equal(
          (await call(handler, "/api/metrics", {}, bun(address))).status,
          200,
          address,
        );
      }
      for (
        const address of [
          "192.0.2.7",
          "::ffff:192.0.2.7",
          "fe80::1",
          "::",
          "128.0.0.1",
          "127.0.0.256",
          "localhost",
        ]
      ) {
        const res = await call(handler, "/api/metrics", {}, deno(address));
        assert.equal(res.status, 403, address);
        assert.match((await res.json()).error, /only the loopback/);
        assert.equal(
          (await call(handler, "/", {}, bun(address))).status,
          403,
          address,
        );
      }
      // Unknown: no info, a unix socket, requestIP answering null or throwing.
      for (
        const info of [
          undefined,
          {},
          { remoteAddr: { transport: "unix", path: "/tmp/s" } },
          { requestIP: () => null },
          {
            requestIP: () => {
              throw new Error("gone");
            },
          },
        ]
      ) {
        const res = await call(handler, "/", {}, info);
        assert.equal(res.status, 403);
        assert.match(
          (await res.json()).error,
          /cannot tell where this request came from/,
        );
      }
      const custom = dashboardHandler(log, {
        remoteAddress: (req) => req.headers.get("x-test-peer") ?? undefined,
      });
      assert.equal(
        (await call(custom, "/api/metrics", {
          headers: { "x-test-peer": "::1" },
        }, undefined)).status,
        200,
      );
      assert.equal(
        (await call(custom, "/api/metrics", {
          headers: { "x-test-peer": "192.0.2.9" },
        }, undefined)).status,
        403,
      );
      assert.equal(
        (await call(custom, "/api/metrics", {}, LOOPBACK)).status,
        403,
        "the option replaces the servers' info",
      );
      const throwing = dashboardHandler(log, {
        remoteAddress: () => {
          throw new Error("no");
        },
      });
      assert.equal((await call(throwing, "/", {}, LOOPBACK)).status, 403);
    } finally {
      await log.close();
      rmSync(dir, { recursive: true });
    }
  },
);

test(
  "dashboard: without a token, proxied requests and Host names that are not the loopback's are refused (DNS rebinding)",
  LIMIT,
  async () => {
    const { log, handler, dir } = setup();
    try {
      for (const header of ["x-forwarded-for", "forwarded", "x-real-ip"]) {
        const res = await call(handler, "/", {
          headers: { [header]: "192.0.2.1" },
        });
        assert.equal(res.status, 403, header);
        assert.match((await res.json()).error, /through a proxy/);
      }
      for (
        const host of [
          "evil.example",
          "evil.example:8077",
          "127.0.0.1.evil.example",
          "localhost.evil.example",
          "[::2]:80",
          "localhost:x",
        ]
      ) {
        const res = await call(handler, "/", { headers: { host } });
        assert.equal(res.status, 403, host);
        assert.match((await res.json()).error, /not a loopback name/);
      }
      for (
        const host of [
          "localhost",
          "localhost:8077",
          "app.localhost:1",
          "127.0.0.1",
          "[::1]:8077",
          "LOCALHOST.",
        ]
      ) {
        assert.equal(
          (await call(handler, "/api/metrics", { headers: { host } })).status,
          200,
          host,
        );
      }
    } finally {
      await log.close();
      rmSync(dir, { recursive: true });
    }
  },
);

test(
  "dashboard: with a token every request needs it, in the authorization header or (GET only) ?token=, from any address",
  LIMIT,
  async () => {
    const { log, handler, dir } = setup({ token: TOKEN });
    const remote = { remoteAddr: { transport: "tcp", hostname: "192.0.2.7" } };
    const bearer = (token: string) => ({
      headers: { authorization: `Bearer ${token}` },
    });
    try {
      await log.snapshot("token");
      const name =
        (await (await call(handler, "/api/snapshots", bearer(TOKEN), remote))
          .json()).files[0].name;
      const paths = [
        "/",
        "/api/stream",
        "/api/metrics",
        "/api/snapshots",
        `/api/snapshots/${name}`,
        `/api/snapshots/${name}/events`,
      ];
      for (const path of paths) {
        for (
          const init of [
            {},
            bearer(TOKEN.slice(0, -1) + "X"),
            bearer(TOKEN.slice(0, -1)),
            bearer(TOKEN + "X"),
            bearer(""),
            { headers: { authorization: `Basic ${TOKEN}` } },
          ]
        ) {
          const res = await call(handler, path, init, LOOPBACK);
          assert.equal(res.status, 401, `${path} ${JSON.stringify(init)}`);
          assert.match(res.headers.get("www-authenticate")!, /^Bearer/);
          assert.match((await res.json()).error, /needs its token/);
        }
        const ok = await call(handler, path, bearer(TOKEN), remote);
        assert.equal(ok.status, 200, path);
        await ok.body?.cancel();
        const query = await call(
          handler,
          `${path}${path.includes("?") ? "&" : "?"}token=${TOKEN}`,
          {},
          undefined,
        );
        assert.equal(query.status, 200, `${path}?token=`);
        await query.body?.cancel();
      }
      // A wrong header is not rescued by a right query.
      assert.equal(
        (await call(
          handler,
          `/?token=${TOKEN}`,
          bearer("wrong-token-wrong-token"),
        )).status,
        401,
      );
      // POST takes the header only.
      const post = {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      };
      assert.equal(
        (await call(handler, `/api/snapshots?token=${TOKEN}`, post)).status,
        401,
      );
      const taken = await call(handler, "/api/snapshots", {
        ...post,
        headers: { ...post.headers, authorization: `Bearer ${TOKEN}` },
      }, remote);
      assert.equal(taken.status, 201);
    } finally {
      await log.close();
      rmSync(dir, { recursive: true });
    }
  },
);

test(
  "dashboard: snapshot names are checked: ../, encoded slashes and backslashes, absolute paths, NUL and symbolic links never reach a file",
  LIMIT,
  async () => {
    const root = tempDir();
    const dir = join(root, "snapshots");
    mkdirSync(dir);
    const log = createLogger({ sinks: [memorySink()], snapshot: { dir } });
    const handler = dashboardHandler(log, { snapshotDir: dir });
    const secret = "TOP-SECRET-CONTENT";
    try {
      log.info("hello");
      const path = await log.snapshot("valid");
      const name = path.slice(dir.length + 1);
      writeFileSync(join(root, "ttlog-secret.ttlog"), secret);
      writeFileSync(join(root, "secret"), secret);
      symlinkSync(
        join(root, "ttlog-secret.ttlog"),
        join(dir, "ttlog-link.ttlog"),
      );
      const attempts: [string, number][] = [
        ["/api/snapshots/..%2Fttlog-secret.ttlog", 400],
        ["/api/snapshots/..%2fttlog-secret.ttlog/events", 400],
        ["/api/snapshots/%2e%2e%2fttlog-secret.ttlog", 400],
        ["/api/snapshots/%2E%2E%2F%2E%2E%2Fsecret", 400],
        ["/api/snapshots/ttlog-a%2F..%2F..%2Fttlog-secret.ttlog", 400],
        ["/api/snapshots/..%5Cttlog-secret.ttlog", 400],
        ["/api/snapshots/%2Fetc%2Fpasswd", 400],
        [
          `/api/snapshots/${
            encodeURIComponent(join(root, "ttlog-secret.ttlog"))
          }`,
          400,
        ],
        ["/api/snapshots/ttlog-x.ttlog%00", 400],
        ["/api/snapshots/.ttlog-x.ttlog", 400],
        ["/api/snapshots/%E0%A4%A", 400],
        ["/api/snapshots/ttlog-link.ttlog", 404],
        ["/api/snapshots/ttlog-link.ttlog/events", 404],
        ["/api/snapshots/ttlog-missing.ttlog", 404],
        ["/api/snapshots/../../ttlog-secret.ttlog", 404], // the URL parser resolves it to /ttlog-secret.ttlog
        ["/api/snapshots/%2e%2e/%2e%2e/secret", 404], // likewise, %2e%2e is a dot-dot segment
        ["/api/snapshots//etc/passwd", 404],
        [`/api/snapshots/${name}/events/extra`, 404],
      ];
      for (const [attempt, status] of attempts) {
        const res = await call(handler, attempt);
        const body = await res.text();
        assert.equal(res.status, status, `${attempt}: ${body}`);
        assert.ok(!body.includes(secret), attempt);
      }
      const download = await call(handler, `/api/snapshots/${name}`);
      assert.equal(download.status, 200);
      assert.deepEqual(
        new Uint8Array(await download.arrayBuffer()),
        new Uint8Array(readFileSync(path)),
      );
      const list = await (await call(handler, "/api/snapshots")).json();
      assert.deepEqual(
        list.files.map((f: { name: string }) => f.name),
        [name],
        "the link is not listed",
      );
    } finally {
      await log.close();
      rmSync(root, { recursive: true });
    }
  },
);

function json(frame: SseFrame): Record<string, unknown> {
  return JSON.parse(frame.fields.data);
}
const tails = (frames: readonly SseFrame[]) =>
  frames.filter((f) => f.fields.event === "tail");
const metricFrames = (frames: readonly SseFrame[]) =>
  frames.filter((f) => f.fields.event === "metrics");
const tailEvents = (frames: readonly SseFrame[]) =>
  tails(frames).flatMap((f) => json(f).events as Record<string, unknown>[]);

for (const worker of [true, false]) {
  test(
    `dashboard: the event stream sends metrics and the filtered tail as well-formed SSE frames (drain ${
      worker ? "in a worker" : "inline"
    })`,
    LIMIT,
    async () => {
      const { log, handler, dir } = setup({ worker });
      try {
        assert.equal(log.metrics().worker, worker);
        log.info("plain info");
        log.warn("two\nlines", { path: "a\r\nb", n: 1 });
        log.error("failed", { "weird\nkey": "\u2028x" });
        log.child("db").error("db down");
        await log.flush();
        const res = await call(handler, "/api/stream?level=warn");
        assert.equal(res.status, 200);
        assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
        assert.equal(res.headers.get("cache-control"), "no-store");
        const frames = await readFrames(
          res,
          (f) => tailEvents(f).length >= 3 && metricFrames(f).length >= 3,
        );
        assert.equal(frames[0].fields.retry, "2000");
        for (const frame of frames.slice(1)) {
          assert.ok(
            ["metrics", "tail"].includes(frame.fields.event),
            frame.raw,
          );
          assert.deepEqual(
            Object.keys(frame.fields).filter((k) =>
              !["event", "data", "id"].includes(k)
            ),
            [],
          );
          json(frame); // every data line is one JSON document
        }
        const events = tailEvents(frames);
        assert.deepEqual(events.map((e) => e.msg), [
          "two\nlines",
          "failed",
          "db down",
        ]);
        assert.equal(events[0].path, "a\r\nb");
        assert.equal(events[1]["weird\nkey"], "\u2028x");
        assert.deepEqual(events.map((e) => e.level), [
          "warn",
          "error",
          "error",
        ]);
        const ids = tails(frames).map((f) => Number(f.fields.id));
        assert.ok(ids.every((id, i) => id > 0 && (i === 0 || id > ids[i - 1])));
        const first = json(metricFrames(frames)[0]);
        assert.equal(first.rates, null, "no rates before a second sample");
        assert.equal((first.metrics as { logged: number }).logged, 4);
        assert.deepEqual(first.tail, { attached: true, skippedPerSecond: 0 });

        // A stream that resumes after the last id gets no old lines again;
        // one with another filter gets its own backfill.
        const lastId = ids[ids.length - 1];
        log.error("after resume");
        await log.flush();
        const resumed = await readFrames(
          await call(handler, "/api/stream?level=warn", {
            headers: { "last-event-id": String(lastId) },
          }),
          (f) => tailEvents(f).length >= 1,
        );
        assert.deepEqual(tailEvents(resumed).map((e) => e.msg), [
          "after resume",
        ]);
        const db = await readFrames(
          await call(handler, "/api/stream?target=db&q=down"),
          (f) => tailEvents(f).length >= 1 && metricFrames(f).length >= 1,
        );
        assert.deepEqual(tailEvents(db).map((e) => e.msg), ["db down"]);
        const bad = await call(handler, "/api/stream?level=loud");
        assert.equal(bad.status, 400);
        assert.match(
          (await bad.json()).error,
          /--level must be one of trace, debug, info, warn, error, fatal, got "loud"/,
        );
      } finally {
        await log.close();
        rmSync(dir, { recursive: true });
      }
    },
  );
}

test(
  "dashboard: the per-level rates add up to exactly the events logged, and sinks report health",
  LIMIT,
  async () => {
    const { log, handler, dir } = setup({ intervalMs: 40 });
    try {
      const res = await call(handler, "/api/stream?level=fatal");
      const counts = { info: 0, warn: 0, error: 0 };
      let sent = false;
      const frames = await readFrames(res, (f) => {
        const metrics = metricFrames(f);
        if (!sent && metrics.length >= 2) {
          // Logged between frames, so several frames carry them.
          for (let i = 0; i < 60; i++) {
            log.info("i");
            counts.info++;
            if (i % 3 === 0) {
              log.warn("w");
              counts.warn++;
            }
            if (i % 10 === 0) {
              log.error("e");
              counts.error++;
            }
          }
          sent = true;
          log.flush();
        }
        if (!sent || metrics.length < 4) return false;
        const last = json(metrics[metrics.length - 1]);
        return (last.metrics as { emitted: number }).emitted === 60 + 20 + 6 &&
          // the tail's counters have seen them (they may lag the metrics)...
          metrics.some((m) =>
            ((json(m).levels as Record<string, number> | null)?.info ?? 0) > 0
          ) &&
          // ...and a frame after the tail has them all counted
          metrics.slice(-2).every((m) =>
            (json(m).levels as Record<string, number>).info === 0
          );
      });
      const metrics = metricFrames(frames).map(json);
      const totals: Record<string, number> = {
        trace: 0,
        debug: 0,
        info: 0,
        warn: 0,
        error: 0,
        fatal: 0,
      };
      let emitted = 0;
      for (let i = 1; i < metrics.length; i++) {
        const seconds =
          ((metrics[i].time as number) - (metrics[i - 1].time as number)) /
          1000;
        for (
          const [level, rate] of Object.entries(
            metrics[i].levels as Record<string, number>,
          )
        ) {
          totals[level] += rate * seconds;
        }
        emitted += (metrics[i].rates as { emitted: number }).emitted * seconds;
      }
      const round = (n: number) => Math.round(n * 1e6) / 1e6;
      assert.deepEqual(
        Object.fromEntries(
          Object.entries(totals).map(([k, v]) => [k, round(v)]),
        ),
        { trace: 0, debug: 0, ...counts, fatal: 0 },
      );
      assert.equal(round(emitted), 86);
      const sinks = metrics[metrics.length - 1].sinks as {
        name: string;
        written: number;
        healthy: boolean;
      }[];
      assert.deepEqual(sinks.map((s) => [s.name, s.written, s.healthy]), [[
        "dashboard",
        86,
        true,
      ]]);
    } finally {
      await log.close();
      rmSync(dir, { recursive: true });
    }
  },
);

test(
  "dashboard: a failing sink shows as failing in the metrics frames",
  LIMIT,
  async () => {
    const dir = tempDir();
    const failing = {
      name: "broken",
      write() {
        throw new Error("disk on fire");
      },
    };
    const log = createLogger({
      sinks: [failing],
      worker: false,
      directives: "",
    });
    const handler = dashboardHandler(log, { snapshotDir: dir, intervalMs: 30 });
    try {
      const frames = await readFrames(
        await call(handler, "/api/stream"),
        (f) => {
          if (metricFrames(f).length === 2) log.info("x");
          const sinks = metricFrames(f).map((m) =>
            (json(m).sinks as { healthy: boolean }[])[0]
          );
          return sinks.some((s) => !s.healthy);
        },
      );
      const last = json(metricFrames(frames).at(-1)!);
      const sink =
        (last.sinks as { name: string; errors: number; healthy: boolean }[])[0];
      assert.equal(sink.name, "broken");
      assert.ok(sink.errors >= 1);
      assert.deepEqual(last.tail, { attached: false, skippedPerSecond: 0 });
      assert.equal(last.levels, null);
    } finally {
      await log.close();
      rmSync(dir, { recursive: true });
    }
  },
);

test(
  "dashboard: take a snapshot, list it with its reason and size, download it, view its events with ttlog view's filters",
  LIMIT,
  async () => {
    const { log, handler, dir } = setup();
    const post = (body: string, headers: Record<string, string> = {}) =>
      call(handler, "/api/snapshots", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
    try {
      const empty = await (await call(handler, "/api/snapshots")).json();
      assert.deepEqual(empty, { dir, files: [] });
      log.debug("cache miss", { key: "cart:7" });
      log.info("request", { user: { id: 42 }, status: 200 });
      log.child("db").warn("slow query", { ms: 900 });
      log.error("payment failed", { user: { id: 7 } });
      const res = await post(JSON.stringify({ reason: "checkout broke" }));
      assert.equal(res.status, 201);
      const taken = await res.json();
      assert.equal(taken.reason, "checkout broke");
      assert.equal(taken.listed, true);
      assert.match(
        taken.name,
        /^ttlog-app-\d+-\d{8}T\d{6}\.\d{3}Z-checkout_broke\.ttlog$/,
      );
      const path = join(dir, taken.name);
      assert.equal(taken.size, statSync(path).size);
      const defaulted = await (await post("")).json();
      assert.equal(defaulted.reason, "dashboard");

      const list = await (await call(handler, "/api/snapshots")).json();
      const file = list.files.find((f: { name: string }) =>
        f.name === taken.name
      );
      assert.equal(file.reason, "checkout broke");
      assert.equal(file.size, statSync(path).size);
      assert.equal(file.trigger, "manual");
      assert.equal(file.service, "app");

      const download = await call(handler, `/api/snapshots/${taken.name}`);
      assert.equal(
        download.headers.get("content-disposition"),
        `attachment; filename="${taken.name}"`,
      );
      assert.deepEqual(
        new Uint8Array(await download.arrayBuffer()),
        new Uint8Array(readFileSync(path)),
      );

      const view = async (query: string) => {
        const response = await call(
          handler,
          `/api/snapshots/${taken.name}/events?${query}`,
        );
        const body = await response.json();
        assert.equal(response.status, 200, JSON.stringify(body));
        return body as {
          lines: Record<string, unknown>[];
          more: boolean;
          events: number;
          meta: Record<string, unknown>;
        };
      };
      const all = await view("");
      assert.deepEqual(all.lines.map((e) => e.msg), [
        "cache miss",
        "request",
        "slow query",
        "payment failed",
      ]);
      assert.equal(all.events, 4);
      assert.equal(all.meta.reason, "checkout broke");
      assert.equal(all.more, false);
      assert.deepEqual((await view("level=warn")).lines.map((e) => e.msg), [
        "slow query",
        "payment failed",
      ]);
      assert.deepEqual((await view("target=db")).lines.map((e) => e.msg), [
        "slow query",
      ]);
      assert.deepEqual((await view("grep=cart")).lines.map((e) => e.msg), [
        "cache miss",
      ]);
      assert.deepEqual(
        (await view("where=user.id%3D42")).lines.map((e) => e.msg),
        ["request"],
      );
      assert.deepEqual(
        (await view("where=user.id&where=user.id!%3D42")).lines.map((e) =>
          e.msg
        ),
        ["payment failed"],
      );
      assert.deepEqual(
        (await view("since=2000-01-01&until=2000-01-02")).lines,
        [],
      );
      assert.deepEqual(
        (await view("since=1h&level=")).lines.length,
        4,
        "empty parameters are ignored",
      );
      const last = await view("last=1");
      assert.deepEqual(last.lines.map((e) => e.msg), ["payment failed"]);
      assert.equal(last.more, true);

      const problems: [string, number, RegExp][] = [
        ["level=loud", 400, /--level must be one of/],
        ["where=%3Dx", 400, /--where "=x" needs a field name/],
        ["since=yesterday", 400, /--since "yesterday" is not a time/],
        ["level=warn&level=info", 400, /--level is given more than once/],
        ["last=0", 400, /last must be a positive integer/],
        ["last=200000", 400, /at most 100000/],
      ];
      for (const [query, status, message] of problems) {
        const response = await call(
          handler,
          `/api/snapshots/${taken.name}/events?${query}`,
        );
        assert.equal(response.status, status, query);
        assert.match((await response.json()).error, message, query);
      }

      // A damaged file: whole chunks are read, the damage is reported.
      const bytes = readFileSync(path);
      writeFileSync(
        join(dir, "ttlog-cut.ttlog"),
        bytes.subarray(0, bytes.length - 10),
      );
      const cutRes =
        await (await call(handler, "/api/snapshots/ttlog-cut.ttlog/events"))
          .json();
      assert.equal(typeof cutRes.truncatedAt, "number");
      writeFileSync(
        join(dir, "ttlog-garbage.ttlog"),
        "not a ttlog file at all",
      );
      const garbage = await call(
        handler,
        "/api/snapshots/ttlog-garbage.ttlog/events",
      );
      assert.equal(garbage.status, 422);
      assert.match((await garbage.json()).error, /is not a \.ttlog file/);

      // Bad requests to take one.
      const bad: [Response, number, RegExp][] = [
        [await post("{oops"), 400, /must be JSON/],
        [
          await post(JSON.stringify({ reason: "x".repeat(81) })),
          400,
          /1 to 80 characters/,
        ],
        [
          await post(JSON.stringify({ reason: "a\nb" })),
          400,
          /control characters/,
        ],
        [
          await post(JSON.stringify({ reason: 5 })),
          400,
          /reason must be a string/,
        ],
        [
          await post("{}", { origin: "http://evil.example" }),
          403,
          /cross-site/,
        ],
        [
          await post("{}", { "sec-fetch-site": "cross-site" }),
          403,
          /cross-site/,
        ],
        [
          await call(handler, "/api/snapshots", {
            method: "POST",
            headers: { "content-type": "text/plain" },
            body: "{}",
          }),
          415,
          /application\/json/,
        ],
        [
          await call(handler, "/api/snapshots", { method: "PUT", body: "{}" }),
          405,
          /GET or POST/,
        ],
        [
          await call(handler, `/api/snapshots/${taken.name}`, {
            method: "DELETE",
          }),
          405,
          /use GET/,
        ],
        [await call(handler, "/api/nothing"), 404, /no such route/],
      ];
      for (const [response, status, message] of bad) {
        assert.equal(response.status, status);
        assert.match((await response.json()).error, message);
      }
      assert.equal(
        (await post("{}", { origin: "http://127.0.0.1:8077" })).status,
        201,
        "same origin is fine",
      );
    } finally {
      await log.close();
      rmSync(dir, { recursive: true });
    }
  },
);

/** Asks the dashboard for a snapshot, as its button does. */
const takeSnapshot = (handler: DashboardHandler) =>
  call(handler, "/api/snapshots", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });

test(
  "dashboard: without snapshotDir it lists where the logger writes (its snapshot.dir), a child logger's too",
  LIMIT,
  async () => {
    const written = tempDir();
    const log = createLogger({
      sinks: [memorySink()],
      snapshot: { dir: written },
    });
    const handler = dashboardHandler(log.child("web"));
    try {
      const res = await takeSnapshot(handler);
      const body = await res.json();
      assert.equal(res.status, 201, JSON.stringify(body));
      assert.equal(body.listed, true);
      const list = await (await call(handler, "/api/snapshots")).json();
      assert.equal(list.files.length, 1, JSON.stringify(list));
    } finally {
      await log.close();
      rmSync(written, { recursive: true });
    }
  },
);

test(
  "dashboard: a snapshot written outside snapshotDir is reported, not hidden",
  LIMIT,
  async () => {
    const written = tempDir();
    const listed = tempDir();
    const log = createLogger({
      sinks: [memorySink()],
      snapshot: { dir: written },
    });
    const handler = dashboardHandler(log, { snapshotDir: listed });
    try {
      const res = await takeSnapshot(handler);
      const body = await res.json();
      assert.equal(res.status, 201);
      assert.equal(body.listed, false);
      assert.match(body.warning, /outside the dashboard's snapshotDir/);
    } finally {
      await log.close();
      rmSync(written, { recursive: true });
      rmSync(listed, { recursive: true });
    }
  },
);

test("dashboard: mounted under basePath", LIMIT, async () => {
  const { log, handler, dir } = setup({ basePath: "/ops/ttlog" });
  try {
    const redirect = await call(handler, "/ops/ttlog?x=1");
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.get("location"), "/ops/ttlog/?x=1");
    assert.equal((await call(handler, "/ops/ttlog/")).status, 200);
    assert.equal((await call(handler, "/ops/ttlog/api/metrics")).status, 200);
    assert.equal((await call(handler, "/")).status, 404);
    assert.equal((await call(handler, "/ops/ttlogx/")).status, 404);
    assert.equal((await call(handler, "/api/metrics")).status, 404);
  } finally {
    await log.close();
    rmSync(dir, { recursive: true });
  }
});

test("dashboard: bad options fail with a TtlogConfigError that names them", () => {
  const log = createLogger({ sinks: [memorySink()] });
  const cases: [() => unknown, RegExp][] = [
    [
      () => dashboardHandler(undefined as never),
      /first argument must be a logger/,
    ],
    [() => dashboardHandler({} as never), /first argument must be a logger/],
    [() => dashboardHandler(log, null as never), /options must be an object/],
    [
      () => dashboardHandler(log, { tokn: "x" } as never),
      /unknown option "tokn"/,
    ],
    [
      () => dashboardHandler(log, { token: "short" }),
      /token must be a string of at least 16 visible ASCII characters.*got a string of 5 characters/,
    ],
    [
      () => dashboardHandler(log, { token: "has a space in it, long enough" }),
      /token must be/,
    ],
    [
      () => dashboardHandler(log, { token: 1234567890123456789 as never }),
      /token must be.*got number/,
    ],
    [
      () => dashboardHandler(log, { snapshotDir: "" }),
      /snapshotDir must be a non-empty string/,
    ],
    [
      () => dashboardHandler(log, { tail: memorySink() as never }),
      /tail must be the dashboardSink\(\)/,
    ],
    [
      () => dashboardHandler(log, { basePath: "ttlog" }),
      /basePath must be "" or a path such as "\/ttlog"/,
    ],
    [() => dashboardHandler(log, { basePath: "/ttlog/" }), /basePath must be/],
    [() => dashboardHandler(log, { basePath: "/a?b" }), /basePath must be/],
    [
      () => dashboardHandler(log, { remoteAddress: "127.0.0.1" as never }),
      /remoteAddress must be a function/,
    ],
    [
      () => dashboardHandler(log, { intervalMs: 5 }),
      /intervalMs must be a number of ms from 10 to 60000, got 5/,
    ],
    [() => dashboardHandler(log, { intervalMs: NaN }), /intervalMs must be/],
    [() => dashboardSink({ rate: 0 }), /rate must be a whole number/],
    [() => dashboardSink({ rate: 1.5 }), /rate must be a whole number/],
    [
      () => dashboardSink({ bytes: 1000 }),
      /bytes must be a power of two from 4096 to 67108864, got 1000/,
    ],
    [() => dashboardSink({ bytes: 1 << 30 }), /bytes must be a power of two/],
    [() => dashboardSink({ size: 1 } as never), /unknown option "size"/],
    [() => dashboardSink(null as never), /options must be an object/],
    [
      () => dashboardNodeListener("handler" as never),
      /handler must be what dashboardHandler\(\) returned/,
    ],
  ];
  for (const [make, message] of cases) {
    assert.throws(make, (error: unknown) => {
      assert.ok(error instanceof TtlogConfigError, String(error));
      assert.match(error.message, message);
      return true;
    });
  }
  return log.close();
});

test(
  "dashboard: on node:http through dashboardNodeListener (every runtime), the socket's address decides",
  LIMIT,
  async () => {
    const { log, handler, dir } = setup();
    const served = await serveDashboard(handler, { node: true });
    try {
      const res = await fetch(`${served.url}/api/metrics`);
      assert.equal(res.status, 200);
      assert.equal((await res.json()).service, "app");
      // The same listener with a socket from elsewhere.
      const listener = dashboardNodeListener(handler);
      const answer = await new Promise<number>((resolve) => {
        const req = {
          method: "GET",
          url: "/api/metrics",
          headers: { host: "127.0.0.1:8077" },
          socket: { remoteAddress: "192.0.2.44", remotePort: 4000 },
          async *[Symbol.asyncIterator]() {},
        };
        let status = 0;
        const res = {
          headersSent: false,
          writeHead(code: number) {
            status = code;
          },
          write: () => true,
          end: () => resolve(status),
          once: () => {},
          destroy: () => resolve(-1),
        };
        listener(req, res);
      });
      assert.equal(answer, 403);
    } finally {
      await served.close();
      await log.close();
      rmSync(dir, { recursive: true });
    }
  },
);

test(
  "dashboard: the event stream through the runtime's own server stops when the client goes away",
  LIMIT,
  async () => {
    const { log, dir, tail } = setup();
    // Each open stream calls metrics() once per interval: the count shows
    // whether streams are still running on the server.
    let calls = 0;
    const counted = {
      metrics: () => {
        calls++;
        return log.metrics();
      },
      snapshot: (reason?: string) => log.snapshot(reason),
    };
    const handler = dashboardHandler(counted, {
      tail,
      snapshotDir: dir,
      intervalMs: 20,
    });
    const served = await serveDashboard(handler);
    try {
      for (let round = 0; round < 3; round++) {
        const controller = new AbortController();
        const res = await fetch(`${served.url}/api/stream`, {
          signal: controller.signal,
        });
        assert.equal(res.status, 200, served.kind);
        log.warn("round", { round });
        const frames = await readFrames(
          res,
          (f) => tailEvents(f).some((e) => e.round === round),
        );
        assert.ok(metricFrames(frames).length >= 1);
        controller.abort();
      }
      // Once the server has seen the three disconnects, nothing calls metrics().
      let settled = -1;
      for (let wait = 0; wait < 100 && settled !== calls; wait++) {
        settled = calls;
        await new Promise((ok) => setTimeout(ok, 100));
      }
      assert.equal(calls, settled, `streams still running on ${served.kind}`);
    } finally {
      await served.close();
      await log.close();
      rmSync(dir, { recursive: true });
    }
  },
);

test(
  "dashboard: a snapshot swapped for a symbolic link in a loop by another process is never served through it",
  LIMIT,
  async () => {
    const root = tempDir();
    const dir = join(root, "snapshots");
    mkdirSync(dir);
    const log = createLogger({ sinks: [memorySink()], snapshot: { dir } });
    const handler = dashboardHandler(log, { snapshotDir: dir });
    const secret = "TOP-SECRET-CONTENT";
    try {
      log.info("hello");
      const path = await log.snapshot("raced");
      const name = path.slice(dir.length + 1);
      const real = readFileSync(path);
      writeFileSync(join(root, "secret"), secret);
      // Another process swaps the file and a link to the secret, in a loop.
      symlinkSync(join(root, "secret"), join(root, "link"));
      writeFileSync(join(root, "file"), real);
      const script = `
        const fs = require("node:fs");
        const target = process.env.SWAP_TARGET;
        const link = process.env.SWAP_LINK;
        const file = process.env.SWAP_FILE;
        const end = Date.now() + 1500;
        while (Date.now() < end) {
          fs.copyFileSync(file, target + ".f");
          fs.renameSync(target + ".f", target);
          fs.symlinkSync(fs.readlinkSync(link), target + ".l");
          fs.renameSync(target + ".l", target);
        }
        fs.copyFileSync(file, target);
      `;
      // Node runs the swapper under every runtime (npm test needs it); the
      // paths go by environment, the same whatever runtime answers to "node".
      const swapper = spawn("node", ["-e", script], {
        stdio: "ignore",
        env: {
          ...process.env,
          SWAP_TARGET: path,
          SWAP_LINK: join(root, "link"),
          SWAP_FILE: join(root, "file"),
        },
      });
      const exited = new Promise<number | null>((done) =>
        swapper.once("exit", (code) => done(code))
      );
      let served = 0;
      let refused = 0;
      let leaked = 0;
      const until = Date.now() + 1400;
      while (Date.now() < until) {
        for (
          const route of [
            `/api/snapshots/${name}`,
            `/api/snapshots/${name}/events`,
          ]
        ) {
          const res = await call(handler, route);
          const body = await res.text();
          if (res.status === 200) served++;
          else refused++;
          if (body.includes(secret)) leaked++;
        }
      }
      assert.equal(await exited, 0, "the swapper failed");
      assert.equal(leaked, 0, `${leaked} responses carried the link's target`);
      // Both states were seen: the race was on.
      assert.ok(
        served > 0 && refused > 0,
        `${served} served, ${refused} refused`,
      );
    } finally {
      await log.close();
      rmSync(root, { recursive: true, force: true });
    }
  },
);
