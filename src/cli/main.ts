/**
 * The `ttlog` command line: reads .ttlog snapshot files.
 *
 * ```sh
 * deno run -A src/cli/main.ts view ttlog-snapshots/*.ttlog --level warn
 * deno run -A src/cli/main.ts stats ttlog-snapshots/*.ttlog
 * ```
 *
 * @module
 */

import { commandArgs, setExitCode } from "../runtime/process.ts";
import { runCli } from "./run.ts";

setExitCode(runCli(commandArgs()));
