/**
 * The adapter for runtimes with only Web APIs: browsers, Cloudflare Workers,
 * Vercel Edge. Output goes through `console`, one call per write.
 *
 * @module
 */

import type { Runtime, StdStream } from "./runtime.ts";

/**
 * Builds the Web runtime: no terminal, output through `console.log` (stdout)
 * and `console.error` (stderr) without the text's trailing newline, and
 * environment variables only where the platform provides a `process.env`
 * (Vercel Edge, Cloudflare's Node compatibility); elsewhere `undefined`.
 *
 * @returns The Web runtime.
 *
 * @example Use the Web runtime
 * ```ts
 * import { webRuntime } from "./web.ts";
 * import assert from "node:assert/strict";
 * const runtime = webRuntime();
 * assert.equal(runtime.name, "web");
 * assert.equal(runtime.isTerminal("stdout"), false);
 * ```
 */
export function webRuntime(): Runtime {
  return {
    name: "web",
    version: "",
    env(name: string): string | undefined {
      try {
        const process = (globalThis as Record<string, unknown>).process as
          | { env?: Record<string, unknown> }
          | undefined;
        const value = process?.env?.[name];
        return typeof value === "string" ? value : undefined;
      } catch {
        return undefined;
      }
    },
    isTerminal(_stream: StdStream): boolean {
      return false;
    },
    write(stream: StdStream, output: string | Uint8Array): void {
      const text = typeof output === "string"
        ? output
        : new TextDecoder().decode(output);
      const line = text.endsWith("\n") ? text.slice(0, -1) : text;
      // "%s" so that a "%c" or "%o" in the text is printed, not interpreted.
      if (stream === "stderr") console.error("%s", line);
      else console.log("%s", line);
    },
  };
}
