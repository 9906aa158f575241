/**
 * Turns bench/results/*.json (written by the scenarios through
 * bench/results.ts) into bench/README.md: the machine, the runtimes and the
 * date, the headline numbers, one table per scenario with each runtime's
 * numbers and spreads, the targets of issues 2, 4 and 7, and notes. It also
 * rewrites the "Speed" section of the top-level README.md between the
 * markers `<!-- bench:speed:start -->` and `<!-- bench:speed:end -->` with
 * the headline table, so that the two never disagree. `npm run bench` runs
 * it last, then `deno fmt` on both pages (which aligns the tables); on its
 * own: `tsx bench/report.ts && deno fmt bench/README.md README.md`.
 *
 * @module
 */

import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";

const RUNTIMES = ["deno", "bun", "node"] as const;
type RuntimeName = typeof RUNTIMES[number];

/** The order scenarios appear in; any other scenario follows, by name. */
const SCENARIO_ORDER = [
  "hot_path",
  "latency",
  "memory",
  "end_to_end",
  "snapshot",
  "http_serve",
  "replay",
  "cpu",
  "codec",
];

/** A row whose rounds disagree by more than this is marked. */
const SPREAD_LIMIT = 0.05;
const MARK = "⚠";

const REFERENCE_GROUP = "reference call: message + 3 fields";
const DISABLED_GROUP = "disabled level";

/** Issue 2's targets. */
const TARGET_RATIO = 0.1;
const TARGET_DISABLED_NS = 5;
const TARGET_BYTES = 48;

/** Issue 4's targets. */
const CRASH_PATH_ROW = "crash path: writeSnapshotSync, lz4";
const SNAPSHOT_ROW = "await log.snapshot(), lz4";
const VIEW_ROW = "runCli view --level error";
const TARGET_SNAPSHOT_MS = 250;
const TARGET_DISK_BYTES = 12;
const TARGET_VIEW_RATE = 3e6;

/** Issue 7's targets. */
const GUARD_RATIO = 5;
const TARGET_RETAINED_BYTES = 50e6;
const MEMORY_REFERENCE = "1,000,000 reference calls (message + 3 fields)";
const MEMORY_WORKLOAD = "1,000,000 reference-workload events";
const RETAINED_ROW =
  "ttlog, recorded only (emit level off): RSS growth, 1M events retained";
const RING_BYTES_ROW = "ttlog: ring bytes per event";

interface Row {
  group: string;
  name: string;
  avg?: number;
  p50?: number;
  p99?: number;
  min?: number;
  max?: number;
  roundAvgs?: number[];
  spread?: number;
  na?: string;
  unit?: "ns" | "bytes";
}

interface Accounting {
  logged: number;
  emitted: number;
  dropped: number;
  lost: number;
  ok: boolean;
}

interface ResultFile {
  scenario: string;
  runtime: string;
  version: string;
  cpu: string;
  cpus?: number;
  date: string;
  rows: Row[];
  /** hot_path: ring bytes per reference event. */
  bytesPerEvent?: number;
  /** end_to_end: events per run. */
  events?: number;
  /** latency: calls per second, clock cost, accounting. */
  rate?: number;
  clockMedianNs?: number;
  samplesPerLogger?: number;
  ttlogAccounting?: Accounting;
  /** snapshot: on-disk bytes per event, by condition, then by format. */
  bytesPerEventOnDisk?: Record<string, Record<string, number>>;
  /** snapshot: events in the full ring. */
  fullRingEvents?: number;
  /** snapshot: events in the file `ttlog view` reads. */
  viewEvents?: number;
  /** snapshot: `ttlog view --level error` rate. */
  viewEventsPerSecond?: number;
  /** codec: bytes per iteration. */
  bytes?: number;
  /** http_serve: median requests per second. */
  rps?: Record<string, number>;
  /** http_serve: the server's median CPU time per request, in ns. */
  cpuNsPerRequest?: Record<string, number>;
  /** http_serve: whether the server and wrk were pinned to their own CPUs. */
  pinned?: boolean;
  /** replay: the process's CPU ns per request, by case. */
  processCpuNsPerRequest?: Record<string, number>;
  /** cpu: pino's CPU per event over each case's. */
  cpuRatios?: Record<string, number>;
}

type ByRuntime = Partial<Record<RuntimeName, ResultFile>>;
/** Per scenario, per runtime: one result file. */
type Results = Map<string, ByRuntime>;

const resultsDir = new URL("./results/", import.meta.url);
const benchReadme = new URL("./README.md", import.meta.url);
const topReadme = new URL("../README.md", import.meta.url);
const SPEED_START = "<!-- bench:speed:start -->";
const SPEED_END = "<!-- bench:speed:end -->";

function loadResults(): Results {
  const results: Results = new Map();
  let names: string[] = [];
  try {
    names = readdirSync(resultsDir).filter((n) => n.endsWith(".json")).sort();
  } catch {
    // No results yet: the report says so.
  }
  for (const name of names) {
    const file = JSON.parse(
      readFileSync(new URL(name, resultsDir), "utf8"),
    ) as ResultFile;
    if (!(RUNTIMES as readonly string[]).includes(file.runtime)) continue;
    const byRuntime = results.get(file.scenario) ?? {};
    byRuntime[file.runtime as RuntimeName] = file;
    results.set(file.scenario, byRuntime);
  }
  return results;
}

function orderedScenarios(results: Results): string[] {
  const rank = (s: string) => {
    const i = SCENARIO_ORDER.indexOf(s);
    return i === -1 ? SCENARIO_ORDER.length : i;
  };
  return [...results.keys()].sort((a, b) =>
    rank(a) - rank(b) || a.localeCompare(b)
  );
}

const DASH = "—";

// --- Number formats -------------------------------------------------------

function finite(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value);
}

/** Nanoseconds with as many digits as they deserve. */
function ns(value: number | undefined): string {
  if (!finite(value)) return DASH;
  if (value < 10) return value.toFixed(2);
  if (value < 100) return value.toFixed(1);
  return Math.round(value).toLocaleString("en-US");
}

function ms(value: number | undefined): string {
  if (!finite(value)) return DASH;
  return (value / 1e6).toFixed(value < 1e7 ? 1 : 0);
}

function rate(value: number | undefined): string {
  if (!finite(value)) return DASH;
  if (value >= 1e6) return (value / 1e6).toFixed(2) + " M";
  if (value >= 1e3) return (value / 1e3).toFixed(0) + " k";
  return value.toFixed(0);
}

function perSecond(nsPer: number | undefined): string {
  return finite(nsPer) && nsPer > 0 ? rate(1e9 / nsPer) : DASH;
}

function bytes(value: number | undefined): string {
  if (!finite(value)) return DASH;
  if (Math.abs(value) < 1000) return `${value.toFixed(1)} B`;
  return `${(value / 1e6).toFixed(1)} MB`;
}

function times(value: number | undefined): string {
  if (!finite(value)) return DASH;
  return `${value.toFixed(value < 10 ? 1 : 0)}x`;
}

function spreadCell(row: Row | undefined): string {
  if (row === undefined || row.na !== undefined || !finite(row.spread)) {
    return DASH;
  }
  if ((row.roundAvgs?.length ?? 0) < 2) return DASH;
  const pct = `${(row.spread * 100).toFixed(row.spread < 0.1 ? 1 : 0)}%`;
  return row.spread > SPREAD_LIMIT ? `${pct} ${MARK}` : pct;
}

// --- Tables ---------------------------------------------------------------

function table(header: string[], rows: string[][], textColumns = 2): string {
  const line = (cells: string[]) =>
    `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
  return [
    line(header),
    line(header.map((_, i) => (i < textColumns ? "---" : "---:"))),
    ...rows.map(line),
  ].join("\n");
}

function rowOf(
  file: ResultFile | undefined,
  group: string,
  name: string,
): Row | undefined {
  return file?.rows.find((r) => r.group === group && r.name === name);
}

function rowNamed(file: ResultFile | undefined, name: string): Row | undefined {
  return file?.rows.find((r) => r.name === name);
}

/** Every (group, name) pair in any runtime's file, in first-seen order. */
function benchmarkKeys(
  byRuntime: ByRuntime,
): { group: string; name: string }[] {
  const seen = new Map<string, { group: string; name: string }>();
  for (const runtime of RUNTIMES) {
    for (const r of byRuntime[runtime]?.rows ?? []) {
      const key = r.group + "\u0000" + r.name;
      if (!seen.has(key)) seen.set(key, { group: r.group, name: r.name });
    }
  }
  return [...seen.values()];
}

function perRuntime<T>(
  byRuntime: ByRuntime,
  pick: (file: ResultFile) => T | undefined,
): (T | undefined)[] {
  return RUNTIMES.map((rt) => {
    const file = byRuntime[rt];
    return file === undefined ? undefined : pick(file);
  });
}

/** The reason a row has no number, from whichever runtime has it. */
function naReason(
  byRuntime: ByRuntime,
  group: string,
  name: string,
): string | undefined {
  for (const rt of RUNTIMES) {
    const reason = rowOf(byRuntime[rt], group, name)?.na;
    if (reason !== undefined) return reason;
  }
  return undefined;
}

/**
 * A table of every row of a scenario: group, benchmark, then a value and a
 * spread column per runtime. Rows without an equivalent say why.
 */
function scenarioTable(
  byRuntime: ByRuntime,
  format: (row: Row, file: ResultFile) => string,
  keys = benchmarkKeys(byRuntime),
): string {
  const rows = keys.map((k, i) => {
    const reason = naReason(byRuntime, k.group, k.name);
    const groupCell = i > 0 && keys[i - 1].group === k.group
      ? ""
      : k.group || DASH;
    const nameCell = reason === undefined
      ? k.name
      : `${k.name} (no equivalent: ${reason})`;
    const cells = RUNTIMES.flatMap((rt) => {
      const file = byRuntime[rt];
      const row = rowOf(file, k.group, k.name);
      if (file === undefined || row === undefined) return [DASH, DASH];
      if (row.na !== undefined) return ["n/a", DASH];
      return [format(row, file), spreadCell(row)];
    });
    return [groupCell, nameCell, ...cells];
  });
  return table(
    ["group", "benchmark", ...RUNTIMES.flatMap((rt) => [rt, "spread"])],
    rows,
  );
}

/** "Rows over 5%: deno 3 of 40, ..." for a scenario. */
function spreadSummary(byRuntime: ByRuntime): string {
  const parts = RUNTIMES.flatMap((rt) => {
    const rows = (byRuntime[rt]?.rows ?? []).filter((r) =>
      r.na === undefined && finite(r.spread) && (r.roundAvgs?.length ?? 0) > 1
    );
    if (rows.length === 0) return [];
    const over = rows.filter((r) => r.spread! > SPREAD_LIMIT).length;
    return [`${rt} ${over} of ${rows.length}`];
  });
  if (parts.length === 0) return "";
  return `Rows whose rounds disagree by more than 5% (${MARK}): ${
    parts.join(", ")
  }.`;
}

// --- Sections -------------------------------------------------------------

function hotPathRatio(
  file: ResultFile,
  group: string,
  name = "ttlog",
  peer = "pino",
): number | undefined {
  const ttlog = rowOf(file, group, name)?.avg;
  const other = rowOf(file, group, peer)?.avg;
  return finite(ttlog) && finite(other) && other > 0
    ? ttlog / other
    : undefined;
}

function fasterCell(ratioValue: number | undefined): string {
  if (!finite(ratioValue)) return DASH;
  return ratioValue < 1
    ? `${(1 / ratioValue).toFixed(1)}x cheaper`
    : `${ratioValue.toFixed(1)}x dearer`;
}

function hotPathSection(byRuntime: ByRuntime): string {
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

function latencySection(byRuntime: ByRuntime): string {
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

function memorySection(byRuntime: ByRuntime): string {
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

function endToEndSection(byRuntime: ByRuntime): string {
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

function snapshotSection(byRuntime: ByRuntime): string {
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

function httpSection(byRuntime: ByRuntime): string {
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

function codecSection(byRuntime: ByRuntime): string {
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

function replaySection(byRuntime: ByRuntime): string {
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

function cpuSection(byRuntime: ByRuntime): string {
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

function genericSection(scenario: string, byRuntime: ByRuntime): string {
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

/** Issue 18: the whole process's CPU per event at least this far under pino's. */
const TARGET_CPU_RATIO = 5;

function verdict(met: boolean | undefined, detail: string): string {
  if (met === undefined) return DASH;
  return `${met ? "met" : "**not met**"} (${detail})`;
}

function targetsSection(results: Results): string {
  const hot = results.get("hot_path") ?? {};
  const snap = results.get("snapshot") ?? {};
  const memory = results.get("memory") ?? {};
  const cells = (
    byRuntime: ByRuntime,
    pick: (f: ResultFile) => string | undefined,
  ) => perRuntime(byRuntime, pick).map((cell) => cell ?? DASH);
  const ratioTarget = (name: string, limit: number) =>
    cells(hot, (f) => {
      const r = hotPathRatio(f, REFERENCE_GROUP, name);
      return r === undefined
        ? undefined
        : verdict(r <= limit, `${(1 / r).toFixed(1)}x cheaper`);
    });
  const snapTime = (name: string) =>
    cells(snap, (f) => {
      const avg = rowNamed(f, name)?.avg;
      return finite(avg)
        ? verdict(avg / 1e6 < TARGET_SNAPSHOT_MS, `${ms(avg)} ms`)
        : undefined;
    });
  const diskBytes = (condition: string) =>
    cells(snap, (f) => {
      const b = f.bytesPerEventOnDisk?.[condition]?.["snapshot lz4"];
      return finite(b)
        ? verdict(b <= TARGET_DISK_BYTES, `${b.toFixed(2)} B`)
        : undefined;
    });
  const retained = (group: string) =>
    cells(memory, (f) => {
      const growth = rowOf(f, group, RETAINED_ROW)?.avg;
      return finite(growth)
        ? verdict(growth < TARGET_RETAINED_BYTES, bytes(growth))
        : undefined;
    });
  const cpu = results.get("cpu") ?? {};
  const cpuTarget = (name: string) =>
    cells(cpu, (f) => {
      const r = f.cpuRatios?.[name];
      return finite(r)
        ? verdict(r >= TARGET_CPU_RATIO, `${r.toFixed(1)}x`)
        : undefined;
    });
  const rows = [
    [
      "18",
      `process CPU per NDJSON event >= ${TARGET_CPU_RATIO}x under pino's, drain in its worker`,
      ...cpuTarget("ttlog, drain in its worker"),
    ],
    [
      "18",
      "the same, drain inline",
      ...cpuTarget("ttlog, drain inline"),
    ],
    [
      "2",
      `caller-side cost <= 1/${1 / TARGET_RATIO} of pino's (reference call)`,
      ...ratioTarget("ttlog", TARGET_RATIO),
    ],
    [
      "2",
      'the same with `clock: "coarse"`',
      ...ratioTarget("ttlog, coarse clock", TARGET_RATIO),
    ],
    [
      "2",
      `disabled level < ${TARGET_DISABLED_NS} ns`,
      ...cells(hot, (f) => {
        const avg = rowOf(f, DISABLED_GROUP, "ttlog")?.avg;
        return finite(avg)
          ? verdict(avg < TARGET_DISABLED_NS, `${ns(avg)} ns`)
          : undefined;
      }),
    ],
    [
      "2",
      `<= ${TARGET_BYTES} ring bytes per reference event`,
      ...cells(hot, (f) =>
        finite(f.bytesPerEvent)
          ? verdict(
            f.bytesPerEvent <= TARGET_BYTES,
            `${f.bytesPerEvent.toFixed(1)} B`,
          )
          : undefined),
    ],
    [
      "4",
      `crash snapshot of a full 64 MiB ring < ${TARGET_SNAPSHOT_MS} ms`,
      ...snapTime(CRASH_PATH_ROW),
    ],
    [
      "4",
      `\`await log.snapshot()\` of it < ${TARGET_SNAPSHOT_MS} ms`,
      ...snapTime(SNAPSHOT_ROW),
    ],
    [
      "4",
      `.ttlog+LZ4 <= ${TARGET_DISK_BYTES} bytes per event (tight loop)`,
      ...diskBytes("tight loop"),
    ],
    ["4", "the same at 500 events/s", ...diskBytes("500 events/s")],
    [
      "4",
      `\`ttlog view --level error\` >= ${TARGET_VIEW_RATE / 1e6} M events/s`,
      ...cells(snap, (f) => {
        const r = f.viewEventsPerSecond;
        return finite(r)
          ? verdict(r >= TARGET_VIEW_RATE, `${rate(r)}/s`)
          : undefined;
      }),
    ],
    [
      "7",
      "RSS growth < 50 MB for 1,000,000 retained reference calls",
      ...retained(MEMORY_REFERENCE),
    ],
    [
      "7",
      "the same for 1,000,000 reference-workload events",
      ...retained(MEMORY_WORKLOAD),
    ],
  ];
  return [
    "## Targets",
    "",
    "Computed from the tables above, per runtime. Issue 7's regression",
    `guard (ttlog's reference call at least ${GUARD_RATIO}x cheaper than pino's)`,
    "is a test, not a row here: tests/perf_guard_test.ts runs in `npm test`",
    "on each runtime, in a process that logs only the reference call (batches",
    "of calls, interleaved rounds, each side's best round), and prints the",
    "ratio it measured.",
    "",
    table(["issue", "target", ...RUNTIMES], rows),
  ].join("\n");
}

const NOTES = [
  "## Notes",
  "",
  "- Spread: each case is measured in several rounds, interleaved with the",
  "  other cases of its scenario (A, B, C, then A, B, C again), all in one",
  "  process per runtime; a row's number is the median of its rounds and",
  "  its spread is (largest round - smallest round) / median. Rounds are",
  "  not separate processes: a slow process start or a JIT that settled",
  `  differently shows only across runs of \`npm run bench\`. A row over 5%`,
  `  is marked ${MARK}; read it as "about", and compare rows of one column.`,
  "- Each runtime runs in its own process at a different moment, on 2",
  "  shared vCPUs: compare ratios within a column, not absolute numbers",
  "  across columns or runs.",
  "- ttlog's hot-path numbers exclude the drain: decoding and formatting",
  "  run in the drain's worker thread, outside the timed call, and on two",
  "  vCPUs that thread competes with the timed one when it has a backlog",
  "  (ttlog logs faster than its drain decodes). The peers format inside",
  "  the call. The end-to-end scenario is the full cost, drain included.",
  "- Sub-10 ns rows (a disabled level) sit near the timer's resolution:",
  '  read them as "a few ns".',
  "- Each end-to-end run starts a new logger, so ttlog's drain worker is a",
  "  new thread whose JIT starts cold every run; a long-lived logger's",
  "  drain is faster once warm.",
  "- All hot-path cases share one process and one logger, as an",
  "  application's calls do, so the encoder has seen every kind of value.",
  "  Sharing costs a little (the reference call is about 10% dearer on",
  "  Deno after the other cases than alone). An earlier run showed 2.7x",
  "  on Deno after the Error case: a V8 deoptimization loop in the",
  "  encoder, fixed (errors without props of their own skip the props walk).",
].join("\n");

function machineLines(results: Results): {
  cpu: string;
  when: string;
  versions: string;
} {
  const files = [...results.values()].flatMap((byRuntime) =>
    RUNTIMES.flatMap((rt) => byRuntime[rt] ?? [])
  );
  const cpus = [...new Set(files.map((f) => f.cpu || "unknown CPU"))];
  const counts = [
    ...new Set(files.map((f) => f.cpus).filter((n) => n !== undefined)),
  ];
  const vcpus = counts.length === 0 ? "?" : counts.join("/");
  const dates = files.map((f) => f.date).sort();
  const day = (iso: string) => iso.slice(0, 16).replace("T", " ");
  const when = dates.length === 0
    ? DASH
    : dates[0].slice(0, 10) === dates[dates.length - 1].slice(0, 10)
    ? `${day(dates[0])} to ${dates[dates.length - 1].slice(11, 16)} UTC`
    : `${day(dates[0])} to ${day(dates[dates.length - 1])} UTC`;
  const versions = RUNTIMES.map((rt) => {
    const seen = [
      ...new Set(files.filter((f) => f.runtime === rt).map((f) => f.version)),
    ];
    return `${rt} ${seen.length === 0 ? DASH : seen.join(" / ")}`;
  }).join(", ");
  return { cpu: `${cpus.join(", ")}, ${vcpus} vCPUs`, when, versions };
}

function machineSection(results: Results): string {
  const m = machineLines(results);
  return [
    "## Machine",
    "",
    `- CPU: ${m.cpu}`,
    `- Run: ${m.when}`,
    `- Runtimes: ${m.versions}`,
  ].join("\n");
}

/** The headline table: the numbers the top-level README quotes. */
function headline(results: Results): string {
  const hot = results.get("hot_path") ?? {};
  const lat = results.get("latency") ?? {};
  const mem = results.get("memory") ?? {};
  const e2e = results.get("end_to_end") ?? {};
  const snap = results.get("snapshot") ?? {};
  const http = results.get("http_serve") ?? {};
  const cells = (
    byRuntime: ByRuntime,
    pick: (f: ResultFile) => string | undefined,
  ) => perRuntime(byRuntime, pick).map((cell) => cell ?? DASH);
  const avgNs = (group: string, name: string) =>
    cells(hot, (f) => {
      const r = rowOf(f, group, name);
      return finite(r?.avg) ? ns(r.avg) : undefined;
    });
  const e2eGroup = (prefix: string) =>
    benchmarkKeys(e2e).find((k) => k.group.startsWith(prefix))?.group ?? "";
  const ndjson = e2eGroup("NDJSON");
  const rows = [
    [
      'ns per call, `log.info("hello world", { a: 1, b: "two", c: true })`, caller side',
      ...avgNs(REFERENCE_GROUP, "ttlog"),
    ],
    [
      'the same with `clock: "coarse"`',
      ...avgNs(REFERENCE_GROUP, "ttlog, coarse clock"),
    ],
    ["pino, the same event, to /dev/null", ...avgNs(REFERENCE_GROUP, "pino")],
    ["LogTape, formatting a JSON line", ...avgNs(REFERENCE_GROUP, "logtape")],
    ["winston, JSON into a stream", ...avgNs(REFERENCE_GROUP, "winston")],
    ["ttlog, disabled level", ...avgNs(DISABLED_GROUP, "ttlog")],
    ...["ttlog", "pino"].map((name) => [
      `P99 / P999 ns per call at 50,000 calls/s, ${name}`,
      ...cells(lat, (f) => {
        const p99 = rowOf(f, "P99", name)?.avg;
        const p999 = rowOf(f, "P999", name)?.avg;
        return finite(p99) && finite(p999)
          ? `${ns(p99)} / ${ns(p999)}`
          : undefined;
      }),
    ]),
    [
      "events/s to an NDJSON file until `close()`, ttlog (drain in its worker)",
      ...cells(e2e, (f) => {
        const r = rowOf(f, ndjson, "ttlog, drain in its worker");
        return finite(r?.avg) ? perSecond(r.avg) : undefined;
      }),
    ],
    [
      "the same, pino",
      ...cells(e2e, (f) => {
        const r = rowOf(f, ndjson, "pino");
        return finite(r?.avg) ? perSecond(r.avg) : undefined;
      }),
    ],
    [
      "ring bytes per event: reference call / reference workload",
      ...cells(mem, (f) => {
        const a = rowOf(f, MEMORY_REFERENCE, RING_BYTES_ROW)?.avg;
        const b = rowOf(f, MEMORY_WORKLOAD, RING_BYTES_ROW)?.avg;
        return finite(a) && finite(b)
          ? `${a.toFixed(0)} / ${b.toFixed(0)}`
          : undefined;
      }),
    ],
    [
      "RSS growth, 1,000,000 retained reference calls / workload events",
      ...cells(mem, (f) => {
        const a = rowOf(f, MEMORY_REFERENCE, RETAINED_ROW)?.avg;
        const b = rowOf(f, MEMORY_WORKLOAD, RETAINED_ROW)?.avg;
        return finite(a) && finite(b) ? `${bytes(a)} / ${bytes(b)}` : undefined;
      }),
    ],
    [
      "crash snapshot of a full 64 MiB ring, ms",
      ...cells(snap, (f) => {
        const avg = rowNamed(f, CRASH_PATH_ROW)?.avg;
        return finite(avg) ? ms(avg) : undefined;
      }),
    ],
    [
      "`ttlog view --level error`, events/s",
      ...cells(snap, (f) => {
        const avg = rowNamed(f, VIEW_ROW)?.avg;
        return finite(avg) && f.viewEvents
          ? rate(f.viewEvents / (avg / 1e9))
          : undefined;
      }),
    ],
    [
      "hello-world server requests/s lost to `withLogging` (NDJSON / .ttlog) / to pino doing the same / to a bare pino line",
      ...cells(http, (f) => {
        const bare = f.rps?.bare;
        const lost = ["ttlog", "ttlog-bin", "pino-full", "pino"].map((v) =>
          f.rps?.[v]
        );
        return finite(bare) && lost.every(finite)
          ? lost.map((v) => `${((1 - v! / bare) * 100).toFixed(0)}%`)
            .join(" / ")
          : undefined;
      }),
    ],
  ];
  const hotRatio = cells(hot, (f) => {
    const r = hotPathRatio(f, REFERENCE_GROUP);
    return finite(r) ? times(1 / r) : undefined;
  });
  rows.splice(3, 0, ["ttlog's call is cheaper than pino's by", ...hotRatio]);
  return table(["", ...RUNTIMES], rows, 1);
}

/** The top-level README's Speed section body. */
function speedSection(results: Results): string {
  const m = machineLines(results);
  return [
    SPEED_START,
    "",
    `From \`npm run bench\` (results of ${m.when}) on ${m.cpu} (shared;`,
    `${m.versions}), peers measured in the same process or the same run;`,
    "setups, spreads and every other scenario in",
    "[bench/README.md](bench/README.md):",
    "",
    headline(results),
    "",
    "Reproduce with `npm install && npm run bench` (every scenario on the",
    "three runtimes, about 20 minutes; `node scripts/bench.mjs hot_path deno`",
    "for one scenario on one runtime). Timings on shared vCPUs vary from run",
    "to run: compare numbers within one column.",
    "",
    SPEED_END,
  ].join("\n");
}

function render(results: Results): string {
  const renderers: Record<string, (b: ByRuntime) => string> = {
    hot_path: hotPathSection,
    latency: latencySection,
    memory: memorySection,
    end_to_end: endToEndSection,
    snapshot: snapshotSection,
    http_serve: httpSection,
    replay: replaySection,
    cpu: cpuSection,
    codec: codecSection,
  };
  const sections = [
    "# ttlog benchmarks",
    "",
    "Generated by `bench/report.ts` from `bench/results/*.json`; do not edit",
    "by hand.",
    "",
    "## Reproduce",
    "",
    "```sh",
    "npm install",
    "npm run bench                          # every scenario on deno, bun, node (about 20 minutes)",
    "node scripts/bench.mjs hot_path        # one scenario",
    "node scripts/bench.mjs end_to_end bun  # one scenario on one runtime",
    "TTLOG_BENCH_ROUNDS=3 npm run bench     # fewer rounds (default 5; latency 6)",
    "```",
    "",
    "Each scenario in `bench/*.ts` runs under `deno run -A`, `bun` and `tsx`",
    "in turn and saves `bench/results/<scenario>-<runtime>.json`; this page",
    "and the Speed section of the top-level README are then rewritten from",
    "those files. Peers (pino, LogTape, winston, console) run in the same",
    "process as ttlog, in interleaved rounds.",
    "",
    machineSection(results),
    "",
    "## Headline",
    "",
    headline(results),
  ];
  for (const scenario of orderedScenarios(results)) {
    const byRuntime = results.get(scenario) ?? {};
    const renderer = renderers[scenario];
    sections.push(
      "",
      renderer === undefined
        ? genericSection(scenario, byRuntime)
        : renderer(byRuntime),
    );
  }
  sections.push("", targetsSection(results), "", NOTES, "");
  return sections.join("\n");
}

/** Replaces the Speed section between its markers, if the README has them. */
function updateTopReadme(results: Results): boolean {
  if (!existsSync(topReadme)) return false;
  const text = readFileSync(topReadme, "utf8");
  const start = text.indexOf(SPEED_START);
  const end = text.indexOf(SPEED_END);
  if (start === -1 || end === -1 || end < start) return false;
  const updated = text.slice(0, start) + speedSection(results) +
    text.slice(end + SPEED_END.length);
  writeFileSync(topReadme, updated);
  return true;
}

const results = loadResults();
writeFileSync(benchReadme, render(results));
const readmeUpdated = updateTopReadme(results);
console.log(
  `bench/README.md written from ${
    [...results.values()].reduce((n, r) => n + Object.keys(r).length, 0)
  } result files${readmeUpdated ? "; README.md Speed section rewritten" : ""}`,
);
