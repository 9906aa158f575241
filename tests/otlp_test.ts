// The OTLP sink: conformance with the official OpenTelemetry JS SDK
// (@opentelemetry/sdk-logs + @opentelemetry/exporter-logs-otlp-http) on a
// local capture server, the value mapping, retries on the OTLP retryable
// statuses, Retry-After, gzip, loss records, partial success, options, the
// worker spec.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import { gunzipSync } from "node:zlib";
import {
  context as otelContext,
  SeverityNumber,
  trace,
  TraceFlags,
} from "@opentelemetry/api";
import {
  BatchLogRecordProcessor,
  LoggerProvider,
} from "@opentelemetry/sdk-logs";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  createLogger,
  LoggedError,
  type LogRecord,
  Marker,
  TtlogConfigError,
} from "../mod.ts";
import { OTLP_SEVERITY, otlpSink, type OtlpSinkOptions } from "../src/otlp.ts";
import { BUILTIN_SINK_MODULE } from "../src/sinks/sink.ts";

// ---- capture server ----

interface Received {
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly rawBytes: number;
  /** The body, gunzipped when its content-encoding says gzip, parsed. */
  readonly json: Otlp;
}

type Action = {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
};

interface CaptureServer {
  readonly base: string;
  readonly requests: Received[];
  on(path: string): Received[];
  close(): Promise<void>;
}

/** Most requests a test server answers; past it, 400, so a runaway retry loop ends. */
const MAX_REQUESTS = 200;

async function startServer(
  plan: (index: number) => Action = () => ({ status: 200, body: "{}" }),
): Promise<CaptureServer> {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const text = req.headers["content-encoding"] === "gzip"
        ? gunzipSync(raw).toString("utf8")
        : raw.toString("utf8");
      const index = requests.length;
      requests.push({
        path: req.url ?? "",
        headers: req.headers,
        rawBytes: raw.length,
        json: JSON.parse(text) as Otlp,
      });
      const action = index >= MAX_REQUESTS ? { status: 400 } : plan(index);
      res.writeHead(action.status, {
        "content-type": "application/json",
        ...action.headers,
      });
      res.end(action.body ?? "{}");
    });
  });
  await new Promise<void>((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    on: (path) => requests.filter((r) => r.path === path),
    close(): Promise<void> {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- OTLP JSON, as captured ----

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number | string;
  boolValue?: boolean;
  bytesValue?: string;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
}
interface KeyValue {
  key: string;
  value: AnyValue;
}
interface OtlpLogRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: AnyValue;
  attributes?: KeyValue[];
  traceId?: string;
  spanId?: string;
  flags?: number;
}
interface Otlp {
  resourceLogs: {
    resource: { attributes: KeyValue[] };
    scopeLogs: { scope: { name: string }; logRecords: OtlpLogRecord[] }[];
  }[];
}

/** An AnyValue as a plain JS value: int64s become bigints, kvlists objects. */
function plain(value: AnyValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return BigInt(value.intValue);
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.bytesValue !== undefined) return { bytes: value.bytesValue };
  if (value.arrayValue !== undefined) {
    return (value.arrayValue.values ?? []).map(plain);
  }
  if (value.kvlistValue !== undefined) {
    return attributeMap(value.kvlistValue.values ?? []);
  }
  return null;
}

/** Attributes as an object with sorted keys (their order carries no meaning in OTLP). */
function attributeMap(list: readonly KeyValue[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (
    const { key, value } of [...list].sort((a, b) => a.key < b.key ? -1 : 1)
  ) {
    assert.equal(Object.hasOwn(out, key), false, `duplicate attribute ${key}`);
    out[key] = plain(value);
  }
  return out;
}

/** Every log record of some requests, flattened with its resource and scope. */
function flatten(requests: readonly Received[]): Record<string, unknown>[] {
  return requests.flatMap((r) =>
    r.json.resourceLogs.flatMap((rl) =>
      rl.scopeLogs.flatMap((sl) =>
        sl.logRecords.map((lr) => ({
          service: attributeMap(rl.resource.attributes)["service.name"],
          scope: sl.scope.name,
          timeUnixNano: lr.timeUnixNano,
          observedTimeUnixNano: lr.observedTimeUnixNano,
          severityNumber: lr.severityNumber,
          severityText: lr.severityText,
          body: plain(lr.body),
          attributes: attributeMap(lr.attributes ?? []),
          traceId: lr.traceId ?? "",
          spanId: lr.spanId ?? "",
          flags: lr.flags ?? 0,
        }))
      )
    )
  );
}

// ---- the records both exporters get ----

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";

function sampleError(): LoggedError {
  return new LoggedError(
    "TypeError",
    "card declined",
    "TypeError: card declined\n    at charge (pay.ts:10:5)",
    undefined,
    {},
  );
}

function conformanceRecords(): LogRecord[] {
  const base = 1_700_000_000_000;
  const at = (i: number, extra = 0) => base + i * 1000 + extra;
  return [
    {
      time: at(0),
      level: "trace",
      target: "",
      msg: "booting",
      fields: {},
      service: "checkout",
      seq: 0,
    },
    {
      time: at(1, 0.25),
      level: "debug",
      target: "db",
      msg: "query done",
      fields: { rows: 12, ms: 3.75, cached: false, table: "orders" },
      service: "checkout",
      seq: 1,
    },
    {
      time: at(2),
      level: "info",
      target: "http",
      msg: "request handled",
      fields: {
        trace_id: TRACE_ID,
        span_id: SPAN_ID,
        method: "POST",
        status: 201,
        tags: ["a", "b", "c"],
        user: { id: 7, name: "Ada", roles: ["admin"], limits: { daily: 2.5 } },
        negative: -42,
        ratio: 0.1,
      },
      service: "checkout",
      seq: 2,
    },
    {
      time: at(3, 0.456),
      level: "warn",
      target: "db",
      msg: 'slow query: naïve ☃ \u{1f600} "quoted" \\ tab\t',
      fields: { ms: 812, "key with spaces": "v", "ключ": "значение" },
      service: "checkout",
      seq: 3,
    },
    {
      time: at(4),
      level: "error",
      target: "http",
      msg: "payment failed",
      fields: {
        err: sampleError(),
        order: 99,
        trace_id: TRACE_ID,
        span_id: SPAN_ID,
      },
      service: "checkout",
      seq: 4,
    },
    {
      time: at(5),
      level: "fatal",
      target: "",
      msg: "giving up",
      fields: { code: 3 },
      service: "checkout",
      seq: 5,
    },
  ];
}

const SDK_SEVERITY: Record<string, SeverityNumber> = {
  trace: SeverityNumber.TRACE,
  debug: SeverityNumber.DEBUG,
  info: SeverityNumber.INFO,
  warn: SeverityNumber.WARN,
  error: SeverityNumber.ERROR,
  fatal: SeverityNumber.FATAL,
};

/** Sends the records through the official SDK and its OTLP/HTTP JSON exporter. */
async function viaSdk(
  records: readonly LogRecord[],
  url: string,
): Promise<void> {
  const exporter = new OTLPLogExporter({ url });
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({
      "service.name": "checkout",
      "deployment.environment": "test",
    }),
    processors: [
      new BatchLogRecordProcessor({ exporter, maxExportBatchSize: 1000 }),
    ],
  });
  for (const record of records) {
    const { trace_id, span_id, err, ...attributes } = record.fields;
    const error = err as LoggedError | undefined;
    provider.getLogger(record.target === "" ? "ttlog" : record.target).emit({
      timestamp: record.time,
      observedTimestamp: record.time,
      severityNumber: SDK_SEVERITY[record.level],
      severityText: record.level.toUpperCase(),
      body: record.msg,
      attributes: attributes as Record<string, never>,
      exception: error === undefined
        ? undefined
        : { name: error.name, message: error.message, stack: error.stack },
      context: typeof trace_id === "string"
        ? trace.setSpanContext(otelContext.active(), {
          traceId: trace_id,
          spanId: span_id as string,
          traceFlags: TraceFlags.NONE,
        })
        : undefined,
    });
  }
  await provider.forceFlush();
  await provider.shutdown();
}

// ---- conformance ----

test("conformance: the official SDK and otlpSink send the same log records", {
  timeout: 60_000,
}, async () => {
  const server = await startServer();
  const records = conformanceRecords();
  try {
    await viaSdk(records, server.base + "/sdk");
    const sink = otlpSink({
      url: server.base + "/ours",
      resource: { "deployment.environment": "test" },
    });
    sink.write(records);
    await sink.close();
    assert.equal(sink.stats.sent, records.length);

    const sdk = flatten(server.on("/sdk"));
    const ours = flatten(server.on("/ours"));
    assert.equal(sdk.length, records.length, "the SDK exported every record");
    const byTime = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      String(a.timeUnixNano) < String(b.timeUnixNano) ? -1 : 1;
    assert.deepEqual(ours.sort(byTime), sdk.sort(byTime));

    // The mapped fields, spelled out (what the comparison above covered).
    const info = ours.find((r) => r.body === "request handled")!;
    assert.equal(info.severityNumber, 9);
    assert.equal(info.severityText, "INFO");
    assert.equal(info.traceId, TRACE_ID);
    assert.equal(info.spanId, SPAN_ID);
    assert.equal(info.service, "checkout");
    assert.equal(info.scope, "http");
    assert.equal(info.timeUnixNano, "1700000002000000000");
    assert.equal(
      (info.attributes as Record<string, unknown>).trace_id,
      undefined,
    );
    assert.deepEqual((info.attributes as Record<string, unknown>).user, {
      id: 7n,
      limits: { daily: 2.5 },
      name: "Ada",
      roles: ["admin"],
    });
    const failed = ours.find((r) => r.body === "payment failed")!;
    assert.deepEqual(failed.attributes, {
      "exception.message": "card declined",
      "exception.stacktrace":
        "TypeError: card declined\n    at charge (pay.ts:10:5)",
      "exception.type": "TypeError",
      order: 99n,
    });
    const slow = ours.find((r) => r.severityNumber === 13)!;
    // The double nearest to ...3000.456 ms is ...3000.4560546875 ms: 456055 ns
    // past the millisecond, in both exporters.
    assert.equal(slow.timeUnixNano, "1700000003000456055");
    assert.equal(
      ours.find((r) => r.severityText === "FATAL")!.scope,
      "ttlog",
      "the root logger's scope",
    );
    assert.deepEqual(
      ours.map((r) => r.severityNumber).sort((a, b) => Number(a) - Number(b)),
      [1, 5, 9, 13, 17, 21],
    );
    // Our resource holds service.name and the user's attributes only.
    for (const request of server.on("/ours")) {
      for (const rl of request.json.resourceLogs) {
        assert.deepEqual(attributeMap(rl.resource.attributes), {
          "deployment.environment": "test",
          "service.name": "checkout",
        });
      }
      assert.equal(request.headers["content-type"], "application/json");
    }
  } finally {
    await server.close();
  }
});

test(
  "through a logger in a drain worker: trace ids from context fields, service from the logger",
  { timeout: 60_000 },
  async () => {
    const server = await startServer();
    const log = createLogger({
      service: "billing",
      level: "trace",
      directives: "",
      worker: true,
      sinks: [otlpSink({ url: server.base + "/v1/logs", retry: FAST_RETRY })],
    });
    try {
      log.child("db").debug("connected", { pool: 4 });
      log.info("charged", {
        trace_id: TRACE_ID.toUpperCase(),
        span_id: SPAN_ID,
        trace_flags: "01",
        cents: 1250,
      });
      await log.flush();
      const got = flatten(server.requests);
      assert.equal(got.length, 2);
      const [connected, charged] = [...got].sort((a, b) =>
        a.body === "connected" ? -1 : b.body === "connected" ? 1 : 0
      );
      assert.equal(connected.scope, "db");
      assert.equal(connected.severityNumber, OTLP_SEVERITY.debug);
      assert.deepEqual(connected.attributes, { pool: 4n });
      assert.equal(charged.scope, "ttlog");
      assert.equal(charged.service, "billing");
      assert.equal(charged.traceId, TRACE_ID);
      assert.equal(charged.spanId, SPAN_ID);
      assert.equal(charged.flags, 1);
      assert.deepEqual(charged.attributes, { cents: 1250n });
      // The time is the record's, in nanoseconds.
      const ns = BigInt(String(charged.timeUnixNano));
      assert.ok(ns > BigInt(Date.now() - 60_000) * 1_000_000n);
      assert.ok(ns <= BigInt(Date.now()) * 1_000_000n);
    } finally {
      await log.close();
      await server.close();
    }
  },
);

// ---- value mapping ----

function one(
  fields: Record<string, unknown>,
  extra: Partial<LogRecord> = {},
): LogRecord {
  return {
    time: 1_700_000_000_000,
    level: "info",
    target: "app",
    msg: "m",
    fields,
    service: "svc",
    seq: 1,
    ...extra,
  };
}

/** What one batch of records looks like on the wire. */
async function sendOne(
  records: LogRecord[],
  options: Partial<OtlpSinkOptions> = {},
): Promise<{ requests: Received[]; raw: Otlp }> {
  const server = await startServer();
  try {
    const sink = otlpSink({ url: server.base + "/v1/logs", ...options });
    sink.write(records);
    await sink.close();
    return { requests: server.requests, raw: server.requests[0].json };
  } finally {
    await server.close();
  }
}

test("values: ints, doubles, non-finite, bigints, null, bytes, Dates, Maps, Sets, markers, cycles", async () => {
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const { raw } = await sendOne([one({
    int: 42,
    big: 2 ** 60,
    double: 1.5,
    nan: NaN,
    inf: -Infinity,
    small: 12n,
    huge: 2n ** 70n,
    none: null,
    undef: undefined,
    bytes: new Uint8Array([1, 2, 255]),
    when: new Date(0),
    map: new Map<unknown, unknown>([["a", 1], [2, "b"]]),
    set: new Set([true, "x"]),
    secret: new Marker("redacted", "[Redacted]"),
    cyclic,
    lone: "a\ud800b",
  })]);
  const attributes = raw.resourceLogs[0].scopeLogs[0].logRecords[0].attributes!;
  const wire = Object.fromEntries(attributes.map((kv) => [kv.key, kv.value]));
  assert.deepEqual(wire.int, { intValue: "42" });
  assert.deepEqual(
    wire.big,
    { doubleValue: 2 ** 60 },
    "past 2^53: a double, not an imprecise int",
  );
  assert.deepEqual(wire.double, { doubleValue: 1.5 });
  assert.deepEqual(wire.nan, { doubleValue: "NaN" });
  assert.deepEqual(wire.inf, { doubleValue: "-Infinity" });
  assert.deepEqual(wire.small, { intValue: "12" });
  assert.deepEqual(
    wire.huge,
    { stringValue: String(2n ** 70n) },
    "past int64: a string",
  );
  assert.deepEqual(wire.none, {});
  assert.deepEqual(wire.undef, {});
  assert.deepEqual(wire.bytes, { bytesValue: "AQL/" });
  assert.deepEqual(wire.when, { stringValue: "1970-01-01T00:00:00.000Z" });
  assert.deepEqual(wire.map, {
    kvlistValue: {
      values: [
        { key: "a", value: { intValue: "1" } },
        { key: "2", value: { stringValue: "b" } },
      ],
    },
  });
  assert.deepEqual(wire.set, {
    arrayValue: { values: [{ boolValue: true }, { stringValue: "x" }] },
  });
  assert.deepEqual(wire.secret, { stringValue: "[Redacted]" });
  assert.deepEqual(wire.cyclic, {
    kvlistValue: {
      values: [
        { key: "name", value: { stringValue: "loop" } },
        { key: "self", value: { stringValue: "[Circular]" } },
      ],
    },
  });
  assert.deepEqual(
    wire.lone,
    { stringValue: "a\ufffdb" },
    "lone surrogates are not valid UTF-8",
  );
});

test("errors: the first is exception.*, its cause and properties stay under its key; a second is a kvlist", async () => {
  const cause = new LoggedError(
    "Error",
    "socket closed",
    undefined,
    undefined,
    {},
  );
  const first = new LoggedError(
    "DbError",
    "insert failed",
    "DbError: insert failed\n  at x",
    cause,
    { code: "23505" },
  );
  const second = new LoggedError(
    "RangeError",
    "too big",
    undefined,
    undefined,
    {},
  );
  const { raw } = await sendOne([one({ err: first, other: second })]);
  const got = attributeMap(
    raw.resourceLogs[0].scopeLogs[0].logRecords[0].attributes!,
  );
  assert.deepEqual(got, {
    err: {
      cause: { message: "socket closed", name: "Error" },
      code: "23505",
    },
    "exception.message": "insert failed",
    "exception.stacktrace": "DbError: insert failed\n  at x",
    "exception.type": "DbError",
    other: { message: "too big", name: "RangeError" },
  });
  // A field of the same name as a semantic-convention attribute wins.
  const { raw: raw2 } = await sendOne([
    one({ "exception.type": "Mine", err: second }),
  ]);
  const got2 = attributeMap(
    raw2.resourceLogs[0].scopeLogs[0].logRecords[0].attributes!,
  );
  assert.equal(got2["exception.type"], "Mine");
  assert.equal(got2["exception.message"], "too big");
});

test("trace ids that are not 32/16 hex digits, or all zeros, stay attributes", async () => {
  const { raw } = await sendOne([
    one({ trace_id: "xyz", span_id: "00f067aa0ba902b7" }),
    one({
      trace_id: "0".repeat(32),
      span_id: "0".repeat(16),
      trace_flags: 300,
    }),
  ]);
  const [a, b] = raw.resourceLogs[0].scopeLogs[0].logRecords;
  assert.equal(a.traceId, undefined);
  assert.equal(a.spanId, "00f067aa0ba902b7");
  assert.deepEqual(attributeMap(a.attributes!), { trace_id: "xyz" });
  assert.equal(b.traceId, undefined);
  assert.equal(b.spanId, undefined);
  assert.equal(b.flags, undefined);
  assert.deepEqual(attributeMap(b.attributes!), {
    span_id: "0".repeat(16),
    trace_flags: 300n,
    trace_id: "0".repeat(32),
  });
});

test("grouping: one resource per service, one scope per target, order kept within each", async () => {
  const { raw } = await sendOne([
    one({ i: 0 }, { target: "a" }),
    one({ i: 1 }, { target: "b", service: "other" }),
    one({ i: 2 }, { target: "a" }),
    one({ i: 3 }, { target: "" }),
  ]);
  const shape = raw.resourceLogs.map((rl) => ({
    service: attributeMap(rl.resource.attributes)["service.name"],
    scopes: rl.scopeLogs.map((
      sl,
    ) => [
      sl.scope.name,
      ...sl.logRecords.map((lr) => plain(lr.attributes![0].value)),
    ]),
  }));
  assert.deepEqual(shape, [
    { service: "svc", scopes: [["a", 0n, 2n], ["ttlog", 3n]] },
    { service: "other", scopes: [["b", 1n]] },
  ]);
  // resource service.name overrides the records' services.
  const { raw: fixed } = await sendOne(
    [one({}, { service: "x" }), one({}, { service: "y" })],
    { resource: { "service.name": "api", region: "eu", zones: [1, 2] } },
  );
  assert.equal(fixed.resourceLogs.length, 1);
  assert.deepEqual(attributeMap(fixed.resourceLogs[0].resource.attributes), {
    region: "eu",
    "service.name": "api",
    zones: [1n, 2n],
  });
});

test("timestamps: fractional milliseconds become exact nanoseconds", async () => {
  const { raw } = await sendOne([
    one({}, { time: 1_700_000_000_000.5 }),
    one({}, { time: 1_699_999_999_999.9999999 }),
    one({}, { time: 1 }),
  ]);
  assert.deepEqual(
    raw.resourceLogs[0].scopeLogs[0].logRecords.map((
      lr,
    ) => [lr.timeUnixNano, lr.observedTimeUnixNano]),
    [
      ["1700000000000500000", "1700000000000500000"],
      ["1700000000000000000", "1700000000000000000"],
      ["1000000", "1000000"],
    ],
  );
});

// ---- delivery ----

const FAST_RETRY = { attempts: 5, baseMs: 5, maxMs: 20 } as const;

test("429 and 503 are retried (Retry-After honoured), 500 and 400 are not", {
  timeout: 60_000,
}, async () => {
  const answers: Action[] = [
    { status: 429, headers: { "retry-after": "1" } },
    { status: 503 },
    { status: 200 },
  ];
  const server = await startServer((i) => answers[i] ?? { status: 200 });
  try {
    const sink = otlpSink({
      url: server.base + "/v1/logs",
      retry: { attempts: 5, baseMs: 5, maxMs: 5000 },
    });
    const started = performance.now();
    sink.write([one({ i: 1 })]);
    await sink.flush();
    const waited = performance.now() - started;
    assert.equal(server.requests.length, 3);
    assert.ok(waited >= 950, `Retry-After: 1 waited ${waited.toFixed(0)} ms`);
    assert.deepEqual(sink.stats, {
      sent: 1,
      dropped: 0,
      retries: 2,
      failures: 2,
    });
    await sink.close();
  } finally {
    await server.close();
  }
  for (const status of [500, 400]) {
    const failing = await startServer((i) =>
      i === 0 ? { status } : { status: 200 }
    );
    try {
      const sink = otlpSink({
        url: failing.base + "/v1/logs",
        retry: FAST_RETRY,
      });
      sink.write([one({ i: 1 })]);
      await sink.flush();
      assert.equal(failing.requests.length, 1, `${status}: no retry`);
      // close() sends the loss record on its own.
      await sink.close();
      assert.equal(failing.requests.length, 2);
      assert.deepEqual(sink.stats, {
        sent: 0,
        dropped: 1,
        retries: 0,
        failures: 1,
      });
      const loss = flatten([failing.requests[1]]);
      assert.equal(loss.length, 1);
      assert.equal(loss[0].body, "lost 1 events");
      assert.equal(loss[0].scope, "ttlog");
      assert.equal(loss[0].severityText, "WARN");
      assert.equal(loss[0].service, "svc");
      assert.deepEqual(loss[0].attributes, {
        lost: 1n,
        reason: "otlp sink gave up",
      });
    } finally {
      await failing.close();
    }
  }
});

test("bounded memory: drops are counted and reported in the next accepted request", async () => {
  const server = await startServer((i) =>
    i < 3 ? { status: 503 } : { status: 200 }
  );
  try {
    const sink = otlpSink({
      url: server.base + "/v1/logs",
      retry: { attempts: 2, baseMs: 5, maxMs: 5 },
      batch: { events: 10 },
      maxBufferedBytes: 20_000,
    });
    const records: LogRecord[] = [];
    for (let i = 0; i < 400; i++) {
      records.push(one({ i }, { msg: "x".repeat(100) }));
    }
    sink.write(records);
    await sink.close();
    const stats = sink.stats;
    assert.equal(stats.sent + stats.dropped, 400);
    assert.ok(stats.dropped > 0 && stats.sent > 0, JSON.stringify(stats));
    const got = flatten(server.requests.slice(3));
    const losses = got.filter((r) => r.scope === "ttlog");
    const reported = losses.reduce(
      (n, r) => n + Number((r.attributes as { lost: bigint }).lost),
      0,
    );
    assert.equal(reported, stats.dropped);
    assert.equal(got.length - losses.length, stats.sent);
  } finally {
    await server.close();
  }
});

test("a partial success's rejected records are counted as dropped", async () => {
  const server = await startServer((i) =>
    i === 0
      ? {
        status: 200,
        body:
          '{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"too old"}}',
      }
      : { status: 200 }
  );
  try {
    const sink = otlpSink({ url: server.base + "/v1/logs" });
    sink.write([one({ i: 0 }), one({ i: 1 }), one({ i: 2 })]);
    await sink.flush();
    assert.deepEqual(sink.stats, {
      sent: 1,
      dropped: 2,
      retries: 0,
      failures: 0,
    });
    await sink.close();
    assert.equal(flatten([server.requests[1]])[0].body, "lost 2 events");
  } finally {
    await server.close();
  }
});

test("gzip: content-encoding gzip, a smaller body that gunzips to the same JSON", async () => {
  const records = Array.from(
    { length: 50 },
    (_, i) => one({ i, text: "repeated text ".repeat(5) }),
  );
  const plainRun = await sendOne(records);
  const gzipRun = await sendOne(records, {
    compression: "gzip",
    headers: { authorization: "Bearer t" },
  });
  const [plainReq, gzipReq] = [plainRun.requests[0], gzipRun.requests[0]];
  assert.equal(plainReq.headers["content-encoding"], undefined);
  assert.equal(gzipReq.headers["content-encoding"], "gzip");
  assert.equal(gzipReq.headers.authorization, "Bearer t");
  assert.ok(
    gzipReq.rawBytes < plainReq.rawBytes / 4,
    `${gzipReq.rawBytes} vs ${plainReq.rawBytes}`,
  );
  assert.deepEqual(gzipReq.json, plainReq.json);
});

// ---- options ----

test("bad options throw a TtlogConfigError naming the option and the value", () => {
  const cases: [unknown, RegExp][] = [
    [5, /otlpSink: options must be an object, got 5/],
    [
      { url: "ftp://x/" },
      /otlpSink: url must be an absolute http: or https: URL, got "ftp:\/\/x\/"/,
    ],
    [
      { compression: "br" },
      /otlpSink: compression must be "gzip" or "none", got "br"/,
    ],
    [
      { resource: "svc" },
      /otlpSink: resource must be a plain object of attribute values, got "svc"/,
    ],
    [
      { resource: { a: { b: 1 } } },
      /otlpSink: resource\["a"\] must be a string, a finite number, a boolean or an array of them, got an object/,
    ],
    [{ resource: { a: NaN } }, /resource\["a"\] .*got NaN/],
    [
      { resource: { "service.name": "" } },
      /resource\["service.name"\] must be a non-empty string, got ""/,
    ],
    [
      { batch: { events: 0 } },
      /otlpSink: batch\.events must be an integer >= 1, got 0/,
    ],
    [{ headers: { a: 1 } }, /otlpSink: headers\["a"\] must be a string, got 1/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => otlpSink(options as OtlpSinkOptions),
      (error: unknown) =>
        error instanceof TtlogConfigError && message.test(error.message),
      `${message}`,
    );
  }
});

test("the spec survives structuredClone, with every default filled in", async () => {
  const sink = otlpSink({ resource: { region: "eu" } });
  assert.equal(sink.name, "otlp:localhost:4318");
  assert.equal(sink.spec.module, BUILTIN_SINK_MODULE);
  assert.deepEqual(structuredClone(sink.spec.options), {
    url: "http://localhost:4318/v1/logs",
    compression: "none",
    headers: {},
    batch: { events: 1000, bytes: 1024 * 1024, ms: 1000 },
    retry: { attempts: 5, baseMs: 200, maxMs: 10_000 },
    maxBufferedBytes: 16 * 1024 * 1024,
    timeoutMs: 10_000,
    resource: { region: "eu" },
  });
  await sink.close();
});
