// The layout rules of docs/DESIGN.md ("The map"), asserted: no file under
// src/ over 800 lines, no import cycle (type-only imports included), the
// dashboard importing nothing from the CLI, and at most 55 root exports.
// scripts/layout.mjs finds them; each check is also run on a case made to
// break it, so the test fails when the thing it names breaks.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  cycles,
  exportedNames,
  importsOf,
  layoutProblems,
  MAX_ROOT_EXPORTS,
  moduleGraph,
} from "../scripts/layout.mjs";

test("the layout rules hold for this tree", () => {
  assert.deepEqual(layoutProblems(), []);
});

test("the import scan sees every form, types and re-exports included, and no comments", () => {
  const source = [
    'import { a } from "./a.ts";',
    'import type { B } from "../b.ts";',
    "import {\n  c,\n  type D,\n} from './c.ts';",
    'export { e } from "./e.ts";',
    'export type { F } from "./f.ts";',
    'export * from "./g.ts";',
    'import "./side_effect.ts";',
    '/**\n * import { fromDoc } from "./doc.ts";\n */',
    '// import { fromComment } from "./comment.ts";',
    'import { remote } from "npm:pino";',
  ].join("\n");
  assert.deepEqual(importsOf(source), [
    "./a.ts",
    "../b.ts",
    "./c.ts",
    "./e.ts",
    "./f.ts",
    "./g.ts",
    "./side_effect.ts",
  ]);
});

test("a cycle is found, a type-only one too; a tree without one has none", () => {
  const graph = new Map([
    ["src/a.ts", ["src/b.ts"]],
    ["src/b.ts", ["src/c.ts"]],
    ["src/c.ts", ["src/a.ts"]],
    ["src/d.ts", ["src/a.ts"]],
  ]);
  assert.deepEqual(cycles(graph), [[
    "src/a.ts",
    "src/b.ts",
    "src/c.ts",
    "src/a.ts",
  ]]);
  graph.set("src/c.ts", []);
  assert.deepEqual(cycles(graph), []);
  // The real graph reads type-only imports: logger/types.ts imports
  // options.ts for types alone.
  assert.ok(
    moduleGraph().get("src/logger/types.ts")?.includes(
      "src/logger/options.ts",
    ),
  );
});

test("the export count counts every name of mod.ts's export lists", () => {
  const names = exportedNames(
    'export { a, type B, c as d } from "./x.ts";\nexport type { E } from "./y.ts";\nexport const f = 1;',
  );
  assert.deepEqual(names.sort(), ["B", "E", "a", "d", "f"]);
  assert.equal(MAX_ROOT_EXPORTS, 55);
});
