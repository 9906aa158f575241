/**
 * The small driver interface behind which every runtime-specific call lives.
 * Only files under `src/runtime/` name `Deno`, `Bun` or `process`.
 *
 * @module
 */

/**
 * Names of the runtimes ttlog knows.
 *
 * @example Name the runtime for people
 * ```ts
 * import { runtime, type RuntimeName } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * const labels: Record<RuntimeName, string> = {
 *   deno: "Deno",
 *   bun: "Bun",
 *   node: "Node.js",
 *   web: "a browser or edge runtime",
 * };
 * assert.equal(typeof labels[runtime.name], "string");
 * ```
 */
export type RuntimeName = "deno" | "bun" | "node" | "web";

/**
 * An output stream of the process.
 *
 * @example Send console lines to stderr
 * ```ts
 * import { consoleSink } from "@ttlog/ttlog";
 * import { runtime, type StdStream } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * const stream: StdStream = "stderr";
 * assert.equal(consoleSink({ stream }).name, "console:stderr");
 * assert.equal(typeof runtime.isTerminal(stream), "boolean");
 * ```
 */
export type StdStream = "stdout" | "stderr";

/**
 * What ttlog needs from the runtime it runs on.
 *
 * @example Read the environment through the detected runtime
 * ```ts
 * import { detectRuntime, type Runtime } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * const rt: Runtime = detectRuntime();
 * assert.equal(rt.env("TTLOG_EXAMPLE_SURELY_UNSET"), undefined);
 * assert.equal(typeof rt.version, "string");
 * rt.write("stderr", `logging on ${rt.name}\n`);
 * ```
 */
export interface Runtime {
  /** Which runtime this is. */
  readonly name: RuntimeName;
  /** Its version, such as `2.9.6`, or `""` when unknown. */
  readonly version: string;
  /** Reads an environment variable; `undefined` when unset or not permitted. Never throws. */
  env(name: string): string | undefined;
  /** Whether the stream is a terminal. Never throws. */
  isTerminal(stream: StdStream): boolean;
  /**
   * Writes the whole text (or UTF-8 bytes, which it does not keep past the
   * call) to the stream, synchronously where the runtime allows.
   */
  write(stream: StdStream, text: string | Uint8Array): void;
}
