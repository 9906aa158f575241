/**
 * The reader library's error, apart from everything else so that every file
 * of src/reader/ can throw it without importing another. The CLI prints its
 * message and exits with status 1; the dashboard answers 400 or 422.
 *
 * @module
 */

/**
 * What a {@link ReaderError} is about: `"argument"`, a filter or option
 * value the caller gave (a bad level, time or count); `"file"`, a file that
 * cannot be opened or is not a .ttlog file.
 */
export type ReaderErrorKind = "argument" | "file";

/**
 * Thrown by the reader library (src/reader/) for a request it cannot
 * serve: a malformed filter or option value, or a file that cannot be read
 * or is not a .ttlog file. The message is for the user and starts with who
 * asked (`ttlog view: ...`, `dashboard: ...`, `ttlog: ...` for a file).
 *
 * @example Tell a bad argument from a bad file
 * ```ts
 * import { ReaderError } from "./errors.ts";
 * import { parseLast } from "./select.ts";
 * import assert from "node:assert/strict";
 * assert.throws(
 *   () => parseLast("ttlog view", "--last", "0"),
 *   (error) => error instanceof ReaderError && error.kind === "argument",
 * );
 * ```
 */
export class ReaderError extends Error {
  /** Whether the caller's argument or a file is at fault. */
  readonly kind: ReaderErrorKind;

  /**
   * Creates the error.
   *
   * @param message What went wrong, for the user.
   * @param kind Whether an argument or a file is at fault.
   */
  constructor(message: string, kind: ReaderErrorKind) {
    super(message);
    this.name = "ReaderError";
    this.kind = kind;
  }
}
