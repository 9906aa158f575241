/**
 * Process exit hooks: the normal end of the program, `process.exit()` or
 * `Deno.exit()`, SIGTERM/SIGINT/SIGHUP, and crashes (an uncaught exception
 * or an unhandled rejection). Registered through node:process's
 * `process.on`, which Deno, Bun and Node all honour.
 *
 * Crashes are watched without changing how the process ends:
 * - Node and Deno report both kinds to `uncaughtExceptionMonitor`, a
 *   listener that only watches.
 * - Bun reports uncaught exceptions there but not unhandled rejections, and
 *   any `unhandledRejection` listener stops the crash. So on Bun, ttlog's
 *   listener treats a rejection as a crash only when no other listener
 *   handles it, and then throws the reason again, so that Bun ends the
 *   process as it would have (the same message, exit code 1).
 *
 * @module
 */

import { runtime } from "./mod.ts";

/** What to do on the way out. */
export interface ExitHandlers {
  /** The event loop is empty: asynchronous work may still be scheduled. */
  beforeExit(): void;
  /** The process is exiting now with `code`: only synchronous work runs. */
  exit(code: number): void;
  /**
   * The process is about to die of `error` (synchronous work only; the
   * runtime then reports it and ends as it would have). Called once.
   */
  crash(
    error: unknown,
    origin: "uncaught exception" | "unhandled rejection",
  ): void;
  /** A termination signal arrived (synchronous work only; then the default action). */
  signal(signal: "SIGTERM" | "SIGINT" | "SIGHUP"): void;
}

interface ProcessLike {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  listenerCount(event: string): number;
  kill(pid: number, signal: string): unknown;
  pid: number;
  platform?: string;
}

function processLike(): ProcessLike | undefined {
  try {
    const p = (globalThis as Record<string, unknown>).process as
      | ProcessLike
      | undefined;
    return typeof p?.on === "function" ? p : undefined;
  } catch {
    return undefined;
  }
}

const SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;

/**
 * Registers exit hooks; returns a function that removes them. A signal
 * handler runs `handlers.signal`, then, if no other listener wants that
 * signal, removes itself and raises the signal again so that the process
 * ends exactly as it would have without ttlog (same signal, same exit code).
 *
 * @param handlers What to run.
 * @returns Removes the hooks.
 */
export function onProcessExit(handlers: ExitHandlers): () => void {
  const process = processLike();
  if (process === undefined) return () => {};
  const beforeExit = () => handlers.beforeExit();
  let exited = false;
  const exit = (code: unknown) => {
    // Deno runs both hooks below for process.exit() and the program's end.
    if (exited) return;
    exited = true;
    handlers.exit(typeof code === "number" ? code : 0);
  };
  // Deno.exit() runs "unload" listeners but no process "exit" ones.
  const deno = (globalThis as { Deno?: { exitCode?: number } }).Deno;
  const target = globalThis as {
    addEventListener?: (type: string, listener: () => void) => void;
    removeEventListener?: (type: string, listener: () => void) => void;
  };
  const unload = deno !== undefined &&
      typeof target.addEventListener === "function"
    ? () => exit(deno.exitCode ?? 0)
    : undefined;
  if (unload !== undefined) target.addEventListener!("unload", unload);
  const signals: [string, (...args: unknown[]) => void][] = [];
  process.on("beforeExit", beforeExit);
  process.on("exit", exit);
  let crashed = false;
  const crash = (
    error: unknown,
    origin: "uncaught exception" | "unhandled rejection",
  ) => {
    if (crashed) return;
    crashed = true;
    handlers.crash(error, origin);
  };
  const monitor = (error: unknown, origin: unknown) =>
    crash(
      error,
      origin === "unhandledRejection"
        ? "unhandled rejection"
        : "uncaught exception",
    );
  process.on("uncaughtExceptionMonitor", monitor);
  // Bun: see the module comment.
  const rejection = runtime.name === "bun"
    ? (reason: unknown) => {
      // Another listener handles rejections: this one is not a crash.
      if (crashed || process.listenerCount("unhandledRejection") > 1) return;
      crash(reason, "unhandled rejection");
      process.off("unhandledRejection", rejection!);
      throw reason;
    }
    : undefined;
  if (rejection !== undefined) process.on("unhandledRejection", rejection);
  for (const name of SIGNALS) {
    if (name === "SIGHUP" && process.platform === "win32") continue;
    const listener = () => {
      handlers.signal(name);
      if (process.listenerCount(name) === 1) {
        process.off(name, listener);
        process.kill(process.pid, name);
      }
    };
    try {
      process.on(name, listener);
      signals.push([name, listener]);
    } catch {
      // A runtime without this signal: nothing to hook.
    }
  }
  return () => {
    process.off("beforeExit", beforeExit);
    process.off("exit", exit);
    if (unload !== undefined) target.removeEventListener?.("unload", unload);
    process.off("uncaughtExceptionMonitor", monitor);
    if (rejection !== undefined) {
      process.off("unhandledRejection", rejection);
    }
    for (const [name, listener] of signals) process.off(name, listener);
  };
}
