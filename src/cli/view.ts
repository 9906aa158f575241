/**
 * `ttlog view` and `ttlog convert`: the events of .ttlog files in time order
 * (see ../reader/read.ts for the order), filtered (../reader/filter.ts), as
 * text or ndjson; and what was wrong with the files read, said on stderr.
 *
 * @module
 */

import type { ReadResult } from "../reader/read.ts";
import type { EventFilter } from "../reader/filter.ts";
import { parseLast, selectEvents } from "../reader/select.ts";
import { CliError, optionValue, type ParsedArgs } from "./args.ts";
import {
  AtomicFile,
  colorStdout,
  lineFormat,
  refuseInputAsOutput,
  stderr,
  stdout,
  writeRecords,
} from "./output.ts";

/**
 * Says on stderr what was wrong with the files read: truncated, corrupt,
 * records that could not be decoded.
 *
 * @param read What `selectEvents` or `readFiles` read.
 * @returns The exit status: 1 when a file was corrupt (its events before the
 * damage were read), else 0.
 *
 * @example A truncated file is said, not failed
 * ```ts
 * import { reportFiles } from "./view.ts";
 * import { useIo } from "./output.ts";
 * import assert from "node:assert/strict";
 * let err = "";
 * useIo({ stdout: () => {}, stderr: (text) => (err += text) });
 * const file = { path: "a.ttlog", meta: {}, events: 3, undecodable: 0, losses: [], truncatedAt: 90 };
 * const status = reportFiles({ files: [file], streams: [], oldest: 0, newest: 0 });
 * useIo(undefined);
 * assert.equal(status, 0);
 * assert.match(err, /a\.ttlog is truncated at byte 90/);
 * ```
 */
export function reportFiles(read: ReadResult): number {
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
 * @throws {CliError} For a bad `--format`; {ReaderError} for a bad `--last`
 * or an unreadable file.
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
  const { records, read } = selectEvents(parsed.files, filter, { last });
  const status = reportFiles(read);
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
 * @throws {CliError} For a missing `--to`, an `--out` that is the input or
 * a file that cannot be written; {ReaderError} for an unreadable input.
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
  const { records, read } = selectEvents(parsed.files, filter);
  const status = reportFiles(read);
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
