/**
 * The Node.js runtime adapter, and the Node-compatible core that the Bun
 * adapter shares.
 *
 * Writes go to the file descriptor with `fs.writeSync`, looping until every
 * byte is written: `process.stdout.write` is asynchronous on POSIX pipes (the
 * usual case under a process supervisor or container), so a log line written
 * just before a crash or `process.exit()` could be lost, and in a
 * `worker_threads` worker (where the drain runs) it is relayed through the main
 * thread. Two exceptions keep output whole and in order:
 *
 * - `EAGAIN`: a non-blocking pipe whose reader is slow makes `writeSync` throw.
 *   The unwritten rest then goes to `process.stdout.write`, which queues it
 *   instead of blocking or dropping it.
 * - While bytes we queued on the stream are not yet flushed (counted by the
 *   write callbacks), later writes queue behind them, so a direct write never
 *   overtakes our earlier output. The callbacks, not `writableLength`, tell:
 *   Bun's `writableLength` stays 0 while its stdout holds queued bytes.
 *
 * `process.stdout` is not touched on the normal path: creating it switches a
 * pipe to non-blocking mode on Node and Bun, which is what makes `EAGAIN`
 * possible. Output of `console.log` that Node had to queue (a full pipe) can
 * still be overtaken by a direct write; both are written whole, line by line.
 *
 * Node modules are reached through `process.getBuiltinModule` rather than a
 * static `node:` import, so that importing this file (which `mod.ts` does on
 * every runtime) cannot fail on edge runtimes without Node compatibility.
 *
 * @module
 */

import type { Runtime, RuntimeName, StdStream } from "./runtime.ts";

/** The part of a Node `process.stdout` / `process.stderr` ttlog uses. */
export interface NodeStreamLike {
  /** `true` on a terminal; unset otherwise. */
  readonly isTTY?: boolean;
  /** Writes or queues the chunk; calls `callback` once it is flushed. */
  write(
    chunk: string | Uint8Array,
    callback?: (error?: Error | null) => void,
  ): boolean;
}

/** The part of Node's `node:fs` ttlog uses. */
export interface NodeFsLike {
  /** Writes bytes to a file descriptor; returns how many were written. */
  writeSync(fd: number, buffer: Uint8Array): number;
}

/** The part of Node's `node:tty` ttlog uses. */
export interface NodeTtyLike {
  /** Whether the file descriptor is a terminal. */
  isatty(fd: number): boolean;
}

/** The part of Node's `process` ttlog uses. */
export interface NodeProcessLike {
  /** The environment. */
  readonly env: Record<string, string | undefined>;
  /** Standard output. */
  readonly stdout: NodeStreamLike;
  /** Standard error. */
  readonly stderr: NodeStreamLike;
  /** Component versions; `node` is set on Node and Node-compatible runtimes. */
  readonly versions?: { readonly node?: string };
  /** Loads a built-in module without a static import (Node 20.16+, Bun, Deno). */
  getBuiltinModule?(id: string): unknown;
}

/** Everything a Node-compatible adapter needs; injectable for tests. */
export interface NodeHost {
  /** The runtime's name. */
  readonly name: RuntimeName;
  /** The runtime's version. */
  readonly version: string;
  /** The `process` object. */
  readonly process: NodeProcessLike;
  /** `node:fs`; without it, writes use the stream. */
  readonly fs?: NodeFsLike;
  /** `node:tty`; without it, `isTerminal` uses the stream's `isTTY`. */
  readonly tty?: NodeTtyLike;
}

const FD: Readonly<Record<StdStream, number>> = { stdout: 1, stderr: 2 };

/**
 * Builds a runtime on a Node-compatible host: synchronous, complete writes to
 * the file descriptor, falling back to the stream on `EAGAIN` (see the module
 * doc for why).
 *
 * @param host The process, `node:fs` and `node:tty` to use.
 * @returns A runtime backed by `host`.
 *
 * @example Capture writes with a fake host
 * ```ts
 * import { nodeLikeRuntime } from "./node.ts";
 * import assert from "node:assert/strict";
 * const written: string[] = [];
 * const stream = {
 *   write(chunk: string | Uint8Array): boolean {
 *     written.push(String(chunk));
 *     return true;
 *   },
 * };
 * const runtime = nodeLikeRuntime({
 *   name: "node",
 *   version: "20.0.0",
 *   process: { env: { HOME: "/home/me" }, stdout: stream, stderr: stream },
 * });
 * runtime.write("stdout", "hello\n");
 * assert.deepEqual(written, ["hello\n"]);
 * assert.equal(runtime.env("HOME"), "/home/me");
 * assert.equal(runtime.isTerminal("stdout"), false);
 * ```
 */
export function nodeLikeRuntime(host: NodeHost): Runtime {
  const { process, fs, tty } = host;
  const encoder = new TextEncoder();
  // Reading process.stdout creates the stream, which on Node and Bun switches
  // a pipe to non-blocking mode: touch it only when needed.
  const streamOf = (stream: StdStream): NodeStreamLike =>
    stream === "stderr" ? process.stderr : process.stdout;
  // Writes we queued on each stream that it has not yet flushed.
  const pending: Record<StdStream, number> = { stdout: 0, stderr: 0 };
  const queue = (stream: StdStream, chunk: string | Uint8Array): void => {
    pending[stream]++;
    streamOf(stream).write(chunk, () => {
      pending[stream]--;
    });
  };
  return {
    name: host.name,
    version: host.version,
    env(name: string): string | undefined {
      try {
        const value = process.env[name];
        return typeof value === "string" ? value : undefined;
      } catch {
        return undefined;
      }
    },
    isTerminal(stream: StdStream): boolean {
      try {
        // isatty, not stream.isTTY: in a worker_threads worker the stream is a
        // relay whose isTTY is unset even when the descriptor is a terminal.
        if (tty !== undefined) return tty.isatty(FD[stream]);
        return streamOf(stream).isTTY === true;
      } catch {
        return false;
      }
    },
    write(stream: StdStream, text: string | Uint8Array): void {
      // Bytes are the caller's to reuse after the call: queued, a copy.
      if (fs === undefined) {
        streamOf(stream).write(typeof text === "string" ? text : text.slice());
        return;
      }
      if (pending[stream] > 0) {
        queue(stream, typeof text === "string" ? text : text.slice());
        return;
      }
      const bytes = typeof text === "string" ? encoder.encode(text) : text;
      let offset = 0;
      try {
        while (offset < bytes.length) {
          offset += fs.writeSync(FD[stream], bytes.subarray(offset));
        }
      } catch (error) {
        if ((error as { code?: unknown } | null)?.code !== "EAGAIN") {
          throw error;
        }
        queue(stream, bytes.slice(offset));
      }
    },
  };
}

/**
 * Builds the Node.js runtime from the global `process`.
 *
 * @returns The Node runtime.
 * @throws {Error} When there is no global `process` with `versions.node`.
 *
 * @example Use the Node runtime where it exists
 * ```ts
 * import { nodeRuntime } from "./node.ts";
 * import assert from "node:assert/strict";
 * const runtime = nodeRuntime();
 * assert.equal(runtime.name, "node");
 * assert.equal(typeof runtime.isTerminal("stderr"), "boolean");
 * ```
 */
export function nodeRuntime(): Runtime {
  const process = globalProcess();
  const version = process?.versions?.node;
  if (process === undefined || typeof version !== "string") {
    throw new Error(
      "nodeRuntime: there is no Node.js `process` here; use detectRuntime()",
    );
  }
  return nodeLikeRuntime({ name: "node", version, ...builtins(process) });
}

/**
 * The global `process`, or `undefined` where there is none (browsers, edge).
 *
 * @returns The global `process` object, if any.
 *
 * @example Look for a process
 * ```ts
 * import { globalProcess } from "./node.ts";
 * import assert from "node:assert/strict";
 * assert.equal(typeof globalProcess()?.env, "object");
 * ```
 */
export function globalProcess(): NodeProcessLike | undefined {
  try {
    const candidate = (globalThis as Record<string, unknown>).process;
    return typeof candidate === "object" && candidate !== null
      ? candidate as NodeProcessLike
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Loads `node:fs` and `node:tty` for a host, leaving out any that cannot load.
 *
 * @param process The global `process`.
 * @returns The process with whichever built-ins could be loaded.
 *
 * @example Load the built-ins
 * ```ts
 * import { builtins, globalProcess } from "./node.ts";
 * import assert from "node:assert/strict";
 * const host = builtins(globalProcess()!);
 * assert.equal(typeof host.fs?.writeSync, "function");
 * ```
 */
export function builtins(
  process: NodeProcessLike,
): Pick<NodeHost, "process" | "fs" | "tty"> {
  const load = (id: string): unknown => {
    try {
      return process.getBuiltinModule?.(id);
    } catch {
      return undefined;
    }
  };
  const fs = load("node:fs") as NodeFsLike | undefined;
  const tty = load("node:tty") as NodeTtyLike | undefined;
  return {
    process,
    fs: typeof fs?.writeSync === "function" ? fs : undefined,
    tty: typeof tty?.isatty === "function" ? tty : undefined,
  };
}
