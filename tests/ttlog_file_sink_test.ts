// fileSink({ format: "ttlog" }): the drain hands it raw records (inline and
// in the worker), the file reads back as what a memory sink received,
// emit-level directives apply, losses become loss chunks, several producers,
// rotation into self-contained files checked with the lz4 and gzip tools, a
// writer killed mid-file, and appending to existing files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  attachLogger,
  createLogger,
  type Logger,
  type LoggerOptions,
  memorySink,
  TtlogConfigError,
} from "../mod.ts";
import type { LogRecord } from "../src/record/values.ts";
import { fileSink } from "../src/sinks/file.ts";
import {
  readTtlog,
  type TtlogItem,
  type TtlogReadResult,
} from "../src/ttlog_file/chunk_reader.ts";
import type { TtlogCompression } from "../src/ttlog_file/format.ts";
import { logWorkload } from "../bench/workload.ts";
import {
  assertAccounting,
  canon,
  events,
  lossRecords,
  runToolOk,
} from "./helpers.ts";
import { scriptCommand } from "./fixtures/spawn.ts";

/** Bun stops a test after 5 s unless told otherwise. */
const LIMIT = { timeout: 60_000 };
const COMPRESSIONS: readonly TtlogCompression[] = ["none", "lz4", "gzip"];

async function inTemp(body: (dir: string) => void | Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), "ttlog-tfile-"));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function read(path: string): TtlogReadResult {
  return readTtlog(new Uint8Array(readFileSync(path)));
}

function recordsOf(items: readonly TtlogItem[]): LogRecord[] {
  return items.flatMap((item) => item.kind === "events" ? item.records : []);
}

/** A file that must be whole: no error, not truncated, ends with an end chunk. */
function readWhole(path: string): TtlogItem[] {
  const result = read(path);
  assert.equal(result.error, undefined, `${path}: ${result.error}`);
  assert.equal(result.truncatedAt, undefined, `${path}: truncated`);
  assert.equal(result.items[0]?.kind, "header", `${path} starts with a header`);
  assert.equal(result.items.at(-1)?.kind, "end", `${path} ends with an end`);
  return result.items;
}

/** Records in a form every runtime compares the same way, time left out. */
function comparable(records: readonly LogRecord[]): unknown {
  return records.map(({ time: _time, ...rest }) => canon(rest));
}

/** As comparable, with errors' stacks left out (two loggers' stacks differ). */
function withoutStacks(records: readonly LogRecord[]): unknown {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(
      Object.entries(value).filter(([key]) => key !== "stack").map((
        [key, item],
      ) => [key, strip(item)]),
    );
  };
  return strip(comparable(records));
}

/** Logs the reference workload plus values of every kind. */
function logMix(log: Logger, count: number): void {
  logWorkload(log, count);
  const db = log.child("db.pool", { shard: 3 });
  for (let i = 0; i < 40; i++) {
    log.info`user ${"ada\ud800"} logged in after ${i} tries`;
    db.debug("query", { sql: "select 1", ms: i / 3, rows: [1, 2, i] });
    log.warn("odd", {
      big: 2n ** 70n,
      neg: -0,
      nan: NaN,
      at: new Date(1_700_000_000_000 + i),
      set: new Set(["a", i]),
      map: new Map<unknown, unknown>([["k", { deep: [i] }]]),
    });
    log.trace(`inline message ${i}`);
    db.child("replica").fatal("down", { i });
  }
}

const OPTIONS: LoggerOptions = {
  service: "shop",
  level: "info",
  // cache debug events are emitted, http info ones are not: the raw sink
  // must honour the same directives as the memory sink.
  directives: "info,cache=debug,http=warn",
  ring: { bytes: 16 << 20, overflow: "block" },
};

test(
  "fileSink ttlog: the file reads back as what a memory sink received, drain inline, every compression",
  LIMIT,
  async () => {
    await inTemp(async (dir) => {
      for (const compression of COMPRESSIONS) {
        const path = join(dir, `inline-${compression}.ttlog`);
        const memory = memorySink();
        const log = createLogger({
          ...OPTIONS,
          worker: false,
          sinks: [fileSink({ path, format: "ttlog", compression }), memory],
        });
        logMix(log, 3000);
        const m = await assertAccounting(log);
        await log.close();
        const items = readWhole(path);
        const expected = events(memory);
        assert.ok(
          expected.some((r) => r.target === "cache" && r.level === "debug"),
        );
        assert.ok(
          !expected.some((r) => r.target === "http" && r.level === "info"),
        );
        assert.deepEqual(
          comparable(recordsOf(items)),
          comparable(expected),
          compression,
        );
        // Times too: the same records, not merely look-alikes.
        assert.deepEqual(
          recordsOf(items).map((r) => r.time),
          expected.map((r) => r.time),
        );
        assert.equal(m.emitted, expected.length);
        assert.equal(m.filtered > 0, true);
        const end = items.at(-1);
        assert.ok(end?.kind === "end");
        assert.equal(end.events, expected.length);
        assert.equal(end.chunks, items.length - 2);
        const header = items[0];
        assert.ok(header.kind === "header");
        assert.equal(header.meta.service, "shop");
        assert.equal(typeof header.meta.pid, "number");
        assert.equal(typeof header.meta.runtime, "string");
        assert.equal(typeof header.meta.time, "number");
        assert.deepEqual(m.sinks[0].written, m.sinks[1].written);
      }
    });
  },
);

test(
  "fileSink ttlog: the drain in its worker writes the same events",
  LIMIT,
  async () => {
    await inTemp(async (dir) => {
      // The reference: the same program logging into a memory sink.
      const memory = memorySink();
      const reference = createLogger({ ...OPTIONS, sinks: [memory] });
      logMix(reference, 3000);
      await reference.close();
      for (const compression of COMPRESSIONS) {
        const path = join(dir, `worker-${compression}.ttlog`);
        const log = createLogger({
          ...OPTIONS,
          worker: true,
          sinks: [fileSink({ path, format: "ttlog", compression })],
        });
        logMix(log, 3000);
        const m = await assertAccounting(log);
        assert.equal(m.worker, true);
        await log.close();
        const records = recordsOf(readWhole(path));
        assert.deepEqual(
          withoutStacks(records),
          withoutStacks(events(memory)),
          compression,
        );
        assert.equal(m.emitted, records.length);
      }
    });
  },
);

test(
  "fileSink ttlog: losses become loss chunks, and the accounting holds",
  LIMIT,
  async () => {
    await inTemp(async (dir) => {
      const path = join(dir, "lossy.ttlog");
      const memory = memorySink();
      const log = createLogger({
        service: "lossy",
        level: "info",
        directives: "",
        worker: false,
        ring: { bytes: 64 * 1024, overflow: "overwrite" },
        sinks: [
          fileSink({ path, format: "ttlog", compression: "lz4" }),
          memory,
        ],
      });
      // The inline drain runs after this task: the small ring laps itself.
      for (let i = 0; i < 20000; i++) log.info("flood", { i });
      const m = await assertAccounting(log);
      await log.close();
      assert.ok(m.lost > 0, "the flood lost events");
      const items = readWhole(path);
      const losses = items.filter((item) => item.kind === "loss");
      assert.ok(losses.length > 0);
      let lost = 0;
      for (const loss of losses) if (loss.kind === "loss") lost += loss.lost;
      assert.equal(lost, m.lost);
      const fromMemory = lossRecords(memory).reduce(
        (n, r) => n + (r.fields.lost as number),
        0,
      );
      assert.equal(lost, fromMemory);
      assert.deepEqual(
        comparable(recordsOf(items)),
        comparable(events(memory)),
      );
      assert.equal(recordsOf(items).length, m.emitted);
    });
  },
);

test(
  "fileSink ttlog: events of several producers go to chunks of their own, each in order",
  LIMIT,
  async () => {
    await inTemp(async (dir) => {
      const path = join(dir, "producers.ttlog");
      const log = createLogger({
        service: "multi",
        level: "info",
        directives: "",
        worker: true,
        sinks: [fileSink({ path, format: "ttlog", compression: "gzip" })],
      });
      const other = attachLogger(log.port());
      for (let i = 0; i < 2000; i++) {
        log.info("main", { i });
        other.warn("other", { i, who: "worker" });
      }
      await other.flush();
      await log.flush();
      await other.close();
      await log.close();
      const items = readWhole(path);
      const byProducer = new Map<number, LogRecord[]>();
      for (const item of items) {
        if (item.kind !== "events") continue;
        const list = byProducer.get(item.producer) ?? [];
        list.push(...item.records);
        byProducer.set(item.producer, list);
      }
      assert.deepEqual([...byProducer.keys()].sort(), [0, 1]);
      assert.deepEqual(
        byProducer.get(0)!.map((r) => r.fields.i),
        Array.from({ length: 2000 }, (_, i) => i),
      );
      assert.deepEqual(
        byProducer.get(1)!.map((r) => [r.msg, r.fields.i, r.level]),
        Array.from({ length: 2000 }, (_, i) => ["other", i, "warn"]),
      );
    });
  },
);

test(
  "fileSink ttlog: rotation by size makes self-contained files that lz4 -t / gzip -t accept",
  LIMIT,
  async () => {
    await inTemp(async (dir) => {
      for (const compression of COMPRESSIONS) {
        const path = join(dir, `rotated-${compression}.ttlog`);
        const limit = 16_000;
        const log = createLogger({
          service: "rot",
          level: "trace",
          directives: "",
          worker: false,
          sinks: [
            fileSink({
              path,
              format: "ttlog",
              compression,
              rotate: { bytes: limit, keep: 200 },
            }),
          ],
        });
        let next = 0;
        for (let round = 0; round < 30; round++) {
          for (let i = 0; i < 400; i++) {
            log.info("tick", { n: next++, pad: "p".repeat(next % 97) });
          }
          await log.flush();
        }
        await log.close();
        const files: string[] = [];
        for (let i = 1; existsSync(`${path}.${i}`); i++) {
          files.unshift(`${path}.${i}`);
        }
        files.push(path);
        assert.ok(files.length >= 3, `${compression}: ${files.length} files`);
        const seen: number[] = [];
        for (const file of files) {
          assert.ok(
            statSync(file).size <= limit,
            `${file}: ${statSync(file).size} bytes`,
          );
          // Each file alone: header first, end last, every event decodable.
          const items = readWhole(file);
          const records = recordsOf(items);
          const end = items.at(-1);
          assert.ok(end?.kind === "end");
          assert.equal(end.events, records.length);
          seen.push(...records.map((r) => r.fields.n as number));
          if (compression !== "none") {
            const name = compression === "lz4" ? "lz4" : "gzip";
            runToolOk(name, ["-t", file]);
            const raw = runToolOk(name, ["-dc", file]);
            assert.deepEqual(
              comparable(recordsOf(readTtlog(raw).items)),
              comparable(records),
              `${name} -dc ${file}`,
            );
          }
        }
        assert.deepEqual(seen, Array.from({ length: next }, (_, i) => i));
      }
    });
  },
);

test(
  "fileSink ttlog: rotation by interval starts a new self-contained file",
  LIMIT,
  async () => {
    await inTemp(async (dir) => {
      const path = join(dir, "interval.ttlog");
      const log = createLogger({
        service: "interval",
        level: "info",
        directives: "",
        worker: false,
        sinks: [
          fileSink({
            path,
            format: "ttlog",
            compression: "lz4",
            rotate: { interval: 100 },
          }),
        ],
      });
      log.info("first");
      await log.flush();
      await new Promise((resolve) => setTimeout(resolve, 150));
      log.info("second");
      await log.close();
      assert.deepEqual(
        recordsOf(readWhole(`${path}.1`)).map((r) => r.msg),
        ["first"],
      );
      assert.deepEqual(recordsOf(readWhole(path)).map((r) => r.msg), [
        "second",
      ]);
    });
  },
);

const CHILD = fileURLToPath(
  new URL("./fixtures/ttlog_writer_child.ts", import.meta.url),
);

/** Starts the writer child and kills it (SIGKILL) once `events` are on disk. */
function killWriter(
  path: string,
  compression: TtlogCompression,
  events: number,
): Promise<void> {
  const [command, args] = scriptCommand(CHILD);
  const child = spawn(command, [...args, path, compression], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (data) => (stderr += String(data)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the writer did not reach ${events} events: ${stderr}`));
    }, 30_000);
    let out = "";
    child.stdout.on("data", (data) => {
      out += String(data);
      const lines = out.trim().split("\n");
      if (Number(lines.at(-1)) >= events) child.kill("SIGKILL");
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (signal === "SIGKILL") resolve();
      else reject(new Error(`the writer ended with ${code}: ${stderr}`));
    });
  });
}

/** Events in whole chunks: a prefix of what was logged, 0, 1, 2... in order. */
function assertPrefix(records: readonly LogRecord[], what: string): void {
  records.forEach((record, n) => {
    const { batch, i } = record.fields as { batch: number; i: number };
    assert.equal(batch * 500 + i, n, `${what}: event ${n}`);
    assert.equal(record.seq, n, `${what}: seq ${n}`);
  });
}

test(
  "fileSink ttlog: a writer killed mid-file leaves a file that reads up to its last whole chunk; a new sink appends after it",
  LIMIT,
  async () => {
    await inTemp(async (dir) => {
      for (const compression of COMPRESSIONS) {
        const path = join(dir, `killed-${compression}.ttlog`);
        await killWriter(path, compression, 3000);
        const result = read(path);
        assert.equal(
          result.error,
          undefined,
          `${compression}: ${result.error}`,
        );
        const records = recordsOf(result.items);
        assert.ok(records.length >= 3000, `${compression}: ${records.length}`);
        assertPrefix(records, compression);
        assert.equal(result.items[0].kind, "header");
        assert.notEqual(result.items.at(-1)?.kind, "end", "no end chunk");
        // Whatever the kill cut, every offset of the file reads as a prefix.
        const bytes = new Uint8Array(readFileSync(path));
        for (const cut of [1, 13, 100, bytes.length >> 1, bytes.length - 1]) {
          const part = readTtlog(bytes.subarray(0, cut));
          assert.equal(part.error, undefined, `${compression} cut at ${cut}`);
          assertPrefix(recordsOf(part.items), `${compression} cut at ${cut}`);
        }
        // A chunk cut short by the kill, or by us, is cut off before a new
        // sink appends: the file stays readable to its end.
        const cutAt = bytes.length - 3;
        writeFileSync(path, bytes.subarray(0, cutAt));
        const before = recordsOf(readTtlog(bytes.subarray(0, cutAt)).items);
        const log = createLogger({
          service: "again",
          level: "info",
          directives: "",
          worker: false,
          sinks: [fileSink({ path, format: "ttlog", compression })],
        });
        log.info("after the crash");
        await log.close();
        const after = read(path);
        assert.equal(after.error, undefined, String(after.error));
        assert.equal(after.truncatedAt, undefined);
        assert.deepEqual(
          recordsOf(after.items).map((r) => r.msg),
          [...before.map((r) => r.msg), "after the crash"],
        );
        assert.equal(
          after.items.filter((item) => item.kind === "header").length,
          2,
        );
        assert.equal(after.items.at(-1)?.kind, "end");
      }
    });
  },
);

test(
  "fileSink ttlog: appending to a file of another form fails clearly; write() refuses decoded records",
  LIMIT,
  async () => {
    await inTemp((dir) => {
      const text = join(dir, "text.log");
      writeFileSync(text, "not a ttlog file\n");
      assert.throws(
        () => fileSink({ path: text, format: "ttlog" }),
        (error: unknown) =>
          error instanceof TtlogConfigError &&
          /not a \.ttlog file/.test(error.message) &&
          error.message.includes(text),
      );
      const lz4 = join(dir, "lz4.ttlog");
      const sink = fileSink({ path: lz4, format: "ttlog", compression: "lz4" });
      sink.writeRaw!([{
        service: "s",
        producer: 0,
        records: new Uint8Array(0),
        count: 0,
        seqs: new Uint32Array(0),
        timeBase: 0,
        entries: [],
        losses: [{ lost: 3, reason: "test" }],
      }]);
      sink.close!();
      assert.deepEqual(readWhole(lz4).map((item) => item.kind), [
        "header",
        "loss",
        "end",
      ]);
      assert.throws(
        () => fileSink({ path: lz4, format: "ttlog", compression: "gzip" }),
        /holds lz4 chunks and this sink writes gzip/,
      );
      const other = fileSink({ path: join(dir, "x.ttlog"), format: "ttlog" });
      assert.throws(() => other.write([]), /takes records as ttlog's drain/);
      other.close!();
      assert.throws(
        () => fileSink({ path: "x", format: "xml" as "ttlog" }),
        /format must be "ndjson", "text" or "ttlog", got "xml"/,
      );
    });
  },
);
