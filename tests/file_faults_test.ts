// File sink faults: a file whose last line or chunk a crash cut (appended
// to, it must stay readable by gzip -t / lz4 -t and its appended events
// readable), a full disk mid-write (an injected node:fs that fails after a
// byte budget, then has room again), and a file deleted while open. The
// counters say what reached the file and what was lost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import process from "node:process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { createLogger, fileSink } from "../mod.ts";
import { runtime } from "../src/sink.ts";
import { decodeLz4Frame } from "../src/codec/lz4_frame.ts";
import { readTtlog } from "../src/ttlog_file/chunk_reader.ts";
import { runTool } from "./helpers.ts";

type Compression = "none" | "gzip" | "lz4";

function text(path: string, compression: Compression): string {
  const bytes = new Uint8Array(readFileSync(path));
  if (compression === "none") return new TextDecoder().decode(bytes);
  if (compression === "gzip") {
    return new TextDecoder().decode(gunzipSync(bytes));
  }
  return new TextDecoder().decode(decodeLz4Frame(bytes));
}

/** Every line of an NDJSON file, parsed (a line that is not JSON fails). */
function lines(path: string, compression: Compression) {
  return text(path, compression).split("\n").filter((l) => l !== "").map((
    line,
  ) => JSON.parse(line) as Record<string, unknown>);
}

/** The standard tool's own check of the file, where there is one. */
function toolCheck(path: string, compression: Compression): void {
  if (compression === "none") return;
  const run = runTool(compression, ["-t", path]);
  assert.equal(run.status, 0, `${compression} -t: ${run.stderr}`);
}

/** Captures ttlog's stderr while `fn` runs. */
async function stderrOf(fn: () => Promise<void>): Promise<string> {
  const original = runtime.write;
  let out = "";
  runtime.write = (stream, chunk) => {
    if (stream === "stderr") out += chunk;
    else original(stream, chunk);
  };
  try {
    await fn();
  } finally {
    runtime.write = original;
  }
  return out;
}

async function logTo(
  path: string,
  compression: Compression,
  from: number,
  to: number,
): Promise<void> {
  const log = createLogger({
    worker: false,
    sinks: [fileSink({ path, format: "ndjson", compression })],
  });
  for (let i = from; i < to; i++) log.info("event", { i });
  await log.close();
}

for (const compression of ["none", "gzip", "lz4"] as const) {
  test(
    `appending to an ndjson${
      compression === "none" ? "" : `+${compression}`
    } file whose last ${
      compression === "none" ? "line" : "chunk"
    } was cut: cut back first, the file stays valid, every appended event is readable`,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "ttlog-cut-"));
      try {
        const path = join(dir, "events.ndjson");
        await logTo(path, compression, 0, 100);
        // A crash in the middle of the last write.
        truncateSync(path, statSync(path).size - 7);
        const stderr = await stderrOf(() => logTo(path, compression, 100, 200));
        assert.match(
          stderr,
          /cut off \d+ bytes of an unfinished last (line|chunk)/,
        );
        toolCheck(path, compression);
        const got = lines(path, compression).map((l) => l.i as number);
        // The appended events all there, after what survived of the first.
        assert.deepEqual(
          got.slice(-100),
          Array.from({ length: 100 }, (_, k) => 100 + k),
        );
        // The cut took the last line (plain) or the last chunk (compressed).
        const before = got.slice(0, -100);
        assert.ok(before.length < 100, String(before.length));
        assert.deepEqual(
          before,
          Array.from({ length: before.length }, (_, k) => k),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}

/** node:fs with writeSync failing (ENOSPC) once `budget` bytes are used up. */
function fullDisk() {
  const fs = (process as unknown as {
    getBuiltinModule(id: string): typeof import("node:fs");
  }).getBuiltinModule("node:fs");
  const original = fs.writeSync;
  const state = { budget: Infinity, failures: 0 };
  // deno-lint-ignore no-explicit-any
  (fs as any).writeSync = (fd: number, buffer: Uint8Array, ...rest: any[]) => {
    const offset: number = typeof rest[0] === "number" ? rest[0] : 0;
    const length: number = typeof rest[1] === "number"
      ? rest[1]
      : buffer.length - offset;
    if (state.budget <= 0) {
      state.failures++;
      const error = new Error("ENOSPC: no space left on device, write");
      (error as { code?: string }).code = "ENOSPC";
      throw error;
    }
    const n = Math.min(length, state.budget);
    state.budget -= n;
    return original(fd, buffer, offset, n);
  };
  return {
    state,
    restore() {
      fs.writeSync = original;
    },
  };
}

for (
  const [format, compression] of [
    ["ndjson", "none"],
    ["ndjson", "lz4"],
    ["ndjson", "gzip"],
    ["ttlog", "none"],
  ] as const
) {
  test(`a full disk mid-write (${format}+${compression}): the file stays whole up to its last chunk, what was lost is counted, writing resumes once there is room`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "ttlog-full-"));
    const disk = fullDisk();
    try {
      const path = join(dir, `events.${format}`);
      const log = createLogger({
        worker: false,
        sinks: [fileSink({ path, format, compression })],
      });
      const stderr = await stderrOf(async () => {
        for (let i = 0; i < 300; i++) log.info("event", { i });
        await log.flush();
        // The disk fills part-way through the next chunk.
        disk.state.budget = 200;
        for (let i = 300; i < 600; i++) log.info("event", { i });
        await log.flush();
        // Room again.
        disk.state.budget = Infinity;
        for (let i = 600; i < 900; i++) log.info("event", { i });
        await log.close();
      });
      assert.ok(disk.state.failures > 0, "the disk never filled");
      assert.match(stderr, /No space left|ENOSPC/);
      let got: number[];
      if (format === "ttlog") {
        const result = readTtlog(new Uint8Array(readFileSync(path)));
        assert.equal(result.error, undefined, result.error?.message);
        got = result.items.flatMap((item) =>
          item.kind === "events" ? item.records.map((r) => r.fields.i) : []
        ) as number[];
      } else {
        toolCheck(path, compression);
        got = lines(path, compression).filter((l) => l.msg === "event").map((
          l,
        ) => l.i as number);
      }
      assert.deepEqual(
        got.slice(0, 300),
        Array.from({ length: 300 }, (_, k) => k),
      );
      assert.deepEqual(
        got.slice(-300),
        Array.from({ length: 300 }, (_, k) => 600 + k),
      );
      const [sink] = log.metrics().sinks;
      // What the counters say is what the file holds.
      assert.equal(sink.written, got.length, JSON.stringify(sink));
      assert.equal(sink.written + sink.dropped, 900, JSON.stringify(sink));
      assert.ok(sink.dropped > 0 && sink.errors > 0, JSON.stringify(sink));
    } finally {
      disk.restore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("a file deleted while open: a new one is opened at the path and that is said, not written into the void", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ttlog-deleted-"));
  try {
    const path = join(dir, "events.ndjson");
    const log = createLogger({
      worker: false,
      sinks: [fileSink({ path, format: "ndjson" })],
    });
    const stderr = await stderrOf(async () => {
      log.info("before");
      await log.flush();
      unlinkSync(path);
      // The check runs at most once a second.
      await new Promise((ok) => setTimeout(ok, 1100));
      log.info("after");
      await log.close();
    });
    assert.match(
      stderr,
      /the file was deleted while open; writing to a new one/,
    );
    assert.ok(existsSync(path));
    assert.deepEqual(lines(path, "none").map((l) => l.msg), ["after"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A 256 KiB tmpfs mounted for the test, where the test runs as root and
 * mounting works (CI, these machines); undefined elsewhere.
 */
function smallDisk(): { dir: string; unmount(): void } | undefined {
  const getuid = (process as { getuid?: () => number }).getuid;
  if (getuid === undefined || getuid() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "ttlog-tmpfs-"));
  const mounted = spawnSync("mount", [
    "-t",
    "tmpfs",
    "-o",
    "size=256k",
    "tmpfs",
    dir,
  ]);
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    unmount() {
      // Lazily: a file still open (a failed assertion) must not keep the
      // directory busy, nor hide the failure.
      spawnSync("umount", ["-l", dir]);
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch { /* unmounted when the last file closes */ }
    },
  };
}

test("a real full disk (a 256 KiB tmpfs, where the test may mount one; else the injected one above): lz4 ndjson stays valid, what was lost is counted, writing resumes once a file is removed", async (t) => {
  const disk = smallDisk();
  if (disk === undefined) {
    t.diagnostic(
      "not root or no mount here: the full disk is the injected node:fs of the tests above",
    );
    return;
  }
  try {
    const path = join(disk.dir, "events.ndjson.lz4");
    const filler = join(disk.dir, "filler");
    const log = createLogger({
      worker: false,
      sinks: [fileSink({ path, format: "ndjson", compression: "lz4" })],
    });
    let i = 0;
    const stderr = await stderrOf(async () => {
      // Random-looking fields, so that chunks do not compress to nothing.
      const logSome = async (n: number) => {
        for (let k = 0; k < n; k++, i++) {
          log.info("event", {
            i,
            pad: (i * 2654435761).toString(36).repeat(8),
          });
        }
        await log.flush();
      };
      await logSome(500);
      // Take the rest of the disk, then log into what is left.
      const fill = openSync(filler, "w");
      try {
        for (;;) writeSync(fill, new Uint8Array(4096));
      } catch {
        /* full */
      } finally {
        closeSync(fill);
      }
      await logSome(3000);
      unlinkSync(filler);
      await logSome(500);
      await log.close();
    });
    assert.match(stderr, /No space left|ENOSPC/);
    toolCheck(path, "lz4");
    const got = lines(path, "lz4").map((l) => l.i as number);
    const [sink] = log.metrics().sinks;
    assert.equal(sink.written, got.length, JSON.stringify(sink));
    assert.equal(sink.written + sink.dropped, i, JSON.stringify(sink));
    assert.ok(sink.dropped > 0, JSON.stringify(sink));
    assert.deepEqual(
      got.slice(-500),
      Array.from({ length: 500 }, (_, k) => i - 500 + k),
    );
  } finally {
    disk.unmount();
  }
});

test("an ndjson+gzip file of untagged members (an older ttlog, another writer): appended to when whole, moved aside when cut", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ttlog-untagged-"));
  try {
    const old = Array.from(
      { length: 20 },
      (_, i) => JSON.stringify({ msg: "old", i }) + "\n",
    ).join("");
    const whole = join(dir, "whole.ndjson.gz");
    writeFileSync(whole, gzipSync(new TextEncoder().encode(old)));
    const cut = join(dir, "cut.ndjson.gz");
    const cutBytes = new Uint8Array(gzipSync(new TextEncoder().encode(old)));
    writeFileSync(cut, cutBytes.subarray(0, cutBytes.length - 9));
    const stderr = await stderrOf(async () => {
      await logTo(whole, "gzip", 100, 110);
      await logTo(cut, "gzip", 100, 110);
    });
    // Whole: the old lines, then the new ones, in one valid file.
    toolCheck(whole, "gzip");
    assert.deepEqual(
      lines(whole, "gzip").map((l) => [l.msg, l.i]),
      [
        ...Array.from({ length: 20 }, (_, i) => ["old", i]),
        ...Array.from({ length: 10 }, (_, i) => ["event", 100 + i]),
      ],
    );
    // Cut: kept as it was under another name, a new file started.
    const match = /moved it to (\S+\.old) and started a new file/.exec(stderr);
    assert.ok(match, stderr);
    assert.deepEqual(
      new Uint8Array(readFileSync(match[1])),
      cutBytes.subarray(0, cutBytes.length - 9),
    );
    toolCheck(cut, "gzip");
    assert.deepEqual(
      lines(cut, "gzip").map((l) => l.i),
      Array.from({ length: 10 }, (_, i) => 100 + i),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const format of ["ndjson", "ttlog"] as const) {
  test(`a ${format} file sink whose file cannot be opened when it writes: every event counted as dropped, not lost silently`, async () => {
    const root = mkdtempSync(join(tmpdir(), "ttlog-unopenable-"));
    try {
      const dir = join(root, "gone");
      mkdirSync(dir);
      const log = createLogger({
        worker: false,
        sinks: [fileSink({ path: join(dir, `events.${format}`), format })],
      });
      // The directory goes before the first write, which reopens the file.
      rmSync(dir, { recursive: true });
      await stderrOf(async () => {
        for (let i = 0; i < 7; i++) log.info("event", { i });
        await log.flush();
      });
      const [sink] = log.metrics().sinks;
      assert.deepEqual(
        { written: sink.written, dropped: sink.dropped },
        { written: 0, dropped: 7 },
        JSON.stringify(sink),
      );
      assert.ok(sink.errors > 0);
      await stderrOf(() => log.close());
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}
