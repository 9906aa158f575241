/**
 * The `ttlog` command line: reads, follows, converts and merges .ttlog files.
 * Commands and options: src/cli/run.ts, or `ttlog --help`.
 *
 * ```sh
 * deno run -A src/cli/main.ts view ttlog-snapshots/*.ttlog --level warn
 * deno run -A src/cli/main.ts stats ttlog-snapshots/*.ttlog
 * deno run -A src/cli/main.ts tail -f app.ttlog
 * ```
 *
 * @module
 */

import { commandArgs, setExitCode } from "../runtime/process.ts";
import { runCli } from "./run.ts";

const status = runCli(commandArgs());
setExitCode(typeof status === "number" ? status : await status);
