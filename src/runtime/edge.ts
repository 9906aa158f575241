/**
 * Which edge platform this is, if any. Cloudflare's workerd with
 * `nodejs_compat` has a `process` with `versions.node` and a
 * `process.getBuiltinModule`, so it would pass for Node: its `node:fs` is an
 * in-memory file system that nothing outside the isolate can read, and its
 * `node:worker_threads` starts no thread. Those are treated as absent there.
 *
 * @module
 */

/** The edge platforms ttlog tells apart. */
export type EdgePlatform = "cloudflare" | "vercel";

/**
 * The edge platform this code runs on: Cloudflare Workers (workerd, also
 * under Miniflare) by its user agent, Vercel's Edge runtime by its
 * `EdgeRuntime` global; `undefined` elsewhere.
 */
export function edgePlatform(): EdgePlatform | undefined {
  try {
    const global = globalThis as {
      navigator?: { userAgent?: unknown };
      EdgeRuntime?: unknown;
    };
    if (global.navigator?.userAgent === "Cloudflare-Workers") {
      return "cloudflare";
    }
    if (typeof global.EdgeRuntime === "string") return "vercel";
  } catch {
    // A hostile global: not an edge platform we know.
  }
  return undefined;
}

/** The platform's name for people, for error messages. */
export function edgeName(platform: EdgePlatform): string {
  return platform === "cloudflare" ? "Cloudflare Workers" : "Vercel Edge";
}

/**
 * Node modules that an edge platform offers only as stand-ins (an
 * in-memory `node:fs`, a `node:worker_threads` that starts nothing):
 * ttlog treats them as absent there.
 */
export const EDGE_STAND_INS: ReadonlySet<string> = new Set([
  "node:fs",
  "node:worker_threads",
  "node:child_process",
  "node:os",
]);
