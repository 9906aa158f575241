// Requests per second of a hello-world server on this runtime's own server
// (Deno.serve, Bun.serve, node:http through nodeListener): bare, with
// withLogging (its wrapper alone with the levels off, then an NDJSON file
// and a .ttlog file, drained where `worker: "auto"` says), and with pino (a
// pino-http-shaped line, then pino doing what withLogging does: the id
// header read and echoed, an AsyncLocalStorage context through its mixin),
// measured with wrk (Debian package `wrk`) on loopback, the variants
// interleaved over rounds, the median kept. Each server runs in its own
// child process; wrk gets one thread and 50 connections. With taskset and
// two CPUs or more, the server (all its threads) is pinned to CPU 1 and wrk
// to CPU 0: the server's work and the logging's share one core (so ttlog
// drains on the server's thread: "auto" takes no worker on one CPU), and
// the load generator does not steal from them (unpinned, runs on a 2-CPU
// machine swing by a third).
//
// Beside requests/s, the server's CPU time per request (all its threads,
// from /proc on Linux): on a shared machine requests/s swing with what the
// neighbours do, while the CPU a request costs moves much less, and the
// difference to bare is what a variant adds to every request.
//
//   deno run -A bench/http_serve.ts      (or bun / tsx)
//
// Environment: TTLOG_HTTP_ROUNDS (default 5), TTLOG_HTTP_SECONDS (default 5).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { detectRuntime } from "../src/sink.ts";
import { scriptCommand } from "../tests/fixtures/spawn.ts";
import { spreadOf } from "./harness.ts";
import { saveRows } from "./results.ts";

const VARIANTS = [
  "bare",
  "ttlog-off",
  "ttlog",
  "ttlog-bin",
  "ttlog-noctx",
  "pino",
  "pino-full",
] as const;
type Variant = typeof VARIANTS[number];
const rounds = Number(process.env.TTLOG_HTTP_ROUNDS ?? 5);
const seconds = Number(process.env.TTLOG_HTTP_SECONDS ?? 5);
const server = fileURLToPath(new URL("./http_server.ts", import.meta.url));

if (spawnSync("wrk", ["--version"]).error !== undefined) {
  console.error(
    "http_serve: wrk is not installed (apt-get install wrk); no numbers",
  );
  process.exit(1);
}

const pinned = availableParallelism() >= 2 &&
  spawnSync("taskset", ["-c", "0", "true"]).status === 0;
const pin = (
  cpu: number,
  command: string,
  args: string[],
): [string, string[]] =>
  pinned ? ["taskset", ["-c", String(cpu), command, ...args]] : [command, args];

/**
 * CPU time of a process, all its threads, in ns (user + system, from
 * /proc/<pid>/task/<tid>/stat in clock ticks of 10 ms), or undefined where
 * there is no /proc.
 */
function cpuNs(pid: number): number | undefined {
  let ticks = 0;
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  for (const task of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, "utf8");
      // Fields after the command name (which may hold spaces): state is
      // the 1st, utime the 12th, stime the 13th.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // A thread that ended meanwhile.
    }
  }
  return ticks * 1e7;
}

interface Sample {
  rps: number;
  /** Server CPU per request, in ns (undefined without /proc). */
  cpu: number | undefined;
}

async function measure(variant: Variant): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), "ttlog-http-bench-"));
  const [command, args] = scriptCommand(server);
  const child = spawn(...pin(1, command, [...args, variant, dir]), {
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const port = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (chunk) => {
        out += chunk;
        const match = /port (\d+)/.exec(out);
        if (match) resolve(match[1]);
      });
      child.on("exit", (code) => reject(new Error(`server exited ${code}`)));
    });
    const url = `http://127.0.0.1:${port}/`;
    // Warm up (JIT, connections), then measure.
    spawnSync(...pin(0, "wrk", ["-t1", "-c50", "-d1s", url]));
    // taskset execs the server: its pid is the child's.
    const before = cpuNs(child.pid!);
    const result = spawnSync(
      ...pin(0, "wrk", ["-t1", "-c50", `-d${seconds}s`, url]),
      { encoding: "utf8" },
    );
    const after = cpuNs(child.pid!);
    const match = /Requests\/sec:\s+([\d.]+)/.exec(result.stdout);
    const count = /(\d+) requests in/.exec(result.stdout);
    if (!match || !count) {
      throw new Error(`wrk said: ${result.stdout}${result.stderr}`);
    }
    if (/Non-2xx|Socket errors/.test(result.stdout)) {
      throw new Error(`errors under load (${variant}): ${result.stdout}`);
    }
    return {
      rps: Number(match[1]),
      cpu: before === undefined || after === undefined
        ? undefined
        : (after - before) / Number(count[1]),
    };
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
}

const samples = Object.fromEntries(
  VARIANTS.map((v) => [v, [] as number[]]),
) as Record<Variant, number[]>;
const cpuSamples = Object.fromEntries(
  VARIANTS.map((v) => [v, [] as number[]]),
) as Record<Variant, number[]>;
for (let round = 0; round < rounds; round++) {
  for (const variant of VARIANTS) {
    const sample = await measure(variant);
    samples[variant].push(sample.rps);
    if (sample.cpu !== undefined) cpuSamples[variant].push(sample.cpu);
  }
  console.log(
    `round ${round + 1}: ` +
      VARIANTS.map((v) =>
        `${v} ${samples[v].at(-1)!.toFixed(0)}` +
        (cpuSamples[v].length > round
          ? ` (${(cpuSamples[v][round] / 1000).toFixed(1)} µs CPU)`
          : "")
      ).join(", "),
  );
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? s[s.length >> 1]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const spread = (xs: number[]) =>
  (Math.max(...xs) - Math.min(...xs)) / median(xs);
const rps = Object.fromEntries(VARIANTS.map((v) => [v, median(samples[v])]));
const rt = detectRuntime();
console.log(
  `${rt.name} ${rt.version}: requests/s (median of ${rounds}): ` +
    VARIANTS.map((v) =>
      `${v} ${rps[v].toFixed(0)} (spread ${
        (spread(samples[v]) * 100).toFixed(0)
      }%)`
    ).join(", "),
);
console.log(
  `fewer requests/s than bare${pinned ? " (pinned)" : ""}: ` +
    VARIANTS.slice(1).map((v) =>
      `${v} ${((1 - rps[v] / rps.bare) * 100).toFixed(1)}%`
    ).join(", "),
);
// Server CPU per request, the median over rounds (absent without /proc).
const cpuNsPerRequest = cpuSamples.bare.length === rounds
  ? Object.fromEntries(VARIANTS.map((v) => [v, median(cpuSamples[v])]))
  : undefined;
if (cpuNsPerRequest !== undefined) {
  console.log(
    `server CPU per request (median): ` +
      VARIANTS.map((v) => `${v} ${(cpuNsPerRequest[v] / 1000).toFixed(2)} µs`)
        .join(", "),
  );
}
// Rows in ns per request (the report shows requests/s), each with its
// spread over the rounds.
saveRows(
  "http_serve",
  VARIANTS.map((v) => ({
    group: "requests per second (ns per request)",
    name: v,
    avg: 1e9 / rps[v],
    p50: 1e9 / rps[v],
    roundAvgs: samples[v].map((r) => 1e9 / r),
    spread: spreadOf(samples[v].map((r) => 1e9 / r)),
  })),
  // Not `cpu`: the result header's `cpu` names the machine's processor.
  { rps, samples, cpuNsPerRequest, cpuSamples, rounds, seconds, pinned },
);
