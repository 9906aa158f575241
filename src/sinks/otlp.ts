/**
 * A sink that exports records as OpenTelemetry logs over OTLP/HTTP in JSON,
 * to an OpenTelemetry Collector or any OTLP receiver. It shares the HTTP
 * sink's batching, retries, bounded memory and loss reports
 * (src/sinks/http_batch.ts), and needs only `fetch`.
 *
 * @module
 */

import type { LevelName } from "../level.ts";
import { LoggedError, type LogRecord, Marker } from "../record/values.ts";
import type { HttpBatchOptions, HttpRetryOptions, HttpSink } from "./http.ts";
import { BUILTIN_SINK_MODULE } from "./sink.ts";
import {
  newWalk,
  unformattableText,
  type Walk,
  walkLimit,
} from "../format/walk.ts";
import { BatchPoster, type BodyEncoding, postSettings } from "./http_batch.ts";
import {
  type BadOption,
  badOption,
  deepFreeze,
  describeValue,
  isPlainObject,
} from "../validate.ts";

/**
 * A resource attribute value: what OTLP attributes hold and structured clone keeps.
 *
 * @example Resource attributes of several types
 * ```ts
 * import { type OtlpAttributeValue, otlpSink } from "@ttlog/ttlog/otlp";
 * import assert from "node:assert/strict";
 * const resource: Record<string, OtlpAttributeValue> = {
 *   "deployment.environment": "prod",
 *   "service.instance.number": 3,
 *   "host.arch.64bit": true,
 *   "service.regions": ["eu-west-1", "us-east-1"],
 * };
 * const sink = otlpSink({ url: "http://127.0.0.1:4318/v1/logs", resource });
 * const options = sink.spec.options as { resource: Record<string, OtlpAttributeValue> };
 * assert.deepEqual(options.resource, resource);
 * await sink.close(); // nothing was written, so nothing was sent
 * ```
 */
export type OtlpAttributeValue =
  | string
  | number
  | boolean
  | readonly (string | number | boolean)[];

/**
 * Options of {@link otlpSink}. Plain data only, so a drain in a worker can
 * rebuild the sink from its `spec`.
 *
 * @example Export to a receiver and read what it got
 * ```ts
 * import { createLogger } from "@ttlog/ttlog";
 * import { otlpSink, type OtlpSinkOptions } from "@ttlog/ttlog/otlp";
 * import assert from "node:assert/strict";
 * import { createServer } from "node:http";
 * const requests: { resourceLogs: { resource: unknown; scopeLogs: unknown[] }[] }[] = [];
 * const server = createServer(async (req, res) => {
 *   let body = "";
 *   for await (const chunk of req) body += chunk;
 *   requests.push(JSON.parse(body));
 *   res.setHeader("content-type", "application/json");
 *   res.end("{}");
 * });
 * await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
 * const { port } = server.address() as { port: number };
 * const options: OtlpSinkOptions = {
 *   url: `http://127.0.0.1:${port}/v1/logs`,
 *   resource: { "deployment.environment": "staging" },
 *   batch: { events: 100, ms: 500 },
 * };
 * const log = createLogger({ service: "checkout", sinks: [otlpSink(options)] });
 * log.child("payments").info("paid", { order: 42 });
 * await log.close();
 * const { resource, scopeLogs } = requests[0].resourceLogs[0];
 * assert.deepEqual(resource, {
 *   attributes: [
 *     { key: "service.name", value: { stringValue: "checkout" } },
 *     { key: "deployment.environment", value: { stringValue: "staging" } },
 *   ],
 * });
 * const [{ scope, logRecords }] = scopeLogs as {
 *   scope: { name: string };
 *   logRecords: { severityNumber: number; body: unknown }[];
 * }[];
 * assert.equal(scope.name, "payments");
 * assert.equal(logRecords[0].severityNumber, 9);
 * assert.deepEqual(logRecords[0].body, { stringValue: "paid" });
 * await new Promise((ok) => server.close(ok));
 * ```
 */
export interface OtlpSinkOptions {
  /**
   * The OTLP/HTTP logs endpoint, the whole URL (default
   * `http://localhost:4318/v1/logs`, a local Collector's).
   */
  readonly url?: string;
  /** Extra request headers, such as `authorization`, as a plain object. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Resource attributes, such as `{ "deployment.environment": "prod" }`.
   * `service.name` defaults to the logger's service (each record's
   * `service`); set it here to override.
   */
  readonly resource?: Readonly<Record<string, OtlpAttributeValue>>;
  /**
   * `"none"` (default, as in the OTLP exporter specification) or `"gzip"`
   * (`content-encoding: gzip`; every Collector accepts it).
   */
  readonly compression?: "none" | "gzip";
  /** When a batch is sent (as in `httpSink`: 1000 events, 1 MiB, 1000 ms). */
  readonly batch?: HttpBatchOptions;
  /** How failed requests are retried (as in `httpSink`). */
  readonly retry?: HttpRetryOptions;
  /** Most bytes held for unsent batches (default 16 MiB); past it the oldest are dropped and counted. */
  readonly maxBufferedBytes?: number;
  /** Time limit of one request, in milliseconds (default 10000). */
  readonly timeoutMs?: number;
}

/**
 * OpenTelemetry severity numbers of the ttlog levels (the log data model's
 * ranges: TRACE 1-4, DEBUG 5-8, INFO 9-12, WARN 13-16, ERROR 17-20,
 * FATAL 21-24; each level takes the first number of its range).
 *
 * @example Look a level up
 * ```ts
 * import { OTLP_SEVERITY } from "@ttlog/ttlog/otlp";
 * import assert from "node:assert/strict";
 * assert.equal(OTLP_SEVERITY.warn, 13);
 * ```
 */
export const OTLP_SEVERITY: Readonly<Record<LevelName, number>> = Object
  .freeze({
    trace: 1,
    debug: 5,
    info: 9,
    warn: 13,
    error: 17,
    fatal: 21,
  });

const DEFAULT_URL = "http://localhost:4318/v1/logs";
const ROOT_SCOPE = "ttlog";

/**
 * Creates a sink that sends records as OTLP/HTTP JSON log requests
 * (`POST`, `content-type: application/json`), the encoding every
 * OpenTelemetry Collector accepts on its `otlp` receiver (port 4318).
 *
 * **Mapping.** Each record becomes one `LogRecord`:
 *
 * | OTLP                           | from the record                                   |
 * | ------------------------------ | ------------------------------------------------- |
 * | `timeUnixNano`, `observedTimeUnixNano` | `time`, in nanoseconds, as a decimal string (both the same: ttlog is where the event was observed) |
 * | `severityNumber`               | {@link OTLP_SEVERITY}: trace 1, debug 5, info 9, warn 13, error 17, fatal 21 |
 * | `severityText`                 | the level in capitals: `TRACE` ... `FATAL`        |
 * | `body`                         | `{ stringValue: msg }`                            |
 * | `attributes`                   | the fields, in order (below)                      |
 * | `traceId`, `spanId`            | the fields `trace_id` (32 hex digits) and `span_id` (16), lower-cased; not repeated in the attributes |
 * | `flags`                        | the field `trace_flags` (0-255, or 2 hex digits), when there is one |
 * | resource `service.name`        | the record's `service`, unless `resource` sets it |
 * | scope `name`                   | the target; `"ttlog"` for the root logger's (`""`) |
 *
 * So each target is its own instrumentation scope, the way OpenTelemetry's
 * logging bridges map a logger's name. Within a request, records are grouped
 * by service and target (each group keeps its order); a `trace_id` or
 * `span_id` that is not the right number of hex digits (or is all zeros)
 * stays an ordinary attribute.
 *
 * Field values become `AnyValue`s: strings `stringValue`; safe integers
 * `intValue` (a decimal string, as the JSON mapping of int64 allows); other
 * numbers `doubleValue` (`"NaN"`, `"Infinity"`, `"-Infinity"` as strings);
 * booleans `boolValue`; bigints `intValue` when they fit in 64 bits, else
 * `stringValue`; null and undefined an empty `AnyValue`; arrays and Sets
 * `arrayValue`; plain objects and Maps `kvlistValue`; byte arrays
 * `bytesValue` (base64); Dates ISO 8601 `stringValue`s; markers (redacted,
 * circular...) their text. The first field holding an Error becomes the
 * semantic-convention attributes `exception.type` (its name),
 * `exception.message` and `exception.stacktrace`; the field itself stays
 * only when the error has a `cause` or other properties, as a `kvlistValue`
 * of those. Other Errors are `kvlistValue`s of name, message, stack, cause
 * and properties.
 *
 * **Delivery.** As `httpSink`: batches by events, bytes and time, one
 * request in flight, retries with backoff and `Retry-After`, bounded memory
 * with every dropped event counted in `stats.dropped` and reported by a
 * "lost N events" log record (scope `ttlog`, attributes `lost` and
 * `reason: "otlp sink gave up"`) in the next accepted request. The
 * statuses retried are the ones the OTLP specification calls retryable:
 * 429, 502, 503 and 504 (and network errors and timeouts); any other
 * failure drops the batch. Records a 2xx answer's `partialSuccess` says
 * were rejected are counted as dropped too.
 *
 * @param options The endpoint, resource, and how to batch, compress and retry.
 * @returns The sink, with `stats` and a `spec` for workers.
 * @throws {TtlogConfigError} When an option is out of range or of the wrong
 * type (the message names it and the bad value), or `fetch` is missing.
 *
 * @example Create the sink, read its spec, close it
 * ```ts
 * import { otlpSink } from "@ttlog/ttlog/otlp";
 * import assert from "node:assert/strict";
 * const sink = otlpSink({
 *   url: "http://127.0.0.1:4318/v1/logs",
 *   resource: { "deployment.environment": "prod" },
 * });
 * assert.equal(sink.name, "otlp:127.0.0.1:4318");
 * assert.equal(sink.spec.factory, "otlpSink");
 * await sink.close();
 * assert.deepEqual(sink.stats, { sent: 0, dropped: 0, retries: 0, failures: 0 });
 * ```
 */
export function otlpSink(options: OtlpSinkOptions = {}): HttpSink {
  const bad: BadOption = badOption("otlpSink");
  if (!isPlainObject(options)) bad("options", options, "an object");
  const common = postSettings(options, "otlpSink", {
    url: DEFAULT_URL,
    compression: "none",
  });
  const resource = resourceOption(options.resource, bad);
  const settings = { ...common, resource };
  return new BatchPoster(
    "otlp:" + new URL(common.url).host,
    Object.freeze({
      module: BUILTIN_SINK_MODULE,
      factory: "otlpSink",
      options: deepFreeze(structuredClone(settings)),
    }),
    common,
    otlpEncoding(resource),
  );
}

function resourceOption(
  value: unknown,
  bad: BadOption,
): Record<string, OtlpAttributeValue> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    bad("resource", value, "a plain object of attribute values");
  }
  const scalar = (item: unknown) =>
    typeof item === "string" || typeof item === "boolean" ||
    (typeof item === "number" && Number.isFinite(item));
  const out: Record<string, OtlpAttributeValue> = {};
  for (const [key, item] of Object.entries(value)) {
    if (Array.isArray(item) ? !item.every(scalar) : !scalar(item)) {
      bad(
        `resource[${describeValue(key)}]`,
        item,
        "a string, a finite number, a boolean or an array of them",
      );
    }
    out[key] = Array.isArray(item) ? [...item] : item as OtlpAttributeValue;
  }
  if (out["service.name"] !== undefined) {
    const name = out["service.name"];
    if (typeof name !== "string" || name === "") {
      bad('resource["service.name"]', name, "a non-empty string");
    }
  }
  return out;
}

// ---- encoding ----

const SEVERITY_TEXT: Readonly<Record<string, string>> = {
  trace: "TRACE",
  debug: "DEBUG",
  info: "INFO",
  warn: "WARN",
  error: "ERROR",
  fatal: "FATAL",
};

/** Group keys are `service NUL target`; targets never hold a NUL. */
const SEPARATOR = "\u0000";

/**
 * The encoding the batching core uses: each entry is `,{logRecord}` (the
 * leading comma is cut from the first of a group), and the body wraps the
 * groups in resourceLogs and scopeLogs.
 */
function otlpEncoding(
  resource: Readonly<Record<string, OtlpAttributeValue>>,
): BodyEncoding {
  const fixedService = resource["service.name"] !== undefined;
  let resourceJson = "";
  for (const [key, value] of Object.entries(resource)) {
    resourceJson += "," + keyValueJson(key, value, newWalk());
  }
  // The user's resource attributes after service.name, without a comma in front.
  const rest = resourceJson.slice(1);
  return {
    contentType: "application/json",
    lossReason: "otlp sink gave up",
    entry: (record) => "," + logRecordJson(record),
    group: (record) =>
      (fixedService ? "" : record.service) + SEPARATOR + record.target,
    body(groups) {
      const scopesByService = new Map<string, string>();
      for (const [key, entries] of groups) {
        const cut = key.lastIndexOf(SEPARATOR);
        const service = key.slice(0, cut);
        const target = key.slice(cut + 1);
        const scope = '{"scope":{"name":' +
          jsonString(target === "" ? ROOT_SCOPE : target) +
          '},"logRecords":[' + entries.slice(1) + "]}";
        const before = scopesByService.get(service);
        scopesByService.set(
          service,
          before === undefined ? scope : before + "," + scope,
        );
      }
      let body = '{"resourceLogs":[';
      let first = true;
      for (const [service, scopes] of scopesByService) {
        if (!first) body += ",";
        first = false;
        const attributes = fixedService ? rest : '{"key":"service.name",' +
          '"value":{"stringValue":' +
          jsonString(service === "" ? "unknown_service" : service) + "}}" +
          resourceJson;
        body += '{"resource":{"attributes":[' + attributes +
          ']},"scopeLogs":[' + scopes + "]}";
      }
      return body + "]}";
    },
    retryable: (status) =>
      status === 429 || status === 502 || status === 503 || status === 504,
    rejected(responseText) {
      const answer = JSON.parse(responseText) as {
        partialSuccess?: { rejectedLogRecords?: unknown };
      };
      const rejected = Number(answer?.partialSuccess?.rejectedLogRecords ?? 0);
      return Number.isSafeInteger(rejected) && rejected > 0 ? rejected : 0;
    },
  };
}

/** Milliseconds since the epoch as a decimal string of nanoseconds. */
function nanos(ms: number): string {
  if (!(ms > 0) || !Number.isFinite(ms)) return "0";
  let whole = Math.floor(ms);
  let fraction = Math.round((ms - whole) * 1e6);
  if (fraction >= 1e6) {
    whole++;
    fraction -= 1e6;
  }
  return whole === 0
    ? String(fraction)
    : String(whole) + String(fraction).padStart(6, "0");
}

const TRACE_ID = /^[0-9a-fA-F]{32}$/;
const SPAN_ID = /^[0-9a-fA-F]{16}$/;
const ALL_ZEROS = /^0+$/;
const TRACE_FLAGS = /^[0-9a-fA-F]{2}$/;

function hexId(value: unknown, pattern: RegExp): string | undefined {
  return typeof value === "string" && pattern.test(value) &&
      !ALL_ZEROS.test(value)
    ? value.toLowerCase()
    : undefined;
}

function traceFlags(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isInteger(value) && value >= 0 && value <= 255
      ? value
      : undefined;
  }
  return typeof value === "string" && TRACE_FLAGS.test(value)
    ? parseInt(value, 16)
    : undefined;
}

function logRecordJson(record: LogRecord): string {
  const time = nanos(record.time);
  let out = '{"timeUnixNano":"' + time + '","observedTimeUnixNano":"' +
    time + '","severityNumber":' +
    (OTLP_SEVERITY[record.level] ?? 0) + ',"severityText":' +
    jsonString(SEVERITY_TEXT[record.level] ?? String(record.level)) +
    ',"body":{"stringValue":' + jsonString(String(record.msg)) +
    '},"attributes":[';
  const fields = record.fields;
  const keys = Object.keys(fields);
  const traceId = hexId(fields.trace_id, TRACE_ID);
  const spanId = hexId(fields.span_id, SPAN_ID);
  const flags = traceFlags(fields.trace_flags);
  const walk = newWalk();
  let first = true;
  let exceptionDone = false;
  const add = (key: string, value: unknown) => {
    if (!first) out += ",";
    first = false;
    out += keyValueJson(key, value, walk);
  };
  for (const key of keys) {
    if (
      (key === "trace_id" && traceId !== undefined) ||
      (key === "span_id" && spanId !== undefined) ||
      (key === "trace_flags" && flags !== undefined)
    ) continue;
    let value: unknown;
    try {
      value = fields[key];
    } catch (thrown) {
      value = unformattableText(thrown);
    }
    if (value instanceof LoggedError && !exceptionDone) {
      exceptionDone = true;
      // The semantic conventions' names; a field of the same name wins.
      if (!keys.includes("exception.type")) {
        add("exception.type", String(value.name));
      }
      if (!keys.includes("exception.message")) {
        add("exception.message", String(value.message));
      }
      if (
        typeof value.stack === "string" &&
        !keys.includes("exception.stacktrace")
      ) add("exception.stacktrace", value.stack);
      const rest: Record<string, unknown> = {};
      if (value.cause !== undefined) rest.cause = value.cause;
      const props = value.props;
      if (props !== null && typeof props === "object") {
        for (const prop of Object.keys(props)) rest[prop] = props[prop];
      }
      if (Object.keys(rest).length > 0) add(key, rest);
      continue;
    }
    add(key, value);
  }
  out += "]";
  if (traceId !== undefined) out += ',"traceId":"' + traceId + '"';
  if (spanId !== undefined) out += ',"spanId":"' + spanId + '"';
  if (flags !== undefined) out += ',"flags":' + flags;
  return out + "}";
}

// ---- AnyValue ----

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

type WellFormed = { isWellFormed?(): boolean; toWellFormed?(): string };

/**
 * A JSON string literal of valid UTF-8: a lone surrogate becomes U+FFFD
 * (protobuf strings must be UTF-8, and a Collector would reject the request).
 */
function jsonString(text: string): string {
  const s = text as string & WellFormed;
  return JSON.stringify(
    s.isWellFormed?.() === false && s.toWellFormed ? s.toWellFormed() : text,
  );
}

function keyValueJson(key: string, value: unknown, walk: Walk): string {
  let json: string;
  try {
    json = anyValueJson(value, walk);
  } catch (thrown) {
    walk.ancestors.length = 0;
    json = stringValue(unformattableText(thrown));
  }
  return '{"key":' + jsonString(key) + ',"value":' + json + "}";
}

function stringValue(text: string): string {
  return '{"stringValue":' + jsonString(text) + "}";
}

function numberValue(n: number): string {
  if (Number.isSafeInteger(n)) return '{"intValue":"' + n + '"}';
  if (Number.isFinite(n)) return '{"doubleValue":' + JSON.stringify(n) + "}";
  return '{"doubleValue":"' + n + '"}';
}

function anyValueJson(value: unknown, walk: Walk): string {
  switch (typeof value) {
    case "string":
      return stringValue(value);
    case "number":
      return numberValue(value);
    case "boolean":
      return value ? '{"boolValue":true}' : '{"boolValue":false}';
    case "bigint":
      return value >= INT64_MIN && value <= INT64_MAX
        ? '{"intValue":"' + value + '"}'
        : stringValue(String(value));
    case "undefined":
      return "{}";
    case "symbol":
      return stringValue(String(value));
    case "function":
      return stringValue(`[Function: ${String(value.name) || "(anonymous)"}]`);
  }
  if (value === null) return "{}";
  return objectValueJson(value as object, walk);
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function objectValueJson(value: object, walk: Walk): string {
  if (value instanceof Marker) return stringValue(String(value.text));
  if (value instanceof Date) {
    return stringValue(
      Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString(),
    );
  }
  const limit = walkLimit(value, walk);
  if (limit !== undefined) return stringValue(limit);
  if (ArrayBuffer.isView(value)) {
    return '{"bytesValue":"' +
      base64(
        new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
      ) + '"}';
  }
  if (value instanceof ArrayBuffer) {
    return '{"bytesValue":"' + base64(new Uint8Array(value)) + '"}';
  }
  walk.ancestors.push(value);
  let out: string;
  if (Array.isArray(value) || value instanceof Set) {
    out = '{"arrayValue":{"values":[';
    let first = true;
    for (const item of value) {
      if (!first) out += ",";
      first = false;
      out += anyValueJson(item, walk);
    }
    out += "]}}";
  } else if (value instanceof Map) {
    out = kvlist([...value].map(([k, v]) => [String(k), v]), walk);
  } else if (value instanceof LoggedError) {
    const entries: [string, unknown][] = [
      ["name", value.name],
      ["message", value.message],
    ];
    if (typeof value.stack === "string") entries.push(["stack", value.stack]);
    if (value.cause !== undefined) entries.push(["cause", value.cause]);
    const props = value.props;
    if (props !== null && typeof props === "object") {
      for (const key of Object.keys(props)) entries.push([key, props[key]]);
    }
    out = kvlist(entries, walk);
  } else if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    out = anyValueJson((value as { toJSON(): unknown }).toJSON(), walk);
  } else {
    const record = value as Record<string, unknown>;
    out = kvlist(Object.keys(record).map((k) => [k, record[k]]), walk);
  }
  walk.ancestors.pop();
  return out;
}

function kvlist(entries: readonly [string, unknown][], walk: Walk): string {
  let out = '{"kvlistValue":{"values":[';
  for (let i = 0; i < entries.length; i++) {
    if (i > 0) out += ",";
    out += '{"key":' + jsonString(entries[i][0]) + ',"value":' +
      anyValueJson(entries[i][1], walk) + "}";
  }
  return out + "]}}";
}
