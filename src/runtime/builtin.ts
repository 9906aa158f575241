/**
 * Node built-in modules (node:fs, node:zlib, node:worker_threads...), loaded
 * synchronously through `process.getBuiltinModule`, which Node 20.16+, Bun and
 * Deno all have. Loading them on demand, rather than with a static import,
 * keeps ttlog importable on edge runtimes that have no Node built-ins.
 *
 * @module
 */

import type * as Fs from "node:fs";
import type * as WorkerThreads from "node:worker_threads";
import type * as Zlib from "node:zlib";
import { TtlogConfigError } from "../errors.ts";
import { EDGE_STAND_INS, edgeName, edgePlatform } from "./edge.ts";

type GetBuiltin = (id: string) => unknown;

function getter(): GetBuiltin | undefined {
  try {
    const process = (globalThis as Record<string, unknown>).process as
      | { getBuiltinModule?: GetBuiltin }
      | undefined;
    return typeof process?.getBuiltinModule === "function"
      ? process.getBuiltinModule.bind(process)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A Node built-in module, or `undefined` where the runtime has none (or, on
 * an edge platform, only a stand-in: see runtime/edge.ts).
 *
 * @param id The module id, such as `"node:fs"`.
 * @returns The module, or `undefined`.
 */
export function tryBuiltin<T>(id: string): T | undefined {
  if (EDGE_STAND_INS.has(id) && edgePlatform() !== undefined) return undefined;
  try {
    return getter()?.(id) as T | undefined;
  } catch {
    return undefined;
  }
}

/**
 * A Node built-in module, or a clear error naming what needs it.
 *
 * @param id The module id.
 * @param what What needs it, for the error message.
 * @returns The module.
 * @throws {TtlogConfigError} When the runtime has no such module (an edge runtime).
 */
export function builtin<T>(id: string, what: string): T {
  const module = tryBuiltin<T>(id);
  if (module === undefined) {
    const edge = edgePlatform();
    if (edge !== undefined && EDGE_STAND_INS.has(id)) {
      let standIn = false;
      try {
        standIn = getter()?.(id) !== undefined;
      } catch {
        // Not even a stand-in.
      }
      throw new TtlogConfigError(
        `${what} needs ${id}, which ${edgeName(edge)} ${
          standIn
            ? "offers only as a stand-in (its files live in memory, where nothing outside the isolate reads them; its threads do not start)"
            : "does not provide"
        }${
          id === "node:fs"
            ? "; send snapshots to a store (snapshot: { store }) and events to a network sink (httpSink, otlpSink)"
            : ""
        }`,
      );
    }
    throw new TtlogConfigError(
      `${what} needs ${id}, which this runtime does not provide (edge runtimes have no file system or threads)`,
    );
  }
  return module;
}

/**
 * node:fs, for sinks and snapshots that write files.
 *
 * @param what What needs it, for the error message.
 * @returns The node:fs module.
 * @throws {TtlogConfigError} Where the runtime has no node:fs.
 */
export function nodeFs(what: string): typeof Fs {
  return builtin<typeof Fs>("node:fs", what);
}

/**
 * node:zlib, for synchronous gzip.
 *
 * @param what What needs it, for the error message.
 * @returns The node:zlib module.
 * @throws {TtlogConfigError} Where the runtime has no node:zlib.
 */
export function nodeZlib(what: string): typeof Zlib {
  return builtin<typeof Zlib>("node:zlib", what);
}

/**
 * node:worker_threads, for the drain's worker (Deno, Bun and Node all have it).
 *
 * @param what What needs it, for the error message.
 * @returns The node:worker_threads module.
 * @throws {TtlogConfigError} Where the runtime has no node:worker_threads.
 */
export function nodeWorkerThreads(what: string): typeof WorkerThreads {
  return builtin<typeof WorkerThreads>("node:worker_threads", what);
}
