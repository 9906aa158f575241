/**
 * The `ttlog` command line as a function (src/cli/main.ts runs it): read
 * .ttlog snapshot files.
 *
 * ```sh
 * deno run -A jsr:@ttlog/ttlog/cli view ttlog-snapshots/*.ttlog --level warn
 * ```
 *
 * Commands: `view FILE... [--level L] [--target T] [--grep TEXT] [--last N]
 * [--format text|ndjson]` and `stats FILE... [--json]`. `--help` on each.
 * Time filters, `convert`, `tail` and `merge` come next.
 *
 * @module
 */

import { runtime } from "../runtime/mod.ts";
import {
  CliError,
  formatRecords,
  readFile,
  selectRecords,
  statsOf,
  type ViewFilter,
} from "./view.ts";
import { LEVEL_NAMES, type LevelName } from "../level.ts";

const HELP = {
  main: `ttlog: read .ttlog snapshot files

usage: ttlog <command> [options] FILE...

commands:
  view    events in time order across files, filtered
  stats   counts by level, target and message

ttlog <command> --help for its options`,
  view: `usage: ttlog view FILE... [options]

  --level L        lowest level shown (trace, debug, info, warn, error, fatal)
  --target T       only target T and its children (T.x)
  --grep TEXT      only events whose message or fields contain TEXT
  --last N         only the last N events
  --format F       text (default; coloured on a terminal) or ndjson`,
  stats: `usage: ttlog stats FILE... [--json]

  counts by level, target and message, the first and last event
  --json           print the counts as JSON`,
};

/** Runs the CLI with `args`; returns the exit code and writes to stdout/stderr. */
export function runCli(args: readonly string[]): number {
  try {
    return run(args);
  } catch (error) {
    if (error instanceof CliError) {
      runtime.write("stderr", error.message + "\n");
      return 1;
    }
    throw error;
  }
}

function run(args: readonly string[]): number {
  const [command, ...rest] = args;
  if (
    command === undefined || command === "--help" || command === "-h" ||
    command === "help"
  ) {
    runtime.write(
      command === undefined ? "stderr" : "stdout",
      HELP.main + "\n",
    );
    return command === undefined ? 2 : 0;
  }
  if (command !== "view" && command !== "stats") {
    throw new CliError(
      `ttlog: unknown command ${JSON.stringify(command)}\n\n${HELP.main}`,
    );
  }
  const { files, options } = parse(rest, command);
  if (options.help) {
    runtime.write("stdout", HELP[command] + "\n");
    return 0;
  }
  if (files.length === 0) {
    throw new CliError(`ttlog ${command}: no FILE given\n\n${HELP[command]}`);
  }
  const read = files.map(readFile);
  for (const [i, file] of read.entries()) {
    if (file.truncatedAt !== undefined) {
      runtime.write(
        "stderr",
        `ttlog: ${
          files[i]
        } is truncated at byte ${file.truncatedAt}; read what came before\n`,
      );
    }
  }
  if (command === "stats") {
    const stats = statsOf(selectRecords(read, {}));
    runtime.write(
      "stdout",
      options.json ? JSON.stringify(stats, null, 2) + "\n" : statsText(stats),
    );
    return 0;
  }
  const records = selectRecords(read, options.filter);
  const color = options.format === "text" && runtime.isTerminal("stdout") &&
    (runtime.env("NO_COLOR") ?? "") === "";
  runtime.write("stdout", formatRecords(records, options.format, color));
  return 0;
}

interface Options {
  help: boolean;
  json: boolean;
  format: "text" | "ndjson";
  filter: ViewFilter;
}

function parse(
  args: readonly string[],
  command: "view" | "stats",
): { files: string[]; options: Options } {
  const files: string[] = [];
  const filter: {
    level?: LevelName;
    target?: string;
    grep?: string;
    last?: number;
  } = {};
  const options: Options = { help: false, json: false, format: "text", filter };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = (): string => {
      const next = args[++i];
      if (next === undefined) {
        throw new CliError(`ttlog ${command}: ${arg} needs a value`);
      }
      return next;
    };
    if (arg === "--help" || arg === "-h") options.help = true;
    else if (command === "stats" && arg === "--json") options.json = true;
    else if (command === "view" && arg === "--level") {
      const level = value().toLowerCase();
      if (!(LEVEL_NAMES as readonly string[]).includes(level)) {
        throw new CliError(
          `ttlog view: --level must be one of ${LEVEL_NAMES.join(", ")}, got ${
            JSON.stringify(level)
          }`,
        );
      }
      filter.level = level as LevelName;
    } else if (command === "view" && arg === "--target") {
      filter.target = value();
    } else if (command === "view" && arg === "--grep") filter.grep = value();
    else if (command === "view" && arg === "--last") {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) {
        throw new CliError(`ttlog view: --last must be a positive integer`);
      }
      filter.last = n;
    } else if (command === "view" && arg === "--format") {
      const format = value();
      if (format !== "text" && format !== "ndjson") {
        throw new CliError(
          `ttlog view: --format must be text or ndjson, got ${
            JSON.stringify(format)
          }`,
        );
      }
      options.format = format;
    } else if (arg.startsWith("-")) {
      throw new CliError(
        `ttlog ${command}: unknown option ${arg}\n\n${HELP[command]}`,
      );
    } else files.push(arg);
  }
  return { files, options };
}

function statsText(stats: ReturnType<typeof statsOf>): string {
  let out = `${stats.events} events`;
  if (stats.first !== undefined) out += `, ${stats.first} to ${stats.last}`;
  out += "\n\nby level:\n";
  for (const name of LEVEL_NAMES) {
    if (stats.levels[name] !== undefined) {
      out += `  ${name.padEnd(6)} ${stats.levels[name]}\n`;
    }
  }
  out += "\nby target:\n";
  for (
    const [target, count] of Object.entries(stats.targets).sort((a, b) =>
      b[1] - a[1]
    )
  ) {
    out += `  ${(target || "(root)").padEnd(20)} ${count}\n`;
  }
  out += "\nbusiest messages:\n";
  for (const site of stats.sites) {
    out += `  ${String(site.count).padStart(6)}  ${JSON.stringify(site.msg)}\n`;
  }
  return out;
}
