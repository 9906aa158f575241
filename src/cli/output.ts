/**
 * Output for the CLI: lines gathered into large pieces (1 MiB) before each
 * write, to stdout or to a file written under a temporary name and renamed
 * into place when complete.
 *
 * @module
 */

import { ndjsonFormatter } from "../format/ndjson.ts";
import { textFormatter } from "../format/text.ts";
import type { LogRecord } from "../record/values.ts";
import type * as Path from "node:path";
import { nodeFs, tryBuiltin } from "../runtime/builtin.ts";
import { runtime } from "../runtime/mod.ts";
import { CliError } from "./args.ts";

/** Where text goes. */
export interface TextOut {
  /** Writes the text (whole). */
  write(text: string): void;
}

const PIECE = 1 << 20;

/**
 * Gathers text and hands it on in pieces of about 1 MiB.
 *
 * @example Two writes, one piece
 * ```ts
 * import { BufferedOut } from "./output.ts";
 * import assert from "node:assert/strict";
 * const pieces: string[] = [];
 * const out = new BufferedOut({ write: (text) => pieces.push(text) });
 * out.write("a\n");
 * out.write("b\n");
 * out.flush();
 * assert.deepEqual(pieces, ["a\nb\n"]);
 * ```
 */
export class BufferedOut implements TextOut {
  readonly #to: TextOut;
  #text = "";

  /**
   * Creates the buffer.
   *
   * @param to Where the pieces go.
   */
  constructor(to: TextOut) {
    this.#to = to;
  }

  /**
   * Adds text; hands on a piece once 1 MiB is gathered.
   *
   * @param text The text.
   */
  write(text: string): void {
    this.#text += text;
    if (this.#text.length >= PIECE) this.flush();
  }

  /** Hands on what is gathered. */
  flush(): void {
    if (this.#text === "") return;
    const text = this.#text;
    this.#text = "";
    this.#to.write(text);
  }
}

/** Where the CLI's output goes: the process's stdout and stderr by default. */
export interface CliIo {
  /** Receives what goes to stdout. */
  stdout(text: string): void;
  /** Receives what goes to stderr. */
  stderr(text: string): void;
}

const processIo: CliIo = {
  stdout: (text) => runtime.write("stdout", text),
  stderr: (text) => runtime.write("stderr", text),
};

let io: CliIo = processIo;

/**
 * Sets where output goes until the next call (`runCli` sets it for one
 * run); undefined restores the process's streams.
 *
 * @param next The destination.
 * @returns The one it replaces.
 *
 * @example Capture what goes to stdout
 * ```ts
 * import { stdout, useIo } from "./output.ts";
 * import assert from "node:assert/strict";
 * let text = "";
 * const previous = useIo({ stdout: (t) => (text += t), stderr: () => {} });
 * stdout.write("hello\n");
 * useIo(previous);
 * assert.equal(text, "hello\n");
 * ```
 */
export function useIo(next: CliIo | undefined): CliIo {
  const previous = io;
  io = next ?? processIo;
  return previous;
}

/**
 * The output destination now (a command that outlives its call keeps it).
 *
 * @returns The destination.
 *
 * @example The destination a command started with
 * ```ts
 * import { currentIo, useIo } from "./output.ts";
 * import assert from "node:assert/strict";
 * const io = { stdout: () => {}, stderr: () => {} };
 * const previous = useIo(io);
 * assert.equal(currentIo(), io);
 * useIo(previous);
 * ```
 */
export function currentIo(): CliIo {
  return io;
}

/** Standard output (or what {@link useIo} set). */
export const stdout: TextOut = { write: (text) => io.stdout(text) };

/** Standard error (or what {@link useIo} set). */
export const stderr: TextOut = { write: (text) => io.stderr(text) };

/** A line formatter for records. */
export type LineFormat = (record: LogRecord) => string;

/**
 * The text or ndjson formatter.
 *
 * @param format `"text"` or `"ndjson"`.
 * @param color Colour the text (ignored for ndjson).
 * @returns The formatter.
 *
 * @example An ndjson line
 * ```ts
 * import { lineFormat } from "./output.ts";
 * import assert from "node:assert/strict";
 * const line = lineFormat("ndjson", false)({ time: 0, level: "info", target: "", msg: "hi", fields: {}, service: "", seq: 0 });
 * assert.equal(JSON.parse(line).msg, "hi");
 * ```
 */
export function lineFormat(
  format: "text" | "ndjson",
  color: boolean,
): LineFormat {
  return format === "ndjson" ? ndjsonFormatter() : textFormatter({ color });
}

/**
 * Whether text output to stdout should be coloured: the process's stdout (not
 * a captured one), a terminal, and NO_COLOR unset or empty.
 *
 * @returns True to colour.
 *
 * @example Captured output is never coloured
 * ```ts
 * import { colorStdout, useIo } from "./output.ts";
 * import assert from "node:assert/strict";
 * const previous = useIo({ stdout: () => {}, stderr: () => {} });
 * assert.equal(colorStdout(), false);
 * useIo(previous);
 * ```
 */
export function colorStdout(): boolean {
  return io === processIo && runtime.isTerminal("stdout") &&
    (runtime.env("NO_COLOR") ?? "") === "";
}

/**
 * Writes records, one line each, in large pieces.
 *
 * @param records The records.
 * @param format The line formatter.
 * @param out Where the text goes.
 *
 * @example Two lines
 * ```ts
 * import { lineFormat, writeRecords } from "./output.ts";
 * import assert from "node:assert/strict";
 * const record = { time: 0, level: "info" as const, target: "", msg: "hi", fields: {}, service: "", seq: 0 };
 * let text = "";
 * writeRecords([record, record], lineFormat("text", false), { write: (t) => (text += t) });
 * assert.equal(text, "1970-01-01T00:00:00.000Z INFO  hi\n".repeat(2));
 * ```
 */
export function writeRecords(
  records: readonly LogRecord[],
  format: LineFormat,
  out: TextOut,
): void {
  const buffered = new BufferedOut(out);
  let piece = "";
  for (let i = 0; i < records.length; i++) {
    piece += format(records[i]) + "\n";
    if (piece.length >= PIECE) {
      buffered.write(piece);
      piece = "";
    }
  }
  buffered.write(piece);
  buffered.flush();
}

/**
 * A file written under a temporary name in the same directory (mode 0600),
 * then renamed over `path` by {@link AtomicFile.commit}: readers never see
 * half of it.
 *
 * @example Write a file whole
 * ```ts
 * import { AtomicFile } from "./output.ts";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, readFileSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * const dir = mkdtempSync(join(tmpdir(), "ttlog-doc-"));
 * const file = new AtomicFile(join(dir, "out.txt"), "ttlog convert");
 * file.write("hello\n");
 * file.commit();
 * assert.equal(readFileSync(join(dir, "out.txt"), "utf8"), "hello\n");
 * rmSync(dir, { recursive: true });
 * ```
 */
export class AtomicFile {
  readonly #path: string;
  readonly #temporary: string;
  #fd: number | undefined;

  /**
   * Opens the temporary file.
   *
   * @param path The final path.
   * @param command The command, for error messages.
   * @throws {CliError} When the file cannot be created.
   */
  constructor(path: string, command: string) {
    const fs = nodeFs("ttlog");
    this.#path = path;
    const slash = path.lastIndexOf("/");
    this.#temporary = `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.${
      Math.random().toString(36).slice(2)
    }.tmp`;
    try {
      this.#fd = fs.openSync(this.#temporary, "wx", 0o600);
    } catch (error) {
      throw new CliError(
        `${command}: cannot write ${path}: ${(error as Error).message}`,
      );
    }
  }

  /**
   * Writes text or bytes, whole.
   *
   * @param data The text (written as UTF-8) or bytes.
   */
  write(data: string | Uint8Array): void {
    const fs = nodeFs("ttlog");
    const bytes = typeof data === "string"
      ? new TextEncoder().encode(data)
      : data;
    let written = 0;
    while (written < bytes.length) {
      written += fs.writeSync(
        this.#fd!,
        bytes,
        written,
        bytes.length - written,
      );
    }
  }

  /** Flushes, closes and renames the file into place. */
  commit(): void {
    const fs = nodeFs("ttlog");
    fs.fsyncSync(this.#fd!);
    fs.closeSync(this.#fd!);
    this.#fd = undefined;
    fs.renameSync(this.#temporary, this.#path);
  }

  /** Closes and deletes the temporary file (after a failure). */
  abort(): void {
    const fs = nodeFs("ttlog");
    if (this.#fd !== undefined) {
      try {
        fs.closeSync(this.#fd);
      } catch { /* already closed */ }
      this.#fd = undefined;
    }
    try {
      fs.unlinkSync(this.#temporary);
    } catch { /* already gone */ }
  }
}

/**
 * Refuses an output path that is one of the inputs (the same file, by
 * device and inode when it exists, else by resolved path).
 *
 * @param command The command, for the message.
 * @param out The output path.
 * @param inputs The input paths.
 * @throws {CliError} When `out` is an input.
 *
 * @example The same file by another name
 * ```ts
 * import { refuseInputAsOutput } from "./output.ts";
 * import assert from "node:assert/strict";
 * assert.throws(
 *   () => refuseInputAsOutput("ttlog convert", "./a.ttlog", ["a.ttlog"]),
 *   /is the input file/,
 * );
 * refuseInputAsOutput("ttlog convert", "b.ndjson", ["a.ttlog"]);
 * ```
 */
export function refuseInputAsOutput(
  command: string,
  out: string,
  inputs: readonly string[],
): void {
  const fs = nodeFs("ttlog");
  const path = tryBuiltinPath();
  let outStat: { dev: number; ino: number } | undefined;
  try {
    outStat = fs.statSync(out);
  } catch { /* it does not exist yet */ }
  for (const input of inputs) {
    let same = path !== undefined && path.resolve(input) === path.resolve(out);
    if (!same && outStat !== undefined) {
      try {
        const inStat = fs.statSync(input);
        same = inStat.ino !== 0 && inStat.dev === outStat.dev &&
          inStat.ino === outStat.ino;
      } catch { /* reported when it is read */ }
    }
    if (same) {
      throw new CliError(
        `${command}: --out ${out} is the input file ${input}; write to another path`,
      );
    }
  }
}

function tryBuiltinPath(): typeof Path | undefined {
  return tryBuiltin<typeof Path>("node:path");
}
