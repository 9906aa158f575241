/**
 * The text formatter: one aligned, human-readable line per record.
 *
 * Every control character in the message, the target, the keys and the values
 * is escaped, so one event is always exactly one line and a logged value can
 * never send escape sequences to a terminal. For machines, use
 * `ndjsonFormatter`: the text form is made for reading, not for parsing back.
 *
 * @module
 */

import { TtlogConfigError } from "../errors.ts";
import { LoggedError, type LogRecord, Marker } from "../record/values.ts";
import type { Formatter } from "../sinks/sink.ts";
import {
  ERROR_KEYS,
  freeKey,
  newWalk,
  unformattableText,
  type Walk,
  walkLimit,
} from "./walk.ts";

/**
 * Options for {@link textFormatter}.
 *
 * @example Time of day, no colour
 * ```ts
 * import { type LogRecord, textFormatter, type TextFormatterOptions } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const options: TextFormatterOptions = { timestamp: "time", color: false };
 * const record: LogRecord = {
 *   time: Date.UTC(2026, 10, 25, 15, 4, 2, 123),
 *   level: "warn",
 *   target: "db",
 *   msg: "slow query",
 *   fields: { ms: 812 },
 *   service: "checkout",
 *   seq: 0,
 * };
 * assert.equal(textFormatter(options)(record), "15:04:02.123 WARN  db slow query ms=812");
 * ```
 */
export interface TextFormatterOptions {
  /**
   * Colour the level and dim the target with ANSI escapes. The caller decides,
   * typically from `isTerminal` and `NO_COLOR`. Default `false`.
   */
  readonly color?: boolean;
  /**
   * How the time is shown: `"iso"` (`2026-11-25T15:04:02.123Z`, the default),
   * `"time"` (`15:04:02.123`, UTC) or `"none"`.
   */
  readonly timestamp?: "iso" | "time" | "none";
}

/**
 * Creates a formatter that renders a record as one human-readable line.
 *
 * Layout: `<time> <LEVEL padded to 5> <target> <msg> <key=value ...>`, each
 * part separated by one space; the target is left out when it is `""`, and the
 * service is never shown (it is the same on every line).
 *
 * | Field value                 | Shown as                                                       |
 * | --------------------------- | -------------------------------------------------------------- |
 * | string                      | bare (`pool=main`); quoted (`q="a b"`) when empty or it holds whitespace, `"`, `=`, a control character or a lone surrogate |
 * | number                      | as JS prints it: `12`, `NaN`, `Infinity`, `-0`                 |
 * | bigint                      | `123n`                                                         |
 * | boolean, null, undefined    | `true`, `null`, `undefined`                                    |
 * | Date                        | ISO 8601 (`2026-11-25T15:04:02.123Z`), or `Invalid Date`       |
 * | LoggedError                 | `err=TypeError: msg`, then `err.stack="..."` (escaped, one line), `err.<prop>=...` for each property (`_` prepended to a property named `name`, `message`, `stack` or `cause`) and `err.cause=...` (flattened the same way) |
 * | Marker                      | its text (`[Redacted]`, `[Circular]`)                          |
 * | array                       | `[1,"x",null]`                                                 |
 * | object                      | `{a:1,"b c":"x"}` (keys bare when they are identifiers)        |
 * | Map, Set                    | `Map{"a"=>1}`, `Set[1,2]`                                      |
 *
 * Inside arrays, objects, maps and sets strings are always quoted and errors
 * show as `[TypeError: msg]` (their stack and properties are in ndjson). The
 * text form is for people: a bare `12` may be a number or a string, and a
 * top-level value with spaces that is not a string (`Invalid Date`, an error)
 * is not quoted. Use ndjson where types must survive.
 *
 * Escaping: C0 controls, DEL, C1 controls (U+0080-U+009F), U+2028, U+2029
 * and lone surrogates become `\n`, `\r`, `\t`, `\xHH` or `\uHHHH`, in the
 * message, the target, keys and values alike. Quoted strings also escape `"`
 * and `\`, so they read as JS string literals. Bare text (the message, the
 * target, bare values) keeps `\` as is: a bare value never holds an escape.
 *
 * A value the formatter cannot read (a getter that throws, for instance)
 * shows as `[Unformattable: <reason>]`; cycles show as `[Circular]`, nesting
 * beyond 100 levels as `[Depth]`, and past 10,000 containers in one record the
 * rest as `[Truncated]`. The formatter does not throw for such values.
 *
 * @param options Colour and timestamp style.
 * @returns A formatter: one line per record, without the line end.
 * @throws {TtlogConfigError} When `options.timestamp` is not `"iso"`, `"time"` or `"none"`.
 *
 * @example Format a record as text
 * ```ts
 * import { textFormatter } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const format = textFormatter();
 * const line = format({
 *   time: Date.UTC(2026, 10, 25, 15, 4, 2, 123),
 *   level: "info",
 *   target: "db.pool",
 *   msg: "query took 12ms",
 *   fields: { pool: "main", ms: 12, sql: "SELECT 1\nFROM t" },
 *   service: "checkout",
 *   seq: 1,
 * });
 * assert.equal(
 *   line,
 *   '2026-11-25T15:04:02.123Z INFO  db.pool query took 12ms pool=main ms=12 sql="SELECT 1\\nFROM t"',
 * );
 * ```
 */
export function textFormatter(options: TextFormatterOptions = {}): Formatter {
  const timestamp = options.timestamp ?? "iso";
  if (timestamp !== "iso" && timestamp !== "time" && timestamp !== "none") {
    throw new TtlogConfigError(
      `textFormatter: unknown timestamp ${
        JSON.stringify(String(timestamp))
      } (expected "iso", "time" or "none")`,
    );
  }
  const color = options.color === true;
  const labels = color ? COLOR_LABELS : PLAIN_LABELS;
  return (record: LogRecord): string => {
    let rest = "";
    if (record.target !== "") {
      rest += color
        ? " " + DIM + escapeText(record.target) + UNDIM
        : " " + escapeText(record.target);
    }
    if (record.msg !== "") rest += " " + escapeText(record.msg);
    rest += fieldsText(record.fields);
    const label = labels[record.level] ?? unknownLabel(record.level, color);
    // The level's padding is only there to align what follows it.
    let line = rest === "" ? label.bare : label.padded + rest;
    if (timestamp === "iso") line = isoTime(record.time) + " " + line;
    else if (timestamp === "time") line = clockTime(record.time) + " " + line;
    return line;
  };
}

// Control characters (C0, DEL, C1), the two Unicode line separators, and
// surrogates that are not part of a pair (matched code unit by code unit: the
// patterns have no `u` flag, so a lone surrogate never makes them throw).
const CONTROLS = "\\x00-\\x1f\\x7f-\\x9f";
const LONE_SURROGATE =
  "[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]";
const UNSAFE_SOURCE = `[${CONTROLS}\\u2028\\u2029]|${LONE_SURROGATE}`;
const UNSAFE_ALL = new RegExp(UNSAFE_SOURCE, "g");
// A quoted string also escapes the quote and the backslash.
const UNSAFE_QUOTED_SOURCE =
  `["\\\\${CONTROLS}\\u2028\\u2029]|${LONE_SURROGATE}`;
const UNSAFE_QUOTED_ALL = new RegExp(UNSAFE_QUOTED_SOURCE, "g");
// A string that must be quoted to stay one `key=value` token (`\s` covers
// U+2028, U+2029 and the other Unicode spaces).
const NEEDS_QUOTES = new RegExp(`[\\s"=${CONTROLS}]|${LONE_SURROGATE}`);
// Fast paths: most text holds none of the characters above and no surrogate
// at all, which one character class tells (the lookarounds are slower).
const PLAIN_TEXT = new RegExp(`^[^${CONTROLS}\\u2028\\u2029\\ud800-\\udfff]*$`);
const PLAIN_QUOTED = new RegExp(
  `^[^"\\\\${CONTROLS}\\u2028\\u2029\\ud800-\\udfff]*$`,
);
const PLAIN_TOKEN = new RegExp(`^[^\\s"=${CONTROLS}\\ud800-\\udfff]+$`);
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function escapeChar(char: string): string {
  switch (char) {
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
    case '"':
      return '\\"';
    case "\\":
      return "\\\\";
  }
  const code = char.charCodeAt(0);
  const hex = code.toString(16);
  return code < 0x100
    ? (code < 0x10 ? "\\x0" : "\\x") + hex
    : "\\u" + "000".slice(hex.length - 1) + hex;
}

/** Escapes control characters and lone surrogates; keeps `"` and `\`. */
function escapeText(text: string): string {
  return PLAIN_TEXT.test(text) ? text : text.replace(UNSAFE_ALL, escapeChar);
}

/** Quotes as a double-quoted JS string literal that is safe on one line. */
function quote(text: string): string {
  return PLAIN_QUOTED.test(text)
    ? '"' + text + '"'
    : '"' + text.replace(UNSAFE_QUOTED_ALL, escapeChar) + '"';
}

function token(text: string): string {
  if (PLAIN_TOKEN.test(text)) return text;
  return text === "" || NEEDS_QUOTES.test(text) ? quote(text) : text;
}

interface LevelLabel {
  readonly bare: string;
  readonly padded: string;
}

const RESET = "\x1b[0m";
const DIM = "\x1b[2m";
const UNDIM = "\x1b[22m";

const LEVEL_COLORS: Readonly<Record<string, string>> = {
  trace: "\x1b[90m",
  debug: "\x1b[36m",
  info: "\x1b[32m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
  fatal: "\x1b[1;35m",
};

function makeLabel(level: string, color: boolean): LevelLabel {
  const name = escapeText(level.toUpperCase());
  const pad = name.length < 5 ? " ".repeat(5 - name.length) : "";
  const bare = color ? (LEVEL_COLORS[level] ?? "") + name + RESET : name;
  return { bare, padded: bare + pad };
}

function makeLabels(color: boolean): Readonly<Record<string, LevelLabel>> {
  const labels: Record<string, LevelLabel> = {};
  for (const level of Object.keys(LEVEL_COLORS)) {
    labels[level] = makeLabel(level, color);
  }
  return labels;
}

const PLAIN_LABELS = makeLabels(false);
const COLOR_LABELS = makeLabels(true);

function unknownLabel(level: unknown, color: boolean): LevelLabel {
  return makeLabel(String(level), color);
}

function isoTime(time: number): string {
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? "Invalid Date" : date.toISOString();
}

function pad2(n: number): string {
  return n < 10 ? "0" + n : "" + n;
}

function clockTime(time: number): string {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) return "Invalid Date";
  const ms = date.getUTCMilliseconds();
  return pad2(date.getUTCHours()) + ":" + pad2(date.getUTCMinutes()) + ":" +
    pad2(date.getUTCSeconds()) + "." + (ms < 10 ? "00" : ms < 100 ? "0" : "") +
    ms;
}

function fieldsText(fields: LogRecord["fields"]): string {
  let out = "";
  let keys: string[];
  try {
    keys = Object.keys(fields);
  } catch (thrown) {
    return " " + escapeText(unformattableText(thrown));
  }
  const walk = newWalk();
  for (const key of keys) {
    try {
      out += fieldText(key, fields[key], walk);
    } catch (thrown) {
      walk.ancestors.length = 0;
      out += " " + token(key) + "=" + escapeText(unformattableText(thrown));
    }
  }
  return out;
}

/** One top-level `key=value` (several for an error), with a leading space. */
function fieldText(key: string, value: unknown, walk: Walk): string {
  if (typeof value === "string") return " " + token(key) + "=" + token(value);
  if (value instanceof LoggedError) return errorFields(key, value, walk);
  if (value instanceof Marker) {
    return " " + token(key) + "=" + escapeText(String(value.text));
  }
  return " " + token(key) + "=" + inline(value, walk);
}

function errorTitle(error: LoggedError): string {
  const name = String(error.name);
  const message = String(error.message);
  return message === "" ? name : name + ": " + message;
}

function errorFields(key: string, error: LoggedError, walk: Walk): string {
  const limit = walkLimit(error, walk);
  if (limit !== undefined) return " " + token(key) + "=" + limit;
  let out = " " + token(key) + "=" + escapeText(errorTitle(error));
  if (typeof error.stack === "string" && error.stack !== "") {
    out += " " + token(key + ".stack") + "=" + quote(error.stack);
  }
  walk.ancestors.push(error);
  const props = error.props;
  if (props !== null && typeof props === "object") {
    for (const prop of Object.keys(props)) {
      // Keep `err.stack` and `err.cause` unambiguous, as ndjson does.
      const name = ERROR_KEYS.has(prop)
        ? freeKey(prop, ERROR_KEYS, props)
        : prop;
      out += fieldText(key + "." + name, props[prop], walk);
    }
  }
  if (error.cause !== undefined) {
    out += fieldText(key + ".cause", error.cause, walk);
  }
  walk.ancestors.pop();
  return out;
}

function numberText(n: number): string {
  return n === 0 && 1 / n < 0 ? "-0" : String(n);
}

/** A value inside a field, compact and without spaces where possible. */
function inline(value: unknown, walk: Walk): string {
  switch (typeof value) {
    case "string":
      return quote(value);
    case "number":
      return numberText(value);
    case "bigint":
      return value + "n";
    case "boolean":
      return value ? "true" : "false";
    case "undefined":
      return "undefined";
    case "symbol":
      return escapeText(String(value));
    case "function":
      return escapeText(`[Function: ${String(value.name) || "(anonymous)"}]`);
  }
  if (value === null) return "null";
  return inlineObject(value as object, walk);
}

function inlineObject(value: object, walk: Walk): string {
  if (value instanceof Marker) return escapeText(String(value.text));
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  }
  const limit = walkLimit(value, walk);
  if (limit !== undefined) return limit;
  if (value instanceof LoggedError) {
    return "[" + escapeText(errorTitle(value)) + "]";
  }
  walk.ancestors.push(value);
  let out: string;
  if (Array.isArray(value)) {
    out = "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ",";
      out += inline(value[i], walk);
    }
    out += "]";
  } else if (value instanceof Map) {
    out = "Map{";
    let first = true;
    for (const [k, v] of value) {
      if (!first) out += ",";
      first = false;
      out += inline(k, walk) + "=>" + inline(v, walk);
    }
    out += "}";
  } else if (value instanceof Set) {
    out = "Set[";
    let first = true;
    for (const item of value) {
      if (!first) out += ",";
      first = false;
      out += inline(item, walk);
    }
    out += "]";
  } else if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    out = inline((value as { toJSON(): unknown }).toJSON(), walk);
  } else {
    out = "{";
    let first = true;
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!first) out += ",";
      first = false;
      out += (IDENTIFIER.test(key) ? key : quote(key)) + ":" +
        inline(record[key], walk);
    }
    out += "}";
  }
  walk.ancestors.pop();
  return out;
}
