/**
 * Turns bench/results/*.json (written by the scenarios through
 * bench/results.ts) into bench/README.md: the machine, the runtimes, one
 * table per scenario, the issue-2 targets and notes. `npm run bench` runs it
 * last, then `deno fmt` on the page (which aligns the tables); on its own:
 * `tsx bench/report.ts && deno fmt bench/README.md`.
 *
 * @module
 */

import { readdirSync, readFileSync, writeFileSync } from "node:fs";

const RUNTIMES = ["deno", "bun", "node"] as const;
type RuntimeName = typeof RUNTIMES[number];

/** The order scenarios appear in; any other scenario follows, by name. */
const SCENARIO_ORDER = ["hot_path", "end_to_end", "snapshot"];

const REFERENCE_GROUP = "reference call: message + 3 fields";
const DISABLED_GROUP = "disabled level";

/** Issue 2's targets. */
const TARGET_RATIO = 0.1;
const TARGET_DISABLED_NS = 5;
const TARGET_BYTES = 48;

/** Issue 4's targets. */
const CRASH_PATH_ROW = "crash path: writeSnapshotSync, lz4";
const SNAPSHOT_ROW = "await log.snapshot(), lz4";
const TARGET_SNAPSHOT_MS = 250;
const TARGET_DISK_BYTES = 12;
const TARGET_VIEW_RATE = 3e6;

interface Row {
  group: string;
  name: string;
  avg?: number;
  p50?: number;
  p99?: number;
  min?: number;
  max?: number;
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
  bytesPerEvent?: number;
  events?: number;
  ttlogAccounting?: Accounting;
  /** snapshot: on-disk bytes per event, by condition, then by format. */
  bytesPerEventOnDisk?: Record<string, Record<string, number>>;
  /** snapshot: events in the full ring. */
  fullRingEvents?: number;
  /** snapshot: events in the file `ttlog view` reads. */
  viewEvents?: number;
  /** snapshot: `ttlog view --level error` rate. */
  viewEventsPerSecond?: number;
}

/** Per scenario, per runtime: one result file. */
type Results = Map<string, Partial<Record<RuntimeName, ResultFile>>>;

const resultsDir = new URL("./results/", import.meta.url);
const readmeUrl = new URL("./README.md", import.meta.url);

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

/** Nanoseconds with as many digits as they deserve. */
function ns(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return DASH;
  if (value < 10) return value.toFixed(2);
  if (value < 100) return value.toFixed(1);
  return Math.round(value).toLocaleString("en-US");
}

function rate(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return DASH;
  if (value >= 1e6) return (value / 1e6).toFixed(2) + " M";
  if (value >= 1e3) return (value / 1e3).toFixed(0) + " k";
  return value.toFixed(0);
}

function ratio(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return DASH;
  // Three significant digits, so a ratio just past a target never prints as
  // the target itself.
  return value < 1
    ? `${value.toPrecision(3)} (${(1 / value).toFixed(1)}x faster)`
    : `${value.toPrecision(3)} (${value.toFixed(1)}x slower)`;
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [
    line(header),
    line(
      header.map((
        _,
        i,
      ) => (i < header.length - RUNTIMES.length ? "---" : "---:")),
    ),
    ...rows.map(line),
  ].join("\n");
}

function rowOf(file: ResultFile | undefined, group: string, name: string) {
  return file?.rows.find((r) => r.group === group && r.name === name);
}

/** Every (group, name) pair in any runtime's file, in first-seen order. */
function benchmarkKeys(
  byRuntime: Partial<Record<RuntimeName, ResultFile>>,
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

/** The group column shows a group's name on its first row only. */
function groupCells(keys: { group: string }[]): string[] {
  return keys.map((k, i) =>
    i > 0 && keys[i - 1].group === k.group ? "" : k.group || DASH
  );
}

function perRuntime<T>(
  byRuntime: Partial<Record<RuntimeName, ResultFile>>,
  pick: (file: ResultFile) => T | undefined,
): (T | undefined)[] {
  return RUNTIMES.map((rt) => {
    const file = byRuntime[rt];
    return file === undefined ? undefined : pick(file);
  });
}

function hotPathRatio(
  file: ResultFile,
  name = "ttlog",
): number | undefined {
  const ttlog = rowOf(file, REFERENCE_GROUP, name)?.avg;
  const pino = rowOf(file, REFERENCE_GROUP, "pino")?.avg;
  return ttlog !== undefined && pino ? ttlog / pino : undefined;
}

function hotPathSection(
  byRuntime: Partial<Record<RuntimeName, ResultFile>>,
): string {
  const keys = benchmarkKeys(byRuntime);
  const groups = groupCells(keys);
  const rows = keys.map((k, i) => [
    groups[i],
    k.name,
    ...perRuntime(byRuntime, (f) => rowOf(f, k.group, k.name)?.avg).map(ns),
  ]);
  rows.push([
    "**ttlog / pino**",
    "reference call",
    ...perRuntime(byRuntime, (f) => hotPathRatio(f)).map(ratio),
  ]);
  rows.push([
    "**ttlog / pino**",
    "reference call, coarse clock",
    ...perRuntime(byRuntime, (f) => hotPathRatio(f, "ttlog, coarse clock")).map(
      ratio,
    ),
  ]);
  rows.push([
    "**ring bytes**",
    "per reference event",
    ...perRuntime(byRuntime, (f) => f.bytesPerEvent).map((b) =>
      b === undefined ? DASH : b.toFixed(1)
    ),
  ]);
  const clock = perRuntime(
    byRuntime,
    (f) => rowOf(f, "clock", "Date.now()")?.avg,
  );
  const ttlogRef = perRuntime(
    byRuntime,
    (f) => rowOf(f, REFERENCE_GROUP, "ttlog")?.avg,
  );
  const clockShare = RUNTIMES.map((rt, i) => {
    const c = clock[i], t = ttlogRef[i];
    return c === undefined || t === undefined
      ? `- ${rt}: ${DASH}`
      : `- ${rt}: ${ns(c)} ns, ${Math.round((100 * c) / t)}% of ttlog's ${
        ns(t)
      } ns reference call`;
  });
  return [
    "## Hot path: caller-side cost of one call",
    "",
    "`bench/hot_path.ts`. Average ns per call (mitata `avg`), lower is better.",
    "ttlog's ring overwrites and its sink discards, so ttlog's rows are what",
    "the calling code pays; the drain runs after the current task, outside the",
    "timed loop. pino writes to /dev/null through `pino.destination` (async",
    "sonic-boom); LogTape to a sink that discards.",
    "",
    table(["group", "benchmark", ...RUNTIMES], rows),
    "",
    "Clock: ttlog reads `Date.now()` once per recorded event. One read:",
    "",
    ...clockShare,
    "",
    "Ring bytes are measured on a default logger after 1,000 reference events",
    "(`recordedBytes / recorded`, padding included).",
  ].join("\n");
}

function eventsPerSecond(file: ResultFile, name: string): number | undefined {
  const row = file.rows.find((r) => r.name === name);
  return row?.avg && file.events ? file.events / (row.avg / 1e9) : undefined;
}

function endToEndSection(
  byRuntime: Partial<Record<RuntimeName, ResultFile>>,
): string {
  const keys = benchmarkKeys(byRuntime);
  const events = RUNTIMES.map((rt) => byRuntime[rt]?.events).find((n) =>
    n !== undefined
  );
  const rows = keys.map((k) => [
    k.name,
    ...perRuntime(byRuntime, (f) => {
      const perSecond = eventsPerSecond(f, k.name);
      const avg = rowOf(f, k.group, k.name)?.avg;
      return perSecond === undefined || avg === undefined
        ? undefined
        : `${rate(perSecond)} (${(avg / 1e6).toFixed(0)} ms)`;
    }).map((cell) => cell ?? DASH),
  ]);
  for (const peer of ["pino", "logtape"]) {
    if (!keys.some((k) => k.name === peer)) continue;
    rows.push([
      `**ttlog / ${peer}** (throughput)`,
      ...perRuntime(byRuntime, (f) => {
        const t = eventsPerSecond(f, "ttlog");
        const p = eventsPerSecond(f, peer);
        return t !== undefined && p ? `${(t / p).toFixed(2)}x` : undefined;
      }).map((cell) => cell ?? DASH),
    ]);
  }
  rows.push([
    "ttlog accounting",
    ...perRuntime(byRuntime, (f) => {
      const a = f.ttlogAccounting;
      if (a === undefined) return undefined;
      return a.ok
        ? `ok: ${a.emitted.toLocaleString("en-US")} emitted = logged`
        : `**LOSS**: logged ${a.logged}, emitted ${a.emitted}, lost ${a.lost}, dropped ${a.dropped}`;
    }).map((cell) => cell ?? DASH),
  ]);
  return [
    "## End to end: the whole batch, logged and out",
    "",
    "`bench/end_to_end.ts`. Events per second over a batch of",
    `${
      events?.toLocaleString("en-US") ?? "N"
    } reference events (mitata \`avg\` per batch in parentheses), higher`,
    "is better. ttlog: a 64 MiB `block` ring (nothing overwritten or dropped),",
    "the inline drain decoding every record and a sink formatting it with",
    "`ndjsonFormatter()` and dropping the string, then `await log.flush()`.",
    'pino: `pino.destination({ dest: "/dev/null", sync: false })`, then its',
    "flush and sonic-boom's `drain`. LogTape: a sink that `JSON.stringify`s",
    "the record and drops it.",
    "",
    table(["logger", ...RUNTIMES], rows),
  ].join("\n");
}

function ms(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return DASH;
  return (value / 1e6).toFixed(value < 1e7 ? 1 : 0);
}

function snapshotSection(
  byRuntime: Partial<Record<RuntimeName, ResultFile>>,
): string {
  const keys = benchmarkKeys(byRuntime);
  const groups = groupCells(keys);
  const timing = keys.map((k, i) => [
    groups[i],
    k.name,
    ...perRuntime(byRuntime, (f) => rowOf(f, k.group, k.name)?.avg).map(ms),
  ]);
  timing.push([
    "**ttlog view rate**",
    "events per second",
    ...perRuntime(byRuntime, (f) => f.viewEventsPerSecond).map(rate),
  ]);
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
      ).map((b) => b === undefined ? DASH : b.toFixed(2)),
    ])
  );
  const full = RUNTIMES.flatMap((rt) => {
    const n = byRuntime[rt]?.fullRingEvents;
    return n === undefined ? [] : [`${n.toLocaleString("en-US")} (${rt})`];
  });
  return [
    "## Snapshots and .ttlog files",
    "",
    "`bench/snapshot.ts`. Times in ms (mitata `avg`), lower is better. A full",
    `64 MiB ring holds ${
      full.length === 0 ? "about a million" : full.join(", ")
    } reference-workload events (\`bench/workload.ts\`); the`,
    "crash path is `writeSnapshotSync` over the logger's ring (what a crash",
    "or signal writes, synchronously), `log.snapshot()` the same behind a",
    "promise; the parts are the crash path's three steps before the write.",
    "`ttlog view` reads a 1,000,000-event snapshot, keeps the error events and",
    "formats them as text, output dropped.",
    "",
    table(["group", "benchmark", ...RUNTIMES], timing),
    "",
    "On-disk bytes per event, 100,000 reference events: a snapshot (.ttlog,",
    'LZ4 or gzip), `fileSink({ format: "ttlog", compression: "lz4" })`,',
    "and pino's NDJSON of the same events with node:zlib's gzip. In a tight",
    "loop the events' times are nearly equal; at 500 events/s `Date.now()` is",
    "stepped by random gaps, as a service's would be.",
    "",
    table(["timing", "format", ...RUNTIMES], sizeRows),
  ].join("\n");
}

function snapshotTargets(
  byRuntime: Partial<Record<RuntimeName, ResultFile>> | undefined,
): string {
  if (byRuntime === undefined) {
    return "## Targets (issue 4)\n\nNo snapshot results: run `npm run bench`.";
  }
  const timeTarget = (name: string) =>
    perRuntime(byRuntime, (f) => {
      const avg = rowOf(
        f,
        f.rows.find((r) => r.name === name)?.group ?? "",
        name,
      )?.avg;
      return avg === undefined
        ? undefined
        : verdict(avg / 1e6 < TARGET_SNAPSHOT_MS, `${ms(avg)} ms`);
    }).map((cell) => cell ?? DASH);
  const bytesTarget = (condition: string) =>
    perRuntime(byRuntime, (f) => {
      const b = f.bytesPerEventOnDisk?.[condition]?.["snapshot lz4"];
      return b === undefined
        ? undefined
        : verdict(b <= TARGET_DISK_BYTES, `${b.toFixed(2)} B`);
    }).map((cell) => cell ?? DASH);
  const rows = [
    [
      `crash snapshot of a full 64 MiB ring < ${TARGET_SNAPSHOT_MS} ms`,
      ...timeTarget(CRASH_PATH_ROW),
    ],
    [
      `\`await log.snapshot()\` of it < ${TARGET_SNAPSHOT_MS} ms`,
      ...timeTarget(SNAPSHOT_ROW),
    ],
    [
      `.ttlog+LZ4 <= ${TARGET_DISK_BYTES} bytes per event (tight loop)`,
      ...bytesTarget("tight loop"),
    ],
    [
      `the same at 500 events/s`,
      ...bytesTarget("500 events/s"),
    ],
    [
      `\`ttlog view --level error\` >= ${TARGET_VIEW_RATE / 1e6} M events/s`,
      ...perRuntime(byRuntime, (f) => {
        const r = f.viewEventsPerSecond;
        return r === undefined
          ? undefined
          : verdict(r >= TARGET_VIEW_RATE, `${rate(r)}/s`);
      }).map((cell) => cell ?? DASH),
    ],
  ];
  return [
    "## Targets (issue 4)",
    "",
    "Computed from the snapshot tables above, per runtime.",
    "",
    table(["target", ...RUNTIMES], rows),
  ].join("\n");
}

function genericSection(
  scenario: string,
  byRuntime: Partial<Record<RuntimeName, ResultFile>>,
): string {
  const keys = benchmarkKeys(byRuntime);
  const groups = groupCells(keys);
  const rows = keys.map((k, i) => [
    groups[i],
    k.name,
    ...perRuntime(byRuntime, (f) => rowOf(f, k.group, k.name)?.avg).map(ns),
  ]);
  return [
    `## ${scenario}`,
    "",
    `\`bench/${scenario}.ts\`. Average ns per iteration, lower is better.`,
    "",
    table(["group", "benchmark", ...RUNTIMES], rows),
  ].join("\n");
}

function verdict(met: boolean | undefined, detail: string): string {
  if (met === undefined) return DASH;
  return `${met ? "met" : "**not met**"} (${detail})`;
}

function targetsSection(results: Results): string {
  const hot = results.get("hot_path");
  if (hot === undefined) {
    return "## Targets (issue 2)\n\nNo hot_path results: run `npm run bench`.";
  }
  const rows = [
    [
      `caller-side cost <= 1/${1 / TARGET_RATIO} of pino's (reference call)`,
      ...perRuntime(hot, (f) => {
        const r = hotPathRatio(f);
        return r === undefined ? undefined : verdict(
          r <= TARGET_RATIO,
          `${r.toPrecision(3)}, ${(1 / r).toFixed(1)}x`,
        );
      }).map((cell) => cell ?? DASH),
    ],
    [
      `the same with \`clock: "coarse"\``,
      ...perRuntime(hot, (f) => {
        const r = hotPathRatio(f, "ttlog, coarse clock");
        return r === undefined ? undefined : verdict(
          r <= TARGET_RATIO,
          `${r.toPrecision(3)}, ${(1 / r).toFixed(1)}x`,
        );
      }).map((cell) => cell ?? DASH),
    ],
    [
      `disabled level < ${TARGET_DISABLED_NS} ns`,
      ...perRuntime(hot, (f) => {
        const avg = rowOf(f, DISABLED_GROUP, "ttlog")?.avg;
        return avg === undefined
          ? undefined
          : verdict(avg < TARGET_DISABLED_NS, `${ns(avg)} ns`);
      }).map((cell) => cell ?? DASH),
    ],
    [
      `<= ${TARGET_BYTES} ring bytes per reference event`,
      ...perRuntime(hot, (f) => {
        const b = f.bytesPerEvent;
        return b === undefined
          ? undefined
          : verdict(b <= TARGET_BYTES, `${b.toFixed(1)} B`);
      }).map((cell) => cell ?? DASH),
    ],
  ];
  return [
    "## Targets (issue 2)",
    "",
    "Computed from the hot-path table above, per runtime.",
    "",
    table(["target", ...RUNTIMES], rows),
  ].join("\n");
}

const NOTES = [
  "## Notes",
  "",
  "- ttlog's hot-path numbers exclude the drain: decoding and formatting run",
  "  in the drain's worker thread, outside the timed call. pino and LogTape",
  "  format inside the call. The end-to-end scenario runs ttlog's drain on",
  "  the caller's thread and is the full-cost comparison on one thread;",
  "  worker_file is the full cost with the drain in its worker.",
  "- In end_to_end pino also pays write(2) calls to /dev/null; ttlog and",
  "  LogTape discard the formatted string in memory.",
  "- In hot_path, ttlog's drain (and, for the coarse clock, its clock",
  "  thread) runs on the second vCPU while ttlog's rows are timed, as in",
  "  production; pino's asynchronous writes use libuv's thread pool.",
  "- Timings on 2 shared vCPUs vary 30-50% from run to run, and each runtime",
  "  runs in its own process at a different moment. Compare ratios from one",
  "  run (one column), not absolute numbers across runs or runtimes.",
  "- Sub-10 ns rows (clock-free paths such as a disabled level) sit near the",
  '  timer\'s resolution; read them as "a few ns", not to the decimal.',
  "- `avg` is the mean: a long tail (GC, a drain pass landing in a sample)",
  "  lifts it above the median; the JSON files also keep p50, p99, min and",
  "  max.",
].join("\n");

function machineSection(results: Results): string {
  const files = [...results.values()].flatMap((byRuntime) =>
    RUNTIMES.flatMap((rt) => byRuntime[rt] ?? [])
  );
  const cpus = [...new Set(files.map((f) => f.cpu || "unknown CPU"))];
  const counts = [
    ...new Set(files.map((f) => f.cpus).filter((n) => n !== undefined)),
  ];
  const vcpus = counts.length === 0 ? "2" : counts.join("/");
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
  });
  return [
    "## Machine",
    "",
    `- CPU: ${cpus.join(", ")}, ${vcpus} vCPUs (shared)`,
    `- Run: ${when}`,
    `- Runtimes: ${versions.join(", ")}`,
  ].join("\n");
}

function render(results: Results): string {
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
    "npm run bench                          # every scenario on deno, bun, node (a few minutes)",
    "node scripts/bench.mjs hot_path        # one scenario",
    "node scripts/bench.mjs end_to_end bun  # one scenario on one runtime",
    "```",
    "",
    "Each scenario in `bench/*.ts` runs under `deno run -A`, `bun` and `tsx`",
    "in turn and saves `bench/results/<scenario>-<runtime>.json`; this page is",
    "then rewritten from those files.",
    "",
    machineSection(results),
  ];
  for (const scenario of orderedScenarios(results)) {
    const byRuntime = results.get(scenario) ?? {};
    sections.push(
      "",
      scenario === "hot_path"
        ? hotPathSection(byRuntime)
        : scenario === "end_to_end"
        ? endToEndSection(byRuntime)
        : scenario === "snapshot"
        ? snapshotSection(byRuntime)
        : genericSection(scenario, byRuntime),
    );
  }
  sections.push(
    "",
    targetsSection(results),
    "",
    snapshotTargets(results.get("snapshot")),
    "",
    NOTES,
    "",
  );
  return sections.join("\n");
}

const results = loadResults();
writeFileSync(readmeUrl, render(results));
console.log(
  `bench/README.md written from ${
    [...results.values()].reduce((n, r) => n + Object.keys(r).length, 0)
  } result files`,
);
