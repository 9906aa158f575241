// The layout rules of docs/DESIGN.md ("The map"), checked: no file under src/ over 800
// lines, no import cycle (type-only imports included), the dashboard
// imports nothing from the CLI, and the root export stays small. Run
// `node scripts/layout.mjs` for a report; tests/layout_test.ts asserts it.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Files under src/ that are generated, not written by hand. */
export const GENERATED = new Set(["src/drain/_worker_sources.ts"]);

/** The most lines a hand-written file under src/ may have. */
export const MAX_LINES = 800;

/** The most names mod.ts may export. */
export const MAX_ROOT_EXPORTS = 55;

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** Every relative specifier a module imports or re-exports, types included. */
export function importsOf(source) {
  const found = [];
  // Comments out first, so an example in JSDoc is not an import.
  const code = source
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
  const re =
    /(?:^|[;\s])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/g;
  for (const m of code.matchAll(re)) found.push(m[1]);
  return found;
}

/** The module graph of mod.ts and src/: file -> files it imports. */
export function moduleGraph(root = ROOT) {
  const files = [join(root, "mod.ts"), ...walk(join(root, "src"))];
  const graph = new Map();
  for (const file of files) {
    const rel = relative(root, file);
    if (GENERATED.has(rel)) continue;
    const deps = importsOf(readFileSync(file, "utf8"))
      .map((s) => relative(root, resolve(dirname(file), s)))
      .filter((d) => d.startsWith("src/") || d === "mod.ts");
    graph.set(rel, [...new Set(deps)]);
  }
  return graph;
}

/** Every import cycle, each as the list of files around it. */
export function cycles(graph) {
  const found = [];
  const state = new Map(); // 1 = on the stack, 2 = done
  const stack = [];
  const visit = (file) => {
    state.set(file, 1);
    stack.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (state.get(dep) === 1) {
        found.push([...stack.slice(stack.indexOf(dep)), dep]);
      } else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(file, 2);
  };
  for (const file of [...graph.keys()].sort()) {
    if (!state.has(file)) visit(file);
  }
  return found;
}

/** Hand-written files under src/ over MAX_LINES lines. */
export function longFiles(root = ROOT) {
  const out = [];
  for (const file of walk(join(root, "src"))) {
    const rel = relative(root, file);
    if (GENERATED.has(rel)) continue;
    const lines = readFileSync(file, "utf8").split("\n").length - 1;
    if (lines > MAX_LINES) out.push({ file: rel, lines });
  }
  return out;
}

/** Imports from src/dashboard/ into src/cli/. */
export function dashboardIntoCli(graph) {
  const out = [];
  for (const [file, deps] of graph) {
    if (!file.startsWith("src/dashboard")) continue;
    for (const dep of deps) {
      if (dep.startsWith("src/cli/")) out.push(`${file} -> ${dep}`);
    }
  }
  return out;
}

/** The names a module exports (export { a, type B } blocks and declarations). */
export function exportedNames(source) {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "");
  const names = new Set();
  for (const m of code.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of m[1].split(",")) {
      const name = part.trim().replace(/^type\s+/, "").split(/\s+as\s+/).pop()
        .trim();
      if (name) names.add(name);
    }
  }
  for (
    const m of code.matchAll(
      /export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|class|const|let|interface|type|enum)\s+([\w$]+)/g,
    )
  ) names.add(m[1]);
  return [...names];
}

/** Everything the rules find wrong, as lines of text; empty when all hold. */
export function layoutProblems(root = ROOT) {
  const problems = [];
  const graph = moduleGraph(root);
  for (const c of cycles(graph)) problems.push(`cycle: ${c.join(" -> ")}`);
  for (const { file, lines } of longFiles(root)) {
    problems.push(`${file}: ${lines} lines (most ${MAX_LINES})`);
  }
  for (const edge of dashboardIntoCli(graph)) {
    problems.push(`dashboard imports the CLI: ${edge}`);
  }
  const names = exportedNames(readFileSync(join(root, "mod.ts"), "utf8"));
  if (names.length > MAX_ROOT_EXPORTS) {
    problems.push(
      `mod.ts exports ${names.length} names (most ${MAX_ROOT_EXPORTS})`,
    );
  }
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const problems = layoutProblems();
  const names = exportedNames(readFileSync(join(ROOT, "mod.ts"), "utf8"));
  console.log(`mod.ts exports ${names.length} names`);
  for (const p of problems) console.log(p);
  process.exitCode = problems.length === 0 ? 0 : 1;
}
