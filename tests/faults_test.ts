// The fault suite's process-level part: a process logging into compressed
// line files and a .ttlog file, and taking snapshots, killed with SIGKILL
// at random moments, again and again. After each kill, a new logger opens
// the same files (repairing what the kill cut) and appends; at the end
// every file passes its own tool's check (lz4 -t, gzip -t, the .ttlog
// reader), every event is readable, no snapshot exists half-written under
// its final name, and the temporary files of killed writers are cleaned.
// (File faults in one process: file_faults_test.ts; endpoints that never
// answer: http_sink_test.ts; links swapped in a loop:
// dashboard_handler_test.ts; reentrant logging: logger_test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { createLogger, fileSink } from "../mod.ts";
import { decodeLz4Frame } from "../src/codec/lz4_frame.ts";
import { readTtlog } from "../src/ttlog_file/chunk_reader.ts";
import { scriptCommand } from "./fixtures/spawn.ts";
import { mulberry32, runTool } from "./helpers.ts";

const CHILD = fileURLToPath(
  new URL("./fixtures/kill_child.ts", import.meta.url),
);
const KILLS = 8;

/** Starts the child, waits until it logs, lets it run a while, kills it. */
async function runAndKill(dir: string, runMs: number): Promise<void> {
  const [command, base] = scriptCommand(CHILD);
  const child = spawn(command, [...base, dir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (chunk) => err += chunk);
  await new Promise<void>((ready, failed) => {
    const timer = setTimeout(
      () => failed(new Error(`the child never got ready: ${err}`)),
      30_000,
    );
    child.stdout!.on("data", (chunk) => {
      if (String(chunk).includes("ready")) {
        clearTimeout(timer);
        ready();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      failed(
        new Error(`the child exited (${code}) before it was killed: ${err}`),
      );
    });
  });
  await new Promise((done) => setTimeout(done, runMs));
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGKILL");
  await exited;
}

test(
  "kill -9 again and again while writing and snapshotting: every file stays readable and appendable, no half snapshot, no temporaries left",
  { timeout: 180_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "ttlog-kill-"));
    const random = mulberry32(2026);
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        await runAndKill(dir, 20 + Math.floor(random() * 300));
      }
      // A last, orderly writer appends to what the kills left.
      const log = createLogger({
        service: "killed",
        worker: false,
        sinks: [
          fileSink({ path: `${dir}/events.ndjson.lz4`, compression: "lz4" }),
          fileSink({ path: `${dir}/events.ndjson.gz`, compression: "gzip" }),
          fileSink({ path: `${dir}/events.ttlog`, format: "ttlog" }),
        ],
        snapshot: { dir: `${dir}/snapshots`, keep: 5 },
      });
      log.info("the last event");
      await log.snapshot("after the kills");
      await log.close();

      for (
        const [name, tool] of [["events.ndjson.lz4", "lz4"], [
          "events.ndjson.gz",
          "gzip",
        ]] as const
      ) {
        const path = join(dir, name);
        const check = runTool(tool, ["-t", path]);
        assert.equal(check.status, 0, `${tool} -t ${name}: ${check.stderr}`);
        const bytes = new Uint8Array(readFileSync(path));
        const text = new TextDecoder().decode(
          tool === "lz4" ? decodeLz4Frame(bytes) : gunzipSync(bytes),
        );
        const lines = text.split("\n").filter((l) => l !== "");
        for (const line of lines) JSON.parse(line);
        assert.match(lines.at(-1)!, /"the last event"/, name);
        assert.ok(lines.length > 1, `${name}: ${lines.length} lines`);
      }
      const ttlog = readTtlog(
        new Uint8Array(readFileSync(join(dir, "events.ttlog"))),
      );
      assert.equal(ttlog.error, undefined, ttlog.error?.message);
      const msgs = ttlog.items.flatMap((item) =>
        item.kind === "events" ? item.records.map((r) => r.msg) : []
      );
      assert.equal(msgs.at(-1), "the last event");

      const snapshots = readdirSync(join(dir, "snapshots"));
      const temporaries = snapshots.filter((n) => n.endsWith(".tmp"));
      assert.deepEqual(temporaries, [], "temporaries of killed writers left");
      for (const name of snapshots) {
        const result = readTtlog(
          new Uint8Array(readFileSync(join(dir, "snapshots", name))),
        );
        assert.equal(
          result.error,
          undefined,
          `${name}: ${result.error?.message}`,
        );
        assert.equal(result.items.at(-1)?.kind, "end", `${name}: no end chunk`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
