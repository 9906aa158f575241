/**
 * `ttlog stats`: counts by level, target and call site, events per second
 * over time, the busiest call sites, losses, and the first and last event.
 *
 * A call site is where an event came from: its level, target and message
 * template. Records read with the reader's `templates` option carry their
 * site's text parts, so a tagged template's events group as one site, shown
 * with `{}` where its values go (`query took {}ms`); records without a
 * template (built by hand) group by their rendered message.
 *
 * Events per second: the span from the first to the last event is cut into
 * buckets of a round size (1 ms up to a day: 1, 2, 5, 10... ms, 1, 2, 5, 10,
 * 15, 30 s, 1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6, 12 h, 1 d), the smallest
 * that needs at most 60 buckets, aligned on multiples of the size.
 *
 * @module
 */

import { LEVEL_NAMES } from "../level.ts";
import type { LogRecord } from "../record/values.ts";
import type { ReadResult } from "../reader/read.ts";

/** One bucket of the events-per-second series. */
export interface RateBucket {
  /** The bucket's start (ISO). */
  readonly start: string;
  /** Events in it. */
  readonly events: number;
  /** Events per second in it. */
  readonly perSecond: number;
}

/** Templates as site keys, joined once per template array. */
const siteKeys = new WeakMap<readonly string[], string>();

/** A record's call site: its template with `{}` for values, else its message. */
function siteKey(record: LogRecord): string {
  const template = record.template;
  if (template === undefined) return record.msg;
  let key = siteKeys.get(template);
  if (key === undefined) {
    key = template.join("{}");
    siteKeys.set(template, key);
  }
  return key;
}

/** One call site's count. */
export interface SiteCount {
  /** Its level. */
  readonly level: string;
  /** Its target. */
  readonly target: string;
  /** Its message: the template, `{}` where values go. */
  readonly msg: string;
  /** Events from it. */
  readonly count: number;
}

/** What `ttlog stats` reports (its `--json` output). */
export interface Stats {
  /** Events in all (loss records excluded). */
  readonly events: number;
  /** The first event's time (ISO), if any. */
  readonly first?: string;
  /** The last event's time (ISO), if any. */
  readonly last?: string;
  /** Milliseconds from the first to the last event. */
  readonly spanMs: number;
  /** Events per level, lowest level first. */
  readonly levels: Record<string, number>;
  /** Events per target, most first. */
  readonly targets: Record<string, number>;
  /** Distinct call sites. */
  readonly siteCount: number;
  /** The busiest call sites, most first. */
  readonly sites: SiteCount[];
  /** Events per second over time. */
  readonly rate: {
    /** The bucket size in ms. */
    readonly bucketMs: number;
    /** The busiest bucket's rate. */
    readonly peakPerSecond: number;
    /** Events per second over all the buckets (so never above the peak). */
    readonly meanPerSecond: number;
    /** The buckets, oldest first. */
    readonly buckets: RateBucket[];
  };
  /** What was lost before it could be recorded or read. */
  readonly losses: {
    /** Events lost in all: loss chunks plus "lost N events" records. */
    readonly lost: number;
    /** Loss chunks in the files. */
    readonly lossChunks: number;
    /** "lost N events" records (target ttlog) among the events. */
    readonly lossRecords: number;
    /** Lost events by reason. */
    readonly byReason: Record<string, number>;
    /** Records that could not be decoded (skipped). */
    readonly undecodable: number;
  };
  /** Per file: its path, service, reason, events, and truncation. */
  readonly files: {
    path: string;
    service?: unknown;
    reason?: unknown;
    events: number;
    truncatedAt?: number;
  }[];
}

const STEPS_MS = [
  1,
  2,
  5,
  10,
  20,
  50,
  100,
  200,
  500,
  1000,
  2000,
  5000,
  10_000,
  15_000,
  30_000,
  60_000,
  120_000,
  300_000,
  600_000,
  900_000,
  1_800_000,
  3_600_000,
  7_200_000,
  10_800_000,
  21_600_000,
  43_200_000,
  86_400_000,
];

/** The most buckets the rate series has. */
export const MAX_BUCKETS = 60;

/**
 * The bucket size for a span: the smallest round size giving at most
 * {@link MAX_BUCKETS} aligned buckets (past a day per bucket: whole days).
 *
 * @param first The first event's time (ms).
 * @param last The last event's time (ms).
 * @returns The bucket size in ms.
 *
 * @example One-second buckets for a 40-second span
 * ```ts
 * import { bucketSize } from "./stats.ts";
 * import assert from "node:assert/strict";
 * assert.equal(bucketSize(0, 40_000), 1000);
 * assert.equal(bucketSize(0, 250), 5);
 * assert.equal(bucketSize(0, 300), 10); // 5 ms would need 61 buckets
 * ```
 */
export function bucketSize(first: number, last: number): number {
  const count = (size: number) =>
    Math.floor(last / size) - Math.floor(first / size) + 1;
  for (const size of STEPS_MS) if (count(size) <= MAX_BUCKETS) return size;
  const day = 86_400_000;
  return Math.ceil((last - first) / day / (MAX_BUCKETS - 1)) * day;
}

const LOSS_MSG = /^lost (\d+) events$/;

function isLossRecord(record: LogRecord): boolean {
  return record.target === "ttlog" && LOSS_MSG.test(record.msg);
}

/**
 * Counts the records (already filtered and merged).
 *
 * @param records The events, loss records included.
 * @param read What was read (losses, undecodable records, files).
 * @param top How many call sites to list.
 * @returns The statistics.
 *
 * @example Count three events
 * ```ts
 * import { statsOf } from "./stats.ts";
 * import assert from "node:assert/strict";
 * const event = (time: number, level: "info" | "error", msg: string) =>
 *   ({ time, level, target: "", msg, fields: {}, service: "", seq: 0 });
 * const stats = statsOf(
 *   [event(0, "info", "a"), event(500, "info", "a"), event(1500, "error", "b")],
 *   { files: [], streams: [], oldest: 0, newest: 1500 },
 *   10,
 * );
 * assert.deepEqual(stats.levels, { info: 2, error: 1 });
 * assert.equal(stats.sites[0].msg, "a");
 * assert.equal(stats.rate.bucketMs, 50);
 * ```
 */
export function statsOf(
  records: readonly LogRecord[],
  read: ReadResult,
  top: number,
): Stats {
  const levelCounts = new Map<string, number>();
  const targetCounts = new Map<string, number>();
  // level -> target -> msg -> count: no key strings built per event.
  const siteCounts = new Map<string, Map<string, Map<string, number>>>();
  let events = 0;
  let first = Infinity;
  let last = -Infinity;
  let lossRecords = 0;
  let lostInRecords = 0;
  const byReason: Record<string, number> = {};
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    if (record.seq === -1 || isLossRecord(record)) {
      // Loss chunks are counted from the files below; records in the events.
      if (record.seq !== -1) {
        lossRecords++;
        const lost = Number(LOSS_MSG.exec(record.msg)![1]);
        lostInRecords += lost;
        const reason = String(record.fields.reason ?? "");
        byReason[reason] = (byReason[reason] ?? 0) + lost;
      } else continue;
    }
    events++;
    const time = record.time;
    if (time < first) first = time;
    if (time > last) last = time;
    levelCounts.set(record.level, (levelCounts.get(record.level) ?? 0) + 1);
    targetCounts.set(
      record.target,
      (targetCounts.get(record.target) ?? 0) + 1,
    );
    let byTarget = siteCounts.get(record.level);
    if (byTarget === undefined) {
      siteCounts.set(record.level, byTarget = new Map());
    }
    let byMsg = byTarget.get(record.target);
    if (byMsg === undefined) byTarget.set(record.target, byMsg = new Map());
    const site = siteKey(record);
    byMsg.set(site, (byMsg.get(site) ?? 0) + 1);
  }

  const levels: Record<string, number> = {};
  for (const name of LEVEL_NAMES) {
    const count = levelCounts.get(name);
    if (count !== undefined) levels[name] = count;
  }
  const targets: Record<string, number> = {};
  for (
    const [target, count] of [...targetCounts].sort((a, b) =>
      b[1] - a[1] || (a[0] < b[0] ? -1 : 1)
    )
  ) targets[target] = count;

  let siteCount = 0;
  // Keep the top N while counting: distinct messages may be as many as events.
  let best: SiteCount[] = [];
  let floor = 0;
  for (const [level, byTarget] of siteCounts) {
    for (const [target, byMsg] of byTarget) {
      for (const [msg, count] of byMsg) {
        siteCount++;
        if (best.length >= top && count <= floor) continue;
        best.push({ level, target, msg, count });
        if (best.length >= 2 * top + 64) {
          best = sortSites(best).slice(0, top);
          floor = best.at(-1)?.count ?? 0;
        }
      }
    }
  }
  const sites = sortSites(best).slice(0, top);

  let lostInChunks = 0;
  let lossChunks = 0;
  let undecodable = 0;
  for (const file of read.files) {
    undecodable += file.undecodable;
    for (const loss of file.losses) {
      lossChunks++;
      lostInChunks += loss.lost;
      byReason[loss.reason] = (byReason[loss.reason] ?? 0) + loss.lost;
    }
  }

  const any = events > 0;
  const spanMs = any ? last - first : 0;
  const bucketMs = any ? bucketSize(first, last) : 1000;
  const buckets: RateBucket[] = [];
  let peakPerSecond = 0;
  if (any) {
    const start = Math.floor(first / bucketMs);
    const counts = new Array<number>(Math.floor(last / bucketMs) - start + 1)
      .fill(0);
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      if (record.seq === -1) continue;
      counts[Math.floor(record.time / bucketMs) - start]++;
    }
    for (const [i, count] of counts.entries()) {
      const perSecond = count * 1000 / bucketMs;
      if (perSecond > peakPerSecond) peakPerSecond = perSecond;
      buckets.push({
        start: new Date((start + i) * bucketMs).toISOString(),
        events: count,
        perSecond,
      });
    }
  }
  return {
    events,
    first: any ? new Date(first).toISOString() : undefined,
    last: any ? new Date(last).toISOString() : undefined,
    spanMs,
    levels,
    targets,
    siteCount,
    sites,
    rate: {
      bucketMs,
      peakPerSecond,
      meanPerSecond: buckets.length > 0
        ? events * 1000 / (buckets.length * bucketMs)
        : 0,
      buckets,
    },
    losses: {
      lost: lostInChunks + lostInRecords,
      lossChunks,
      lossRecords,
      byReason,
      undecodable,
    },
    files: read.files.map((file) => ({
      path: file.path,
      service: file.meta.service,
      reason: file.meta.reason,
      events: file.events,
      ...(file.truncatedAt === undefined
        ? {}
        : { truncatedAt: file.truncatedAt }),
    })),
  };
}

function sortSites(sites: SiteCount[]): SiteCount[] {
  return sites.sort((a, b) =>
    b.count - a.count ||
    (a.msg < b.msg ? -1 : a.msg > b.msg ? 1 : 0) ||
    (a.target < b.target ? -1 : a.target > b.target ? 1 : 0) ||
    (a.level < b.level ? -1 : a.level > b.level ? 1 : 0)
  );
}

const BARS = "▁▂▃▄▅▆▇█";

/** A duration in the largest unit that divides it: `5ms`, `1s`, `15m`, `2h`, `1d`. */
function durationText(ms: number): string {
  for (
    const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], [
      "m",
      60_000,
    ], ["s", 1000]] as const
  ) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function rateText(n: number): string {
  return n >= 100 ? String(Math.round(n)) : String(Math.round(n * 10) / 10);
}

/**
 * The statistics as text for people.
 *
 * @param stats What {@link statsOf} returned.
 * @returns Lines of text.
 *
 * @example The first line
 * ```ts
 * import { statsOf, statsText } from "./stats.ts";
 * import assert from "node:assert/strict";
 * const record = { time: 0, level: "info" as const, target: "", msg: "hi", fields: {}, service: "", seq: 0 };
 * const text = statsText(statsOf([record], { files: [], streams: [], oldest: 0, newest: 0 }, 10));
 * assert.match(text, /^1 events, 1970-01-01T00:00:00.000Z to 1970-01-01T00:00:00.000Z/);
 * ```
 */
export function statsText(stats: Stats): string {
  let out = `${stats.events} events`;
  if (stats.first !== undefined) {
    out += `, ${stats.first} to ${stats.last} (${
      durationText(Math.round(stats.spanMs))
    })`;
  }
  out += "\n\nby level:\n";
  for (const [name, count] of Object.entries(stats.levels)) {
    out += `  ${name.padEnd(6)} ${String(count).padStart(9)}\n`;
  }
  out += "\nby target:\n";
  for (const [target, count] of Object.entries(stats.targets)) {
    out += `  ${(target || "(root)").padEnd(20)} ${
      String(count).padStart(9)
    }\n`;
  }
  out += `\nbusiest call sites (${stats.siteCount} in all):\n`;
  for (const site of stats.sites) {
    out += `  ${String(site.count).padStart(9)}  ${site.level.padEnd(5)} ${
      site.target === "" ? "" : site.target + " "
    }${JSON.stringify(site.msg)}\n`;
  }
  const rate = stats.rate;
  if (rate.buckets.length > 0) {
    out += `\nevents per second (${durationText(rate.bucketMs)} buckets, peak ${
      rateText(rate.peakPerSecond)
    }/s, mean ${rateText(rate.meanPerSecond)}/s):\n  `;
    for (const bucket of rate.buckets) {
      out += bucket.events === 0 ? " " : BARS[
        Math.min(
          BARS.length - 1,
          Math.floor(bucket.perSecond / rate.peakPerSecond * BARS.length),
        )
      ];
    }
    out += `\n  ${rate.buckets[0].start} .. ${rate.buckets.at(-1)!.start}\n`;
  }
  const losses = stats.losses;
  out += "\nlosses: ";
  if (losses.lost === 0 && losses.undecodable === 0) out += "none\n";
  else {
    out +=
      `${losses.lost} events lost (${losses.lossChunks} loss chunks, ${losses.lossRecords} loss records)`;
    if (losses.undecodable > 0) {
      out += `, ${losses.undecodable} records undecodable`;
    }
    out += "\n";
    for (const [reason, lost] of Object.entries(losses.byReason)) {
      out += `  ${String(lost).padStart(9)}  ${reason}\n`;
    }
  }
  return out;
}
