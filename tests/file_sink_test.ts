// fileSink: lines in order through the real drain, formats, file mode,
// rotation by size and age, gzip and LZ4 checked with the real command-line
// tools, option validation, open and write errors, and the worker spec.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runToolOk, sampleRecord, sleep } from "./helpers.ts";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, type Logger, TtlogConfigError } from "../mod.ts";
import type { LogRecord } from "../src/record/values.ts";
import { BUILTIN_SINK_MODULE, type Sink } from "../src/sinks/sink.ts";
import { sinkFromSpec } from "../src/drain/sink_specs.ts";
import { fileSink, type FileSinkOptions } from "../src/sinks/file.ts";

/** Runs `body` with a fresh temporary directory, removed afterwards. */
async function inTemp(body: (dir: string) => void | Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), "ttlog-file-"));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const record = sampleRecord;

function records(from: number, to: number, msg?: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (let i = from; i < to; i++) out.push(record(i, msg));
  return out;
}

function fileLogger(options: FileSinkOptions): { log: Logger; sink: Sink } {
  const sink = fileSink(options);
  const log = createLogger({
    service: "test",
    level: "info",
    directives: "",
    sinks: [sink],
  });
  return { log, sink };
}

function linesOf(text: string): string[] {
  if (text === "") return [];
  assert.ok(text.endsWith("\n"), "the output ends with a line end");
  return text.slice(0, -1).split("\n");
}

/** The `i` field of each NDJSON line. */
function indexes(text: string): number[] {
  return linesOf(text).map((line) => JSON.parse(line).i);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, k) => from + k);
}

function gunzipWithTool(path: string): string {
  runToolOk("gzip", ["-t", path]);
  return new TextDecoder().decode(runToolOk("gzip", ["-dc", path]));
}

function unlz4WithTool(path: string): string {
  runToolOk("lz4", ["-t", path]);
  return new TextDecoder().decode(runToolOk("lz4", ["-dc", path]));
}

/** The rotated files of `path` that exist, newest (`path`) last. */
function rotatedFiles(path: string): string[] {
  const files: string[] = [];
  for (let i = 1; existsSync(`${path}.${i}`); i++) {
    files.unshift(`${path}.${i}`);
  }
  return [...files, path];
}

test("fileSink: N events are N NDJSON lines in order after flush() and close()", async () => {
  await inTemp(async (dir) => {
    const path = join(dir, "app.ndjson");
    const { log, sink } = fileLogger({ path });
    assert.equal(sink.name, `file:${path}`);
    for (let i = 0; i < 3000; i++) log.info("event", { i });
    await log.flush();
    assert.deepEqual(indexes(readFileSync(path, "utf8")), range(0, 3000));
    for (let i = 3000; i < 5000; i++) log.info("event", { i });
    await log.close();
    const lines = linesOf(readFileSync(path, "utf8"));
    assert.deepEqual(lines.map((l) => JSON.parse(l).i), range(0, 5000));
    const first = JSON.parse(lines[0]);
    assert.equal(first.msg, "event");
    assert.equal(first.level, "info");
    assert.equal(first.service, "test");
    assert.equal(log.metrics().sinks[0].errors, 0);
  });
});

test("fileSink: text format writes one uncoloured text line per record", async () => {
  await inTemp(async (dir) => {
    const path = join(dir, "app.log");
    const sink = fileSink({ path, format: "text", color: false });
    sink.write([record(0, "hello"), record(1, "with\nnewline")]);
    await sink.close?.();
    assert.deepEqual(linesOf(readFileSync(path, "utf8")), [
      "2026-11-25T15:04:02.123Z INFO  hello i=0",
      "2026-11-25T15:04:02.124Z INFO  with\\nnewline i=1",
    ]);
  });
});

test("fileSink: the file is created with mode 0600 by default", async () => {
  await inTemp(async (dir) => {
    const path = join(dir, "secret.ndjson");
    const sink = fileSink({ path });
    assert.ok(existsSync(path), "the file is opened when the sink is created");
    assert.equal(statSync(path).mode & 0o777, 0o600);
    await sink.close?.();
  });
});

test("fileSink: an existing file is appended to, not truncated", async () => {
  await inTemp(async (dir) => {
    const path = join(dir, "app.ndjson");
    writeFileSync(path, '{"i":-1}\n');
    const sink = fileSink({ path });
    sink.write(records(0, 2));
    await sink.close?.();
    assert.deepEqual(indexes(readFileSync(path, "utf8")), [-1, 0, 1]);
  });
});

test("fileSink: write([]) writes nothing; close() is idempotent; write after close throws", async () => {
  await inTemp(async (dir) => {
    const path = join(dir, "app.ndjson");
    const sink = fileSink({ path });
    sink.write([]);
    await sink.flush?.();
    assert.equal(readFileSync(path, "utf8"), "");
    await sink.close?.();
    await sink.close?.();
    assert.throws(() => sink.write([record(0)]), /write after close/);
  });
});

test("fileSink: rotation by size keeps every line whole and in order", async () => {
  await inTemp(async (dir) => {
    const path = join(dir, "app.ndjson");
    const limit = 1000;
    const sink = fileSink({ path, rotate: { bytes: limit, keep: 100 } });
    // Batches of varying size, some larger than a whole file.
    let next = 0;
    for (const size of [1, 7, 3, 40, 2, 13, 1, 60, 5, 8]) {
      sink.write(records(next, next + size));
      next += size;
    }
    await sink.close?.();
    const files = rotatedFiles(path);
    assert.ok(files.length > 5, `rotated into ${files.length} files`);
    const all: number[] = [];
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      assert.ok(statSync(file).size <= limit, `${file} is within the limit`);
      // Each file is nearly full: the next line would not have fitted.
      if (file !== path) {
        assert.ok(statSync(file).size > limit - 60, `${file} is nearly full`);
      }
      all.push(...indexes(text));
    }
    assert.deepEqual(all, range(0, next));
  });
});

test("fileSink: rotation keeps `keep` files and deletes older ones", async () => {
  await inTemp(async (dir) => {
    const path = join(dir, "app.ndjson");
    const sink = fileSink({ path, rotate: { bytes: 500, keep: 3 } });
    for (let i = 0; i < 200; i += 4) sink.write(records(i, i + 4));
    await sink.close?.();
    assert.deepEqual(
      readdirSync(dir).sort(),
      ["app.ndjson", "app.ndjson.1", "app.ndjson.2", "app.ndjson.3"],
    );
    const kept: number[] = [];
    for (const file of rotatedFiles(path)) {
      kept.push(...indexes(readFileSync(file, "utf8")));
    }
    // The newest lines, contiguous, ending with the last one.
    assert.deepEqual(kept, range(200 - kept.length, 200));
    assert.ok(kept.length < 200);
  });
});

test("fileSink: keep: 1 keeps a single rotated file", async () => {
  await inTemp(async (dir) => {
    const path = join(dir, "app.ndjson");
    const sink = fileSink({ path, rotate: { bytes: 300, keep: 1 } });
    for (let i = 0; i < 50; i++) sink.write([record(i)]);
    await sink.close?.();
    assert.deepEqual(readdirSync(dir).sort(), ["app.ndjson", "app.ndjson.1"]);
    const kept = [
      ...indexes(readFileSync(`${path}.1`, "utf8")),
      ...indexes(readFileSync(path, "utf8")),
    ];
    assert.deepEqual(kept, range(50 - kept.length, 50));
  });
});

test("fileSink: a line longer than rotate.bytes gets a file of its own", async () => {
  await inTemp(async (dir) => {
    const path = join(dir, "app.ndjson");
    const sink = fileSink({ path, rotate: { bytes: 200, keep: 10 } });
    const long = record(1, "x".repeat(500));
    sink.write([record(0), long, record(2)]);
    await sink.close?.();
    assert.deepEqual(
      rotatedFiles(path).map((f) => indexes(readFileSync(f, "utf8"))),
      [
        [0],
        [1],
        [2],
      ],
    );
  });
});

test("fileSink: size rotation through the real drain: total lines == N", async () => {
  await inTemp(async (dir) => {
    const path = join(dir, "app.ndjson");
    const { log } = fileLogger({ path, rotate: { bytes: 4096, keep: 1000 } });
    for (let i = 0; i < 2000; i++) log.info("event", { i });
    await log.close();
    const files = rotatedFiles(path);
    assert.ok(files.length > 10);
    const all: number[] = [];
    for (const file of files) {
      assert.ok(statSync(file).size <= 4096);
      all.push(...indexes(readFileSync(file, "utf8")));
    }
    assert.deepEqual(all, range(0, 2000));
  });
});

test("fileSink: rotation by interval, at the first write after it has passed", async () => {
  await inTemp(async (dir) => {
    const path = join(dir, "app.ndjson");
    const sink = fileSink({ path, rotate: { interval: 40, keep: 5 } });
    sink.write(records(0, 3));
    await sleep(80);
    sink.write(records(3, 5));
    sink.write(records(5, 6)); // soon after: same file
    await sink.close?.();
    assert.deepEqual(readdirSync(dir).sort(), ["app.ndjson", "app.ndjson.1"]);
    assert.deepEqual(indexes(readFileSync(`${path}.1`, "utf8")), [0, 1, 2]);
    assert.deepEqual(indexes(readFileSync(path, "utf8")), [3, 4, 5]);
  });
});

test("fileSink: an empty file is not rotated when its interval passes", async () => {
  await inTemp(async (dir) => {
    const path = join(dir, "app.ndjson");
    const sink = fileSink({ path, rotate: { interval: 20 } });
    await sleep(50);
    sink.write([record(0)]);
    await sink.close?.();
    assert.deepEqual(readdirSync(dir), ["app.ndjson"]);
    assert.deepEqual(indexes(readFileSync(path, "utf8")), [0]);
  });
});

test("fileSink: no rotation before the interval", async () => {
  await inTemp(async (dir) => {
    const path = join(dir, "app.ndjson");
    const sink = fileSink({ path, rotate: { interval: 60_000 } });
    for (let i = 0; i < 20; i++) sink.write([record(i)]);
    await sink.close?.();
    assert.deepEqual(readdirSync(dir), ["app.ndjson"]);
  });
});

for (
  const [compression, decompress] of [
    ["gzip", gunzipWithTool],
    ["lz4", unlz4WithTool],
  ] as const
) {
  test(`fileSink: ${compression}: the real tool reads the file after every flush and after close`, async () => {
    await inTemp(async (dir) => {
      const path = join(dir, `app.ndjson.${compression}`);
      const { log } = fileLogger({ path, compression });
      for (let i = 0; i < 5000; i++) log.info("event", { i });
      await log.flush();
      assert.deepEqual(indexes(decompress(path)), range(0, 5000));
      log.info("event", { i: 5000 });
      await log.flush();
      assert.deepEqual(indexes(decompress(path)), range(0, 5001));
      for (let i = 5001; i < 6000; i++) log.info("event", { i });
      await log.close();
      assert.deepEqual(indexes(decompress(path)), range(0, 6000));
      // Compressed, and by much: NDJSON lines repeat a lot.
      const raw = decompress(path).length;
      assert.ok(
        statSync(path).size * 3 < raw,
        `${statSync(path).size} vs ${raw}`,
      );
    });
  });

  test(`fileSink: ${compression}: small batches are buffered until flush()`, async () => {
    await inTemp(async (dir) => {
      const path = join(dir, `app.log.${compression}`);
      const sink = fileSink({ path, compression, format: "text" });
      sink.write([record(0)]);
      sink.write([record(1)]);
      assert.equal(statSync(path).size, 0, "buffered, not yet written");
      await sink.flush?.();
      const text = decompress(path);
      assert.deepEqual(linesOf(text).map((l) => l.split(" i=")[1]), ["0", "1"]);
      sink.write([record(2)]);
      await sink.close?.();
      assert.deepEqual(
        linesOf(decompress(path)).map((l) => l.split(" i=")[1]),
        ["0", "1", "2"],
      );
    });
  });

  test(`fileSink: ${compression}: a large batch is written in ~64 KiB chunks without flush()`, async () => {
    await inTemp(async (dir) => {
      const path = join(dir, `app.ndjson.${compression}`);
      const sink = fileSink({ path, compression });
      sink.write(records(0, 5000)); // about 400 KB of NDJSON
      assert.ok(statSync(path).size > 0, "full chunks are written at once");
      await sink.close?.();
      assert.deepEqual(indexes(decompress(path)), range(0, 5000));
    });
  });

  test(`fileSink: ${compression}: rotated files are each a valid compressed file`, async () => {
    await inTemp(async (dir) => {
      const path = join(dir, `app.ndjson.${compression}`);
      const sink = fileSink({
        path,
        compression,
        rotate: { bytes: 2000, keep: 1000 },
      });
      for (let i = 0; i < 3000; i += 100) {
        sink.write(records(i, i + 100));
        await sink.flush?.();
      }
      await sink.close?.();
      const files = rotatedFiles(path);
      assert.ok(files.length > 3, `${files.length} files`);
      const all: number[] = [];
      for (const file of files) all.push(...indexes(decompress(file)));
      assert.deepEqual(all, range(0, 3000));
    });
  });
}

test("fileSink: bad options throw a TtlogConfigError naming the option and value", () => {
  const cases: [unknown, RegExp][] = [
    [undefined, /options must be an object/],
    [{}, /path must be a non-empty string, got undefined/],
    [{ path: "" }, /path must be a non-empty string, got ""/],
    [{ path: 7 }, /path must be a non-empty string, got 7/],
    [
      { path: "x", format: "xml" },
      /format must be "ndjson", "text" or "ttlog", got "xml"/,
    ],
    [{ path: "x", compression: "zstd" }, /compression must be .*got "zstd"/],
    [{ path: "x", rotate: 5 }, /rotate must be an object.*got 5/],
    [{ path: "x", rotate: {} }, /rotate needs bytes, interval or both/],
    [
      { path: "x", rotate: { bytes: 0 } },
      /rotate\.bytes must be a positive integer, got 0/,
    ],
    [
      { path: "x", rotate: { bytes: 1.5 } },
      /rotate\.bytes must be a positive integer, got 1\.5/,
    ],
    [
      { path: "x", rotate: { bytes: "1mb" } },
      /rotate\.bytes must be a positive integer, got "1mb"/,
    ],
    [
      { path: "x", rotate: { interval: -5 } },
      /rotate\.interval must be a positive integer.*got -5/,
    ],
    [
      { path: "x", rotate: { bytes: 10, keep: 0 } },
      /rotate\.keep must be an integer from 1 to 1000, got 0/,
    ],
    [
      { path: "x", rotate: { bytes: 10, keep: 1e9 } },
      /rotate\.keep must be an integer from 1 to 1000, got 1000000000/,
    ],
    [
      { path: "x", rotate: { bytes: 10, keep: 2.5 } },
      /rotate\.keep .*got 2\.5/,
    ],
    [
      { path: "x", rotate: { bytes: 10, count: 3 } },
      /unknown rotate option "count"/,
    ],
    [{ path: "x", mode: "600" }, /mode must be an integer .*got "600"/],
    [{ path: "x", mode: 0o10000 }, /mode must be an integer .*got 4096/],
    [{ path: "x", color: true }, /color must be false or left out.*got true/],
    [{ path: "x", rotation: {} }, /unknown option "rotation"/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => fileSink(options as FileSinkOptions),
      (error: unknown) => {
        assert.ok(error instanceof TtlogConfigError, String(error));
        assert.match(error.message, /^fileSink: /);
        assert.match(error.message, message);
        return true;
      },
      JSON.stringify(options),
    );
  }
});

test("fileSink: a path in a missing directory fails at creation, naming the path", async () => {
  await inTemp((dir) => {
    const path = join(dir, "no", "such", "dir", "app.ndjson");
    assert.throws(
      () => fileSink({ path }),
      (error: unknown) => {
        assert.ok(error instanceof TtlogConfigError, String(error));
        assert.ok(error.message.includes(JSON.stringify(path)), error.message);
        assert.match(
          error.message,
          /directory does not exist: pass mkdir: true to create it/,
        );
        return true;
      },
    );
    assert.ok(!existsSync(join(dir, "no")), "no directory was created");
  });
});

test("fileSink({ mkdir: true }) creates the missing directories, mode 0700, and writes there; through a worker too", async () => {
  await inTemp(async (dir) => {
    const path = join(dir, "logs", "2026", "app.ndjson");
    const log = createLogger({
      worker: true,
      directives: "",
      sinks: [fileSink({ path, mkdir: true })],
    });
    log.info("first");
    await log.close();
    assert.equal(statSync(join(dir, "logs")).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, "logs", "2026")).mode & 0o777, 0o700);
    assert.deepEqual(
      linesOf(readFileSync(path, "utf8")).map((l) => JSON.parse(l).msg),
      ["first"],
    );
    // An existing directory is left as it is.
    const again = fileSink({ path, mkdir: true });
    await again.close?.();
    assert.throws(
      () => fileSink({ path, mkdir: "yes" as never }),
      /fileSink: mkdir must be true or false, got "yes"/,
    );
    // A directory that cannot be made (a file is in the way) is a clear error.
    writeFileSync(join(dir, "blocker"), "");
    assert.throws(
      () => fileSink({ path: join(dir, "blocker", "app.ndjson"), mkdir: true }),
      (error: unknown) =>
        error instanceof TtlogConfigError &&
        /cannot create the directory .*blocker/.test(error.message),
    );
  });
});

test("fileSink: a path that is a directory fails at creation", async () => {
  await inTemp((dir) => {
    mkdirSync(join(dir, "sub"));
    assert.throws(
      () => fileSink({ path: join(dir, "sub") }),
      (error: unknown) =>
        error instanceof TtlogConfigError &&
        /is a directory/.test(error.message),
    );
  });
});

test("fileSink: a file system error at write time is thrown from write()", {
  skip: !existsSync("/dev/full") && "needs /dev/full (Linux)",
}, async () => {
  const sink = fileSink({ path: "/dev/full" });
  assert.throws(
    () => sink.write([record(0)]),
    (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /^fileSink "\/dev\/full": write failed/);
      assert.match(error.message, /ENOSPC|no space/i);
      return true;
    },
  );
  await sink.close?.();
});

test("fileSink: the drain counts a failing write and carries on", {
  skip: !existsSync("/dev/full") && "needs /dev/full (Linux)",
}, async () => {
  const { log } = fileLogger({ path: "/dev/full" });
  log.info("lost");
  await log.close();
  assert.equal(log.metrics().sinks[0].errors, 1);
});

test("fileSink: the spec survives structuredClone and rebuilds an equivalent sink", async () => {
  await inTemp(async (dir) => {
    const path = join(dir, "app.log.gz");
    const options: FileSinkOptions = {
      path,
      format: "text",
      compression: "gzip",
      rotate: { bytes: 1_000_000, interval: 3_600_000 },
    };
    const sink = fileSink(options);
    const spec = sink.spec;
    assert.ok(spec !== undefined);
    const cloned = structuredClone(spec);
    assert.deepEqual(cloned, spec);
    assert.equal(cloned.factory, "fileSink");
    assert.deepEqual(cloned.options, {
      path,
      format: "text",
      compression: "gzip",
      rotate: { bytes: 1_000_000, interval: 3_600_000, keep: 5 },
      mode: 0o600,
      mkdir: false,
    });
    sink.write([record(0)]);
    await sink.close?.();

    assert.equal(cloned.module, BUILTIN_SINK_MODULE);
    const rebuilt = await sinkFromSpec(cloned);
    assert.equal(rebuilt.name, `file:${path}`);
    rebuilt.write([record(1)]);
    await rebuilt.close?.();
    assert.deepEqual(
      linesOf(gunzipWithTool(path)).map((l) => l.split(" i=")[1]),
      ["0", "1"],
    );
  });
});

test("fileSink: a copy created earlier writes to the current file after another copy rotated", async () => {
  await inTemp(async (dir) => {
    const path = join(dir, "app.ndjson");
    const options = { path, rotate: { bytes: 400, keep: 10 } };
    // As when a drain worker fails and the main thread's copy takes over.
    const mainCopy = fileSink(options);
    const spec = structuredClone(mainCopy.spec!);
    const workerCopy = await sinkFromSpec(spec);
    for (let i = 0; i < 12; i++) workerCopy.write([record(i)]);
    assert.ok(existsSync(`${path}.1`), "the worker's copy rotated");
    mainCopy.write([record(12)]);
    await mainCopy.close?.();
    await workerCopy.close?.();
    // Not in the file that the main copy opened, now renamed.
    assert.equal(indexes(readFileSync(path, "utf8")).at(-1), 12);
    const all: number[] = [];
    for (const file of rotatedFiles(path)) {
      all.push(...indexes(readFileSync(file, "utf8")));
    }
    assert.deepEqual(all, range(0, 13));
  });
});

test("fileSink: a relative path is made absolute in the spec", async () => {
  await inTemp(async (dir) => {
    const path = join(dir, "app.ndjson");
    const sink = fileSink({ path });
    assert.equal((sink.spec?.options as FileSinkOptions).path, path);
    await sink.close?.();
  });
  const relative = `ttlog-spec-${Date.now()}-${Math.random()}.ndjson`;
  try {
    const sink = fileSink({ path: relative });
    const specPath = (sink.spec?.options as FileSinkOptions).path;
    assert.ok(specPath.startsWith("/") || /^[A-Za-z]:/.test(specPath));
    assert.ok(specPath.endsWith(relative));
    assert.equal(sink.name, `file:${relative}`);
    await sink.close?.();
  } finally {
    rmSync(relative, { force: true });
  }
});
