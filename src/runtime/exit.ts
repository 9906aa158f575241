/**
 * Process exit hooks: the normal end of the program, `process.exit()` or
 * `Deno.exit()`, and SIGTERM/SIGINT/SIGHUP. Registered through node:process's
 * `process.on`, which Deno, Bun and Node all honour.
 *
 * @module
 */

/** What to do on the way out. */
export interface ExitHandlers {
  /** The event loop is empty: asynchronous work may still be scheduled. */
  beforeExit(): void;
  /** The process is exiting now: only synchronous work runs. */
  exit(): void;
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
  const exit = () => handlers.exit();
  const signals: [string, (...args: unknown[]) => void][] = [];
  process.on("beforeExit", beforeExit);
  process.on("exit", exit);
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
    for (const [name, listener] of signals) process.off(name, listener);
  };
}
