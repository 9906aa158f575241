/**
 * ttlog's error for configuration it cannot use, apart from everything
 * else so that the files that throw it import nothing more.
 *
 * @module
 */

/**
 * Thrown for a configuration value that ttlog cannot use; the message names it.
 *
 * @example Catch a bad option
 * ```ts
 * import { createLogger, TtlogConfigError } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * assert.throws(
 *   () => createLogger({ level: "loud" as "info" }),
 *   (error) => error instanceof TtlogConfigError && /loud/.test(error.message),
 * );
 * ```
 */
export class TtlogConfigError extends Error {
  /**
   * Creates the error.
   *
   * @param message What was wrong and what to do instead.
   */
  constructor(message: string) {
    super(message);
    this.name = "TtlogConfigError";
  }
}
