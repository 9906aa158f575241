import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { isatty } from "node:tty";
import { fileURLToPath } from "node:url";
import { scriptCommand } from "./fixtures/spawn.ts";
import { detectRuntime, runtime } from "../src/runtime/mod.ts";
import { bunRuntime } from "../src/runtime/bun.ts";
import { denoRuntime } from "../src/runtime/deno.ts";
import {
  type NodeFsLike,
  nodeLikeRuntime,
  type NodeProcessLike,
  type NodeStreamLike,
} from "../src/runtime/node.ts";
import { webRuntime } from "../src/runtime/web.ts";
import type { RuntimeName } from "../src/runtime/runtime.ts";

const globals = globalThis as Record<string, unknown>;

/** The runtime this test file was launched with, judged from its globals. */
const launchedOn: RuntimeName = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/** Reads a path of properties from `globalThis`. */
function globalAt(...path: string[]): unknown {
  let value: unknown = globalThis;
  for (const key of path) value = (value as Record<string, unknown>)?.[key];
  return value;
}

const expectedVersion = {
  deno: globalAt("Deno", "version", "deno"),
  bun: globalAt("Bun", "version"),
  node: globalAt("process", "versions", "node"),
  web: "",
}[launchedOn];

test("detectRuntime names the runtime running the test, with its version", () => {
  const detected = detectRuntime();
  assert.equal(detected.name, launchedOn);
  assert.equal(detected.version, expectedVersion);
  assert.match(detected.version, /^\d+\.\d+\.\d+/);
});

test("runtime is detected once and delegates to the detected adapter", () => {
  assert.equal(runtime.name, launchedOn);
  assert.equal(runtime.version, expectedVersion);
  assert.equal(runtime.env("PATH"), detectRuntime().env("PATH"));
});

test("env reads a variable of the test process", () => {
  const path = runtime.env("PATH");
  assert.equal(typeof path, "string");
  assert.ok(path!.length > 0);
  assert.equal(runtime.env("TTLOG_TEST_SURELY_UNSET_4f2a"), undefined);
});

test("env never throws, even for names the OS rejects", () => {
  for (const name of ["", "A=B", "NUL\0NAME"]) {
    assert.equal(runtime.env(name), undefined, JSON.stringify(name));
  }
});

test("isTerminal says what the OS says of each stream", () => {
  assert.equal(runtime.isTerminal("stdout"), isatty(1));
  assert.equal(runtime.isTerminal("stderr"), isatty(2));
});

test("write puts its text, as it is, on the stream it names", () => {
  const [command, args] = scriptCommand(
    fileURLToPath(new URL("./fixtures/write_child.ts", import.meta.url)),
  );
  const child = spawnSync(command, args, { encoding: "utf8", timeout: 30_000 });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout, `to stdout ✓\non ${launchedOn}\n`);
  assert.equal(child.stderr, "to stderr ✓\n");
});

test("the adapters of other runtimes refuse to start", () => {
  if (launchedOn !== "deno") {
    assert.throws(() => denoRuntime(), /not running on Deno/);
  }
  if (launchedOn !== "bun") {
    assert.throws(() => bunRuntime(), /not running on Bun/);
  }
});

test("webRuntime writes through console without the trailing newline", () => {
  const calls: [string, unknown[]][] = [];
  const { log, error } = console;
  console.log = (...args: unknown[]) => calls.push(["log", args]);
  console.error = (...args: unknown[]) => calls.push(["error", args]);
  try {
    const web = webRuntime();
    web.write("stdout", "one\n");
    web.write("stderr", "two %c\n");
    web.write("stdout", "three");
    // UTF-8 bytes (the drain's NDJSON lines) are decoded to the same text.
    web.write("stdout", new TextEncoder().encode('{"msg":"é"}\n'));
  } finally {
    console.log = log;
    console.error = error;
  }
  assert.deepEqual(calls, [
    ["log", ["%s", "one"]],
    ["error", ["%s", "two %c"]],
    ["log", ["%s", "three"]],
    ["log", ["%s", '{"msg":"é"}']],
  ]);
});

test("webRuntime: no terminal, env only through a process.env shim", () => {
  const web = webRuntime();
  assert.equal(web.name, "web");
  assert.equal(web.version, "");
  assert.equal(web.isTerminal("stdout"), false);
  assert.equal(web.env("TTLOG_TEST_SURELY_UNSET_4f2a"), undefined);
  if (globals.process === undefined) assert.equal(web.env("PATH"), undefined);
});

/** A fake stream recording what is written; `flush()` runs the callbacks. */
function fakeStream(isTTY?: boolean) {
  const decoder = new TextDecoder();
  const callbacks: (() => void)[] = [];
  const chunks: string[] = [];
  const stream: NodeStreamLike = {
    isTTY,
    write(chunk: string | Uint8Array, callback?: () => void): boolean {
      chunks.push(typeof chunk === "string" ? chunk : decoder.decode(chunk));
      if (callback !== undefined) callbacks.push(callback);
      return true;
    },
  };
  const flush = (): void => {
    for (const callback of callbacks.splice(0)) callback();
  };
  return Object.assign(stream, { chunks, flush });
}

/** A fake process with fake streams. */
function fakeProcess(env: Record<string, string | undefined> = {}) {
  const stdout = fakeStream(true);
  const stderr = fakeStream(false);
  const process: NodeProcessLike = { env, stdout, stderr };
  return { process, stdout, stderr };
}

/** A fake fs whose writeSync is scripted: bytes accepted per call, or an error. */
function fakeFs(script: (number | string)[]) {
  const decoder = new TextDecoder();
  const writes: { fd: number; text: string }[] = [];
  const fs: NodeFsLike = {
    writeSync(fd: number, buffer: Uint8Array): number {
      const step = script.length > 0 ? script.shift()! : buffer.length;
      if (typeof step === "string") {
        throw Object.assign(new Error(`${step}: fake`), { code: step });
      }
      const count = Math.min(step, buffer.length);
      writes.push({ fd, text: decoder.decode(buffer.subarray(0, count)) });
      return count;
    },
  };
  return { fs, writes };
}

test("nodeLikeRuntime writes every byte to the descriptor, looping on partial writes", () => {
  const { process, stdout, stderr } = fakeProcess();
  const { fs, writes } = fakeFs([3, 1]);
  const node = nodeLikeRuntime({ name: "node", version: "1.2.3", process, fs });
  node.write("stderr", "hello\n");
  node.write("stdout", "né\n");
  assert.deepEqual(writes, [
    { fd: 2, text: "hel" },
    { fd: 2, text: "l" },
    { fd: 2, text: "o\n" },
    { fd: 1, text: "né\n" },
  ]);
  assert.deepEqual(stdout.chunks, []);
  assert.deepEqual(stderr.chunks, []);
});

test("nodeLikeRuntime queues the rest on EAGAIN, then keeps order until it is flushed", () => {
  const { process, stdout, stderr } = fakeProcess();
  const { fs, writes } = fakeFs([4, "EAGAIN"]);
  const node = nodeLikeRuntime({ name: "node", version: "1.2.3", process, fs });
  node.write("stdout", "first line\n");
  assert.deepEqual(writes, [{ fd: 1, text: "firs" }]);
  assert.deepEqual(stdout.chunks, ["t line\n"]);
  node.write("stdout", "second\n");
  assert.deepEqual(stdout.chunks, ["t line\n", "second\n"]);
  assert.equal(writes.length, 1);
  node.write("stderr", "other stream\n");
  assert.deepEqual(writes.at(-1), { fd: 2, text: "other stream\n" });
  assert.deepEqual(stderr.chunks, []);
  stdout.flush();
  node.write("stdout", "third\n");
  assert.deepEqual(writes, [
    { fd: 1, text: "firs" },
    { fd: 2, text: "other stream\n" },
    { fd: 1, text: "third\n" },
  ]);
  assert.deepEqual(stdout.chunks, ["t line\n", "second\n"]);
});

test("nodeLikeRuntime rethrows write errors other than EAGAIN", () => {
  const { process } = fakeProcess();
  const { fs } = fakeFs(["EPIPE"]);
  const node = nodeLikeRuntime({ name: "node", version: "1.2.3", process, fs });
  assert.throws(() => node.write("stdout", "x\n"), { code: "EPIPE" });
});

test("nodeLikeRuntime without fs writes through the stream", () => {
  const { process, stdout, stderr } = fakeProcess();
  const node = nodeLikeRuntime({ name: "node", version: "1.2.3", process });
  node.write("stdout", "out\n");
  node.write("stderr", "err\n");
  assert.deepEqual(stdout.chunks, ["out\n"]);
  assert.deepEqual(stderr.chunks, ["err\n"]);
});

test("nodeLikeRuntime isTerminal prefers tty.isatty over isTTY", () => {
  const { process } = fakeProcess();
  const withoutTty = nodeLikeRuntime({ name: "node", version: "1", process });
  assert.equal(withoutTty.isTerminal("stdout"), true);
  assert.equal(withoutTty.isTerminal("stderr"), false);
  const asked: number[] = [];
  const withTty = nodeLikeRuntime({
    name: "node",
    version: "1",
    process,
    tty: {
      isatty(fd: number): boolean {
        asked.push(fd);
        if (fd === 2) throw new Error("EBADF");
        return false;
      },
    },
  });
  assert.equal(withTty.isTerminal("stdout"), false);
  assert.equal(withTty.isTerminal("stderr"), false);
  assert.deepEqual(asked, [1, 2]);
});

test("nodeLikeRuntime env returns strings only and never throws", () => {
  const { process } = fakeProcess({ SET: "yes", EMPTY: "" });
  const node = nodeLikeRuntime({ name: "node", version: "1", process });
  assert.equal(node.env("SET"), "yes");
  assert.equal(node.env("EMPTY"), "");
  assert.equal(node.env("UNSET"), undefined);
  const throwing = nodeLikeRuntime({
    name: "node",
    version: "1",
    process: {
      ...process,
      env: new Proxy({}, {
        get() {
          throw new Error("env access denied");
        },
      }),
    },
  });
  assert.equal(throwing.env("SET"), undefined);
});
