#!/usr/bin/env node
// Builds the npm package for Node (Deno and Bun run the TypeScript source):
// compiled ES2022 JavaScript and .d.ts files from tsc, one entry per
// deno.json export, the `ttlog` bin, and a package.json with an exports map.
//
//   node scripts/build_npm.mjs [--out DIR] [--pack]
//
// --out   where the package goes (default dist/npm; emptied first)
// --pack  also run `npm pack` there and print the tarball's path last
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const outArg = args.indexOf("--out");
const out = resolve(outArg >= 0 ? args[outArg + 1] : join(root, "dist/npm"));
const pack = args.includes("--pack");

function fail(message) {
  console.error(`build_npm: ${message}`);
  process.exit(1);
}

const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
const rootPackage = JSON.parse(
  readFileSync(join(root, "package.json"), "utf8"),
);
const entries = Object.entries(deno.exports ?? {});
for (const [name, file] of entries) {
  if (!existsSync(join(root, file))) {
    fail(`deno.json export ${name} names ${file}, which does not exist`);
  }
}

// tsc compiles the exports; the workers' code is inside them already
// (src/drain/_worker_sources.ts, built by scripts/build_workers.mjs).
const config = {
  extends: "./tsconfig.npm.json",
  files: [
    ...new Set([
      ...entries.map(([, file]) => join("..", file)),
      "npm_globals.d.ts",
    ]),
  ],
};
const configPath = join(root, "scripts", ".tsconfig.build.json");
writeFileSync(configPath, JSON.stringify(config, null, 2));
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const tsc = spawnSync(
  process.execPath,
  [
    join(root, "node_modules/typescript/bin/tsc"),
    "-p",
    configPath,
    "--outDir",
    out,
  ],
  { stdio: "inherit" },
);
rmSync(configPath, { force: true });
if (tsc.status !== 0) fail(`tsc failed (exit ${tsc.status})`);

const js = (file) => "./" + file.replace(/\.ts$/, ".js");
const dts = (file) => "./" + file.replace(/\.ts$/, ".d.ts");
const exportsMap = {};
for (const [name, file] of entries) {
  const clean = file.replace(/^\.\//, "");
  exportsMap[name] = {
    types: dts(clean),
    import: js(clean),
    default: js(clean),
  };
}
exportsMap["./package.json"] = "./package.json";

const cli = entries.find(([name]) => name === "./cli");
const bin = {};
if (cli !== undefined) {
  const main = join(out, js(cli[1].replace(/^\.\//, "")));
  const text = readFileSync(main, "utf8");
  if (!text.startsWith("#!")) {
    writeFileSync(main, "#!/usr/bin/env node\n" + text);
  }
  chmodSync(main, 0o755);
  bin.ttlog = js(cli[1].replace(/^\.\//, ""));
}

const manifest = {
  name: deno.name,
  version: deno.version,
  description: rootPackage.description,
  license: deno.license ?? rootPackage.license,
  type: "module",
  exports: exportsMap,
  main: exportsMap["."]?.import,
  types: exportsMap["."]?.types,
  bin,
  files: ["**/*.js", "**/*.d.ts", "README.md", "LICENSE"],
  engines: { node: ">=20.16" },
  dependencies: rootPackage.dependencies ?? {},
  keywords: ["logger", "logging", "deno", "bun", "node", "flight recorder"],
};
writeFileSync(
  join(out, "package.json"),
  JSON.stringify(manifest, null, 2) + "\n",
);
for (const file of ["README.md", "LICENSE"]) {
  copyFileSync(join(root, file), join(out, file));
}
console.log(
  `build_npm: ${relative(root, out) || out}: ${entries.length} entries, bin ${
    Object.keys(bin).join(", ") || "none"
  }`,
);

if (pack) {
  const result = spawnSync("npm", ["pack", "--silent"], {
    cwd: out,
    encoding: "utf8",
  });
  if (result.status !== 0) fail(`npm pack failed: ${result.stderr}`);
  const tarball = result.stdout.trim().split("\n").at(-1);
  console.log(join(out, tarball));
}
