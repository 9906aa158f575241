/**
 * Starting the drain's worker thread. node:worker_threads is used on all
 * three runtimes: its `unref()` works in Deno, Bun and Node (Deno's web
 * Worker has none and would keep the process alive forever).
 *
 * @module
 */

import type * as WorkerThreads from "node:worker_threads";
import { TtlogConfigError } from "../level.ts";
import { tryBuiltin } from "./builtin.ts";
import { detectRuntime } from "./mod.ts";

/** The part of a worker the drain's host uses. */
export interface WorkerHandle {
  /** Sends a message to the worker. */
  postMessage(message: unknown): void;
  /** Listens for the worker's messages, errors and exit. */
  on(
    event: "message" | "error" | "exit",
    listener: (value: never) => void,
  ): void;
  /** Lets the process exit while the worker runs. */
  unref(): void;
  /** Keeps the process alive while the worker runs. */
  ref(): void;
  /** Stops the worker. */
  terminate(): Promise<number>;
}

/** Whether this runtime can run the drain in a worker thread. */
export function canStartWorker(): boolean {
  return typeof SharedArrayBuffer === "function" &&
    tryBuiltin<typeof WorkerThreads>("node:worker_threads")?.Worker !==
      undefined;
}

/**
 * How many CPUs this process may run on: its affinity mask, as node:os
 * `availableParallelism()` reads it on Deno, Bun and Node (1 under
 * `taskset -c 0`), else `navigator.hardwareConcurrency`, else `undefined`.
 */
export function usableCpus(): number | undefined {
  try {
    const count = tryBuiltin<{ availableParallelism?: () => number }>(
      "node:os",
    )?.availableParallelism?.();
    if (Number.isInteger(count) && count! > 0) return count;
  } catch {
    // Fall through to navigator.
  }
  const hinted =
    (globalThis as { navigator?: { hardwareConcurrency?: unknown } })
      .navigator?.hardwareConcurrency;
  return typeof hinted === "number" && Number.isInteger(hinted) && hinted > 0
    ? hinted
    : undefined;
}

/**
 * Starts a module in a worker thread with `workerData`. On Node, a `.ts`
 * module (ttlog's source run through tsx) is loaded by registering tsx in the
 * worker first: Node does not pass a loader on to worker threads.
 *
 * @param module The worker module's URL.
 * @param workerData Data for the worker (structured-cloned; SharedArrayBuffers shared).
 * @returns The worker.
 * @throws {TtlogConfigError} Where the runtime has no worker threads.
 */
export function startWorker(module: URL, workerData: unknown): WorkerHandle {
  const threads = tryBuiltin<typeof WorkerThreads>("node:worker_threads");
  if (
    threads?.Worker === undefined || typeof SharedArrayBuffer !== "function"
  ) {
    throw new TtlogConfigError(
      `worker: true needs worker threads and SharedArrayBuffer, which this runtime does not have (use worker: "auto" or false)`,
    );
  }
  if (detectRuntime().name === "node" && module.pathname.endsWith(".ts")) {
    let tsx: string;
    try {
      tsx = import.meta.resolve("tsx/esm/api");
    } catch {
      throw new TtlogConfigError(
        `worker: running ttlog's TypeScript source on Node needs tsx to load the worker; install tsx or use the compiled npm package`,
      );
    }
    const boot = `import(${
      JSON.stringify(tsx)
    }).then((m) => { m.register(); return import(${
      JSON.stringify(module.href)
    }); }).catch((e) => { console.error(e); throw e; });`;
    return new threads.Worker(boot, {
      eval: true,
      workerData,
    }) as unknown as WorkerHandle;
  }
  return new threads.Worker(module, { workerData }) as unknown as WorkerHandle;
}
