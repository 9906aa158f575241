/**
 * RFC 5424 syslog messages: the header, the fields as structured data, the
 * cut at `maxMessageBytes`, and RFC 6587 octet-counting framing for TCP.
 * What `syslogSink` sends; the sending is in src/sinks/syslog.ts.
 *
 * Internal: the public names here are exported from src/syslog.ts.
 *
 * @module
 */

import { ndjsonFormatter } from "../format/ndjson.ts";
import { type LogRecord, Marker } from "../record/values.ts";

/**
 * Syslog severities of the ttlog levels: trace and debug 7 (debug), info 6
 * (informational), warn 4 (warning), error 3 (error), fatal 2 (critical:
 * one program's fatal error, not the system's emergency).
 *
 * @example Look a level up
 * ```ts
 * import { SYSLOG_SEVERITY } from "@ttlog/ttlog/syslog";
 * import assert from "node:assert/strict";
 * assert.equal(SYSLOG_SEVERITY.warn, 4);
 * ```
 */
export const SYSLOG_SEVERITY: Readonly<Record<string, number>> = Object
  .freeze({
    trace: 7,
    debug: 7,
    info: 6,
    warn: 4,
    error: 3,
    fatal: 2,
  });

/** What formatting a message needs of the sink's settings. */
export interface MessageSettings {
  /** The facility's code, 0 to 23. */
  facility: number;
  /** Absent: each record's service. */
  appName?: string;
  hostname: string;
  procId: string;
  sdId: string;
  bom: boolean;
  maxMessageBytes: number;
}

/** RFC 5424 NILVALUE: a header field or structured data left empty. */
export const NIL = "-";

/**
 * PRINTUSASCII, cut to `max`: what HOSTNAME, APP-NAME, PROCID and MSGID
 * allow; `-` (NILVALUE) when nothing is left.
 *
 * @param text The field's text.
 * @param max Its most characters.
 * @returns The header field.
 */
export function headerField(text: string, max: number): string {
  const clean = text.replace(/[^\x21-\x7e]/g, "_").slice(0, max);
  return clean === "" ? NIL : clean;
}

const encoder = new TextEncoder();
const BOM = "\ufeff";

/** SD-NAME: printable ASCII except `=`, space, `]` and `"`, 1 to 32 characters. */
function paramName(key: string): string {
  const clean = key.replace(/[^\x21-\x7e]|[= \]"]/g, "_").slice(0, 32);
  return clean === "" ? "_" : clean;
}

/** PARAM-VALUE with `"`, `\` and `]` escaped (RFC 5424 §6.3.3). */
function paramValue(text: string): string {
  return text.replace(/["\\\]]/g, "\\$&");
}

const toJson = ndjsonFormatter();
const JSON_PREFIX =
  '{"time":0,"level":"info","target":"","msg":"","service":"","v":';

/** A value's ndjson encoding: the one ndjsonFormatter gives a field. */
function valueJson(value: unknown): string {
  const line = toJson({
    time: 0,
    level: "info",
    target: "",
    msg: "",
    fields: { v: value },
    service: "",
    seq: 0,
  });
  return line.slice(JSON_PREFIX.length, -1);
}

function valueText(value: unknown): string {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "bigint":
    case "boolean":
    case "undefined":
    case "symbol":
      return String(value);
    case "function":
      return `[Function: ${String(value.name) || "(anonymous)"}]`;
  }
  if (value === null) return "null";
  if (value instanceof Marker) return String(value.text);
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  }
  return valueJson(value);
}

/** The SD-PARAMs of a record's fields: ` name="value"` each. */
function sdParams(fields: LogRecord["fields"]): string {
  let out = "";
  let keys: string[];
  try {
    keys = Object.keys(fields);
  } catch {
    return ' _fields="[Unformattable]"';
  }
  for (const key of keys) {
    let text: string;
    try {
      text = valueText(fields[key]);
    } catch {
      text = "[Unformattable]";
    }
    out += " " + paramName(key) + '="' + paramValue(text) + '"';
  }
  return out;
}

function timestamp(time: number): string {
  if (!Number.isFinite(time)) return NIL;
  const date = new Date(Math.floor(time));
  return Number.isNaN(date.getTime()) ? NIL : date.toISOString();
}

/** Cuts UTF-8 bytes to at most `max`, on a character boundary. */
function cutUtf8(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.length <= max) return bytes;
  let end = Math.max(0, max);
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * One record as an RFC 5424 message, and whether it was cut at
 * `maxMessageBytes`.
 *
 * @param record The record.
 * @param settings The header fields and limits.
 * @returns The message's bytes (unframed).
 */
export function formatMessage(
  record: LogRecord,
  settings: MessageSettings,
): { bytes: Uint8Array; truncated: boolean } {
  const severity = SYSLOG_SEVERITY[record.level] ?? 6;
  const header = "<" + (settings.facility * 8 + severity) + ">1 " +
    timestamp(record.time) + " " + settings.hostname + " " +
    (settings.appName ?? headerField(String(record.service), 48)) + " " +
    settings.procId + " " +
    (record.target === "" ? NIL : headerField(String(record.target), 32)) +
    " ";
  const params = sdParams(record.fields);
  const sd = params === "" ? NIL : "[" + settings.sdId + params + "]";
  const msg = String(record.msg);
  const text = msg === ""
    ? header + sd
    : header + sd + " " + (settings.bom ? BOM : "") + msg;
  const bytes = encoder.encode(text);
  const max = settings.maxMessageBytes;
  if (bytes.length <= max) return { bytes, truncated: false };

  const mark = ' truncated="' + bytes.length + '"';
  let head = encoder.encode(
    header + "[" + settings.sdId + params + mark + "] " +
      (settings.bom ? BOM : ""),
  );
  if (head.length > max) {
    // Even the fields do not fit: keep only the mark.
    head = encoder.encode(
      header + "[" + settings.sdId + mark + "] " + (settings.bom ? BOM : ""),
    );
  }
  const body = cutUtf8(encoder.encode(msg), max - head.length);
  return { bytes: cutUtf8(concat([head, body]), max), truncated: true };
}

/**
 * A message framed for TCP: `LENGTH SP MESSAGE` (RFC 6587 octet counting).
 *
 * @param bytes The message.
 * @returns The frame.
 */
export function octetCounted(bytes: Uint8Array): Uint8Array {
  return concat([encoder.encode(bytes.length + " "), bytes]);
}
