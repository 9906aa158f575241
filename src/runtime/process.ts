/**
 * The command line: arguments and exit status, for the `ttlog` CLI.
 *
 * @module
 */

import { tryBuiltin } from "./builtin.ts";

interface ProcessLike {
  argv: string[];
  exitCode?: number | string;
}

/** The arguments after the script, as Deno, Bun and Node all give them. */
export function commandArgs(): string[] {
  return tryBuiltin<ProcessLike>("node:process")?.argv.slice(2) ?? [];
}

/** Sets the exit status the process ends with. */
export function setExitCode(code: number): void {
  const process = tryBuiltin<ProcessLike>("node:process");
  if (process !== undefined) process.exitCode = code;
}
