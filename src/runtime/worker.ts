/**
 * Starting the drain's worker thread. node:worker_threads is used on all
 * three runtimes: its `unref()` works in Deno, Bun and Node (Deno's web
 * Worker has none and would keep the process alive forever).
 *
 * @module
 */

import type * as WorkerThreads from "node:worker_threads";
import { TtlogConfigError } from "../errors.ts";
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
  // tryBuiltin gives no worker_threads where an edge platform has only a
  // stand-in for it.
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

/** Data URLs of worker sources, made once per source. */
const dataUrls = new Map<string, URL>();

/**
 * Starts a worker thread running `source`, a self-contained ES module (see
 * scripts/build_workers.mjs), with `workerData`. The code goes in as a
 * `data:` URL, which Deno, Bun and Node all start without reading a file:
 * so the worker starts wherever ttlog was loaded from (a `file:` or
 * `https:` import, a bundle) and under Deno without read permission.
 *
 * @param source The worker's code.
 * @param workerData Data for the worker (structured-cloned; SharedArrayBuffers shared).
 * @returns The worker.
 * @throws {TtlogConfigError} Where the runtime has no worker threads.
 * @throws {Error} What the runtime throws when it refuses to start one.
 */
export function startWorker(source: string, workerData: unknown): WorkerHandle {
  const threads = canStartWorker()
    ? tryBuiltin<typeof WorkerThreads>("node:worker_threads")
    : undefined;
  if (threads?.Worker === undefined) {
    throw new TtlogConfigError(
      `worker: true needs worker threads and SharedArrayBuffer, which this runtime does not have (use worker: "auto" or false)`,
    );
  }
  let url = dataUrls.get(source);
  if (url === undefined) {
    url = new URL(`data:text/javascript,${encodeURIComponent(source)}`);
    dataUrls.set(source, url);
  }
  return new threads.Worker(url, { workerData }) as unknown as WorkerHandle;
}

/**
 * The URL of tsx's API, for a worker that must import a `.ts` module on
 * Node (tsx's loader does not reach worker threads by itself); `undefined`
 * elsewhere or when nothing needs it.
 *
 * @param modules The module URLs the worker will import.
 * @returns The URL to import and `register()` in the worker, if any.
 * @throws {TtlogConfigError} When a `.ts` module must load on Node without tsx.
 */
export function typeScriptLoader(
  modules: readonly string[],
): string | undefined {
  if (
    detectRuntime().name !== "node" ||
    !modules.some((module) => /\.[cm]?ts$/.test(new URL(module).pathname))
  ) {
    return undefined;
  }
  try {
    return import.meta.resolve("tsx/esm/api");
  } catch {
    throw new TtlogConfigError(
      `worker: a sink module is TypeScript (${
        modules.find((m) => /\.[cm]?ts$/.test(m))
      }) and Node cannot load it in a worker without tsx; install tsx or compile the module`,
    );
  }
}
