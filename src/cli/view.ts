/**
 * `ttlog view` and `ttlog convert`: the events of .ttlog files in time order
 * (see ./read.ts for the order), filtered (./filter.ts), as text or ndjson.
 *
 * @module
 */

import type { LogRecord } from "../record/values.ts";
import { CliError, optionValue, type ParsedArgs } from "./args.ts";
import {
  type EventFilter,
  headerTest,
  hidesLossRecords,
  needsNewest,
  recordTest,
  timeTest,
} from "./filter.ts";
import {
  AtomicFile,
  colorStdout,
  lineFormat,
  refuseInputAsOutput,
  stderr,
  stdout,
  writeRecords,
} from "./output.ts";
import { mergeStreams, readFiles, type ReadResult } from "./read.ts";

export { CliError };

/** The events `filter` selects from `paths`, merged in time order. */
export interface Selection {
  /** The records, in time order. */
  readonly records: LogRecord[];
  /** What was read. */
  readonly read: ReadResult;
  /** 1 when a file was corrupt (its events before the damage are included). */
  readonly status: number;
}

/**
 * Reads `paths` and selects events: the filter is applied as chunks arrive
 * (relative times once the newest event is known), then the streams are
 * merged by time and `last` keeps the newest. What was wrong with a file
 * (truncated, corrupt, undecodable records) is said on stderr.
 *
 * @param paths The files.
 * @param filter The filters.
 * @param last Keep only the last N events.
 * @param templates Give records their call site's `template` (for stats).
 * @returns The events, and what was read.
 * @throws {CliError} When a file cannot be read or is not a .ttlog file.
 *
 * @example The last warning or worse of a snapshot
 * ```ts
 * import { createLogger, memorySink } from "../../mod.ts";
 * import { selectEvents } from "./view.ts";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * const dir = mkdtempSync(join(tmpdir(), "ttlog-doc-"));
 * const log = createLogger({ sinks: [memorySink()], snapshot: { dir } });
 * log.warn("slow", { ms: 900 });
 * log.error("failed", { order: 7 });
 * log.info("done");
 * const path = await log.snapshot("example");
 * await log.close();
 * const { records } = selectEvents([path], { level: "warn" }, 1);
 * assert.deepEqual(records.map((r) => r.msg), ["failed"]);
 * rmSync(dir, { recursive: true });
 * ```
 */
export function selectEvents(
  paths: readonly string[],
  filter: EventFilter,
  last?: number,
  templates = false,
): Selection {
  const relative = needsNewest(filter);
  const read = readFiles(paths, {
    keep: recordTest(filter),
    header: hidesLossRecords(filter) ? headerTest(filter) : undefined,
    lastPerStream: relative ? undefined : last,
    templates,
  });
  const status = reportFiles(read);
  let streams = read.streams;
  if (relative) {
    const test = timeTest(filter, read.newest);
    if (test !== undefined) {
      streams = streams.map((stream) => ({
        ...stream,
        records: stream.records.filter(test),
      }));
    }
  }
  let records = mergeStreams(streams);
  if (last !== undefined && records.length > last) {
    records = records.slice(-last);
  }
  return { records, read, status };
}

/** Says on stderr what was wrong with the files; 1 when one was corrupt. */
function reportFiles(read: ReadResult): number {
  let status = 0;
  for (const file of read.files) {
    if (file.truncatedAt !== undefined) {
      stderr.write(
        `ttlog: ${file.path} is truncated at byte ${file.truncatedAt}; read what came before\n`,
      );
    }
    if (file.error !== undefined) {
      stderr.write(
        `ttlog: ${file.path}: ${file.error}; read the chunks before it\n`,
      );
      status = 1;
    }
    if (file.undecodable > 0) {
      stderr.write(
        `ttlog: ${file.path}: ${file.undecodable} record(s) could not be decoded and were skipped\n`,
      );
    }
  }
  return status;
}

/**
 * Parses a positive whole number option (`--last N`, `--top N`).
 *
 * @param command The command, for the message.
 * @param name The option, for the message.
 * @param text The value given, or undefined.
 * @returns The number, or undefined when not given.
 * @throws {CliError} When the value is not a positive whole number.
 *
 * @example Parse `--last 5`
 * ```ts
 * import { parseLast } from "./view.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseLast("ttlog view", "--last", "5"), 5);
 * assert.throws(() => parseLast("ttlog view", "--last", "0"), /positive integer/);
 * ```
 */
export function parseLast(
  command: string,
  name: string,
  text: string | undefined,
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new CliError(
      `${command}: ${name} must be a positive integer, got ${
        JSON.stringify(text)
      }`,
    );
  }
  return n;
}

/**
 * Parses `--format` or `--to`: text or ndjson.
 *
 * @param command The command, for the message.
 * @param name The option, for the message.
 * @param text The value given, or undefined.
 * @returns The format, or undefined when not given.
 * @throws {CliError} For any other value.
 *
 * @example Parse `--format ndjson`
 * ```ts
 * import { parseFormat } from "./view.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseFormat("ttlog view", "--format", "ndjson"), "ndjson");
 * assert.throws(() => parseFormat("ttlog view", "--format", "xml"), /text or ndjson/);
 * ```
 */
export function parseFormat(
  command: string,
  name: string,
  text: string | undefined,
): "text" | "ndjson" | undefined {
  if (text === undefined || text === "text" || text === "ndjson") return text;
  throw new CliError(
    `${command}: ${name} must be text or ndjson, got ${JSON.stringify(text)}`,
  );
}

/**
 * `ttlog view FILE...`: prints the selected events.
 *
 * @param parsed The command line (files, `--last`, `--format`).
 * @param filter The filters.
 * @returns The exit status.
 * @throws {CliError} For a bad option value or an unreadable file.
 *
 * @example View a snapshot as ndjson
 * ```ts
 * import { createLogger, memorySink } from "../../mod.ts";
 * import { parseArgs } from "./args.ts";
 * import { useIo } from "./output.ts";
 * import { viewCommand } from "./view.ts";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * const dir = mkdtempSync(join(tmpdir(), "ttlog-doc-"));
 * const log = createLogger({ sinks: [memorySink()], snapshot: { dir } });
 * log.warn("disk almost full", { free: 3 });
 * const path = await log.snapshot("example");
 * await log.close();
 * let out = "";
 * useIo({ stdout: (text) => (out += text), stderr: () => {} });
 * const parsed = parseArgs("ttlog view", [path, "--format", "ndjson"], [{ name: "--format", value: true }], "");
 * assert.equal(viewCommand(parsed, {}), 0);
 * useIo(undefined);
 * assert.equal(JSON.parse(out).free, 3);
 * rmSync(dir, { recursive: true });
 * ```
 */
export function viewCommand(parsed: ParsedArgs, filter: EventFilter): number {
  const last = parseLast("ttlog view", "--last", optionValue(parsed, "--last"));
  const format =
    parseFormat("ttlog view", "--format", optionValue(parsed, "--format")) ??
      "text";
  const { records, status } = selectEvents(parsed.files, filter, last);
  writeRecords(
    records,
    lineFormat(format, format === "text" && colorStdout()),
    stdout,
  );
  return status;
}

/**
 * `ttlog convert FILE --to F [--out PATH]`: the events as ndjson or text, to
 * stdout or to a file (written under a temporary name, then renamed).
 *
 * @param parsed The command line (one file, `--to`, `--out`).
 * @param filter The filters.
 * @returns The exit status.
 * @throws {CliError} For a missing `--to`, an `--out` that is the input, an
 * unreadable file or a file that cannot be written.
 *
 * @example Convert a snapshot to ndjson
 * ```ts
 * import { createLogger, memorySink } from "../../mod.ts";
 * import { parseArgs } from "./args.ts";
 * import { convertCommand } from "./view.ts";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, readFileSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * const dir = mkdtempSync(join(tmpdir(), "ttlog-doc-"));
 * const log = createLogger({ sinks: [memorySink()], snapshot: { dir } });
 * log.info("hello", { n: 1 });
 * const path = await log.snapshot("example");
 * await log.close();
 * const out = join(dir, "events.ndjson");
 * const options = [{ name: "--to", value: true }, { name: "--out", value: true }];
 * const parsed = parseArgs("ttlog convert", [path, "--to", "ndjson", "--out", out], options, "");
 * assert.equal(convertCommand(parsed, {}), 0);
 * assert.equal(JSON.parse(readFileSync(out, "utf8")).msg, "hello");
 * rmSync(dir, { recursive: true });
 * ```
 */
export function convertCommand(
  parsed: ParsedArgs,
  filter: EventFilter,
): number {
  const command = "ttlog convert";
  if (parsed.files.length !== 1) {
    throw new CliError(
      `${command}: give exactly one FILE (got ${parsed.files.length}); to join files, use ttlog merge first`,
    );
  }
  const to = parseFormat(command, "--to", optionValue(parsed, "--to"));
  if (to === undefined) {
    throw new CliError(`${command}: --to ndjson or --to text is required`);
  }
  const out = optionValue(parsed, "--out");
  if (out !== undefined) refuseInputAsOutput(command, out, parsed.files);
  const { records, status } = selectEvents(parsed.files, filter);
  const format = lineFormat(to, false);
  if (out === undefined) {
    writeRecords(records, format, stdout);
    return status;
  }
  const file = new AtomicFile(out, command);
  try {
    writeRecords(records, format, file);
    file.commit();
  } catch (error) {
    file.abort();
    if (error instanceof CliError) throw error;
    throw new CliError(
      `${command}: cannot write ${out}: ${(error as Error).message}`,
    );
  }
  return status;
}
