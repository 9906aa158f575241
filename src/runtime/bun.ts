/**
 * The Bun runtime adapter. Bun is Node-compatible here, so it shares the Node
 * adapter's core: synchronous, complete `fs.writeSync` writes with a fallback
 * to the stream on `EAGAIN`, and `tty.isatty` for terminals.
 *
 * @module
 */

import type { Runtime } from "./runtime.ts";
import { builtins, globalProcess, nodeLikeRuntime } from "./node.ts";

// Only what this file reads; a module-scoped declaration does not clash with
// bun-types and type-checks under Deno, which has no Bun global.
declare const Bun: { readonly version: string } | undefined;

/**
 * Builds the Bun runtime from the `Bun` and `process` globals.
 *
 * @returns The Bun runtime.
 * @throws {Error} When not running on Bun.
 *
 * @example Use the Bun runtime where it exists
 * ```ts
 * import { bunRuntime } from "./bun.ts";
 * import assert from "node:assert/strict";
 * if ("Bun" in globalThis) {
 *   const runtime = bunRuntime();
 *   assert.equal(runtime.name, "bun");
 *   assert.equal(typeof runtime.isTerminal("stdout"), "boolean");
 * } else {
 *   assert.throws(() => bunRuntime(), /not running on Bun/);
 * }
 * ```
 */
export function bunRuntime(): Runtime {
  const process = globalProcess();
  if (
    typeof Bun === "undefined" || Bun === undefined || process === undefined
  ) {
    throw new Error("bunRuntime: not running on Bun; use detectRuntime()");
  }
  return nodeLikeRuntime({
    name: "bun",
    version: String(Bun.version ?? ""),
    ...builtins(process),
  });
}
