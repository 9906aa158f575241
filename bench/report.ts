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
 * This file loads the results and writes the pages; the number formats
 * and tables are in bench/report_tables.ts, one section per scenario in
 * bench/report_sections.ts, and the machine, headline, targets and Speed
 * section in bench/report_targets.ts.
 *
 * @module
 */

import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import {
  type ByRuntime,
  MARK,
  type ResultFile,
  type Results,
  type RuntimeName,
  RUNTIMES,
} from "./report_tables.ts";
import {
  codecSection,
  cpuSection,
  endToEndSection,
  genericSection,
  hotPathSection,
  httpSection,
  latencySection,
  memorySection,
  replaySection,
  snapshotSection,
} from "./report_sections.ts";
import {
  headline,
  machineSection,
  SPEED_END,
  SPEED_START,
  speedSection,
  targetsSection,
} from "./report_targets.ts";

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

const resultsDir = new URL("./results/", import.meta.url);
const benchReadme = new URL("./README.md", import.meta.url);
const topReadme = new URL("../README.md", import.meta.url);

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
