/**
 * Routes `console.log/info/warn/error/debug/trace` into a ttlog logger, for
 * code (yours or a dependency's) that prints instead of logging.
 *
 * @module
 */

import { TtlogConfigError } from "./errors.ts";
import type { Logger } from "./logger/types.ts";
import { safeString } from "./record/encode.ts";
import { tryBuiltin } from "./runtime/builtin.ts";

/**
 * Options of {@link captureConsole}.
 *
 * @example Capture under a target of your own
 * ```ts
 * import { captureConsole, type CaptureConsoleOptions, createLogger, memorySink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink] });
 * const options: CaptureConsoleOptions = { target: "legacy", passThrough: false };
 * const restore = captureConsole(log, options);
 * try {
 *   console.log("user %s signed up", "ada");
 * } finally {
 *   restore();
 * }
 * await log.flush();
 * assert.equal(sink.records[0].target, "legacy");
 * assert.equal(sink.records[0].msg, "user ada signed up");
 * await log.close();
 * ```
 */
export interface CaptureConsoleOptions {
  /** The target of the captured events (default `"console"`). */
  readonly target?: string;
  /**
   * Also call the original console method (default false: the text goes to
   * ttlog only, whose sinks decide where it appears).
   */
  readonly passThrough?: boolean;
}

const METHODS = {
  log: "info",
  info: "info",
  warn: "warn",
  error: "error",
  debug: "debug",
  trace: "trace",
} as const;

type ConsoleMethod = keyof typeof METHODS;
type Format = (...args: unknown[]) => string;

let format: Format | undefined;

/** node:util's format where there is one (Deno, Bun, Node), else a plain join. */
function formatter(): Format {
  if (format === undefined) {
    const util = tryBuiltin<{ format?: Format }>("node:util");
    format = typeof util?.format === "function"
      ? util.format
      : (...args) =>
        args.map((arg) => typeof arg === "string" ? arg : safeString(arg))
          .join(" ");
  }
  return format;
}

/**
 * Replaces the console's `log`, `info`, `warn`, `error`, `debug` and `trace`
 * with functions that log into `log` (target `"console"`): `log` and
 * `info` at info, `warn` at warn, `error` at error, `debug` at debug and
 * `trace` at trace. The arguments are formatted as the console would
 * (`%s`, `%d`, `%o`...), and an Error among them is attached as `err`.
 * Returns a function that puts the original methods back.
 *
 * A sink of your own that prints with `console` would feed itself: while
 * the console is captured, such a sink's output is logged again. ttlog's
 * own console sink writes to stdout directly and is safe.
 *
 * @param log The logger.
 * @param options The target and whether to print as well.
 * @returns Restores the console.
 * @throws {TtlogConfigError} When `log` is not a logger, or the console is
 *   already captured (restore it first).
 *
 * @example
 * ```ts
 * import { captureConsole, createLogger, memorySink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink] });
 * const restore = captureConsole(log);
 * try {
 *   console.warn("disk at %d%%", 91);
 * } finally {
 *   restore();
 * }
 * await log.flush();
 * assert.equal(sink.records[0].msg, "disk at 91%");
 * assert.equal(sink.records[0].level, "warn");
 * assert.equal(sink.records[0].target, "console");
 * await log.close();
 * ```
 */
export function captureConsole(
  log: Logger,
  options: CaptureConsoleOptions = {},
): () => void {
  if (
    typeof log !== "object" || log === null ||
    typeof (log as Logger).child !== "function"
  ) {
    throw new TtlogConfigError(
      `captureConsole: the first argument must be a logger from createLogger()`,
    );
  }
  const target = log.child(options.target ?? "console");
  const console = globalThis.console as unknown as Record<
    string,
    unknown
  >;
  if (captured.has(console)) {
    throw new TtlogConfigError(
      `captureConsole: the console is already captured; call the restore function first`,
    );
  }
  const originals = new Map<ConsoleMethod, unknown>();
  for (const [method, level] of Object.entries(METHODS)) {
    const original = console[method];
    originals.set(method as ConsoleMethod, original);
    console[method] = function (...args: unknown[]) {
      let err: Error | undefined;
      for (const arg of args) {
        if (arg instanceof Error) {
          err = arg;
          break;
        }
      }
      let text: string;
      try {
        text = formatter()(...args);
      } catch (error) {
        text = `[console arguments could not be formatted: ${
          safeString(error)
        }]`;
      }
      if (err === undefined) target[level](text);
      else target[level](text, { err });
      if (options.passThrough && typeof original === "function") {
        original.apply(console, args);
      }
    };
  }
  captured.add(console);
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    for (const [method, original] of originals) console[method] = original;
    captured.delete(console);
  };
}

const captured = new WeakSet<object>();
