/**
 * Saves a mitata run's numbers as JSON under bench/results/, one file per
 * scenario and runtime, for bench/report.ts to turn into bench/README.md.
 *
 * @module
 */

import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { detectRuntime } from "../mod.ts";

interface MitataRun {
  benchmarks: {
    alias: string;
    group: number;
    runs: {
      name: string;
      stats?: {
        avg: number;
        p50: number;
        p99: number;
        min: number;
        max: number;
      };
    }[];
  }[];
  layout: { name: string | null }[];
  context: { cpu?: { name?: string } };
}

/** Writes `bench/results/<scenario>-<runtime>.json`. */
export function saveResults(
  scenario: string,
  run: unknown,
  extra: Record<string, unknown> = {},
): void {
  const { benchmarks, layout, context } = run as MitataRun;
  const rt = detectRuntime();
  const rows = benchmarks.map((b) => {
    const stats = b.runs[0]?.stats;
    return {
      group: layout[b.group]?.name ?? "",
      name: b.alias,
      avg: stats?.avg,
      p50: stats?.p50,
      p99: stats?.p99,
      min: stats?.min,
      max: stats?.max,
    };
  });
  const out = {
    scenario,
    runtime: rt.name,
    version: rt.version,
    cpu: context.cpu?.name ?? "",
    cpus: cpus().length,
    date: new Date().toISOString(),
    rows,
    ...extra,
  };
  const url = new URL(`./results/${scenario}-${rt.name}.json`, import.meta.url);
  writeFileSync(url, JSON.stringify(out, null, 2) + "\n");
}
