/**
 * The checks the factories share for their options, so that a bad option
 * reads the same everywhere: `<factory>: <option> must be <expected>, got
 * <value>`, with the value shown by {@link describeValue}. It imports only
 * src/errors.ts, so any file may use it.
 *
 * Internal: not exported from mod.ts.
 *
 * @module
 */

import { TtlogConfigError } from "./errors.ts";

/**
 * How a bad value is shown in an error message: a string quoted, a bigint
 * with its `n`, other primitives as they print, and an object by its kind
 * (`an array`, `a Headers`, `an object`) rather than its contents.
 *
 * @param value The value given.
 * @returns Its description.
 */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || typeof value !== "object") {
    return typeof value === "function" ? "a function" : String(value);
  }
  if (Array.isArray(value)) return "an array";
  let name: unknown;
  try {
    name = (Object.getPrototypeOf(value) as
      | { constructor?: { name?: unknown } }
      | null)
      ?.constructor?.name;
  } catch {
    // A proxy whose traps throw: an object all the same.
  }
  return typeof name === "string" && name !== "" && name !== "Object"
    ? `a ${name}`
    : "an object";
}

/**
 * An error's message, never throwing, for a message about what failed.
 *
 * @param error What was thrown.
 * @returns Its message, or `String(error)` for a non-Error.
 */
export function describeError(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return "unknown error";
  }
}

/**
 * Whether a value is an object made with `{}` or `Object.create(null)`.
 *
 * @param value The value given.
 * @returns True for a plain object.
 */
export function isPlainObject(
  value: unknown,
): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Throws the error of a bad option: `<who>: <option> must be <expected>, got <value>`. */
export type BadOption = (
  option: string,
  value: unknown,
  expected: string,
) => never;

/**
 * A {@link BadOption} for the factory named `who`.
 *
 * @param who The factory's name, such as `"httpSink"`.
 * @returns The function that throws its {@link TtlogConfigError}s.
 */
export function badOption(who: string): BadOption {
  return (option, value, expected) => {
    throw new TtlogConfigError(
      `${who}: ${option} must be ${expected}, got ${describeValue(value)}`,
    );
  };
}

/**
 * Checks an integer option.
 *
 * @param bad The factory's {@link BadOption}.
 * @param value The value given.
 * @param option The option's name.
 * @param fallback The value when none is given.
 * @param min The smallest allowed (default 1).
 * @param max The largest allowed (default: none).
 * @returns The value, or the fallback.
 */
export function integerOption(
  bad: BadOption,
  value: unknown,
  option: string,
  fallback: number,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== "number" || !Number.isSafeInteger(value) ||
    value < min || value > max
  ) {
    bad(
      option,
      value,
      max === Number.MAX_SAFE_INTEGER
        ? `an integer >= ${min}`
        : `an integer from ${min} to ${max}`,
    );
  }
  return value;
}

/**
 * Checks an option that is a duration: a finite number of milliseconds >= 0.
 *
 * @param bad The factory's {@link BadOption}.
 * @param value The value given.
 * @param option The option's name.
 * @param fallback The value when none is given.
 * @returns The value, or the fallback.
 */
export function millisOption(
  bad: BadOption,
  value: unknown,
  option: string,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    bad(option, value, "a finite number of milliseconds >= 0");
  }
  return value;
}

/**
 * Checks an option that is a non-empty string.
 *
 * @param bad The factory's {@link BadOption}.
 * @param value The value given.
 * @param option The option's name.
 * @returns The value, or undefined when none is given.
 */
export function textOption(
  bad: BadOption,
  value: unknown,
  option: string,
): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") {
    bad(option, value, "a non-empty string");
  }
  return value;
}

/**
 * Checks an option that is a boolean.
 *
 * @param bad The factory's {@link BadOption}.
 * @param value The value given.
 * @param option The option's name.
 * @param fallback The value when none is given.
 * @returns The value, or the fallback.
 */
export function booleanOption(
  bad: BadOption,
  value: unknown,
  option: string,
  fallback: boolean,
): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") bad(option, value, "a boolean");
  return value;
}

/**
 * Checks an option that is one of a few strings.
 *
 * @param bad The factory's {@link BadOption}.
 * @param value The value given.
 * @param option The option's name.
 * @param choices The strings allowed; the first is the default.
 * @returns The value, or the first choice.
 */
export function choiceOption<T extends string>(
  bad: BadOption,
  value: unknown,
  option: string,
  choices: readonly [T, ...T[]],
): T {
  if (value === undefined) return choices[0];
  if (!(choices as readonly unknown[]).includes(value)) {
    bad(option, value, choiceList(choices));
  }
  return value as T;
}

/**
 * Strings quoted and joined for an error message: `"a"`, `"a" or "b"`,
 * `"a", "b" or "c"`.
 *
 * @param choices The strings.
 * @returns The list.
 */
export function choiceList(choices: readonly string[]): string {
  const quoted = choices.map((choice) => JSON.stringify(choice));
  return quoted.length < 2
    ? quoted.join("")
    : quoted.slice(0, -1).join(", ") + " or " + quoted[quoted.length - 1];
}

/**
 * Checks an option that is a group of options: a plain object.
 *
 * @param bad The factory's {@link BadOption}.
 * @param value The value given.
 * @param option The option's name.
 * @param expected What the message says it must be.
 * @returns The object, or `{}` when none is given.
 */
export function groupOption(
  bad: BadOption,
  value: unknown,
  option: string,
  expected = "a plain object",
): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) bad(option, value, expected);
  return value;
}

/**
 * Freezes an object and everything in it, such as a sink's `spec.options`.
 *
 * @param value The value.
 * @returns The same value, frozen.
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
