/**
 * The NDJSON formatter: one JSON object per line, with a documented, lossless
 * encoding for the values JSON cannot hold.
 *
 * @module
 */

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
 * Options for {@link ndjsonFormatter}.
 *
 * @example Add the sequence number
 * ```ts
 * import { type LogRecord, ndjsonFormatter, type NdjsonFormatterOptions } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const options: NdjsonFormatterOptions = { seq: true };
 * const record: LogRecord = {
 *   time: 0,
 *   level: "info",
 *   target: "",
 *   msg: "ready",
 *   fields: { port: 8080 },
 *   service: "api",
 *   seq: 41,
 * };
 * const line = JSON.parse(ndjsonFormatter(options)(record));
 * assert.equal(line.seq, 41);
 * assert.equal(line.port, 8080);
 * ```
 */
export interface NdjsonFormatterOptions {
  /**
   * Add the producer's sequence number as `"seq"` after `"service"` (then
   * `seq` is a top-level key too, and a field named `seq` is renamed).
   * Default `false`.
   */
  readonly seq?: boolean;
}

/**
 * Creates a formatter that renders a record as one line of JSON.
 *
 * The line is `{"time":<epoch ms>,"level":"info","target":"db","msg":"...",
 * "service":"checkout", ...fields}`: `time` is a number (milliseconds since
 * the epoch, possibly with a fraction), `level` the level name. A field whose
 * key is one of the top-level keys (`time`, `level`, `target`, `msg`,
 * `service`, and `seq` with `options.seq`) gets `_` prepended until the key is
 * neither a top-level key nor another field's key: with fields
 * `{ msg: 1, _msg: 2 }` the line ends `"__msg":1,"_msg":2`.
 *
 * Values JSON cannot hold are encoded so a reader can restore them:
 *
 * | Value                          | JSON                                                  |
 * | ------------------------------ | ----------------------------------------------------- |
 * | string, boolean, null          | itself                                                |
 * | finite number (not -0)         | itself                                                |
 * | NaN, Infinity, -Infinity, -0   | `{"$float":"NaN"}`, `{"$float":"Infinity"}`, `{"$float":"-Infinity"}`, `{"$float":"-0"}` |
 * | bigint                         | `{"$bigint":"123"}`                                   |
 * | undefined                      | `{"$undefined":true}` (also in arrays and objects)    |
 * | Date                           | ISO 8601 string; an invalid date `{"$date":"invalid"}` |
 * | LoggedError                    | `{"name":..,"message":..,"stack":..,"cause":..,...props}`: `stack` when it is a string, `cause` when not undefined; a property named `name`, `message`, `stack` or `cause` gets `_` prepended as above |
 * | Marker                         | its text, such as `"[Redacted]"`                      |
 * | Map                            | `{"$map":[[key,value],...]}`                          |
 * | Set                            | `{"$set":[value,...]}`                                |
 * | array                          | an array                                              |
 * | object with one key, starting with `$` | `{"$object":{...}}`, so it is not read as one of the tags above |
 * | other object                   | its own enumerable properties (or its `toJSON()`)     |
 * | function, symbol               | a string: `"[Function: name]"`, `"Symbol(desc)"`      |
 *
 * Nested values are encoded the same way. Reading back: an object with exactly
 * one key that starts with `$` is a tag from this table; any other object is
 * an object.
 *
 * The line is always valid JSON on one line: besides what `JSON.stringify`
 * escapes (C0 controls, `"`, `\`, lone surrogates as `\udxxx`), DEL, the C1
 * controls and U+2028/U+2029 are written as `\u00XX`/`\u2028`, so the line is
 * safe to print and to split on any line terminator.
 *
 * The formatter does not throw: a value it cannot read (a getter that throws,
 * for instance) becomes the string `"[Unformattable: <reason>]"`, a cycle
 * `"[Circular]"`, nesting beyond 100 levels `"[Depth]"`, and past 10,000
 * containers in one record the rest `"[Truncated]"`.
 *
 * @param options Whether to add `seq`.
 * @returns A formatter: one JSON object per record, without the line end.
 *
 * @example Format a record as NDJSON and read it back
 * ```ts
 * import { ndjsonFormatter } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const format = ndjsonFormatter();
 * const line = format({
 *   time: 1795619042123,
 *   level: "info",
 *   target: "db",
 *   msg: "query done",
 *   fields: { rows: 10n, ratio: NaN, msg: "collides" },
 *   service: "checkout",
 *   seq: 7,
 * });
 * assert.equal(
 *   line,
 *   '{"time":1795619042123,"level":"info","target":"db","msg":"query done",' +
 *     '"service":"checkout","rows":{"$bigint":"10"},"ratio":{"$float":"NaN"},' +
 *     '"_msg":"collides"}',
 * );
 * assert.deepEqual(JSON.parse(line).rows, { $bigint: "10" });
 * ```
 */
export function ndjsonFormatter(
  options: NdjsonFormatterOptions = {},
): Formatter {
  const withSeq = options.seq === true;
  const topKeys = new Set(TOP_KEYS);
  if (withSeq) topKeys.add("seq");
  return (record: LogRecord): string => {
    let line = '{"time":' + numberJson(record.time) +
      ',"level":' + jsonString(record.level) +
      ',"target":' + jsonString(record.target) +
      ',"msg":' + jsonString(record.msg) +
      ',"service":' + jsonString(record.service);
    if (withSeq) line += ',"seq":' + numberJson(record.seq);
    line += fieldsJson(record.fields, topKeys);
    return line + "}";
  };
}

const TOP_KEYS = ["time", "level", "target", "msg", "service"];

// JSON.stringify leaves DEL, the C1 controls and U+2028/U+2029 raw: valid
// JSON, but not safe to print (C1) or to split lines on (U+2028/U+2029 in some
// readers), so they are escaped as well. Most strings need no escaping at all
// and skip JSON.stringify (the pattern has no `u` flag: it sees code units).
// deno-lint-ignore no-control-regex
const PLAIN_STRING = new RegExp(
  '^[^"\\\\\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\ud800-\\udfff]*$',
);
const UNSAFE_ALL = /[\x7f-\x9f\u2028\u2029]/g;

function escapeUnsafe(char: string): string {
  const hex = char.charCodeAt(0).toString(16);
  return "\\u" + "000".slice(hex.length - 1) + hex;
}

/**
 * A JSON string literal that is safe on one line and on a terminal (also
 * what format/ndjson_lines.ts writes its constant parts with).
 *
 * @param text Any string, lone surrogates included.
 * @returns The literal, quotes included.
 */
export function jsonString(text: string): string {
  return PLAIN_STRING.test(text)
    ? '"' + text + '"'
    : JSON.stringify(text).replace(UNSAFE_ALL, escapeUnsafe);
}

function unformattable(thrown: unknown): string {
  return jsonString(unformattableText(thrown));
}

/** The fields as `,"key":value` pairs. */
function fieldsJson(
  fields: LogRecord["fields"],
  reserved: ReadonlySet<string>,
): string {
  let keys: string[];
  try {
    keys = Object.keys(fields);
  } catch (thrown) {
    return ',"_fields":' + unformattable(thrown);
  }
  const walk = newWalk();
  let out = "";
  for (const key of keys) {
    const name = reserved.has(key) ? freeKey(key, reserved, fields) : key;
    let value: string;
    try {
      value = valueJson(fields[key], walk);
    } catch (thrown) {
      walk.ancestors.length = 0;
      value = unformattable(thrown);
    }
    out += "," + jsonString(name) + ":" + value;
  }
  return out;
}

function numberJson(n: number): string {
  if (n === 0) return 1 / n < 0 ? '{"$float":"-0"}' : "0";
  return Number.isFinite(n) ? String(n) : '{"$float":"' + n + '"}';
}

function valueJson(value: unknown, walk: Walk): string {
  switch (typeof value) {
    case "string":
      return jsonString(value);
    case "number":
      return numberJson(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return '{"$bigint":"' + value + '"}';
    case "undefined":
      return '{"$undefined":true}';
    case "symbol":
      return jsonString(String(value));
    case "function":
      return jsonString(
        `[Function: ${String(value.name) || "(anonymous)"}]`,
      );
  }
  if (value === null) return "null";
  return objectJson(value as object, walk);
}

function objectJson(value: object, walk: Walk): string {
  if (value instanceof Marker) return jsonString(String(value.text));
  if (value instanceof Date) {
    return Number.isNaN(value.getTime())
      ? '{"$date":"invalid"}'
      : '"' + value.toISOString() + '"';
  }
  const limit = walkLimit(value, walk);
  if (limit !== undefined) return '"' + limit + '"';
  walk.ancestors.push(value);
  let out: string;
  if (Array.isArray(value)) {
    out = "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ",";
      out += valueJson(value[i], walk);
    }
    out += "]";
  } else if (value instanceof LoggedError) {
    out = errorJson(value, walk);
  } else if (value instanceof Map) {
    out = '{"$map":[';
    let first = true;
    for (const [k, v] of value) {
      if (!first) out += ",";
      first = false;
      out += "[" + valueJson(k, walk) + "," + valueJson(v, walk) + "]";
    }
    out += "]}";
  } else if (value instanceof Set) {
    out = '{"$set":[';
    let first = true;
    for (const item of value) {
      if (!first) out += ",";
      first = false;
      out += valueJson(item, walk);
    }
    out += "]}";
  } else if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    out = valueJson((value as { toJSON(): unknown }).toJSON(), walk);
  } else {
    out = plainJson(value as Record<string, unknown>, walk);
  }
  walk.ancestors.pop();
  return out;
}

function plainJson(value: Record<string, unknown>, walk: Walk): string {
  const keys = Object.keys(value);
  let out = "{";
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) out += ",";
    out += jsonString(keys[i]) + ":" + valueJson(value[keys[i]], walk);
  }
  out += "}";
  // A lone `$` key would read back as a tag: wrap the object.
  return keys.length === 1 && keys[0].charCodeAt(0) === 36
    ? '{"$object":' + out + "}"
    : out;
}

function errorJson(error: LoggedError, walk: Walk): string {
  let out = '{"name":' + jsonString(String(error.name)) +
    ',"message":' + jsonString(String(error.message));
  if (typeof error.stack === "string") {
    out += ',"stack":' + jsonString(error.stack);
  }
  if (error.cause !== undefined) {
    out += ',"cause":' + valueJson(error.cause, walk);
  }
  const props = error.props;
  if (props !== null && typeof props === "object") {
    for (const key of Object.keys(props)) {
      const name = ERROR_KEYS.has(key) ? freeKey(key, ERROR_KEYS, props) : key;
      out += "," + jsonString(name) + ":" + valueJson(props[key], walk);
    }
  }
  return out + "}";
}
