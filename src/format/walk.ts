/**
 * What the formatters share when they walk a record's values (the NDJSON
 * and text formatters, the OTLP sink's AnyValue encoding): the limits of one
 * record's walk and the state that enforces them, what a cycle, too deep a
 * value, too many values or a value that throws become, and how an error's
 * own properties stay apart from its name, message, stack and cause. Each
 * formatter keeps its own recursion, since each writes its own syntax.
 *
 * Internal: not exported from mod.ts.
 *
 * @module
 */

/** Deepest nesting walked; a value deeper in is `[Depth]`. */
export const MAX_DEPTH = 100;
/** Most containers walked in one record; the rest are `[Truncated]`. */
export const MAX_VALUES = 10_000;

/** The keys an error is written with before its own properties. */
export const ERROR_KEYS: ReadonlySet<string> = new Set([
  "name",
  "message",
  "stack",
  "cause",
]);

/** Per-record traversal state: the open containers and a value budget. */
export interface Walk {
  readonly ancestors: unknown[];
  values: number;
}

/**
 * The state of a new walk, one per record.
 *
 * @returns No open containers, nothing counted.
 */
export function newWalk(): Walk {
  return { ancestors: [], values: 0 };
}

/**
 * Where a walk stops at a container: `[Circular]` for one of its own
 * ancestors, `[Depth]` past {@link MAX_DEPTH}, `[Truncated]` past
 * {@link MAX_VALUES} (counting this one). Call it before pushing `value`
 * onto the ancestors.
 *
 * @param value The container about to be walked.
 * @param walk The record's walk.
 * @returns The text to write instead of `value`, or undefined to walk it.
 */
export function walkLimit(value: object, walk: Walk): string | undefined {
  if (walk.ancestors.includes(value)) return "[Circular]";
  if (walk.ancestors.length >= MAX_DEPTH) return "[Depth]";
  if (++walk.values > MAX_VALUES) return "[Truncated]";
  return undefined;
}

/**
 * What was thrown while reading a value, never throwing itself.
 *
 * @param thrown What was thrown.
 * @returns `Name: message` for an Error, else `String(thrown)`.
 */
export function describeThrown(thrown: unknown): string {
  try {
    return thrown instanceof Error
      ? String(thrown.name) + ": " + String(thrown.message)
      : String(thrown);
  } catch {
    return "unknown error";
  }
}

/**
 * The text that stands for a value that could not be read.
 *
 * @param thrown What reading it threw.
 * @returns `[Unformattable: <reason>]`.
 */
export function unformattableText(thrown: unknown): string {
  return `[Unformattable: ${describeThrown(thrown)}]`;
}

/**
 * Prepends `_` until `key` is neither reserved nor an own key of `taken`:
 * how a field named like a top-level key, or an error's property named
 * like one of {@link ERROR_KEYS}, keeps its value without hiding another.
 *
 * @param key A key that is reserved.
 * @param reserved The reserved keys.
 * @param taken The object whose own keys are taken too.
 * @returns The free key.
 */
export function freeKey(
  key: string,
  reserved: ReadonlySet<string>,
  taken: object,
): string {
  let free = "_" + key;
  while (reserved.has(free) || Object.hasOwn(taken, free)) free = "_" + free;
  return free;
}
