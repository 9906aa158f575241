/**
 * Event filters: what `ttlog view`, `tail`, `convert` and `stats` and the
 * dashboard's views select by: `--level`, `--target`, `--grep`, `--where`
 * and `--since`/`--until`, parsed from option values ({@link parseFilter})
 * and turned into tests on records ({@link recordTest}) or on a record's
 * header alone ({@link headerTest}).
 *
 * - `--where key=value`, repeatable, every one must match. The key is a field
 *   name or a dotted path into fields (`user.id=42`); a field whose own name
 *   holds the dots (`http.status`) is found first. Values are compared as
 *   their rendered text (what a template shows), so `ms=900` matches the
 *   number 900 and the string "900". `key!=value` matches when the field is
 *   absent or renders differently; `key` alone, when the field is present;
 *   `!key`, when it is absent.
 * - `--since T` and `--until T` (both inclusive): T is an ISO time
 *   (`2026-11-25T10:00:00Z`, `2026-11-25T10:00:00.250+01:00`, or a date
 *   `2026-11-25`; without a zone it is UTC), or a duration (`500ms`, `30s`,
 *   `5m`, `2h`, `1d`, decimals allowed) counted back from the newest event in
 *   the files read, not from now: snapshots are usually read well after they
 *   were taken, and "the last 30 s before the error" is what one looks for.
 *
 * @module
 */

import { Level, LEVEL_NAMES, type LevelName } from "../level.ts";
import { renderValue } from "../record/decode.ts";
import { LoggedError, type LogRecord } from "../record/values.ts";
import { ReaderError } from "./errors.ts";

/** A `--since`/`--until` bound: an absolute time or a span back from the newest event. */
export type TimeBound =
  | { readonly kind: "absolute"; readonly ms: number }
  | { readonly kind: "relative"; readonly ms: number };

/** One `--where` condition. */
export interface WhereCondition {
  /** The text as given. */
  readonly text: string;
  /** The field path: the whole key first, then its dotted parts. */
  readonly key: string;
  /** `=` equals, `!=` differs or absent, `?` present, `!` absent. */
  readonly op: "=" | "!=" | "?" | "!";
  /** The value compared with (for `=` and `!=`). */
  readonly value: string;
}

/** The filters of one command line. */
export interface EventFilter {
  /** Lowest level shown. */
  readonly level?: LevelName;
  /** Target (and its children) shown. */
  readonly target?: string;
  /** Text the message or a field value must contain. */
  readonly grep?: string;
  /** Field conditions, all of which must hold. */
  readonly where?: readonly WhereCondition[];
  /** Earliest time shown. */
  readonly since?: TimeBound;
  /** Latest time shown. */
  readonly until?: TimeBound;
}

/**
 * The filter options: their names, that each takes a value, and which may
 * be given more than once. The shape of the CLI's option specs, so that a
 * command line parser can take them as they are.
 */
export const FILTER_OPTIONS = [
  { name: "--level", value: true },
  { name: "--target", value: true },
  { name: "--grep", value: true },
  { name: "--where", value: true, repeat: true },
  { name: "--since", value: true },
  { name: "--until", value: true },
] as const;

/**
 * Reads the filter options from their values, as a command line parser
 * collects them (`--where` may have several; the others one each). Options
 * that are not filter options are ignored.
 *
 * @param command Who asks, for error messages (`ttlog view`, `dashboard`).
 * @param options The values given, by option name (`"--level"`).
 * @returns The filter.
 * @throws {ReaderError} When a level, condition or time is malformed, or an
 * option other than `--where` has more than one value.
 *
 * @example Read the filters of `view --level warn --where user.id=42`
 * ```ts
 * import { parseFilter } from "./filter.ts";
 * import assert from "node:assert/strict";
 * const filter = parseFilter("ttlog view", new Map([
 *   ["--level", ["warn"]],
 *   ["--where", ["user.id=42"]],
 * ]));
 * assert.equal(filter.level, "warn");
 * assert.deepEqual(filter.where, [{ text: "user.id=42", key: "user.id", op: "=", value: "42" }]);
 * ```
 */
export function parseFilter(
  command: string,
  options: ReadonlyMap<string, readonly string[]>,
): EventFilter {
  for (const option of FILTER_OPTIONS) {
    const values = options.get(option.name);
    if (values !== undefined && values.length > 1 && !("repeat" in option)) {
      throw new ReaderError(
        `${command}: ${option.name} is given more than once`,
        "argument",
      );
    }
  }
  const get = (name: string) => options.get(name)?.[0];
  let level: LevelName | undefined;
  const levelText = get("--level");
  if (levelText !== undefined) {
    const name = levelText.trim().toLowerCase();
    if (!(LEVEL_NAMES as readonly string[]).includes(name)) {
      throw new ReaderError(
        `${command}: --level must be one of ${LEVEL_NAMES.join(", ")}, got ${
          JSON.stringify(levelText)
        }`,
        "argument",
      );
    }
    level = name as LevelName;
  }
  const sinceText = get("--since");
  const untilText = get("--until");
  return {
    level,
    target: get("--target"),
    grep: get("--grep"),
    where: (options.get("--where") ?? []).map((text) =>
      parseWhere(command, text)
    ),
    since: sinceText === undefined
      ? undefined
      : parseTime(command, "--since", sinceText),
    until: untilText === undefined
      ? undefined
      : parseTime(command, "--until", untilText),
  };
}

/**
 * Parses one `--where` condition.
 *
 * @param command The command, for error messages.
 * @param text `key=value`, `key!=value`, `key` or `!key`.
 * @returns The condition.
 * @throws {ReaderError} When the key is empty or has an empty path part.
 *
 * @example Parse conditions
 * ```ts
 * import { parseWhere } from "./filter.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseWhere("ttlog view", "status!=200").op, "!=");
 * assert.equal(parseWhere("ttlog view", "err").op, "?");
 * assert.equal(parseWhere("ttlog view", "q=a=b").value, "a=b");
 * ```
 */
export function parseWhere(command: string, text: string): WhereCondition {
  const eq = text.indexOf("=");
  let key: string;
  let op: WhereCondition["op"];
  let value = "";
  if (eq < 0) {
    op = text.startsWith("!") ? "!" : "?";
    key = op === "!" ? text.slice(1) : text;
  } else if (eq > 0 && text[eq - 1] === "!") {
    op = "!=";
    key = text.slice(0, eq - 1);
    value = text.slice(eq + 1);
  } else {
    op = "=";
    key = text.slice(0, eq);
    value = text.slice(eq + 1);
  }
  if (key === "" || key.split(".").includes("")) {
    throw new ReaderError(
      `${command}: --where ${
        JSON.stringify(text)
      } needs a field name or a dotted path (key=value, key!=value, key or !key; for example user.id=42)`,
      "argument",
    );
  }
  return { text, key, op, value };
}

const DURATION = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * Parses a `--since`/`--until` value.
 *
 * @param command The command, for error messages.
 * @param option `--since` or `--until`.
 * @param text An ISO time or a duration.
 * @returns The bound.
 * @throws {ReaderError} When `text` is neither.
 *
 * @example Parse times
 * ```ts
 * import { parseTime } from "./filter.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseTime("ttlog view", "--since", "5m"), { kind: "relative", ms: 300000 });
 * assert.deepEqual(parseTime("ttlog view", "--since", "2026-11-25T10:00:00Z"), {
 *   kind: "absolute",
 *   ms: Date.UTC(2026, 10, 25, 10),
 * });
 * ```
 */
export function parseTime(
  command: string,
  option: string,
  text: string,
): TimeBound {
  const trimmed = text.trim();
  const duration = DURATION.exec(trimmed);
  if (duration !== null) {
    return {
      kind: "relative",
      ms: Number(duration[1]) * UNIT_MS[duration[2]],
    };
  }
  const iso = ISO.exec(trimmed);
  if (iso !== null) {
    const [, y, mo, d, h, mi, s, fraction, zone] = iso;
    let ms = Date.UTC(
      Number(y),
      Number(mo) - 1,
      Number(d),
      Number(h ?? 0),
      Number(mi ?? 0),
      Number(s ?? 0),
    ) + (fraction === undefined ? 0 : Number(fraction) * 1000);
    const valid = Number(mo) >= 1 && Number(mo) <= 12 && Number(d) >= 1 &&
      Number(d) <= 31 && Number(h ?? 0) <= 23 && Number(mi ?? 0) <= 59 &&
      Number(s ?? 0) <= 60 &&
      new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d))).getUTCDate() ===
        Number(d);
    if (zone !== undefined && zone.toUpperCase() !== "Z") {
      const sign = zone[0] === "-" ? -1 : 1;
      const digits = zone.slice(1).replace(":", "");
      ms -= sign *
        (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
    }
    if (valid && Number.isFinite(ms)) return { kind: "absolute", ms };
  }
  throw new ReaderError(
    `${command}: ${option} ${
      JSON.stringify(text)
    } is not a time: give an ISO time (2026-11-25T10:00:00Z, UTC when no zone is given) or a duration back from the newest event (500ms, 30s, 5m, 2h, 1d)`,
    "argument",
  );
}

/**
 * Whether a filter has a bound that needs the newest event's time.
 *
 * @param filter The filter.
 * @returns True when `--since` or `--until` is a duration.
 *
 * @example A duration needs the newest event
 * ```ts
 * import { needsNewest } from "./filter.ts";
 * import assert from "node:assert/strict";
 * assert.equal(needsNewest({ since: { kind: "relative", ms: 5000 } }), true);
 * assert.equal(needsNewest({ since: { kind: "absolute", ms: 0 } }), false);
 * ```
 */
export function needsNewest(filter: EventFilter): boolean {
  return filter.since?.kind === "relative" ||
    filter.until?.kind === "relative";
}

/** A record test built once from a filter. */
export type RecordTest = (record: LogRecord) => boolean;

/**
 * Builds the test for everything but relative times (which wait for the
 * newest event: {@link timeTest}). Cheap tests run first; `--grep` renders
 * the fields only for events whose message does not already match.
 *
 * @param filter The filter.
 * @returns The test, or undefined when the filter keeps every event.
 *
 * @example Keep warnings and worse from db
 * ```ts
 * import { recordTest } from "./filter.ts";
 * import assert from "node:assert/strict";
 * const test = recordTest({ level: "warn", target: "db" })!;
 * const base = { time: 0, msg: "", fields: {}, service: "", seq: 0 };
 * assert.equal(test({ ...base, level: "error", target: "db.pool" }), true);
 * assert.equal(test({ ...base, level: "info", target: "db" }), false);
 * assert.equal(test({ ...base, level: "error", target: "dbx" }), false);
 * ```
 */
export function recordTest(filter: EventFilter): RecordTest | undefined {
  const tests: RecordTest[] = eventTests(filter);
  for (const condition of filter.where ?? []) tests.push(whereTest(condition));
  const grep = filter.grep;
  if (grep !== undefined) {
    tests.push((record) =>
      record.msg.includes(grep) || fieldsText(record.fields).includes(grep)
    );
  }
  return allOf(tests);
}

/**
 * An event as a test sees it when its fields are at hand only as JSON text:
 * the dashboard's live tail, which gets each event as the line sent to the
 * page, with its header values beside it.
 */
export interface EventText {
  /** Milliseconds since the Unix epoch. */
  readonly time: number;
  /** The level name. */
  readonly level: LevelName;
  /** The target. */
  readonly target: string;
  /** The message. */
  readonly msg: string;
  /** The fields as the text of one JSON object: what `--grep` searches. */
  readonly fieldsJson: string;
}

/** A test built once from a filter, for events as text. */
export type TextTest = (event: EventText) => boolean;

/**
 * The test of {@link recordTest} for events as text: level, target,
 * absolute times, and `--grep` in the message or the fields' JSON text.
 *
 * @param command Who asks, for the error message.
 * @param filter The filter.
 * @returns The test, or undefined when the filter keeps every event.
 * @throws {ReaderError} When the filter has `--where` conditions or a
 * relative time, which text alone cannot answer (kind `"argument"`).
 *
 * @example Errors from db that mention "down"
 * ```ts
 * import { textTest } from "./filter.ts";
 * import assert from "node:assert/strict";
 * const test = textTest("dashboard", { level: "error", target: "db", grep: "down" })!;
 * const event = { time: 0, level: "error" as const, target: "db.pool", msg: "", fieldsJson: '{"state":"down"}' };
 * assert.equal(test(event), true);
 * assert.equal(test({ ...event, fieldsJson: "{}" }), false);
 * ```
 */
export function textTest(
  command: string,
  filter: EventFilter,
): TextTest | undefined {
  if ((filter.where ?? []).length > 0 || needsNewest(filter)) {
    throw new ReaderError(
      `${command}: --where and relative times need the events' fields and the newest event; this reader has neither`,
      "argument",
    );
  }
  const tests: TextTest[] = eventTests(filter);
  const grep = filter.grep;
  if (grep !== undefined) {
    tests.push((event) =>
      event.msg.includes(grep) || event.fieldsJson.includes(grep)
    );
  }
  return allOf(tests);
}

/** What the level, target and time tests look at. */
interface EventHead {
  readonly time: number;
  readonly level: string;
  readonly target: string;
}

/** The tests on level, target and absolute times that every event answers. */
function eventTests<T extends EventHead>(
  filter: EventFilter,
): ((event: T) => boolean)[] {
  const tests: ((event: T) => boolean)[] = [];
  if (filter.level !== undefined && filter.level !== "trace") {
    const allowed = new Set<string>(
      LEVEL_NAMES.filter((name) => Level[name] >= Level[filter.level!]),
    );
    tests.push((event) => allowed.has(event.level));
  }
  const target = filter.target;
  if (target !== undefined) {
    const prefix = target + ".";
    tests.push((event) =>
      event.target === target || event.target.startsWith(prefix)
    );
  }
  const bounds = timeBounds(filter, NaN);
  if (bounds !== undefined) {
    const [low, high] = bounds;
    tests.push((event) => event.time >= low && event.time <= high);
  }
  return tests;
}

/** One test that holds when all of `tests` hold (cheapest first). */
function allOf<T>(
  tests: readonly ((event: T) => boolean)[],
): ((event: T) => boolean) | undefined {
  if (tests.length === 0) return undefined;
  if (tests.length === 1) return tests[0];
  return (event) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i](event)) return false;
    return true;
  };
}

/** A test of a record's header alone: level value, target, time. */
export type HeaderTest = (
  level: number,
  target: string,
  time: number,
) => boolean;

/**
 * The part of a filter that a record's header answers (level, target and
 * absolute times), for a reader that can skip records before decoding their
 * values. The full {@link recordTest} still runs on what it keeps.
 *
 * @param filter The filter.
 * @returns The test, or undefined when the header cannot turn anything away.
 *
 * @example Errors from db only
 * ```ts
 * import { headerTest } from "./filter.ts";
 * import assert from "node:assert/strict";
 * const test = headerTest({ level: "error", target: "db" })!;
 * assert.equal(test(4, "db.pool", 0), true);
 * assert.equal(test(3, "db", 0), false);
 * ```
 */
export function headerTest(filter: EventFilter): HeaderTest | undefined {
  const min = filter.level === undefined ? 0 : Level[filter.level];
  const target = filter.target;
  const prefix = target + ".";
  const low = filter.since?.kind === "absolute" ? filter.since.ms : -Infinity;
  const high = filter.until?.kind === "absolute" ? filter.until.ms : Infinity;
  const timed = low !== -Infinity || high !== Infinity;
  if (min === 0 && target === undefined && !timed) return undefined;
  return (level, recordTarget, time) =>
    level >= min &&
    (target === undefined || recordTarget === target ||
      recordTarget.startsWith(prefix)) &&
    (!timed || (time >= low && time <= high));
}

/**
 * Whether the filter turns away every "lost N events" record (level warn,
 * target `ttlog`) whatever its time. Only then may a reader skip records
 * by their header: a loss record takes the time of its producer's next
 * event, which must not depend on what the filter keeps.
 *
 * @param filter The filter.
 * @returns True when loss records cannot pass.
 *
 * @example `--level error` hides losses; `--level warn` does not
 * ```ts
 * import { hidesLossRecords } from "./filter.ts";
 * import assert from "node:assert/strict";
 * assert.equal(hidesLossRecords({ level: "error" }), true);
 * assert.equal(hidesLossRecords({ level: "warn" }), false);
 * assert.equal(hidesLossRecords({ target: "db" }), true);
 * ```
 */
export function hidesLossRecords(filter: EventFilter): boolean {
  const target = filter.target;
  return (filter.level !== undefined && Level[filter.level] > Level.warn) ||
    (target !== undefined && target !== "ttlog" &&
      !"ttlog".startsWith(target + "."));
}

/**
 * The test for the time bounds. With `newest` NaN only absolute bounds are
 * tested (relative ones wait until the newest event is known); with a number
 * only relative bounds are.
 *
 * @param filter The filter.
 * @param newest The newest event's time, or NaN.
 * @returns The test, or undefined when there is nothing to test.
 *
 * @example The last 5 seconds before the newest event
 * ```ts
 * import { timeTest } from "./filter.ts";
 * import assert from "node:assert/strict";
 * const test = timeTest({ since: { kind: "relative", ms: 5000 } }, 60_000)!;
 * const at = (time: number) => ({ time, level: "info" as const, target: "", msg: "", fields: {}, service: "", seq: 0 });
 * assert.equal(test(at(55_000)), true);
 * assert.equal(test(at(54_999)), false);
 * ```
 */
export function timeTest(
  filter: EventFilter,
  newest: number,
): RecordTest | undefined {
  const bounds = timeBounds(filter, newest);
  if (bounds === undefined) return undefined;
  const [low, high] = bounds;
  return (record) => record.time >= low && record.time <= high;
}

/** The bounds {@link timeTest} tests, or undefined when there are none. */
function timeBounds(
  filter: EventFilter,
  newest: number,
): [low: number, high: number] | undefined {
  const pick = (bound: TimeBound | undefined): number | undefined => {
    if (bound === undefined) return undefined;
    if (Number.isNaN(newest)) {
      return bound.kind === "absolute" ? bound.ms : undefined;
    }
    return bound.kind === "relative" ? newest - bound.ms : undefined;
  };
  const since = pick(filter.since);
  const until = pick(filter.until);
  if (since === undefined && until === undefined) return undefined;
  return [since ?? -Infinity, until ?? Infinity];
}

function fieldsText(fields: Record<string, unknown>): string {
  try {
    return JSON.stringify(
      fields,
      (_k, v) => typeof v === "bigint" ? String(v) : v,
    );
  } catch {
    return "";
  }
}

const ABSENT = Symbol("absent");

/**
 * The value at `key` in `fields`: the whole key first, then its dotted path
 * (through objects, arrays, Maps and logged errors' properties).
 *
 * @param fields A record's fields.
 * @param key A field name or dotted path.
 * @returns The value, or a private symbol when there is none.
 *
 * @example Dotted paths
 * ```ts
 * import { fieldAt } from "./filter.ts";
 * import assert from "node:assert/strict";
 * assert.equal(fieldAt({ user: { id: 42 } }, "user.id"), 42);
 * assert.equal(fieldAt({ "http.status": 200 }, "http.status"), 200);
 * assert.equal(typeof fieldAt({}, "user.id"), "symbol");
 * ```
 */
export function fieldAt(
  fields: Record<string, unknown>,
  key: string,
): unknown {
  if (Object.hasOwn(fields, key)) return fields[key];
  if (!key.includes(".")) return ABSENT;
  let value: unknown = fields;
  for (const part of key.split(".")) {
    value = child(value, part);
    if (value === ABSENT) return ABSENT;
  }
  return value;
}

function child(value: unknown, key: string): unknown {
  if (value === null || typeof value !== "object") return ABSENT;
  if (value instanceof Map) return value.has(key) ? value.get(key) : ABSENT;
  if (value instanceof LoggedError) {
    if (key === "name" || key === "message") return value[key];
    if (key === "stack") return value.stack ?? ABSENT;
    if (key === "cause") {
      return value.cause === undefined ? ABSENT : value.cause;
    }
    return Object.hasOwn(value.props, key) ? value.props[key] : ABSENT;
  }
  return Object.hasOwn(value, key)
    ? (value as Record<string, unknown>)[key]
    : ABSENT;
}

function whereTest(condition: WhereCondition): RecordTest {
  const { key, op, value } = condition;
  switch (op) {
    case "?":
      return (record) => fieldAt(record.fields, key) !== ABSENT;
    case "!":
      return (record) => fieldAt(record.fields, key) === ABSENT;
    case "=":
      return (record) => {
        const found = fieldAt(record.fields, key);
        return found !== ABSENT && renderValue(found) === value;
      };
    default:
      return (record) => {
        const found = fieldAt(record.fields, key);
        return found === ABSENT || renderValue(found) !== value;
      };
  }
}
