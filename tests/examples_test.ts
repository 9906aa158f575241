// The README's "Edge and frameworks" examples are the files in
// tests/fixtures/examples/, run here the way users run them: Deno Deploy's
// with Deno, ttlog imported by its package name through an import map that
// points at a local server (as `deno add jsr:@ttlog/ttlog` points at JSR);
// the Cloudflare Worker in workerd (Miniflare) with and without
// nodejs_compat; the Vercel Edge Function in edge-runtime; the Hono and
// Elysia apps bundled (esbuild, ttlog's package name resolved to this tree)
// and served by this runtime in a child process. A last test checks that
// the README shows exactly these files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Buffer } from "node:buffer";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { Miniflare } from "miniflare";
import { EdgeRuntime, runServer } from "edge-runtime";
import { scriptCommand } from "./fixtures/spawn.ts";
import { ndjson, ttlog } from "./fixtures/cli_run.ts";

/** What the tests read of Miniflare's R2 bucket (its types do not resolve under Deno). */
interface R2Like {
  list(): Promise<{ objects: { key: string }[] }>;
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
}

const LIMIT = { timeout: 120_000 };
const REPO = fileURLToPath(new URL("../", import.meta.url));
const EXAMPLES = join(REPO, "tests", "fixtures", "examples");
const EXPORTS: Record<string, string> = JSON.parse(
  readFileSync(join(REPO, "deno.json"), "utf8"),
).exports;

/** "@ttlog/ttlog/http" and the like, to where each lives under `base`. */
function packageMap(base: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const [subpath, file] of Object.entries(EXPORTS)) {
    map[`@ttlog/ttlog${subpath.slice(1)}`] = base + file.slice(2);
  }
  return map;
}

/** Bundles an example as a user's build would, ttlog resolved to this tree. */
async function bundle(
  name: string,
  options: { format: "esm" | "iife"; platform: "browser" | "node" },
  shim?: string,
): Promise<string> {
  const map = packageMap(REPO);
  const entry = join(EXAMPLES, name);
  const result = await esbuild.build({
    ...(shim === undefined ? { entryPoints: [entry] } : {
      stdin: {
        contents: shim.replace("ENTRY", JSON.stringify(entry)),
        resolveDir: EXAMPLES,
        loader: "ts",
      },
    }),
    bundle: true,
    write: false,
    format: options.format,
    platform: options.platform,
    target: "es2022",
    external: ["node:*"],
    logLevel: "silent",
    plugins: [{
      name: "ttlog-package",
      setup(build) {
        build.onResolve({ filter: /^@ttlog\/ttlog(\/.*)?$/ }, (args) => {
          const path = map[args.path];
          return path === undefined
            ? { errors: [{ text: `no export ${args.path} in deno.json` }] }
            : { path };
        });
      },
    }],
  });
  return result.outputFiles[0].text;
}

function inTemp<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "ttlog-examples-"));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

async function until(
  what: string,
  ok: () => boolean | Promise<boolean>,
  detail: () => string = () => "",
): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await ok())) {
    if (Date.now() > deadline) {
      assert.fail(`timed out waiting for ${what} ${detail()}`);
    }
    await new Promise((done) => setTimeout(done, 25));
  }
}

/** A child process whose output is gathered as it comes. */
function start(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): { child: ChildProcess; out: () => string; err: () => string } {
  let out = "";
  let err = "";
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (chunk) => out += chunk);
  child.stderr!.on("data", (chunk) => err += chunk);
  return { child, out: () => out, err: () => err };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const ended = new Promise((done) => child.once("close", done));
  child.kill("SIGTERM");
  await ended;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

/** Serves this tree read-only, as JSR serves a package's files. */
async function serveTree(): Promise<{ url: string; server: Server }> {
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
        "content-type": extname(path) === ".ts"
          ? "application/typescript; charset=utf-8"
          : "application/octet-stream",
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

test(
  "the Deno KV store example: a snapshot larger than a KV value goes in parts and comes back whole; the CLI reads it",
  LIMIT,
  async () => {
    await inTemp(async (dir) => {
      const importMap = join(dir, "import_map.json");
      writeFileSync(
        importMap,
        JSON.stringify({ imports: packageMap(pathToFileURL(REPO).href) }),
      );
      const out = join(dir, "from-kv.ttlog");
      const run = start(join(REPO, "node_modules", ".bin", "deno"), [
        "run",
        "--no-lock",
        "--unstable-kv",
        `--import-map=${importMap}`,
        `--allow-read=${REPO},${dir}`,
        `--allow-write=${dir}`,
        "--allow-env",
        join(REPO, "tests", "fixtures", "kv_driver.ts"),
        join(dir, "kv.sqlite"),
        out,
      ], { env: { DENO_DIR: join(dir, "deno-dir") } });
      const code = await new Promise((done) => run.child.once("close", done));
      assert.equal(code, 0, run.err());
      const report = JSON.parse(run.out());
      assert.ok(report.size > 64 * 1024, String(report.size));
      assert.equal(report.m.snapshotsStored, 1);
      const view = await ttlog("view", out, "--format", "ndjson");
      assert.equal(view.status, 0, view.stderr);
      const events = ndjson(view.stdout);
      assert.equal(events.length, 3000);
      assert.deepEqual(events.at(-1)!.i, 2999);
    });
  },
);

test(
  "the Deno Deploy example, ttlog imported by package name through an import map (as deno add makes): requests are logged with their ids",
  LIMIT,
  async () => {
    const { url, server } = await serveTree();
    try {
      await inTemp(async (dir) => {
        const importMap = join(dir, "import_map.json");
        writeFileSync(
          importMap,
          JSON.stringify({ imports: packageMap(`${url}/`) }),
        );
        const port = await freePort();
        const app = start(join(REPO, "node_modules", ".bin", "deno"), [
          "run",
          // The example sits in this repository: its deno.json must not
          // record the stand-in server's modules in a deno.lock.
          "--no-lock",
          `--import-map=${importMap}`,
          `--allow-import=${new URL(url).host}`,
          "--allow-net=0.0.0.0,127.0.0.1",
          "--allow-env=PORT",
          join(EXAMPLES, "deno_deploy.ts"),
        ], { env: { PORT: String(port), DENO_DIR: join(dir, "deno-dir") } });
        try {
          let answer = "";
          await until(
            "the example's server",
            async () => {
              try {
                const res = await fetch(`http://127.0.0.1:${port}/`, {
                  headers: { "x-request-id": "deploy-1" },
                });
                answer = await res.text();
                return true;
              } catch {
                return false;
              }
            },
            () => app.err(),
          );
          assert.equal(answer, "hello");
          await until(
            "its request event on stdout",
            () =>
              /request_id=deploy-1/.test(app.out()) &&
              /request/.test(app.out()),
            () => app.out() + app.err(),
          );
          const lines = app.out().split("\n").filter((l) =>
            l.includes("deploy-1")
          );
          assert.equal(lines.length, 2, app.out());
          assert.match(lines[0], /INFO\s+hello/);
          assert.match(lines[1], /INFO\s+http\s+request/);
          assert.doesNotMatch(app.out(), /recorded, not printed/);
        } finally {
          await stop(app.child);
        }
      });
    } finally {
      await new Promise((done) => server.close(done));
    }
  },
);

/** An OTLP/HTTP JSON collector: the bodies of the log records it got. */
async function otlpCollector() {
  const records: { body: string; attributes: Record<string, string> }[] = [];
  const server = createServer((req, res) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const text =
        (req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw)
          .toString("utf8");
      const payload = JSON.parse(text);
      for (const resource of payload.resourceLogs) {
        for (const scope of resource.scopeLogs) {
          for (const record of scope.logRecords) {
            const attributes: Record<string, string> = {};
            for (const { key, value } of record.attributes ?? []) {
              attributes[key] = value.stringValue ?? String(value.intValue);
            }
            records.push({ body: record.body?.stringValue, attributes });
          }
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/logs`,
    records,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}

for (const flags of [[], ["nodejs_compat"]]) {
  test(
    `the Cloudflare Worker example in workerd, ${
      flags.length === 0 ? "without" : "with"
    } nodejs_compat: its events reach the OTLP collector after each response; a failed one's lead-up is replayed and its snapshot is in R2`,
    LIMIT,
    async () => {
      const collector = await otlpCollector();
      const mf = new Miniflare({
        modules: true,
        script: await bundle("cloudflare_worker.ts", {
          format: "esm",
          platform: "browser",
        }),
        compatibilityDate: "2026-07-01",
        compatibilityFlags: flags,
        bindings: { OTLP_URL: collector.url },
        r2Buckets: ["SNAPSHOTS"],
        handleRuntimeStdio(
          out: NodeJS.ReadableStream,
          err: NodeJS.ReadableStream,
        ) {
          out.resume();
          err.resume();
        },
      });
      try {
        const base = (await mf.ready).href;
        for (const id of ["cf-1", "cf-2"]) {
          const res = await fetch(base, { headers: { "x-request-id": id } });
          assert.equal(await res.text(), "hi");
        }
        await until(
          "four records at the collector",
          () => collector.records.length === 4,
          () => JSON.stringify(collector.records),
        );
        assert.deepEqual(
          collector.records.map((r) => [r.body, r.attributes.request_id]),
          [
            ["hello from the edge", "cf-1"],
            ["request", "cf-1"],
            ["hello from the edge", "cf-2"],
            ["request", "cf-2"],
          ],
        );
        const pay = await fetch(`${base}pay`, {
          headers: { "x-request-id": "cf-pay" },
        });
        assert.equal(pay.status, 502);
        await pay.text();
        await until(
          "the replay at the collector",
          () => collector.records.length === 8,
          () => JSON.stringify(collector.records),
        );
        assert.deepEqual(
          collector.records.slice(4).map((r) => [
            r.body,
            r.attributes.request_id,
            r.attributes.replay,
          ]),
          [
            ["request", "cf-pay", undefined],
            ["replay: status 502", "cf-pay", "status 502"],
            ["cart read", "cf-pay", "status 502"],
            ["card declined", "cf-pay", "status 502"],
          ],
        );
        const bucket = await mf.getR2Bucket("SNAPSHOTS") as unknown as R2Like;
        let objects = (await bucket.list()).objects;
        for (let i = 0; i < 100 && objects.length === 0; i++) {
          await new Promise((ok) => setTimeout(ok, 50));
          objects = (await bucket.list()).objects;
        }
        assert.equal(objects.length, 1);
        assert.match(objects[0].key, /^ttlog-worker-\d+-.*-request\.ttlog$/);
        const object = await bucket.get(objects[0].key);
        const dir = mkdtempSync(join(tmpdir(), "ttlog-r2-"));
        try {
          const path = join(dir, objects[0].key);
          writeFileSync(path, new Uint8Array(await object!.arrayBuffer()));
          const run = await ttlog("view", path, "--format", "ndjson");
          assert.equal(run.status, 0, run.stderr);
          assert.deepEqual(
            ndjson(run.stdout).map((e) => [e.msg, e.level, e.request_id]),
            [
              ["cart read", "debug", "cf-pay"],
              ["card declined", "debug", "cf-pay"],
              ["request", "error", "cf-pay"],
            ],
          );
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      } finally {
        await mf.dispose();
        await collector.close();
      }
    },
  );
}

test(
  "the Vercel Edge Function example in edge-runtime: its console lines carry the request's id",
  LIMIT,
  async () => {
    const lines: string[] = [];
    const runtime = new EdgeRuntime({
      initialCode: await bundle(
        "vercel_edge.ts",
        { format: "iife", platform: "browser" },
        `import handler from ENTRY;
addEventListener("fetch", (event) => {
  event.respondWith(handler(event.request, event));
});`,
      ),
      extend(context) {
        const console = context.console as unknown as Record<string, unknown>;
        console.log = (...args: unknown[]) => {
          // One call per write, which may hold several lines.
          lines.push(
            ...args.slice(1).map(String).join(" ").split("\n").filter((l) =>
              l !== ""
            ),
          );
        };
        return context;
      },
    });
    const server = await runServer({ runtime, port: 0, host: "127.0.0.1" });
    try {
      const res = await fetch(server.url, {
        headers: { "x-request-id": "vercel-1" },
      });
      assert.equal(await res.text(), "hi");
      await until(
        "two console lines",
        () => lines.length === 2,
        () => lines.join("\n"),
      );
      assert.match(lines[0], /hello from Vercel.*request_id=vercel-1/);
      assert.match(lines[1], /http\s+request.*request_id=vercel-1/);
    } finally {
      await server.close();
    }
  },
);

for (const name of ["hono.ts", "elysia.ts"]) {
  test(
    `the ${name} example, bundled and served by this runtime: each request is one event in logs/shop.ndjson, the failed one with its error`,
    LIMIT,
    async () => {
      await inTemp(async (dir) => {
        const file = join(dir, "app.mjs");
        writeFileSync(
          file,
          await bundle(name, { format: "esm", platform: "node" }),
        );
        const [command, args] = scriptCommand(
          fileURLToPath(
            new URL("./fixtures/serve_example.ts", import.meta.url),
          ),
        );
        const app = start(command, [...args, file], { cwd: dir });
        try {
          await until(
            "the server",
            () => app.out().includes("LISTENING "),
            () => app.err(),
          );
          const url = /LISTENING (\S+)/.exec(app.out())![1];
          const cart = await fetch(`${url}/cart`, {
            headers: { "x-request-id": "cart-1" },
          });
          assert.deepEqual(await cart.json(), { items: 2 });
          const pay = await fetch(`${url}/pay`);
          assert.equal(pay.status, 500);
          await pay.text();
          const log = join(dir, "logs", "shop.ndjson");
          const events = () =>
            existsSync(log)
              ? readFileSync(log, "utf8").trim().split("\n").filter((l) =>
                l !== ""
              ).map((l) => JSON.parse(l))
              : [];
          await until(
            "three events in the file",
            () => events().length === 3,
            () => JSON.stringify(events()) + app.err(),
          );
          const [loaded, cartEvent, payEvent] = events();
          assert.equal(loaded.msg, "cart loaded");
          assert.equal(loaded.request_id, "cart-1");
          assert.equal(cartEvent.status, 200);
          assert.equal(cartEvent.request_id, "cart-1");
          assert.equal(payEvent.status, 500);
          assert.equal(payEvent.level, "error");
          assert.equal(payEvent.err.message, "card declined");
          assert.match(payEvent.err.stack, /card declined/);
          assert.equal(
            statSync(join(dir, "logs")).mode & 0o777,
            0o700,
            "mkdir: true made the directory",
          );
        } finally {
          await stop(app.child);
        }
      });
    },
  );
}

test("the README's edge and framework examples are these files, word for word", () => {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  for (
    const name of [
      "deno_deploy.ts",
      "cloudflare_worker.ts",
      "deno_kv_store.ts",
      "vercel_edge.ts",
      "hono.ts",
      "elysia.ts",
    ]
  ) {
    const example = readFileSync(join(EXAMPLES, name), "utf8");
    assert.ok(
      readme.includes("```ts\n" + example + "```\n"),
      `README.md does not show tests/fixtures/examples/${name} as it is`,
    );
  }
});
