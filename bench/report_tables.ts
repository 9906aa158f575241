/**
 * The result files' shapes and what every part of bench/report.ts formats
 * them with: the number formats (ns, ms, rates, bytes, spreads), Markdown
 * tables, row lookups, and the per-scenario table with its spread summary.
 *
 * @module
 */

export const RUNTIMES = ["deno", "bun", "node"] as const;
export type RuntimeName = typeof RUNTIMES[number];

/** A row whose rounds disagree by more than this is marked. */
const SPREAD_LIMIT = 0.05;
export const MARK = "⚠";

export const REFERENCE_GROUP = "reference call: message + 3 fields";

export interface Row {
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

export interface ResultFile {
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

export type ByRuntime = Partial<Record<RuntimeName, ResultFile>>;
/** Per scenario, per runtime: one result file. */
export type Results = Map<string, ByRuntime>;

export const DASH = "—";

// --- Number formats -------------------------------------------------------

export function finite(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value);
}

/** Nanoseconds with as many digits as they deserve. */
export function ns(value: number | undefined): string {
  if (!finite(value)) return DASH;
  if (value < 10) return value.toFixed(2);
  if (value < 100) return value.toFixed(1);
  return Math.round(value).toLocaleString("en-US");
}

export function ms(value: number | undefined): string {
  if (!finite(value)) return DASH;
  return (value / 1e6).toFixed(value < 1e7 ? 1 : 0);
}

export function rate(value: number | undefined): string {
  if (!finite(value)) return DASH;
  if (value >= 1e6) return (value / 1e6).toFixed(2) + " M";
  if (value >= 1e3) return (value / 1e3).toFixed(0) + " k";
  return value.toFixed(0);
}

export function perSecond(nsPer: number | undefined): string {
  return finite(nsPer) && nsPer > 0 ? rate(1e9 / nsPer) : DASH;
}

export function bytes(value: number | undefined): string {
  if (!finite(value)) return DASH;
  if (Math.abs(value) < 1000) return `${value.toFixed(1)} B`;
  return `${(value / 1e6).toFixed(1)} MB`;
}

export function times(value: number | undefined): string {
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

export function table(
  header: string[],
  rows: string[][],
  textColumns = 2,
): string {
  const line = (cells: string[]) =>
    `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
  return [
    line(header),
    line(header.map((_, i) => (i < textColumns ? "---" : "---:"))),
    ...rows.map(line),
  ].join("\n");
}

export function rowOf(
  file: ResultFile | undefined,
  group: string,
  name: string,
): Row | undefined {
  return file?.rows.find((r) => r.group === group && r.name === name);
}

export function rowNamed(
  file: ResultFile | undefined,
  name: string,
): Row | undefined {
  return file?.rows.find((r) => r.name === name);
}

/** Every (group, name) pair in any runtime's file, in first-seen order. */
export function benchmarkKeys(
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

export function perRuntime<T>(
  byRuntime: ByRuntime,
  pick: (file: ResultFile) => T | undefined,
): (T | undefined)[] {
  return RUNTIMES.map((rt) => {
    const file = byRuntime[rt];
    return file === undefined ? undefined : pick(file);
  });
}

/** The reason a row has no number, from whichever runtime has it. */
export function naReason(
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
export function scenarioTable(
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
export function spreadSummary(byRuntime: ByRuntime): string {
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

export function hotPathRatio(
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
