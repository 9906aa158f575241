/**
 * What bench/README.md and the top-level README.md say of the whole run:
 * the machine, the headline table, the targets of issues 2, 4, 7 and 18
 * with their verdicts, and the top-level README's Speed section.
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
  ns,
  perRuntime,
  perSecond,
  rate,
  REFERENCE_GROUP,
  type ResultFile,
  type Results,
  rowNamed,
  rowOf,
  RUNTIMES,
  table,
  times,
} from "./report_tables.ts";

export const SPEED_START = "<!-- bench:speed:start -->";
export const SPEED_END = "<!-- bench:speed:end -->";

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
/** Issue 18: the crash snapshot of a full ring, and ring bytes per event. */
const TARGET_SNAPSHOT_MS_18 = 150;
const TARGET_RING_BYTES_18 = { reference: 24, workload: 40 };
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

/** Issue 18: the whole process's CPU per event at least this far under pino's. */
const TARGET_CPU_RATIO = 5;

function verdict(met: boolean | undefined, detail: string): string {
  if (met === undefined) return DASH;
  return `${met ? "met" : "**not met**"} (${detail})`;
}

export function targetsSection(results: Results): string {
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
  const ringBytes = (group: string, limit: number) =>
    cells(memory, (f) => {
      const b = rowOf(f, group, RING_BYTES_ROW)?.avg;
      return finite(b) ? verdict(b <= limit, `${b.toFixed(1)} B`) : undefined;
    });
  const rows = [
    [
      "18",
      `ring bytes per reference event <= ${TARGET_RING_BYTES_18.reference}`,
      ...ringBytes(MEMORY_REFERENCE, TARGET_RING_BYTES_18.reference),
    ],
    [
      "18",
      `ring bytes per reference-workload event <= ${TARGET_RING_BYTES_18.workload}`,
      ...ringBytes(MEMORY_WORKLOAD, TARGET_RING_BYTES_18.workload),
    ],
    [
      "18",
      `crash snapshot of a full 64 MiB ring < ${TARGET_SNAPSHOT_MS_18} ms`,
      ...cells(snap, (f) => {
        const avg = rowNamed(f, CRASH_PATH_ROW)?.avg;
        return finite(avg)
          ? verdict(avg / 1e6 < TARGET_SNAPSHOT_MS_18, `${ms(avg)} ms`)
          : undefined;
      }),
    ],
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

export function machineSection(results: Results): string {
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
export function headline(results: Results): string {
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
export function speedSection(results: Results): string {
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
