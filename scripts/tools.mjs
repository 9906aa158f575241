// @ts-check
/**
 * The outside tools the test suite runs, in one list: where each is looked
 * up, which Debian package brings it, and which tests need it. `npm test`
 * (scripts/test.mjs) calls {@link ensureTools} before any suite: a missing
 * tool is installed where that can be done (root with apt-get), else the run
 * stops with one message naming what is missing and how to install it.
 * Tests find each tool through {@link toolPath}, so an override
 * (`TTLOG_LZ4=/opt/bin/lz4`) reaches every test the same way.
 *
 * Plain Node ESM without dependencies: it runs before anything is built.
 *
 * Usage:
 *   node scripts/tools.mjs --check    report what is missing, install nothing
 *   node scripts/tools.mjs            install what is missing, where possible
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/**
 * One outside tool.
 *
 * @typedef {object} Tool
 * @property {string} name The command's name.
 * @property {string} env The variable that overrides where it is (a path).
 * @property {readonly string[]} dirs Directories searched after PATH (sbin
 *   directories are often not on a user's PATH).
 * @property {string} debian The Debian package that installs it.
 * @property {string} neededBy Which tests run it, for the messages.
 */

/** @type {readonly Tool[]} */
export const TOOLS = Object.freeze([
  {
    name: "lz4",
    env: "TTLOG_LZ4",
    dirs: ["/usr/bin", "/usr/local/bin"],
    debian: "lz4",
    neededBy: "the LZ4 interop tests (lz4 -t / -dc read our frames)",
  },
  {
    name: "gzip",
    env: "TTLOG_GZIP",
    dirs: ["/usr/bin", "/bin"],
    debian: "gzip",
    neededBy: "the gzip interop tests (gzip -t / -dc read our members)",
  },
  {
    name: "rsyslogd",
    env: "TTLOG_RSYSLOGD",
    dirs: ["/usr/sbin", "/sbin", "/usr/local/sbin"],
    debian: "rsyslog",
    neededBy: "the syslog sink's tests against a real rsyslogd",
  },
  {
    name: "chromium",
    env: "TTLOG_CHROMIUM",
    dirs: ["/usr/bin"],
    debian: "chromium",
    neededBy: "the dashboard's browser test",
  },
  {
    name: "taskset",
    env: "TTLOG_TASKSET",
    dirs: ["/usr/bin", "/bin"],
    debian: "util-linux",
    neededBy: "the one-CPU drain test",
  },
]);

/**
 * Whether a path is an executable file.
 *
 * @param {string} path
 * @returns {boolean}
 */
function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where a tool is: its override when set (used as given, found or not), else
 * the first executable on PATH, then in the tool's own directories.
 *
 * @param {Tool} tool
 * @param {Record<string, string | undefined>} env
 * @returns {{ path: string | undefined, overridden: boolean }}
 */
export function locate(tool, env) {
  const override = env[tool.env];
  if (override !== undefined && override !== "") {
    return {
      path: isAbsolute(override) && isExecutable(override)
        ? override
        : undefined,
      overridden: true,
    };
  }
  const onPath = (env.PATH ?? "").split(delimiter).filter((dir) => dir !== "");
  for (const dir of [...onPath, ...tool.dirs]) {
    const candidate = join(dir, tool.name);
    if (isExecutable(candidate)) return { path: candidate, overridden: false };
  }
  return { path: undefined, overridden: false };
}

/**
 * The path of a tool the tests run, for spawn. Throws, saying how to get it,
 * when it is missing: `npm test` installs the tools before the suites run, so
 * this only happens when a test file is run by hand.
 *
 * @param {string} name A name from {@link TOOLS}.
 * @returns {string} An absolute path.
 */
export function toolPath(name) {
  const tool = TOOLS.find((candidate) => candidate.name === name);
  if (tool === undefined) {
    throw new Error(
      `unknown tool "${name}": add it to TOOLS in scripts/tools.mjs`,
    );
  }
  const { path, overridden } = locate(tool, process.env);
  if (path === undefined) {
    throw new Error(
      overridden
        ? `${tool.env}=${
          process.env[tool.env]
        } is not an executable file (an absolute path to ${name} is expected)`
        : `${name} is not installed; it is needed for ${tool.neededBy}. ` +
          `Run npm test, which installs it where it can, or install the ` +
          `package ${tool.debian} (apt-get install -y ${tool.debian}).`,
    );
  }
  return path;
}

/**
 * What to do about the missing tools.
 *
 * @typedef {{ action: "none" }
 *   | { action: "install", packages: string[], line: string }
 *   | { action: "stop", message: string }} SetupPlan
 */

/**
 * Decides how to set up the missing tools: nothing, install them with
 * apt-get (root on Linux with apt-get, and no override pointing elsewhere),
 * or stop with one message.
 *
 * @param {object} facts
 * @param {readonly { tool: Tool, overridden: boolean }[]} facts.missing
 * @param {boolean} facts.root Whether this process runs as root.
 * @param {boolean} facts.aptGet Whether apt-get is there.
 * @param {string} facts.platform `process.platform`.
 * @returns {SetupPlan}
 */
export function planSetup({ missing, root, aptGet, platform }) {
  if (missing.length === 0) return { action: "none" };
  const packages = [...new Set(missing.map(({ tool }) => tool.debian))];
  const badOverrides = missing.filter(({ overridden }) => overridden);
  if (
    badOverrides.length === 0 && platform === "linux" && root && aptGet
  ) {
    return {
      action: "install",
      packages,
      line: `npm test: installing ${packages.join(", ")} with apt-get: ${
        missing.map(({ tool }) => `${tool.name} for ${tool.neededBy}`).join(
          "; ",
        )
      }`,
    };
  }
  const lines = missing.map(({ tool, overridden }) =>
    overridden
      ? `  ${tool.name}, for ${tool.neededBy}: ${tool.env} does not name an executable file`
      : `  ${tool.name} (Debian package ${tool.debian}), for ${tool.neededBy}`
  );
  const how = platform === "darwin"
    ? "On macOS: brew install lz4 rsyslog util-linux, and point TTLOG_CHROMIUM at a Chromium or Chrome binary."
    : `Install them with: sudo apt-get install -y ${packages.join(" ")}` +
      (root ? "" : " (npm test installs them itself when run as root)");
  return {
    action: "stop",
    message: [
      "npm test needs tools that are not installed, so it runs no suite:",
      ...lines,
      how,
      "Or set the variable named for a tool to its absolute path.",
    ].join("\n"),
  };
}

/**
 * The tools from {@link TOOLS} that are missing here.
 *
 * @param {Record<string, string | undefined>} env
 * @returns {{ tool: Tool, overridden: boolean }[]}
 */
export function missingTools(env) {
  return TOOLS.flatMap((tool) => {
    const { path, overridden } = locate(tool, env);
    return path === undefined ? [{ tool, overridden }] : [];
  });
}

/**
 * Checks the tools and installs the missing ones where it can. Prints one
 * line for an install, one message when it cannot; prints nothing when all
 * are there.
 *
 * @param {{ install?: boolean, write?: (text: string) => void }} [options]
 *   `install: false` only reports.
 * @returns {{ ok: boolean, message?: string }}
 */
export function ensureTools(options = {}) {
  const write = options.write ?? ((text) => process.stderr.write(text));
  const missing = missingTools(process.env);
  const aptGet = TOOLS_APT_GET.some(isExecutable);
  const plan = planSetup({
    missing,
    root: options.install !== false && process.getuid?.() === 0,
    aptGet,
    platform: process.platform,
  });
  if (plan.action === "none") return { ok: true };
  if (plan.action === "stop") {
    write(plan.message + "\n");
    return { ok: false, message: plan.message };
  }
  write(plan.line + "\n");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (
    const args of [
      ["update", "-qq"],
      ["install", "-y", "-qq", "--no-install-recommends", ...plan.packages],
    ]
  ) {
    const result = spawnSync("apt-get", args, { env, encoding: "utf8" });
    if (result.status !== 0) {
      const message =
        `npm test could not install ${plan.packages.join(", ")}: ` +
        `apt-get ${args[0]} failed (${
          result.error?.message ?? `exit ${result.status}`
        }):\n${(result.stderr ?? "").trim()}`;
      write(message + "\n");
      return { ok: false, message };
    }
  }
  const still = missingTools(process.env);
  if (still.length > 0) {
    const message = `npm test installed ${
      plan.packages.join(", ")
    } but still cannot find ${still.map(({ tool }) => tool.name).join(", ")}`;
    write(message + "\n");
    return { ok: false, message };
  }
  return { ok: true };
}

const TOOLS_APT_GET = ["/usr/bin/apt-get", "/bin/apt-get"];

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = ensureTools({ install: !process.argv.includes("--check") });
  process.exitCode = result.ok ? 0 : 1;
}
