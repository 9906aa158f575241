// The syslog sink against a real rsyslogd (the Debian package rsyslog, which
// npm test installs): the test starts it in the foreground with its own
// config (imudp and imtcp on free loopback ports, omfile with a JSON
// template of the parsed fields) and reads what it parsed. Reconnects,
// bounded memory and loss reports run against a local node:net server.
// Without rsyslogd the rsyslog tests fail, saying why; they never skip.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import {
  createConnection,
  createServer,
  type Server,
  type Socket,
} from "node:net";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import {
  createLogger,
  LoggedError,
  type LogRecord,
  TtlogConfigError,
} from "../mod.ts";
import {
  SYSLOG_SEVERITY,
  syslogSink,
  type SyslogSinkOptions,
} from "../src/syslog.ts";
import { toolPath } from "../scripts/tools.mjs";
import { BUILTIN_SINK_MODULE } from "../src/sinks/sink.ts";
import { sleep } from "./helpers.ts";

// ---- rsyslogd ----

async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** One line rsyslog wrote: the fields it parsed out of a message. */
interface Parsed {
  pri: string;
  version: string;
  timestamp: string;
  hostname: string;
  appname: string;
  procid: string;
  msgid: string;
  sd: string;
  msg: string;
}

interface Rsyslog {
  readonly udpPort: number;
  readonly tcpPort: number;
  /** The lines written so far, parsed. */
  lines(): Parsed[];
  /** Waits until `n` lines satisfy `match` (fails after `ms`). */
  waitFor(
    n: number,
    match?: (line: Parsed) => boolean,
    ms?: number,
  ): Promise<Parsed[]>;
  stop(): Promise<void>;
}

async function startRsyslog(): Promise<Rsyslog> {
  const binary = toolPath("rsyslogd");
  const dir = mkdtempSync(join(tmpdir(), "ttlog-rsyslog-"));
  const udpPort = await freeUdpPort();
  const tcpPort = await freeTcpPort();
  const out = join(dir, "out.jsonl");
  const config = join(dir, "rsyslog.conf");
  writeFileSync(
    config,
    `global(workDirectory="${dir}" maxMessageSize="64k")
module(load="imudp")
module(load="imtcp")
input(type="imudp" address="127.0.0.1" port="${udpPort}")
input(type="imtcp" address="127.0.0.1" port="${tcpPort}")
template(name="parsed" type="list" option.jsonf="on") {
  property(outname="pri" name="pri" format="jsonf")
  property(outname="version" name="protocol-version" format="jsonf")
  property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="appname" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
}
*.* action(type="omfile" file="${out}" template="parsed")
`,
  );
  const child: ChildProcess = spawn(
    binary,
    ["-n", "-f", config, "-i", join(dir, "rsyslogd.pid")],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Uint8Array) => output += String(chunk));
  child.stderr?.on("data", (chunk: Uint8Array) => output += String(chunk));
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) => {
    child.on("exit", (code, signal) => {
      exited = `rsyslogd exited (code ${code}, signal ${signal})`;
      resolve();
    });
    child.on("error", (error) => {
      exited = `rsyslogd could not start: ${error.message}`;
      resolve();
    });
  });
  const fail = (why: string): never => {
    throw new Error(`${why}; config ${config}; its output:\n${output}`);
  };

  const lines = (): Parsed[] => {
    if (!existsSync(out)) return [];
    return readFileSync(out, "utf8").split("\n").filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Parsed);
  };
  const rsyslog: Rsyslog = {
    udpPort,
    tcpPort,
    lines,
    async waitFor(n, match = () => true, ms = 10_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = lines().filter(match);
        if (found.length >= n) return found;
        if (exited !== undefined) fail(exited);
        if (Date.now() > deadline) {
          fail(
            `waited ${ms} ms for ${n} lines from rsyslogd, got ${found.length} of ${lines().length}`,
          );
        }
        await sleep(20);
      }
    },
    async stop() {
      if (exited === undefined && child.pid !== undefined) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exit;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    // Ready when its TCP input accepts a connection and a UDP probe arrives.
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (exited !== undefined) fail(exited);
      if (Date.now() > deadline) {
        fail("rsyslogd did not open its TCP port in 15 s");
      }
      const connected = await new Promise<boolean>((resolve) => {
        const socket: Socket = createConnection({
          host: "127.0.0.1",
          port: tcpPort,
        });
        socket.on("connect", () => {
          socket.destroy();
          resolve(true);
        });
        socket.on("error", () => resolve(false));
      });
      if (connected) break;
      await sleep(50);
    }
    const probe = createSocket("udp4");
    for (let i = 0; i < 100 && lines().length === 0; i++) {
      probe.send("<14>1 - - probe - - - ready", udpPort, "127.0.0.1");
      await sleep(50);
    }
    probe.close();
    if (lines().length === 0) {
      fail("rsyslogd wrote nothing for UDP probes in 5 s");
    }
  } catch (error) {
    await rsyslog.stop();
    throw error;
  }
  return rsyslog;
}

// ---- reading RFC 5424 structured data back ----

/** Parses `[id name="value" ...]...` into [id, [name, value][]] per element, unescaping. */
function parseSd(sd: string): [string, [string, string][]][] {
  if (sd === "-") return [];
  const elements: [string, [string, string][]][] = [];
  let i = 0;
  while (i < sd.length) {
    assert.equal(sd[i], "[", `element start at ${i} in ${sd}`);
    let j = i + 1;
    while (sd[j] !== " " && sd[j] !== "]") j++;
    const id = sd.slice(i + 1, j);
    const params: [string, string][] = [];
    i = j;
    while (sd[i] === " ") {
      const eq = sd.indexOf("=", i);
      const name = sd.slice(i + 1, eq);
      assert.equal(sd[eq + 1], '"');
      let value = "";
      let k = eq + 2;
      for (; sd[k] !== '"'; k++) {
        if (sd[k] === "\\" && '"\\]'.includes(sd[k + 1])) k++;
        value += sd[k];
      }
      params.push([name, value]);
      i = k + 1;
    }
    assert.equal(sd[i], "]", `element end at ${i} in ${sd}`);
    elements.push([id, params]);
    i++;
  }
  return elements;
}

// ---- records ----

function record(i: number, extra: Partial<LogRecord> = {}): LogRecord {
  return {
    time: Date.UTC(2024, 4, 1, 12, 0, 0, 123) + i,
    level: "info",
    target: "db.pool",
    msg: `event ${i}`,
    fields: { i },
    service: "checkout",
    seq: i,
    ...extra,
  };
}

function records(from: number, to: number): LogRecord[] {
  const out: LogRecord[] = [];
  for (let i = from; i < to; i++) out.push(record(i));
  return out;
}

const BOM = "\ufeff";

/** The records that show the mapping, and what rsyslog must make of them. */
function mappingRecords(tag: string): LogRecord[] {
  return [
    record(1, {
      level: "warn",
      msg: `${tag} quotes "a" \\ b ] c, naïve ☃`,
      fields: {
        quote: 'say "hi"',
        backslash: "a\\b",
        bracket: "x]y",
        'bad name=with space]"': 1,
        "ключ": "значение",
        nested: { user: { id: 7 }, tags: ["a", "b"] },
        n: 12.5,
        big: 12n,
        yes: true,
        none: null,
      },
    }),
    record(2, {
      level: "error",
      target: "",
      msg: `${tag} failed`,
      fields: {
        err: new LoggedError("TypeError", "bad", undefined, undefined, {}),
      },
    }),
    record(3, { level: "debug", msg: `${tag} no fields`, fields: {} }),
    record(4, { level: "fatal", msg: `${tag} multi\nline`, fields: {} }),
    record(5, { level: "trace", msg: `${tag} trace`, fields: {} }),
  ];
}

function checkMapping(
  lines: readonly Parsed[],
  tag: string,
  facility: number,
): void {
  const byMsg = (start: string) => {
    const found = lines.find((l) => l.msg.startsWith(BOM + tag + start));
    assert.ok(
      found,
      `a line for "${tag}${start}" in ${JSON.stringify(lines, null, 1)}`,
    );
    return found;
  };
  const warn = byMsg(" quotes");
  assert.equal(warn.pri, String(facility * 8 + 4));
  assert.equal(warn.version, "1");
  assert.equal(warn.timestamp, "2024-05-01T12:00:00.124Z");
  assert.equal(warn.hostname, hostname().replace(/[^\x21-\x7e]/g, "_"));
  assert.equal(warn.appname, "checkout");
  assert.equal(warn.msgid, "db.pool");
  assert.equal(warn.msg, BOM + `${tag} quotes "a" \\ b ] c, naïve ☃`);
  assert.deepEqual(parseSd(warn.sd), [[
    "ttlog@32473",
    [
      ["quote", 'say "hi"'],
      ["backslash", "a\\b"],
      ["bracket", "x]y"],
      ["bad_name_with_space__", "1"],
      ["____", "значение"],
      ["nested", '{"user":{"id":7},"tags":["a","b"]}'],
      ["n", "12.5"],
      ["big", "12"],
      ["yes", "true"],
      ["none", "null"],
    ],
  ]]);
  const failed = byMsg(" failed");
  assert.equal(failed.pri, String(facility * 8 + 3));
  assert.equal(failed.msgid, "-", "root logger: no MSGID");
  assert.deepEqual(parseSd(failed.sd), [["ttlog@32473", [[
    "err",
    '{"name":"TypeError","message":"bad"}',
  ]]]]);
  const debug = byMsg(" no fields");
  assert.equal(debug.pri, String(facility * 8 + 7));
  assert.equal(debug.sd, "-");
  const fatal = byMsg(" multi");
  assert.equal(fatal.pri, String(facility * 8 + 2));
  assert.equal(byMsg(" trace").pri, String(facility * 8 + 7));
}

// ---- against rsyslogd ----

test(
  "UDP to rsyslogd: PRI, header, structured data with escapes, BOM and message, parsed by rsyslog",
  { timeout: 60_000 },
  async () => {
    const rsyslog = await startRsyslog();
    try {
      const sink = syslogSink({ port: rsyslog.udpPort, facility: "local4" });
      sink.write(mappingRecords("udp"));
      await sink.close();
      assert.deepEqual(sink.stats, {
        sent: 5,
        dropped: 0,
        truncated: 0,
        failures: 0,
      });
      const lines = await rsyslog.waitFor(
        5,
        (l) => l.msg.startsWith(BOM + "udp"),
      );
      checkMapping(lines, "udp", 20);
      // Over UDP a newline stays inside the one datagram.
      assert.ok(lines.some((l) => l.msg === BOM + "udp multi#012line"));
    } finally {
      await rsyslog.stop();
    }
  },
);

test(
  "TCP to rsyslogd: octet-counting framing keeps a multi-line message whole",
  { timeout: 60_000 },
  async () => {
    const rsyslog = await startRsyslog();
    try {
      const sink = syslogSink({
        port: rsyslog.tcpPort,
        transport: "tcp",
        facility: 3,
      });
      sink.write(mappingRecords("tcp"));
      const many: LogRecord[] = [];
      for (let i = 0; i < 500; i++) {
        many.push(
          record(i, { msg: `tcp bulk ${i}` }),
        );
      }
      sink.write(many);
      await sink.close();
      assert.deepEqual(sink.stats, {
        sent: 505,
        dropped: 0,
        truncated: 0,
        failures: 0,
      });
      const lines = await rsyslog.waitFor(
        505,
        (l) => l.msg.startsWith(BOM + "tcp"),
      );
      checkMapping(lines, "tcp", 3);
      assert.ok(
        lines.some((l) => l.msg === BOM + "tcp multi#012line"),
        "one message, not two lines",
      );
      const bulk = lines.filter((l) => l.msg.startsWith(BOM + "tcp bulk"));
      assert.deepEqual(
        bulk.map((l) => l.msg),
        many.map((r) => BOM + r.msg),
        "all of them, in order",
      );
    } finally {
      await rsyslog.stop();
    }
  },
);

test(
  "a message over maxMessageBytes is cut on a character boundary and marked truncated, over UDP and TCP",
  { timeout: 60_000 },
  async () => {
    const rsyslog = await startRsyslog();
    try {
      const long = "€".repeat(1000); // 3000 bytes
      for (const transport of ["udp", "tcp"] as const) {
        const sink = syslogSink({
          port: transport === "udp" ? rsyslog.udpPort : rsyslog.tcpPort,
          transport,
          maxMessageBytes: 600,
          appName: "cutter",
        });
        sink.write([
          record(1, {
            msg: `${transport} long ${long}`,
            fields: { keep: "me" },
          }),
          record(2, {
            msg: `${transport} wide`,
            fields: { huge: "x".repeat(1000) },
          }),
        ]);
        await sink.close();
        assert.deepEqual(sink.stats, {
          sent: 2,
          dropped: 0,
          truncated: 2,
          failures: 0,
        });
      }
      const lines = await rsyslog.waitFor(4, (l) => l.appname === "cutter");
      for (const transport of ["udp", "tcp"]) {
        const cut = lines.find((l) =>
          l.msg.startsWith(BOM + transport + " long")
        )!;
        const [[, params]] = parseSd(cut.sd);
        assert.equal(params[0][0], "keep");
        assert.equal(params[1][0], "truncated");
        assert.ok(
          Number(params[1][1]) > 3000,
          `original length ${params[1][1]}`,
        );
        assert.match(
          cut.msg,
          /^\ufeff\w+ long €+$/,
          "cut between characters, not inside one",
        );
        const wide = lines.find((l) =>
          l.msg.startsWith(BOM + transport + " wide")
        )!;
        assert.deepEqual(parseSd(wide.sd)[0][1].map(([name]) => name), [
          "truncated",
        ], "fields that do not fit are left out");
        assert.equal(wide.msg, BOM + transport + " wide");
      }
    } finally {
      await rsyslog.stop();
    }
  },
);

test(
  "in a drain worker: the sink is rebuilt from its spec and its messages reach rsyslogd",
  { timeout: 60_000 },
  async () => {
    const rsyslog = await startRsyslog();
    const log = createLogger({
      service: "billing",
      level: "trace",
      directives: "",
      worker: true,
      sinks: [
        syslogSink({ port: rsyslog.tcpPort, transport: "tcp", bom: false }),
      ],
    });
    try {
      log.child("pay").info("charged", { cents: 1250 });
      log.warn("slow");
      await log.flush();
      const lines = await rsyslog.waitFor(2, (l) => l.appname === "billing");
      const charged = lines.find((l) => l.msg === "charged")!;
      assert.equal(charged.pri, String(8 + SYSLOG_SEVERITY.info));
      assert.equal(charged.msgid, "pay");
      assert.equal(charged.sd, '[ttlog@32473 cents="1250"]');
      assert.ok(lines.some((l) => l.msg === "slow" && l.msgid === "-"));
    } finally {
      await log.close();
      await rsyslog.stop();
    }
  },
);

// ---- reconnects and losses, against a local server ----

interface FrameServer {
  readonly port: number;
  /** Every octet-counted frame received, decoded. */
  readonly frames: string[];
  readonly connections: number;
  /** Waits until `n` frames have arrived (fails after 5 s). */
  waitFor(n: number): Promise<void>;
  close(): Promise<void>;
}

/** A TCP server that parses octet-counted frames; `onConnection(n)` may drop connection n. */
async function startFrameServer(
  port = 0,
  onConnection: (index: number, socket: Socket) => void = () => {},
): Promise<FrameServer> {
  const frames: string[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const space = buffered.indexOf(0x20);
        if (space === -1) break;
        const length = Number(buffered.subarray(0, space).toString());
        assert.ok(
          Number.isSafeInteger(length),
          `a frame length, got ${buffered.subarray(0, space)}`,
        );
        if (buffered.length < space + 1 + length) break;
        frames.push(
          buffered.subarray(space + 1, space + 1 + length).toString("utf8"),
        );
        buffered = buffered.subarray(space + 1 + length);
      }
    });
    socket.on("error", () => {});
    onConnection(connections++, socket);
  });
  await new Promise<void>((resolve) =>
    server.listen(port, "127.0.0.1", resolve)
  );
  return {
    port: (server.address() as { port: number }).port,
    frames,
    get connections() {
      return connections;
    },
    async waitFor(n) {
      const deadline = Date.now() + 5000;
      while (frames.length < n) {
        if (Date.now() > deadline) {
          assert.fail(`waited 5 s for ${n} frames, got ${frames.length}`);
        }
        await sleep(5);
      }
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test(
  "TCP: a connection closed by the receiver, or refused, is reopened with backoff; nothing is lost",
  { timeout: 60_000 },
  async () => {
    const server = await startFrameServer(0, (index, socket) => {
      // The first connection is closed by the receiver after 5 messages.
      if (index === 0) {
        socket.on("data", () => {
          if (server.frames.length >= 5) socket.end();
        });
      }
    });
    const ids = (frames: readonly string[]) =>
      frames.map((f) => Number(/\[ttlog@32473 i="(\d+)"\]/.exec(f)?.[1]));
    try {
      const sink = syslogSink({
        port: server.port,
        transport: "tcp",
        reconnect: { attempts: 5, baseMs: 10, maxMs: 50 },
      });
      sink.write(records(0, 5));
      await sink.flush();
      await sleep(100); // the receiver's close arrives
      sink.write(records(5, 20));
      await sink.flush();
      await server.waitFor(20);
      assert.deepEqual(ids(server.frames), [...Array(20).keys()]);
      assert.equal(server.connections, 2);
      assert.deepEqual(sink.stats, {
        sent: 20,
        dropped: 0,
        truncated: 0,
        failures: 1,
      });
      await sink.close();
    } finally {
      await server.close();
    }

    // Refused at first: the receiver starts while the sink backs off.
    const port = await freeTcpPort();
    const sink = syslogSink({
      port,
      transport: "tcp",
      reconnect: { attempts: 20, baseMs: 20, maxMs: 40 },
    });
    sink.write(records(0, 10));
    await sleep(60);
    assert.ok(sink.stats.failures >= 1, "refused at least once");
    const late = await startFrameServer(port);
    try {
      await sink.close();
      assert.deepEqual(ids(late.frames), [...Array(10).keys()]);
      assert.equal(sink.stats.sent, 10);
      assert.equal(sink.stats.dropped, 0);
    } finally {
      await late.close();
    }
  },
);

test(
  "TCP with the receiver down: after reconnect.attempts the messages are dropped, counted, and reported once it is back",
  { timeout: 60_000 },
  async () => {
    const port = await freeTcpPort();
    const sink = syslogSink({
      port,
      transport: "tcp",
      reconnect: { attempts: 3, baseMs: 10, maxMs: 20 },
    });
    sink.write([record(0), record(1), record(2)]);
    await sink.flush();
    assert.deepEqual(sink.stats, {
      sent: 0,
      dropped: 3,
      truncated: 0,
      failures: 3,
    });
    const server = await startFrameServer(port);
    try {
      sink.write([record(3)]);
      await sink.close();
      assert.equal(server.frames.length, 2);
      assert.match(
        server.frames[0],
        /^<12>1 \S+ \S+ checkout \S+ ttlog \[ttlog@32473 lost="3" reason="syslog sink gave up"\] \ufefflost 3 events$/,
      );
      assert.match(server.frames[1], /\[ttlog@32473 i="3"\] \ufeffevent 3$/);
      assert.deepEqual(sink.stats, {
        sent: 1,
        dropped: 3,
        truncated: 0,
        failures: 3,
      });
    } finally {
      await server.close();
    }
  },
);

test(
  "bounded memory: past maxBufferedBytes the oldest waiting messages are dropped and counted",
  { timeout: 60_000 },
  async () => {
    const port = await freeTcpPort();
    const sink = syslogSink({
      port,
      transport: "tcp",
      maxBufferedBytes: 2000,
      reconnect: { attempts: 2, baseMs: 200, maxMs: 200 },
    });
    const records: LogRecord[] = [];
    for (let i = 0; i < 100; i++) records.push(record(i));
    sink.write(records);
    // About 20 messages of ~100 bytes fit; the rest were dropped at once.
    const early = sink.stats.dropped;
    assert.ok(early >= 50 && early < 100, `dropped ${early} at once`);
    await sink.flush();
    assert.equal(sink.stats.dropped, 100);
    await sink.close();
    sink.write([record(100)]);
    assert.equal(sink.stats.dropped, 101, "a write after close is counted");
  },
);

test("UDP with no receiver: every datagram is sent or counted as dropped", async () => {
  const port = await freeUdpPort();
  const sink = syslogSink({ port });
  const records: LogRecord[] = [];
  for (let i = 0; i < 300; i++) records.push(record(i));
  sink.write(records);
  await sink.close();
  const { sent, dropped } = sink.stats;
  assert.equal(sent + dropped, 300);
  // Nothing listens, yet the first datagrams leave (the OS only says so
  // later, if at all): a sink that dropped everything would fail here.
  assert.ok(sent > 0, `${sent} sent, ${dropped} dropped`);
});

// ---- options ----

test("bad options throw a TtlogConfigError naming the option and the value", () => {
  const cases: [unknown, RegExp][] = [
    ["udp", /syslogSink: options must be an object, got "udp"/],
    [{ port: 0 }, /syslogSink: port must be an integer from 1 to 65535, got 0/],
    [{ port: "514" }, /port must be .*got "514"/],
    [
      { transport: "tls" },
      /syslogSink: transport must be "udp" or "tcp", got "tls"/,
    ],
    [
      { facility: "locl0" },
      /syslogSink: facility must be a facility name \(kern, user, .*local7\) or a code from 0 to 23, got "locl0"/,
    ],
    [{ facility: 24 }, /facility must be an integer from 0 to 23, got 24/],
    [{ host: "" }, /host must be a non-empty string, got ""/],
    [{ appName: 5 }, /appName must be a non-empty string, got 5/],
    [{ sdId: "bad id" }, /sdId must be an SD-ID.*got "bad id"/],
    [{ bom: "yes" }, /bom must be a boolean, got "yes"/],
    [
      { maxMessageBytes: 100 },
      /maxMessageBytes must be an integer from 480 to 65507, got 100/,
    ],
    [
      { maxBufferedBytes: 0 },
      /maxBufferedBytes must be an integer >= 1, got 0/,
    ],
    [
      { transport: "tcp", reconnect: { attempts: 0 } },
      /reconnect\.attempts must be an integer >= 1, got 0/,
    ],
    [
      { transport: "tcp", reconnect: 3 },
      /reconnect must be a plain object, got 3/,
    ],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => syslogSink(options as SyslogSinkOptions),
      (error: unknown) =>
        error instanceof TtlogConfigError && message.test(error.message),
      `${message}`,
    );
  }
});

test("the spec survives structuredClone, with every default filled in", async () => {
  const sink = syslogSink({
    transport: "tcp",
    appName: "my app",
    procId: 42,
    hostname: "web-1",
  });
  assert.equal(sink.name, "syslog:tcp:127.0.0.1:514");
  assert.equal(sink.spec.module, BUILTIN_SINK_MODULE);
  assert.deepEqual(structuredClone(sink.spec.options), {
    host: "127.0.0.1",
    port: 514,
    transport: "tcp",
    facility: 1,
    appName: "my_app",
    hostname: "web-1",
    procId: "42",
    sdId: "ttlog@32473",
    bom: true,
    maxMessageBytes: 8192,
    maxBufferedBytes: 4 * 1024 * 1024,
    reconnect: { attempts: 5, baseMs: 200, maxMs: 10_000 },
  });
  await sink.close();
});
