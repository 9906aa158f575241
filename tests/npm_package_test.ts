// The npm package: scripts/build_npm.mjs compiles it, `npm pack` packs it,
// and a fresh project installs the tarball and uses it from a plain .mjs
// file under Node (no tsx), and under this test's runtime: a logger with
// the drain in its worker, an LZ4 file sink, request logging, a snapshot,
// and the `ttlog` bin reading that snapshot. Under Node, a TypeScript
// consumer also type-checks against the package's .d.ts files.
import { test } from "node:test";
import process from "node:process";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { detectRuntime } from "../src/runtime/mod.ts";
import { decodeLz4Frame } from "../src/codec/lz4_frame.ts";

const LIMIT = { timeout: 180_000 };
const ROOT = fileURLToPath(new URL("..", import.meta.url));

function run(
  command: string,
  args: string[],
  cwd: string,
): { stdout: string; stderr: string } {
  const result = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: "1" },
  });
  assert.equal(
    result.status,
    0,
    `${command} ${args.join(" ")} failed (${
      result.status ?? result.error
    }):\n${result.stdout}\n${result.stderr}`,
  );
  return { stdout: result.stdout, stderr: result.stderr };
}

const CONSUMER = `
import { createLogger, fileSink } from "@ttlog/ttlog";
import { withLogging } from "@ttlog/ttlog/http";
const [dir] = process.argv.slice(2);
const log = createLogger({
  service: "pkg",
  level: "info",
  directives: "",
  sinks: [fileSink({ path: dir + "/out.ndjson.lz4", format: "ndjson", compression: "lz4" })],
  worker: true,
  snapshot: { dir: dir + "/snapshots" },
});
log.debug("a debug event only the snapshot keeps", { step: 1 });
log.info("hello from the package", { n: 1 });
const handler = withLogging(() => new Response("ok"), { log });
const res = await handler(new Request("http://localhost/ping"));
const snapshot = await log.snapshot("package");
const worker = log.metrics().worker;
await log.close();
console.log(JSON.stringify({ worker, snapshot, id: res.headers.get("x-request-id") }));
`;

const TYPED_CONSUMER = `
import { createLogger, type Logger, type Metrics } from "@ttlog/ttlog";
import { withLogging } from "@ttlog/ttlog/http";
const log: Logger = createLogger({ sinks: [] });
const m: Metrics = log.metrics();
const n: number = m.logged;
const handler: (req: Request) => Response | Promise<Response> = withLogging(
  (_req: Request) => new Response("ok"),
  { log },
);
// @ts-expect-error: a counter is a number (fails if the types were any)
const wrong: string = m.logged;
export { handler, n, wrong };
`;

test(
  "the packed npm package installs and runs from plain JavaScript, with its bin and types",
  LIMIT,
  () => {
    const work = mkdtempSync(join(tmpdir(), "ttlog-npm-"));
    try {
      const build = run(
        "node",
        [
          join(ROOT, "scripts/build_npm.mjs"),
          "--out",
          join(work, "pkg"),
          "--pack",
        ],
        ROOT,
      );
      const tarball = build.stdout.trim().split("\n").at(-1)!;
      assert.ok(existsSync(tarball), `no tarball at ${tarball}`);

      const app = join(work, "app");
      mkdirSync(app);
      writeFileSync(
        join(app, "package.json"),
        JSON.stringify({ name: "app", private: true, type: "module" }),
      );
      run("npm", [
        "install",
        tarball,
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
      ], app);
      writeFileSync(join(app, "consumer.mjs"), CONSUMER);

      const runtime = detectRuntime().name;
      const commands: [string, string[]][] = [["node", ["consumer.mjs"]]];
      if (runtime === "bun") {
        commands.push([process.execPath, ["consumer.mjs"]]);
      }
      if (runtime === "deno") {
        commands.push([process.execPath, ["run", "-A", "consumer.mjs"]]);
      }
      for (const [index, [command, args]] of commands.entries()) {
        const label = `${command} ${args.join(" ")}`;
        const out = join(work, `out-${index}`);
        mkdirSync(out);
        const { stdout } = run(command, [...args, out], app);
        const result = JSON.parse(stdout.trim().split("\n").at(-1)!);
        assert.equal(result.worker, true, label);
        assert.match(result.id, /^[0-9a-f]{16}-[0-9a-z]+$/, label);
        // The LZ4 file holds the info events, not the debug one.
        const text = new TextDecoder().decode(
          decodeLz4Frame(
            new Uint8Array(readFileSync(join(out, "out.ndjson.lz4"))),
          ),
        );
        const lines = text.trim().split("\n").map((line) => JSON.parse(line));
        assert.deepEqual(
          lines.map((l) => l.msg),
          ["hello from the package", "request"],
          label,
        );
        assert.equal(lines[1].path, "/ping", label);
        // The bin reads the snapshot, debug event included.
        const view = run(
          join(app, "node_modules/.bin/ttlog"),
          ["view", result.snapshot, "--format", "ndjson"],
          app,
        );
        const events = view.stdout.trim().split("\n").map((l) => JSON.parse(l));
        assert.deepEqual(
          events.map((e) => e.msg),
          [
            "a debug event only the snapshot keeps",
            "hello from the package",
            "request",
          ],
          label,
        );
      }

      if (runtime === "node") {
        writeFileSync(join(app, "typed.ts"), TYPED_CONSUMER);
        writeFileSync(
          join(app, "tsconfig.json"),
          JSON.stringify({
            compilerOptions: {
              target: "ES2022",
              module: "NodeNext",
              moduleResolution: "NodeNext",
              strict: true,
              noEmit: true,
              lib: ["ES2024", "DOM"],
              types: [],
              skipLibCheck: true,
            },
            files: ["typed.ts"],
          }),
        );
        run(process.execPath, [
          join(ROOT, "node_modules/typescript/bin/tsc"),
          "-p",
          "tsconfig.json",
        ], app);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
);
