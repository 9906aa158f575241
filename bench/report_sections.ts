/**
 * One section of bench/README.md per scenario (bench/report.ts puts them in
 * order): what the scenario measures and how, its table, and the tables
 * derived from it.
 *
 * @module
 */

import {
  benchmarkKeys,
  type ByRuntime,
  bytes,
  DASH,
  finite,
  hotPathRatio,
  ms,
  naReason,
  ns,
  perRuntime,
  perSecond,
  rate,
  REFERENCE_GROUP,
  rowOf,
  RUNTIMES,
  scenarioTable,
  spreadSummary,
  table,
} from "./report_tables.ts";

function fasterCell(ratioValue: number | undefined): string {
  if (!finite(ratioValue)) return DASH;
  return ratioValue < 1
    ? `${(1 / ratioValue).toFixed(1)}x cheaper`
    : `${ratioValue.toFixed(1)}x dearer`;
}

export function hotPathSection(byRuntime: ByRuntime): string {
  const groups = [
    ...new Set(benchmarkKeys(byRuntime).map((k) => k.group)),
  ].filter((g) => g !== "clock");
  const peers = ["pino", "logtape", "winston", "console"];
  const keys = benchmarkKeys(byRuntime);
  const ratioRows = groups.flatMap((group) =>
    peers.flatMap((peer) => {
      const peerName = keys.find((k) =>
        k.group === group && k.name.split(/[ ,(]/)[0] === peer
      )?.name;
      if (peerName === undefined) return [];
      const cells = perRuntime(byRuntime, (f) => {
        const row = rowOf(f, group, peerName);
        if (row?.na !== undefined) return "n/a";
        return fasterCell(hotPathRatio(f, group, "ttlog", peerName));
      }).map((cell) => cell ?? DASH);
      return [[group, `ttlog vs ${peerName}`, ...cells]];
    })
  ).map((cells, i, all) =>
    i > 0 && all[i - 1][0] === cells[0] ? ["", ...cells.slice(1)] : cells
  );
  const clockShare = RUNTIMES.map((rt) => {
    const f = byRuntime[rt];
    const c = rowOf(f, "clock", "Date.now()")?.avg;
    const t = rowOf(f, REFERENCE_GROUP, "ttlog")?.avg;
    return !finite(c) || !finite(t)
      ? `- ${rt}: ${DASH}`
      : `- ${rt}: ${ns(c)} ns, ${Math.round((100 * c) / t)}% of ttlog's ${
        ns(t)
      } ns reference call`;
  });
  return [
    "## Hot path: what one call costs the caller",
    "",
    "`bench/hot_path.ts`. Nanoseconds per call, lower is better: the median",
    "over the rounds of each round's mean. Each mitata iteration is about 2",
    "ms of calls (1,000 to 10,000) and one turn of the event loop, so work a",
    "logger defers to the next tick (winston's streams) is inside the clock.",
    "ttlog: the drain in",
    "its worker thread (the default) into a sink that discards, a 64 MiB",
    "`overwrite` ring, so its rows are what the calling thread pays. The",
    "peers (bench/peers.ts) format inside the call, as they do in use: pino",
    "to /dev/null through `pino.destination` (asynchronous sonic-boom, 4 KiB",
    "buffer); LogTape through `jsonLinesFormatter` into a sink that drops the",
    "line; winston with",
    "`format.combine(errors({ stack: true }), splat(), timestamp(), json())`",
    "into a `transports.Stream` over a node:stream Writable that drops every",
    "chunk; console is a node:console `Console` over that same",
    "discarding Writable (so `console.log` formats with util.inspect and",
    "writes, but nothing reaches a terminal). Loggers without an equivalent",
    "say so; for tagged templates, the peers' nearest form (printf-style",
    "arguments) is measured and named.",
    "",
    scenarioTable(byRuntime, (row) => ns(row.avg)),
    "",
    spreadSummary(byRuntime),
    "",
    "ttlog against each peer, per group (the peer's ns / ttlog's ns):",
    "",
    table(["group", "comparison", ...RUNTIMES], ratioRows),
    "",
    "Clock: ttlog reads `Date.now()` once per recorded event. One read:",
    "",
    ...clockShare,
    "",
    "Ring bytes per reference event (a default logger after 1,000 of them,",
    "`recordedBytes / recorded`, padding included): " +
    perRuntime(byRuntime, (f) => f.bytesPerEvent).map((b, i) =>
      `${RUNTIMES[i]} ${finite(b) ? b.toFixed(1) : DASH}`
    ).join(", ") + ".",
  ].join("\n");
}

export function latencySection(byRuntime: ByRuntime): string {
  const any = RUNTIMES.map((rt) => byRuntime[rt]).find((f) => f !== undefined);
  const accounting = RUNTIMES.flatMap((rt) => {
    const a = byRuntime[rt]?.ttlogAccounting;
    if (a === undefined) return [];
    return [
      `${rt} ${
        a.ok
          ? `ok (${a.logged.toLocaleString("en-US")} logged = emitted)`
          : `**LOSS**: logged ${a.logged}, emitted ${a.emitted}, lost ${a.lost}, dropped ${a.dropped}`
      }`,
    ];
  });
  const clock = RUNTIMES.flatMap((rt) => {
    const c = byRuntime[rt]?.clockMedianNs;
    return finite(c) ? [`${rt} ${ns(c)} ns`] : [];
  });
  return [
    "## Latency per call under a steady rate",
    "",
    "`bench/latency.ts`. The reference call at",
    `${
      any?.rate?.toLocaleString("en-US") ?? "50,000"
    } calls per second (the calls due are made every millisecond or so, from a`,
    "`setTimeout(1)` tick, so the event loop turns between bursts of about 50),",
    "ttlog beside pino in one process, both writing NDJSON to a file: ttlog's",
    "drain in its worker (the default), its default 8 MiB ring filled once",
    "before measuring so that every call meets a full ring evicting its",
    "oldest records; pino through `pino.destination({ dest, sync: false })`.",
    `Rounds of one second alternate the two loggers; ${
      any?.samplesPerLogger?.toLocaleString("en-US") ?? "300,000"
    } calls per logger.`,
    "Percentiles in ns over all rounds; the spread is how far the rounds' own",
    "percentiles disagree.",
    "",
    "**How the clock's cost is removed.** Each call is timed by itself",
    "between two `performance.now()` reads: timing batches of calls would",
    "average the tail away, and the tail (GC, ring eviction, worker wake-ups)",
    "is what this measures. Right after each call the same two reads are",
    "taken around a function that does nothing (same loop, same moment); the",
    "median of those empty pairs, per logger, is subtracted from every",
    "percentile. Only the clock's typical cost is removed: its own tail is",
    "shown in the `empty clock pair` rows, so a call's P99 or P999 that is",
    "not far above those rows is the machine's, not the logger's.",
    `Median empty pair: ${clock.join(", ") || DASH}.`,
    "",
    scenarioTable(byRuntime, (row) => ns(row.avg)),
    "",
    spreadSummary(byRuntime),
    "",
    `ttlog accounting after the run: ${accounting.join("; ") || DASH}.`,
  ].join("\n");
}

export function memorySection(byRuntime: ByRuntime): string {
  return [
    "## Memory: ring bytes per event, resident memory for 1,000,000 retained events",
    "",
    "`bench/memory.ts`. Each reading is taken in a fresh child process of the",
    "runtime, after two real garbage collections (`--expose-gc`,",
    "`Bun.gc(true)`), as `process.memoryUsage().rss`; each case runs three",
    "times and the median is shown. **Retained** means kept in ttlog's ring,",
    "readable by a snapshot: the ring is sized to hold all 1,000,000 events",
    "(rounded up to a power of two; the system pages it in only as it is",
    "written), and the run checks that a capture of the ring finds every one",
    "of them. Growth is measured from when the logger is ready (its drain",
    "worker answered a flush) to after the events are logged and flushed, in",
    "batches of 10,000. pino retains nothing: its row is the growth of a",
    "process that logged the same events to /dev/null, and `no logger` is",
    "the loop alone (events made and dropped): both show how much of a row is",
    "the runtime's heap keeping the high-water mark of the garbage a logging",
    "loop makes, rather than retained events. The reference workload is",
    "bench/workload.ts: requests, cache lookups, slow queries and 1% errors",
    "with stacks.",
    "",
    scenarioTable(byRuntime, (row) => bytes(row.avg)),
    "",
    spreadSummary(byRuntime),
  ].join("\n");
}

export function endToEndSection(byRuntime: ByRuntime): string {
  const keys = benchmarkKeys(byRuntime);
  const groups = [...new Set(keys.map((k) => k.group))];
  const comparisons = groups.flatMap((group) => {
    const ttlogName = keys.find((k) =>
      k.group === group && k.name.startsWith("ttlog") &&
      k.name.includes("worker")
    )?.name;
    const pinoName = keys.find((k) =>
      k.group === group && k.name.startsWith("pino")
    )?.name;
    if (ttlogName === undefined || pinoName === undefined) return [];
    if (naReason(byRuntime, group, pinoName) !== undefined) return [];
    return [[
      group,
      `${ttlogName} vs ${pinoName}`,
      ...perRuntime(byRuntime, (f) => {
        const t = rowOf(f, group, ttlogName);
        const p = rowOf(f, group, pinoName);
        if (p?.na !== undefined) return "n/a";
        return finite(t?.avg) && finite(p?.avg)
          ? `${(p.avg / t.avg).toFixed(2)}x the events/s`
          : undefined;
      }).map((cell) => cell ?? DASH),
    ]];
  });
  return [
    "## End to end to a file: events per second until close()",
    "",
    "`bench/end_to_end.ts`. Events per second, higher is better, from the",
    "first log call until the logger is closed and the file complete (the",
    "spread is over the rounds' times). Each run makes a new logger and file",
    "outside the clock (ttlog's drain worker is started and answers a flush),",
    "logs the reference call, closes, and reads the file back: it must hold",
    "every event, else the run fails. ttlog:",
    "`fileSink({ path, format, compression })`, default ring, drain in its",
    "worker (the default) or on the calling thread. pino:",
    "`pino.destination({ dest, sync: false })`, closed with `end()`. LogTape:",
    "@logtape/file's `getFileSink` with `jsonLinesFormatter`; by default it",
    "writes and fsyncs every record under 200 bytes by itself (so it runs",
    "fewer events), and with `nonBlocking: true` it buffers. winston:",
    "`transports.File` with `timestamp(), json()`.",
    "console: `new Console(fs.createWriteStream(path))` printing",
    "`JSON.stringify` of the event. gzip: the peers have no compressed",
    "output of their own, so theirs is their stream output gathered into 64",
    "KiB pieces (as ttlog's sink gathers) and written into node:zlib",
    "`createGzip()` (level 6, ttlog's level too) piped into the file. LZ4:",
    "no peer writes it.",
    "",
    scenarioTable(byRuntime, (row) => perSecond(row.avg)),
    "",
    spreadSummary(byRuntime),
    "",
    table(["group", "comparison", ...RUNTIMES], comparisons),
  ].join("\n");
}

export function snapshotSection(byRuntime: ByRuntime): string {
  const conditions: string[] = [];
  const formats: string[] = [];
  for (const runtime of RUNTIMES) {
    const sizes = byRuntime[runtime]?.bytesPerEventOnDisk ?? {};
    for (const [condition, byFormat] of Object.entries(sizes)) {
      if (!conditions.includes(condition)) conditions.push(condition);
      for (const format of Object.keys(byFormat)) {
        if (!formats.includes(format)) formats.push(format);
      }
    }
  }
  const sizeRows = conditions.flatMap((condition) =>
    formats.map((format, i) => [
      i === 0 ? condition : "",
      format,
      ...perRuntime(
        byRuntime,
        (f) => f.bytesPerEventOnDisk?.[condition]?.[format],
      ).map((b) => finite(b) ? b.toFixed(2) : DASH),
    ])
  );
  const full = RUNTIMES.flatMap((rt) => {
    const n = byRuntime[rt]?.fullRingEvents;
    return n === undefined ? [] : [`${n.toLocaleString("en-US")} (${rt})`];
  });
  const viewRates = perRuntime(byRuntime, (f) => f.viewEventsPerSecond);
  return [
    "## Snapshots and CLI decode",
    "",
    "`bench/snapshot.ts`. Times in ms, lower is better. A full 64 MiB ring",
    `holds ${
      full.length === 0 ? "about a million" : full.join(", ")
    } reference-workload events; the crash path is`,
    "`writeSnapshotSync` over the logger's ring (what a crash or signal",
    "writes, synchronously), `log.snapshot()` the same behind a promise; the",
    "parts are the crash path's three steps before the write. `ttlog view`",
    "reads a 1,000,000-event snapshot, keeps the error events and formats them",
    "as text, output dropped; beside it, reading the same events back from",
    "pino's NDJSON costs at least a `JSON.parse` per line. No peer keeps a",
    "ring to snapshot.",
    "",
    scenarioTable(byRuntime, (row) => ms(row.avg)),
    "",
    spreadSummary(byRuntime),
    "",
    `\`ttlog view --level error\` rate: ${
      viewRates.map((r, i) => `${RUNTIMES[i]} ${rate(r)} events/s`).join(", ")
    }.`,
    "",
    "On-disk bytes per event, 100,000 reference-workload events: a snapshot",
    "(.ttlog, LZ4 or gzip),",
    '`fileSink({ format: "ttlog", compression: "lz4" })`, and pino\'s NDJSON',
    "of the same events with node:zlib's gzip. In a",
    "tight loop the events' times are nearly equal; at 500 events/s",
    "`Date.now()` is stepped by random gaps, as a service's would be.",
    "",
    table(["timing", "format", ...RUNTIMES], sizeRows),
  ].join("\n");
}

const HTTP_VARIANTS: readonly [string, string][] = [
  ["ttlog-off", "withLogging, levels off (the wrapper alone)"],
  ["ttlog", "withLogging, NDJSON file"],
  ["ttlog-bin", "withLogging, .ttlog file"],
  ["ttlog-noctx", "withLogging, NDJSON file, `context: false`"],
  ["pino", "a pino-http-shaped line"],
  ["pino-full", "pino doing what withLogging does"],
];

export function httpSection(byRuntime: ByRuntime): string {
  const overhead = HTTP_VARIANTS.map(([variant, label]) => [
    `${label} (${variant})`,
    ...perRuntime(byRuntime, (f) => {
      const bare = f.rps?.bare;
      const v = f.rps?.[variant];
      return finite(bare) && finite(v)
        ? `${((1 - v / bare) * 100).toFixed(1)}%`
        : undefined;
    }).map((cell) => cell ?? DASH),
  ]);
  const cpuRows = [["bare", "bare"], ...HTTP_VARIANTS].map((
    [variant, label],
  ) => [
    variant === "bare" ? "bare" : `${label} (${variant})`,
    ...perRuntime(byRuntime, (f) => {
      const bare = f.cpuNsPerRequest?.bare;
      const v = f.cpuNsPerRequest?.[variant];
      if (!finite(bare) || !finite(v)) return undefined;
      return variant === "bare"
        ? `${(v / 1000).toFixed(2)} µs`
        : `${(v / 1000).toFixed(2)} µs (+${((v - bare) / 1000).toFixed(2)})`;
    }).map((cell) => cell ?? DASH),
  ]);
  const pinned = perRuntime(byRuntime, (f) => f.pinned === true);
  return [
    "## HTTP: requests per second of a hello-world server",
    "",
    "`bench/http_serve.ts` (server: `bench/http_server.ts`). The runtime's own",
    "server (Deno.serve, Bun.serve, node:http), each variant in its own child",
    "process, measured with wrk (one thread, 50 connections) on loopback, the",
    "variants interleaved over rounds; requests per second, the median of the",
    "rounds. The variants: bare; `withLogging` with the logger's levels off",
    "(what the wrapper costs before any event: the `x-request-id` header read",
    "and echoed, the AsyncLocalStorage context); `withLogging` writing an",
    'NDJSON file, then a `.ttlog` file (both drained where `worker: "auto"`',
    "puts the drain: on one CPU, the server's own thread); the NDJSON one",
    "with `context: false` (no AsyncLocalStorage switch: the request event",
    "carries the ids, the app's own events would not); one",
    "pino-http-shaped line per request (a counter id, no header, no context);",
    "and pino doing what `withLogging` does (the id header read and echoed,",
    "an AsyncLocalStorage context added to each line by pino's `mixin`), both",
    "through pino's asynchronous file destination.",
    "",
    pinned.every((cell) => cell !== false)
      ? "The server (all its threads) was pinned to CPU 1 and wrk to CPU 0 with taskset: the logging's work comes out of the server's one core, and ttlog drains on the server's thread (on one CPU, `worker: \"auto\"` starts no worker)."
      : "Some runtimes' rows ran unpinned (no taskset or one CPU): wrk and the server shared the CPUs.",
    "",
    scenarioTable(byRuntime, (row) => perSecond(row.avg)),
    "",
    spreadSummary(byRuntime),
    "",
    table(["fewer requests/s than bare", ...RUNTIMES], overhead, 1),
    "",
    "The server's CPU time per request (all its threads, user and system,",
    "read from /proc before and after each wrk run; the median of the",
    "rounds), and in brackets what the variant adds to bare: on a shared",
    "machine requests/s swing with the neighbours' load, the CPU a request",
    "costs less so.",
    "",
    table(["server CPU per request", ...RUNTIMES], cpuRows, 1),
  ].join("\n");
}

export function codecSection(byRuntime: ByRuntime): string {
  return [
    "## Codecs",
    "",
    "`bench/codec.ts`. MB/s of uncompressed data, 1 MiB of NDJSON-like log",
    "text, higher is better: LZ4 (lz4-wasm to compress, TypeScript to",
    "decompress), gzip (node:zlib and CompressionStream), xxHash32.",
    "",
    scenarioTable(
      byRuntime,
      (row, file) =>
        finite(row.avg)
          ? Math.round((file.bytes ?? 1 << 20) / 1e6 / (row.avg / 1e9))
            .toLocaleString("en-US")
          : DASH,
    ),
    "",
    spreadSummary(byRuntime),
  ].join("\n");
}

const REPLAY_CPU: readonly [string, string][] = [
  ["ttlog fail", 'failing request, ttlog replay: "5xx"'],
  ["logtape fail", "failing request, LogTape fingersCrossed"],
  ["ttlog pass", 'succeeding request, ttlog replay: "5xx"'],
  ["ttlog pass, no replay", "succeeding request, ttlog without replay"],
  ["logtape pass", "succeeding request, LogTape fingersCrossed"],
];

export function replaySection(byRuntime: ByRuntime): string {
  const cpuRows = REPLAY_CPU.map(([key, label]) => [
    label,
    ...perRuntime(byRuntime, (f) => f.processCpuNsPerRequest?.[key]).map(ns),
  ]);
  return [
    "## Replay: a failed request's lead-up, against LogTape's fingersCrossed",
    "",
    "`bench/replay.ts`. A request logs 50 debug events in its context, then",
    "its request event; both loggers emit info and up as NDJSON lines into a",
    'sink that counts and drops them. ttlog: `withLogging(handler, { log, replay: "5xx" })`,',
    "drain inline (all work on this thread), flushed after each 100 requests:",
    "debug events only go to the ring, and a request answering 500 gets its",
    "50 replayed after its event (52 lines: the event, a summary, the 50).",
    'LogTape: `fingersCrossed(sink, { triggerLevel: "error", bufferLevel: "debug",',
    'isolateByContext: { keys: ["request_id"], maxContexts: 100 } })` with',
    "AsyncLocalStorage contexts: each request's debug records are buffered as",
    "objects; its error event flushes them (51 lines). ns per request when",
    "every request fails; ns per logged event (51 per request) when none does,",
    "with ttlog's `withLogging` without `replay` beside it: what replay costs",
    "a request until it fails. Lower is better.",
    "",
    scenarioTable(byRuntime, (row) => ns(row.avg)),
    "",
    spreadSummary(byRuntime),
    "",
    "The process's CPU time per request (all threads, `/proc/self/stat`,",
    "best of three runs of 10,000 requests; 10 ms ticks, so about ±1 µs):",
    "",
    table(["case", ...RUNTIMES], cpuRows, 1),
  ].join("\n");
}

export function cpuSection(byRuntime: ByRuntime): string {
  const ratioRows = ["ttlog, drain in its worker", "ttlog, drain inline"].map(
    (name) => [
      name,
      ...perRuntime(byRuntime, (f) => f.cpuRatios?.[name]).map((r) =>
        finite(r) ? `${r.toFixed(1)}x` : DASH
      ),
    ],
  );
  return [
    "## Process CPU per event: every thread, ttlog beside pino and LogTape",
    "",
    "`bench/cpu.ts`. What the whole process pays (the caller, ttlog's drain",
    "worker, pino's and the runtime's own threads: getrusage through",
    "`process.cpuUsage()`) for 200,000 reference events written as NDJSON",
    "to a file until every line is in it. Steady state: each logger is made",
    "once and kept (a server's case); each round logs and flushes, then the",
    "file must hold every line. pino: `pino.destination` (sonic-boom,",
    "asynchronous, `minLength: 4096`); LogTape: `getFileSink` with",
    "`jsonLinesFormatter` and `nonBlocking: true`, made and disposed of each",
    "round (it has no flush). CPU ns per event, lower is better.",
    "",
    scenarioTable(byRuntime, (row) => ns(row.avg)),
    "",
    spreadSummary(byRuntime),
    "",
    "pino's CPU per event over ttlog's (higher is better):",
    "",
    table(["case", ...RUNTIMES], ratioRows, 1),
  ].join("\n");
}

export function genericSection(scenario: string, byRuntime: ByRuntime): string {
  return [
    `## ${scenario}`,
    "",
    `\`bench/${scenario}.ts\`. ns per iteration, lower is better.`,
    "",
    scenarioTable(byRuntime, (row) => ns(row.avg)),
    "",
    spreadSummary(byRuntime),
  ].join("\n");
}
