// ttlog the way users get it, not from this checkout's module graph: the
// drain's worker (and the coarse clock's) must start wherever the module
// lives. Imported by Deno from a URL (a local HTTP server serving the tree
// stands in for JSR, which serves https: modules), from inside one-file
// bundles (esbuild, bun build) run by this test's runtime, and under Deno
// with no permission at all. Where a worker cannot start, the drain runs
// on the caller's thread, says so once, and metrics() says worker: false.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { detectRuntime } from "../src/runtime/mod.ts";
import { decodeLz4Frame } from "../src/codec/lz4_frame.ts";

const LIMIT = { timeout: 120_000 };
const REPO = fileURLToPath(new URL("../", import.meta.url));
const BIN = join(REPO, "node_modules", ".bin");
const runtime = detectRuntime().name;

/** What each app prints last, after close(). */
interface Report {
  worker: boolean;
  restarts: number;
  emitted: number;
  written: number;
  coarseSkewMs: number;
}

/**
 * An app as a user writes it: `module` is where ttlog comes from; with
 * `file`, events go to an LZ4 NDJSON file, else to stdout as NDJSON. The
 * drain and the coarse clock each need a thread.
 */
function appSource(module: string, file: string | undefined): string {
  const sink = file === undefined
    ? `consoleSink({ format: "ndjson", stream: "stdout" })`
    : `fileSink({ path: ${
      JSON.stringify(file)
    }, format: "ndjson", compression: "lz4" })`;
  return `import { consoleSink, createLogger, fileSink } from ${
    JSON.stringify(module)
  };
const log = createLogger({
  service: "field",
  worker: true,
  clock: "coarse",
  directives: "",
  sinks: [${sink}],
});
// The coarse clock's thread publishes the time within a few ms.
await new Promise((done) => setTimeout(done, 200));
for (let i = 0; i < 500; i++) log.info("event", { i, now: Date.now() });
await log.flush();
const m = log.metrics();
await log.close();
console.log("REPORT " + JSON.stringify({
  worker: m.worker,
  restarts: m.workerRestarts,
  emitted: m.emitted,
  written: m.sinks[0].written,
}));
void fileSink; void consoleSink;
`;
}

/** Runs a command; returns stdout, failing the test on a non-zero exit. */
function run(
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
): { stdout: string; stderr: string } {
  const result = spawnSync(command, args, {
    encoding: "utf8",
    timeout: 90_000,
    maxBuffer: 1 << 26,
    env: { ...process.env, NO_COLOR: "1", ...env },
  });
  assert.equal(result.error, undefined, String(result.error));
  assert.equal(
    result.status,
    0,
    `${command} ${args.join(" ")} exited ${result.status}:\n${result.stderr}`,
  );
  return { stdout: result.stdout, stderr: result.stderr };
}

/** As run(), without blocking this process (which may be serving the child). */
function runAsync(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => stdout += chunk);
    child.stderr.on("data", (chunk) => stderr += chunk);
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else {
        reject(
          new Error(`${command} ${args.join(" ")} exited ${code}:\n${stderr}`),
        );
      }
    });
  });
}

/** The events' `time` against the `now` each carries, and the report. */
function check(
  stdout: string,
  file: string | undefined,
): Report {
  const lines = stdout.trim().split("\n");
  const report = JSON.parse(
    lines.find((l) => l.startsWith("REPORT "))!.slice(7),
  );
  const events = file === undefined
    ? lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
    : new TextDecoder().decode(decodeLz4Frame(readFileSync(file)))
      .trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(
    events.map((e: { i: number }) => e.i),
    Array.from({ length: 500 }, (_, i) => i),
  );
  const skew = Math.max(
    ...events.map((e: { time: number; now: number }) =>
      Math.abs(e.time - e.now)
    ),
  );
  return { ...report, coarseSkewMs: skew };
}

function assertWorkerRan(report: Report, how: string): void {
  assert.equal(report.worker, true, `${how}: the drain ran in its worker`);
  assert.equal(report.restarts, 0, `${how}: the worker never failed`);
  assert.equal(report.emitted, 500);
  assert.equal(report.written, 500);
  assert.ok(
    report.coarseSkewMs < 1000,
    `${how}: the coarse clock ticks (skew ${report.coarseSkewMs} ms)`,
  );
}

/** The command that runs a .js/.mjs file under this test's runtime. */
function jsCommand(file: string): [string, string[]] {
  switch (runtime) {
    case "deno":
      return [process.execPath, ["run", "--allow-all", file]];
    case "bun":
      return [process.execPath, [file]];
    default:
      return [process.execPath, [file]];
  }
}

/** Serves the repository's files read-only, as JSR serves a package's. */
async function serveTree(): Promise<{ url: string; server: Server }> {
  const types: Record<string, string> = {
    ".ts": "application/typescript; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
  };
  const server = createServer((req, res) => {
    const path = normalize(
      join(REPO, decodeURIComponent(new URL(req.url!, "http://x").pathname)),
    );
    if (!path.startsWith(REPO) || path.includes(`${sep}node_modules${sep}`)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (!statSync(path).isFile()) throw new Error("not a file");
      res.writeHead(200, {
        "content-type": types[extname(path)] ?? "application/octet-stream",
      });
      res.end(readFileSync(path));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}

function inTemp<T>(body: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "ttlog-field-"));
  return Promise.resolve(body(dir)).finally(() =>
    rmSync(dir, { recursive: true, force: true })
  );
}

test(
  "Deno imports ttlog from a URL (a local server standing in for JSR): the drain's worker and the coarse clock start, every event arrives",
  LIMIT,
  async () => {
    const { url, server } = await serveTree();
    try {
      await inTemp(async (dir) => {
        const file = join(dir, "out.ndjson.lz4");
        const entry = join(dir, "app.ts");
        writeFileSync(entry, appSource(`${url}/mod.ts`, file));
        const { stdout } = await runAsync(join(BIN, "deno"), [
          "run",
          `--allow-import=${new URL(url).host}`,
          `--allow-write=${dir}`,
          `--allow-read=${dir}`,
          "--no-prompt",
          entry,
        ], { DENO_DIR: join(dir, "deno-dir") });
        assertWorkerRan(check(stdout, file), "from a URL");
      });
    } finally {
      await new Promise((done) => server.close(done));
    }
  },
);

test(
  "Deno without any permission (no read, no env): the workers start, events reach stdout",
  LIMIT,
  async () => {
    await inTemp((dir) => {
      const entry = join(dir, "app.ts");
      writeFileSync(
        entry,
        appSource(new URL("../mod.ts", import.meta.url).href, undefined),
      );
      const { stdout } = run(join(BIN, "deno"), ["run", "--no-prompt", entry]);
      assertWorkerRan(check(stdout, undefined), "no permissions");
    });
  },
);

test(
  `an esbuild bundle (--bundle --platform=node), run by ${runtime}: the workers start from inside it`,
  LIMIT,
  async () => {
    await inTemp(async (dir) => {
      const entry = join(dir, "app.mts");
      const file = join(dir, "out.ndjson.lz4");
      writeFileSync(
        entry,
        appSource(fileURLToPath(new URL("../mod.ts", import.meta.url)), file),
      );
      const bundle = join(dir, "app.bundle.mjs");
      await esbuild.build({
        entryPoints: [entry],
        bundle: true,
        platform: "node",
        format: "esm",
        outfile: bundle,
        logLevel: "silent",
      });
      // Nothing beside the bundle: the source tree is not reachable from it.
      assert.doesNotMatch(readFileSync(bundle, "utf8"), /worker_main\.ts/);
      const [command, args] = jsCommand(bundle);
      const { stdout } = run(command, [...args]);
      assertWorkerRan(check(stdout, file), "esbuild bundle");
    });
  },
);

test(
  `a bun build bundle (--target=node), run by ${runtime}: the workers start from inside it`,
  LIMIT,
  async () => {
    await inTemp((dir) => {
      const entry = join(dir, "app.mts");
      const file = join(dir, "out.ndjson.lz4");
      writeFileSync(
        entry,
        appSource(fileURLToPath(new URL("../mod.ts", import.meta.url)), file),
      );
      const bundle = join(dir, "app.bun.mjs");
      run(join(BIN, "bun"), [
        "build",
        entry,
        "--target=node",
        "--format=esm",
        `--outfile=${bundle}`,
      ]);
      const [command, args] = jsCommand(bundle);
      const { stdout } = run(command, [...args]);
      assertWorkerRan(check(stdout, file), "bun build bundle");
    });
  },
);

test(
  "a runtime that refuses to start a worker: createLogger does not throw, the drain runs on the caller's thread, one notice, metrics say worker: false",
  LIMIT,
  async () => {
    await inTemp((dir) => {
      const entry = join(dir, "refuse.mts");
      const mod = new URL("../mod.ts", import.meta.url).href;
      writeFileSync(
        entry,
        `import process from "node:process";
const threads = process.getBuiltinModule("node:worker_threads");
// What a platform that forbids threads does when one is started.
threads.Worker = class { constructor() { throw new Error("threads are not allowed here"); } };
const { createLogger, fileSink } = await import(${JSON.stringify(mod)});
const path = ${JSON.stringify(join(dir, "out.ndjson"))};
const log = createLogger({ worker: true, directives: "", sinks: [fileSink({ path, format: "ndjson" })] });
for (let i = 0; i < 50; i++) log.info("event", { i });
await log.flush();
const m = log.metrics();
await log.close();
console.log("REPORT " + JSON.stringify({ worker: m.worker, restarts: m.workerRestarts, emitted: m.emitted, written: m.sinks[0].written }));
`,
      );
      const [command, args] = runtime === "node"
        ? [process.execPath, ["--import", import.meta.resolve("tsx"), entry]]
        : runtime === "deno"
        ? [process.execPath, ["run", "--allow-all", entry]]
        : [process.execPath, [entry]];
      const { stdout, stderr } = run(command, args);
      const report = JSON.parse(
        stdout.trim().split("\n").find((l) => l.startsWith("REPORT "))!.slice(
          7,
        ),
      );
      assert.deepEqual(report, {
        worker: false,
        restarts: 0,
        emitted: 50,
        written: 50,
      });
      const notices = stderr.split("\n").filter((l) => l.startsWith("ttlog:"));
      assert.deepEqual(notices, [
        "ttlog: the drain's worker could not start (threads are not allowed here); draining on the caller's thread from now on",
      ]);
      const lines = readFileSync(join(dir, "out.ndjson"), "utf8").trim()
        .split("\n");
      assert.equal(lines.length, 50);
    });
  },
);
