/**
 * The `ttlog` command line as a function (src/cli/main.ts runs it): read,
 * follow, convert and merge .ttlog files (snapshots, and what a fileSink
 * with `format: "ttlog"` writes).
 *
 * ```sh
 * deno run -A jsr:@ttlog/ttlog/cli view ttlog-snapshots/*.ttlog --level warn
 * ```
 *
 * Commands (`ttlog <command> --help` for each):
 *
 * - `view FILE... [--level L] [--target T] [--grep TEXT] [--where K=V]...
 *   [--since T] [--until T] [--last N] [--format text|ndjson]`: events in
 *   time order across files (../reader/read.ts defines the order).
 * - `stats FILE... [filters] [--top N] [--json]`: counts by level, target
 *   and call site, events per second over time, busiest call sites, losses,
 *   first and last time.
 * - `convert FILE --to ndjson|text [--out PATH] [filters]`.
 * - `tail FILE [-f] [-n N] [filters] [--format F] [--interval MS]
 *   [--idle-exit MS]`: the last events, then (with -f) every new one.
 * - `merge FILE... --out PATH [--compression lz4|gzip|none]`: one .ttlog file
 *   from many.
 *
 * `--since` and `--until` take an ISO time or a duration (`30s`, `5m`, `2h`)
 * counted back from the newest event in the files, not from now
 * (../reader/filter.ts).
 * A missing file, a file that is not .ttlog, an unknown option or a missing
 * value is reported on stderr with exit status 1; no command at all, 2.
 *
 * @module
 */

import { ReaderError } from "../reader/errors.ts";
import { FILTER_OPTIONS, parseFilter } from "../reader/filter.ts";
import { parseLast, selectEvents } from "../reader/select.ts";
import { VERSION } from "../version.ts";
import { CliError, type OptionSpec, parseArgs } from "./args.ts";
import { mergeCommand } from "./merge.ts";
import { type CliIo, currentIo, stderr, stdout, useIo } from "./output.ts";
import { type Stats, statsOf, statsText } from "./stats.ts";
import { tailCommand } from "./tail.ts";
import { convertCommand, reportFiles, viewCommand } from "./view.ts";

/** Help lines for the filter options (../reader/filter.ts). */
const FILTER_HELP =
  `  --level L        lowest level shown (trace, debug, info, warn, error, fatal)
  --target T       only target T and its children (T.x)
  --grep TEXT      only events whose message or fields contain TEXT
  --where K=V      only events whose field K renders as V (repeatable, all
                   must hold); K may be a dotted path (user.id=42); K!=V:
                   absent or different; K alone: present; !K: absent
  --since T        only events at or after T; --until T: at or before T.
  --until T        T is an ISO time (2026-11-25T10:00:00Z; UTC without a
                   zone) or a duration (500ms, 30s, 5m, 2h, 1d) back from
                   the newest event in the files, not from now`;

const HELP = {
  main: `ttlog: read .ttlog files (snapshots and ttlog file sinks)

usage: ttlog <command> [options] FILE...

commands:
  view     events in time order across files, filtered
  stats    counts by level, target and call site, events per second, losses
  convert  a file as ndjson or text
  tail     the last events of a file; -f follows it as it grows
  merge    one time-ordered .ttlog file from many

ttlog <command> --help for its options; ttlog --version for the version`,
  view: `usage: ttlog view FILE... [options]

Events of every FILE, merged in time order (at equal times: files in the
order given, then producers by number; each producer's own order is kept).

${FILTER_HELP}
  --last N         only the last N events
  --format F       text (default; coloured on a terminal) or ndjson`,
  stats: `usage: ttlog stats FILE... [options]

Counts by level, target and call site (level, target and message), events
per second over time (at most 60 buckets of a round size), the busiest call
sites, losses (loss chunks and "lost N events" records), first and last time.

${FILTER_HELP}
  --top N          how many call sites to list (default 10)
  --json           print the statistics as JSON`,
  convert: `usage: ttlog convert FILE --to ndjson|text [--out PATH] [options]

Writes the events of FILE in time order as ndjson or text (never coloured).

  --to F           ndjson or text (required)
  --out PATH       write to PATH (through a temporary file renamed into
                   place; never the input file) instead of stdout
${FILTER_HELP}`,
  tail: `usage: ttlog tail FILE [-f] [options]

Prints the last events of FILE; with -f keeps printing the events appended
to it (a fileSink with format "ttlog" still writing), as their chunks arrive,
until interrupted. A truncated or rotated file is read again from its start.

  -f, --follow     follow the file as it grows
  -n, --last N     how many of the existing events to print first (default
                   10; 0 for none, all for every one)
${FILTER_HELP}
                   (with -f, a relative --since is fixed from the newest
                   event at start; a relative --until is refused)
  --format F       text (default; coloured on a terminal) or ndjson
  --interval MS    how often to look at the file's size (default 200)
  --idle-exit MS   stop (status 0) after MS without new bytes`,
  merge: `usage: ttlog merge FILE... --out PATH [options]

Writes one .ttlog file holding the events of every FILE (snapshots of
several processes, or files of several workers): each input producer keeps
its records as they were, renumbered so none collide; chunks go in time
order; loss chunks are kept; the header lists the files merged. ttlog view
shows the result exactly as it shows the inputs together.

  --out PATH       the file to write (through a temporary file renamed into
                   place; never one of the inputs)
  --compression C  lz4, gzip or none (default: that of the first FILE)`,
};

type Command = Exclude<keyof typeof HELP, "main">;

const HELP_OPTION: OptionSpec = { name: "--help", short: "-h", value: false };
const FORMAT_OPTION: OptionSpec = { name: "--format", value: true };

const OPTIONS: Record<Command, readonly OptionSpec[]> = {
  view: [
    HELP_OPTION,
    ...FILTER_OPTIONS,
    { name: "--last", value: true },
    FORMAT_OPTION,
  ],
  stats: [
    HELP_OPTION,
    ...FILTER_OPTIONS,
    { name: "--top", value: true },
    { name: "--json", value: false },
  ],
  convert: [
    HELP_OPTION,
    ...FILTER_OPTIONS,
    { name: "--to", value: true },
    { name: "--out", short: "-o", value: true },
  ],
  tail: [
    HELP_OPTION,
    ...FILTER_OPTIONS,
    { name: "--follow", short: "-f", value: false },
    { name: "--last", short: "-n", value: true },
    FORMAT_OPTION,
    { name: "--interval", value: true },
    { name: "--idle-exit", value: true },
  ],
  merge: [
    HELP_OPTION,
    { name: "--out", short: "-o", value: true },
    { name: "--compression", value: true },
  ],
};

/**
 * Runs the CLI with `args` (the words after `ttlog`), writing to stdout and
 * stderr. Returns the exit status: 0 done, 1 a failure (said on stderr), 2
 * no command. Only `tail -f` returns a Promise (it waits for more data); every
 * other command runs synchronously.
 *
 * @param args The command line after the program name.
 * @param io Where output goes instead of the process's stdout and stderr
 * (for the whole run, `tail -f` included).
 * @returns The exit status, or a Promise of it for `tail -f`.
 * @throws Only what is not a CLI failure (a bug); CLI failures are printed
 * and return 1.
 *
 * @example Ask for a command's help; give a bad option
 * ```ts
 * import { runCli } from "./run.ts";
 * import assert from "node:assert/strict";
 * let out = "";
 * let err = "";
 * const io = { stdout: (t: string) => (out += t), stderr: (t: string) => (err += t) };
 * assert.equal(runCli(["view", "--help"], io), 0);
 * assert.match(out, /^usage: ttlog view FILE/);
 * assert.equal(runCli(["view", "a.ttlog", "--level"], io), 1);
 * assert.equal(err, "ttlog view: --level needs a value\n");
 * ```
 */
export function runCli(
  args: readonly string[],
  io?: CliIo,
): number | Promise<number> {
  const previous = useIo(io);
  const errors = currentIo();
  const failure = (error: unknown): number => {
    // The CLI's own failures, and the reader's (a bad filter, a bad file).
    if (error instanceof CliError || error instanceof ReaderError) {
      errors.stderr(error.message + "\n");
      return 1;
    }
    throw error;
  };
  try {
    const status = run(args);
    if (typeof status === "number") return status;
    return status.catch(failure);
  } catch (error) {
    return failure(error);
  } finally {
    useIo(previous);
  }
}

function run(args: readonly string[]): number | Promise<number> {
  const [name, ...rest] = args;
  if (name === "--version" || name === "-V" || name === "version") {
    stdout.write(`ttlog ${VERSION}\n`);
    return 0;
  }
  if (
    name === undefined || name === "--help" || name === "-h" ||
    name === "help"
  ) {
    const topic = name === "help" ? rest[0] : undefined;
    if (topic !== undefined && Object.hasOwn(OPTIONS, topic)) {
      stdout.write(HELP[topic as Command] + "\n");
      return 0;
    }
    (name === undefined ? stderr : stdout).write(HELP.main + "\n");
    return name === undefined ? 2 : 0;
  }
  if (!Object.hasOwn(OPTIONS, name)) {
    throw new CliError(
      `ttlog: unknown command ${JSON.stringify(name)}\n\n${HELP.main}`,
    );
  }
  const command = name as Command;
  const label = `ttlog ${command}`;
  const parsed = parseArgs(label, rest, OPTIONS[command], HELP[command]);
  if (parsed.options.has("--help")) {
    stdout.write(HELP[command] + "\n");
    return 0;
  }
  if (parsed.files.length === 0) {
    throw new CliError(`${label}: no FILE given\n\n${HELP[command]}`);
  }
  switch (command) {
    case "view":
      return viewCommand(parsed, parseFilter(label, parsed.options));
    case "convert":
      return convertCommand(parsed, parseFilter(label, parsed.options));
    case "tail":
      return tailCommand(parsed, parseFilter(label, parsed.options));
    case "merge":
      return mergeCommand(parsed);
    case "stats": {
      const top = parseLast(label, "--top", parsed.options.get("--top")?.[0]) ??
        10;
      const filter = parseFilter(label, parsed.options);
      const { records, read } = selectEvents(parsed.files, filter, {
        templates: true,
      });
      const status = reportFiles(read);
      const stats: Stats = statsOf(records, read, top);
      stdout.write(
        parsed.options.has("--json")
          ? JSON.stringify(stats, null, 2) + "\n"
          : statsText(stats),
      );
      return status;
    }
  }
}
