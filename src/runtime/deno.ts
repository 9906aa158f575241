/**
 * The Deno runtime adapter.
 *
 * Environment reads ask the permission state first: without `--allow-env`,
 * `Deno.env.get` would otherwise prompt on a terminal or throw, and reading a
 * logger setting must do neither.
 *
 * @module
 */

import type { Runtime, StdStream } from "./runtime.ts";

/**
 * Builds the Deno runtime from the `Deno` global.
 *
 * @returns The Deno runtime.
 * @throws {Error} When not running on Deno.
 *
 * @example Use the Deno runtime where it exists
 * ```ts
 * import { denoRuntime } from "./deno.ts";
 * import assert from "node:assert/strict";
 * if ("Deno" in globalThis) {
 *   const runtime = denoRuntime();
 *   assert.equal(runtime.name, "deno");
 *   assert.match(runtime.version, /^\d+\.\d+\.\d+/);
 * }
 * ```
 */
export function denoRuntime(): Runtime {
  if (typeof Deno === "undefined") {
    throw new Error("denoRuntime: not running on Deno; use detectRuntime()");
  }
  const encoder = new TextEncoder();
  const fileOf = (stream: StdStream): typeof Deno.stdout =>
    stream === "stderr" ? Deno.stderr : Deno.stdout;
  return {
    name: "deno",
    version: Deno.version.deno,
    env(name: string): string | undefined {
      try {
        const status = Deno.permissions?.querySync?.({
          name: "env",
          variable: name,
        });
        if (status !== undefined && status.state !== "granted") {
          return undefined;
        }
        return Deno.env.get(name);
      } catch {
        return undefined;
      }
    },
    isTerminal(stream: StdStream): boolean {
      try {
        return fileOf(stream).isTerminal();
      } catch {
        return false;
      }
    },
    write(stream: StdStream, text: string | Uint8Array): void {
      const file = fileOf(stream);
      const bytes = typeof text === "string" ? encoder.encode(text) : text;
      let offset = 0;
      while (offset < bytes.length) {
        offset += file.writeSync(bytes.subarray(offset));
      }
    },
  };
}
