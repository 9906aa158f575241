/**
 * Saves a scenario's numbers as JSON under bench/results/, one file per
 * scenario and runtime, for bench/report.ts to turn into bench/README.md.
 * Every file carries the runtime and its version, the CPU model and count,
 * and the date.
 *
 * @module
 */

import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { detectRuntime } from "../src/sink.ts";
import type { BenchRow } from "./harness.ts";

/** What every result file starts with. */
export interface ResultHeader {
  scenario: string;
  runtime: string;
  version: string;
  cpu: string;
  cpus: number;
  date: string;
}

/** The runtime, CPU and date, for a result file. */
export function resultHeader(scenario: string): ResultHeader {
  const rt = detectRuntime();
  const list = cpus();
  return {
    scenario,
    runtime: rt.name,
    version: rt.version,
    cpu: list[0]?.model?.trim() ?? "",
    cpus: list.length,
    date: new Date().toISOString(),
  };
}

/** Writes `bench/results/<scenario>-<runtime>.json` from rows of bench/harness.ts. */
export function saveRows(
  scenario: string,
  rows: readonly BenchRow[],
  extra: Record<string, unknown> = {},
): void {
  const only = (globalThis as {
    process?: { env?: Record<string, string | undefined> };
  }).process?.env?.TTLOG_BENCH_ONLY;
  if (only) {
    console.log(
      `TTLOG_BENCH_ONLY=${only}: a partial run, bench/results/ left as it was`,
    );
    return;
  }
  const out = { ...resultHeader(scenario), rows, ...extra };
  const url = new URL(
    `./results/${scenario}-${out.runtime}.json`,
    import.meta.url,
  );
  writeFileSync(url, JSON.stringify(out, null, 2) + "\n");
}
