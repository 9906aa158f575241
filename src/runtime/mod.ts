/**
 * Runtime detection: picks the adapter for the runtime this code runs on.
 *
 * Every adapter is imported statically (detection is synchronous), so none of
 * them touches a runtime global or imports a `node:` module when loaded.
 *
 * @module
 */

import type { Runtime } from "./runtime.ts";
import { bunRuntime } from "./bun.ts";
import { denoRuntime } from "./deno.ts";
import { nodeRuntime } from "./node.ts";
import { webRuntime } from "./web.ts";
import { edgePlatform } from "./edge.ts";

/** Reads a path of properties from `globalThis`; never throws. */
function probe(...path: string[]): unknown {
  try {
    let value: unknown = globalThis;
    for (const key of path) {
      if (value === null || value === undefined) return undefined;
      value = (value as Record<string, unknown>)[key];
    }
    return value;
  } catch {
    return undefined;
  }
}

/**
 * Detects the runtime and builds its adapter: an edge platform (Cloudflare's
 * workerd, Vercel's Edge) is the Web adapter even where it imitates Node,
 * then Deno, then Bun, then Node (both of which also define
 * `process.versions.node`), else the Web adapter.
 *
 * @returns A fresh adapter for the current runtime.
 *
 * @example Detect the runtime
 * ```ts
 * import { detectRuntime } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * const runtime = detectRuntime();
 * assert.ok(["deno", "bun", "node", "web"].includes(runtime.name));
 * assert.equal(typeof runtime.isTerminal("stdout"), "boolean");
 * ```
 */
export function detectRuntime(): Runtime {
  if (edgePlatform() !== undefined) return webRuntime();
  if (typeof probe("Deno", "version", "deno") === "string") {
    return denoRuntime();
  }
  if (probe("Bun") !== undefined) return bunRuntime();
  if (typeof probe("process", "versions", "node") === "string") {
    return nodeRuntime();
  }
  return webRuntime();
}

let detected: Runtime | undefined;

function current(): Runtime {
  return detected ??= detectRuntime();
}

/**
 * The current runtime, detected on first use and then kept.
 *
 * @example Write to standard error
 * ```ts
 * import { runtime } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * assert.equal(typeof runtime.isTerminal("stderr"), "boolean");
 * runtime.write("stderr", `running on ${runtime.name} ${runtime.version}\n`);
 * ```
 */
export const runtime: Runtime = {
  get name() {
    return current().name;
  },
  get version() {
    return current().version;
  },
  env(name) {
    return current().env(name);
  },
  isTerminal(stream) {
    return current().isTerminal(stream);
  },
  write(stream, text) {
    current().write(stream, text);
  },
};
