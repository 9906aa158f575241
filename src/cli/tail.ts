/**
 * `ttlog tail FILE [-f]`: the last events of a .ttlog file and, with `-f`,
 * every event appended to it afterwards, as a `fileSink` with
 * `format: "ttlog"` writes them.
 *
 * Following polls the file's size (every 200 ms; `--interval`), reads only
 * the new bytes and feeds them to a streaming `TtlogReader`: a chunk that is
 * only partly written waits for the rest of its bytes. New events are printed
 * as their chunks arrive, in each chunk's order (one chunk is one producer's
 * events, oldest first). When the file shrinks (truncated), its first bytes
 * change (truncated and written again past where it was read), or the path
 * names another file (rotated), reading starts over from its first byte, and
 * stderr says so. It runs until interrupted (Ctrl-C), or until
 * `--idle-exit MS` passes without new bytes.
 *
 * `-n N` (default 10; `all`, or 0) is how many of the events already in the
 * file are printed first, merged in time order across producers as `view`
 * does. Filters apply as in `view`; with `-f` a relative `--since` is fixed
 * from the newest event at start, and a relative `--until` is refused.
 *
 * @module
 */

import type { LogRecord } from "../record/values.ts";
import { TtlogFormatError } from "../record/decode.ts";
import { nodeFs } from "../runtime/builtin.ts";
import { TtlogReader } from "../ttlog_file/chunk_reader.ts";
import {
  type EventFilter,
  headerTest,
  hidesLossRecords,
  needsNewest,
  recordTest,
  timeTest,
} from "../reader/filter.ts";
import { mergeStreams, StreamCollector } from "../reader/read.ts";
import { selectEvents } from "../reader/select.ts";
import { CliError, optionValue, type ParsedArgs } from "./args.ts";
import {
  BufferedOut,
  colorStdout,
  currentIo,
  type LineFormat,
  lineFormat,
  stdout,
  type TextOut,
} from "./output.ts";
import { parseFormat, reportFiles } from "./view.ts";

const PIECE = 1 << 20;

function parseCount(text: string | undefined): number {
  if (text === undefined) return 10;
  if (text === "all") return Infinity;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) {
    throw new CliError(
      `ttlog tail: --last must be a whole number or "all", got ${
        JSON.stringify(text)
      }`,
    );
  }
  return n;
}

function parseMs(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new CliError(
      `ttlog tail: ${name} must be a positive whole number of milliseconds, got ${
        JSON.stringify(text)
      }`,
    );
  }
  return n;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * `ttlog tail FILE`: prints the last events; with `-f`, follows the file.
 *
 * @param parsed The command line (one file, `-f`, `-n`, `--format`,
 * `--interval`, `--idle-exit`).
 * @param filter The filters.
 * @returns The exit status; with `-f`, a Promise of it (it runs until
 * interrupted or `--idle-exit`).
 * @throws {CliError} For a bad option value; {ReaderError} (without `-f`)
 * for an unreadable file; with `-f` such failures resolve to 1 after saying
 * so on stderr.
 *
 * @example The last event of a snapshot
 * ```ts
 * import { createLogger, memorySink } from "../../mod.ts";
 * import { parseArgs } from "./args.ts";
 * import { useIo } from "./output.ts";
 * import { tailCommand } from "./tail.ts";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * const dir = mkdtempSync(join(tmpdir(), "ttlog-doc-"));
 * const log = createLogger({ sinks: [memorySink()], snapshot: { dir } });
 * for (let i = 0; i < 3; i++) log.info("step", { i });
 * const path = await log.snapshot("example");
 * await log.close();
 * let out = "";
 * useIo({ stdout: (text) => (out += text), stderr: () => {} });
 * const parsed = parseArgs("ttlog tail", [path, "-n", "1"], [{ name: "--last", short: "-n", value: true }], "");
 * assert.equal(await tailCommand(parsed, {}), 0);
 * useIo(undefined);
 * assert.match(out, /INFO  step i=2\n$/);
 * rmSync(dir, { recursive: true });
 * ```
 */
export function tailCommand(
  parsed: ParsedArgs,
  filter: EventFilter,
): number | Promise<number> {
  const command = "ttlog tail";
  if (parsed.files.length !== 1) {
    throw new CliError(
      `${command}: give exactly one FILE (got ${parsed.files.length})`,
    );
  }
  const [path] = parsed.files;
  const last = parseCount(optionValue(parsed, "--last"));
  const format =
    parseFormat(command, "--format", optionValue(parsed, "--format")) ??
      "text";
  const interval = parseMs("--interval", optionValue(parsed, "--interval")) ??
    200;
  const idleExit = parseMs("--idle-exit", optionValue(parsed, "--idle-exit"));
  const formatLine = lineFormat(format, format === "text" && colorStdout());
  if (!parsed.options.has("--follow")) {
    if (last === 0) return 0;
    const { records, read } = selectEvents([path], filter, {
      last: Number.isFinite(last) ? last : undefined,
    });
    const status = reportFiles(read);
    printRecords(records, formatLine);
    return status;
  }
  if (filter.until?.kind === "relative") {
    throw new CliError(
      `${command}: a relative --until cannot be followed (new events are always the newest); give an ISO time`,
    );
  }
  return new Follower(path, filter, last, formatLine, interval, idleExit)
    .run();
}

function printRecords(
  records: readonly LogRecord[],
  format: LineFormat,
  to: TextOut = stdout,
): void {
  const out = new BufferedOut(to);
  for (let i = 0; i < records.length; i++) out.write(format(records[i]) + "\n");
  out.flush();
}

/** Follows one file: the first pass prints the last N, later ones all new events. */
class Follower {
  readonly #path: string;
  readonly #filter: EventFilter;
  readonly #last: number;
  readonly #format: LineFormat;
  readonly #interval: number;
  readonly #idleExit: number | undefined;
  readonly #fs = nodeFs("ttlog");
  // Output goes where it went when the command started, even after runCli returned.
  readonly #stdout: TextOut;
  readonly #stderr: TextOut;
  #fd: number | undefined;
  #ino = 0;
  #position = 0;
  #reader = new TtlogReader();
  #collector!: StreamCollector;
  #chunks = 0;
  /** The file's first bytes as read: if they change, the file was rewritten. */
  #head = new Uint8Array(0);
  /** False while the first pass gathers the last N events to print at its end. */
  #printing = false;

  constructor(
    path: string,
    filter: EventFilter,
    last: number,
    format: LineFormat,
    interval: number,
    idleExit: number | undefined,
  ) {
    this.#path = path;
    this.#filter = filter;
    this.#last = last;
    this.#format = format;
    this.#interval = interval;
    this.#idleExit = idleExit;
    const io = currentIo();
    this.#stdout = { write: io.stdout };
    this.#stderr = { write: io.stderr };
  }

  async run(): Promise<number> {
    try {
      this.#open(true);
      this.#first();
      let idleSince = Date.now();
      for (;;) {
        if (
          this.#idleExit !== undefined &&
          Date.now() - idleSince >= this.#idleExit
        ) return 0;
        await sleep(this.#interval);
        if (this.#poll()) idleSince = Date.now();
      }
    } catch (error) {
      if (error instanceof TtlogFormatError) {
        this.#stderr.write(`ttlog tail: ${this.#path}: ${error.message}\n`);
        return 1;
      }
      if (error instanceof CliError) {
        this.#stderr.write(error.message + "\n");
        return 1;
      }
      throw error;
    } finally {
      this.#close();
    }
  }

  #open(first: boolean): void {
    try {
      this.#fd = this.#fs.openSync(this.#path, "r");
      const stat = this.#fs.fstatSync(this.#fd);
      if (stat.isDirectory()) throw new Error("it is a directory");
      this.#ino = stat.ino;
    } catch (error) {
      this.#close();
      if (!first) return;
      throw new CliError(
        `ttlog: cannot read ${this.#path}: ${(error as Error).message}`,
      );
    }
    this.#position = 0;
    this.#chunks = 0;
    this.#head = new Uint8Array(0);
    this.#collector = new StreamCollector(0, this.#path, {
      keep: recordTest(this.#filter),
      lastPerStream: 0,
    });
    this.#reader = this.#collector.reader(
      hidesLossRecords(this.#filter) ? headerTest(this.#filter) : undefined,
    );
  }

  #close(): void {
    if (this.#fd === undefined) return;
    try {
      this.#fs.closeSync(this.#fd);
    } catch { /* already closed */ }
    this.#fd = undefined;
  }

  /** Reads what the file holds now and prints its last N events. */
  #first(): void {
    const collector = this.#collector;
    collector.last = this.#last;
    this.#readNew();
    const streams = collector.finish(true);
    let keep = recordTest(this.#filter);
    let records = streams;
    if (needsNewest(this.#filter) && !Number.isNaN(collector.newest)) {
      // Relative --since: fixed now, from the newest event so far.
      const since = timeTest(this.#filter, collector.newest);
      if (since !== undefined) {
        records = streams.map((s) => ({
          ...s,
          records: s.records.filter(since),
        }));
        const base = keep;
        keep = base === undefined
          ? since
          : (record) => base(record) && since(record);
      }
    }
    let merged = mergeStreams(records);
    if (merged.length > this.#last) merged = merged.slice(-this.#last);
    printRecords(merged, this.#format, this.#stdout);
    collector.last = 0;
    collector.keep = keep;
    this.#printing = true;
  }

  /** Looks at the file once; true when new bytes were read. */
  #poll(): boolean {
    let stat: { size: number; ino: number };
    try {
      stat = this.#fs.statSync(this.#path);
    } catch {
      return false; // Rotated away and not yet created again: wait.
    }
    const replaced = this.#fd === undefined ||
      (stat.ino !== 0 && stat.ino !== this.#ino);
    const shrank = !replaced && stat.size < this.#position;
    // Truncated and written again past where we were: its start differs.
    const rewritten = !replaced && !shrank && stat.size > this.#position &&
      !this.#sameHead();
    if (replaced || shrank || rewritten) {
      this.#stderr.write(
        replaced
          ? `ttlog tail: ${this.#path} was replaced (rotated); reading the new file from its start\n`
          : shrank
          ? `ttlog tail: ${this.#path} shrank from ${this.#position} to ${stat.size} bytes (truncated); reading it again from its start\n`
          : `ttlog tail: ${this.#path} was rewritten (its first bytes changed); reading it again from its start\n`,
      );
      const keep = this.#collector.keep;
      this.#close();
      this.#open(false);
      if (this.#fd === undefined) return false;
      this.#collector.keep = keep;
    }
    return this.#readNew();
  }

  /** Whether the file still starts with the bytes it started with. */
  #sameHead(): boolean {
    const head = this.#head;
    if (head.length === 0) return true;
    const now = new Uint8Array(head.length);
    const n = this.#fs.readSync(this.#fd!, now, 0, head.length, 0);
    if (n !== head.length) return false;
    for (let i = 0; i < n; i++) if (now[i] !== head[i]) return false;
    return true;
  }

  /** Reads the bytes past the position, prints new events; true if any bytes came. */
  #readNew(): boolean {
    const fs = this.#fs;
    const fd = this.#fd!;
    const size = fs.fstatSync(fd).size;
    if (size <= this.#position) return false;
    const piece = new Uint8Array(Math.min(PIECE, size - this.#position));
    const out = new BufferedOut(this.#stdout);
    while (this.#position < size) {
      const n = fs.readSync(
        fd,
        piece,
        0,
        Math.min(piece.length, size - this.#position),
        this.#position,
      );
      if (n === 0) break;
      if (this.#position < 64) {
        const head = new Uint8Array(Math.min(64, this.#position + n));
        head.set(this.#head);
        head.set(
          piece.subarray(0, head.length - this.#position),
          this.#position,
        );
        this.#head = head;
      }
      this.#position += n;
      let items;
      try {
        items = this.#reader.push(piece.subarray(0, n));
      } catch (error) {
        if (error instanceof TtlogFormatError && this.#chunks === 0) {
          throw new CliError(
            `ttlog: ${this.#path} is not a .ttlog file (${error.message})`,
          );
        }
        throw error;
      }
      for (const item of items) {
        this.#chunks++;
        if (item.kind === "events" && item.undecodable > 0) {
          this.#stderr.write(
            `ttlog tail: ${item.undecodable} record(s) could not be decoded and were skipped\n`,
          );
        }
        const kept = this.#collector.add(item);
        if (!this.#printing) continue;
        for (let i = 0; i < kept.length; i++) {
          out.write(this.#format(kept[i]) + "\n");
        }
      }
    }
    out.flush();
    return true;
  }
}
