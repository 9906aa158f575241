/**
 * Command-line parsing for `ttlog`: options declared per command, `--name
 * value` or `--name=value`, repeatable options, `--` before file names that
 * start with `-`. Anything unknown or incomplete is a {@link CliError} that
 * names it.
 *
 * @module
 */

/**
 * A CLI failure: `runCli` prints its message on stderr and returns 1.
 *
 * @example Throw a CLI error
 * ```ts
 * import { CliError } from "./args.ts";
 * import assert from "node:assert/strict";
 * assert.equal(new CliError("ttlog: no FILE given").name, "CliError");
 * ```
 */
export class CliError extends Error {
  /**
   * Creates the error.
   *
   * @param message What went wrong, for the user.
   */
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/** One option a command accepts. */
export interface OptionSpec {
  /** The long name, with its dashes: `--level`. */
  readonly name: string;
  /** A short name: `-f`. */
  readonly short?: string;
  /** Whether it takes a value (`--level warn`); otherwise it is a flag. */
  readonly value: boolean;
  /** Whether it may be given more than once (every value is kept). */
  readonly repeat?: boolean;
}

/** What {@link parseArgs} found. */
export interface ParsedArgs {
  /** The arguments that are not options, in order. */
  readonly files: string[];
  /** Each option given, by long name: its values (flags: `[""]`). */
  readonly options: Map<string, string[]>;
}

/**
 * Parses `args` against `specs`.
 *
 * @param command The command's name, for error messages (`ttlog view`).
 * @param args The arguments after the command.
 * @param specs The options the command accepts.
 * @param help The command's help text, appended to "unknown option" errors.
 * @returns The files and the options given.
 * @throws {CliError} For an unknown option, an option without its value, a
 * value given to a flag, or an option given twice that may be given once.
 *
 * @example Parse a view command line
 * ```ts
 * import { parseArgs } from "./args.ts";
 * import assert from "node:assert/strict";
 * const parsed = parseArgs("ttlog view", ["a.ttlog", "--level=warn", "-f"], [
 *   { name: "--level", value: true },
 *   { name: "--follow", short: "-f", value: false },
 * ], "");
 * assert.deepEqual(parsed.files, ["a.ttlog"]);
 * assert.deepEqual(parsed.options.get("--level"), ["warn"]);
 * assert.ok(parsed.options.has("--follow"));
 * ```
 */
export function parseArgs(
  command: string,
  args: readonly string[],
  specs: readonly OptionSpec[],
  help: string,
): ParsedArgs {
  const files: string[] = [];
  const options = new Map<string, string[]>();
  let onlyFiles = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (onlyFiles || arg === "-" || !arg.startsWith("-")) {
      files.push(arg);
      continue;
    }
    if (arg === "--") {
      onlyFiles = true;
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const spec = specs.find((s) => s.name === name || s.short === name);
    if (spec === undefined) {
      throw new CliError(
        `${command}: unknown option ${JSON.stringify(name)}\n\n${help}`,
      );
    }
    let value = "";
    if (spec.value) {
      if (eq >= 0) value = arg.slice(eq + 1);
      else {
        const next = args[i + 1];
        // A missing value is more likely than a value that starts with --:
        // `--grep=--x` still passes one.
        if (next === undefined || (next.startsWith("--") && next.length > 2)) {
          throw new CliError(`${command}: ${spec.name} needs a value`);
        }
        value = next;
        i++;
      }
    } else if (eq >= 0) {
      throw new CliError(`${command}: ${spec.name} takes no value`);
    }
    const values = options.get(spec.name);
    if (values === undefined) options.set(spec.name, [value]);
    else if (spec.repeat) values.push(value);
    else {
      throw new CliError(`${command}: ${spec.name} is given more than once`);
    }
  }
  return { files, options };
}

/**
 * The one value of an option, or undefined when it was not given.
 *
 * @param parsed What {@link parseArgs} returned.
 * @param name The option's long name.
 * @returns Its value.
 *
 * @example Read an option's value
 * ```ts
 * import { optionValue, parseArgs } from "./args.ts";
 * import assert from "node:assert/strict";
 * const parsed = parseArgs("ttlog view", ["--last", "5"], [
 *   { name: "--last", value: true },
 * ], "");
 * assert.equal(optionValue(parsed, "--last"), "5");
 * assert.equal(optionValue(parsed, "--level"), undefined);
 * ```
 */
export function optionValue(
  parsed: ParsedArgs,
  name: string,
): string | undefined {
  return parsed.options.get(name)?.[0];
}
