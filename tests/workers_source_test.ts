// The workers start from code bundled into src/drain/_worker_sources.ts
// (scripts/build_workers.mjs): that copy must be what the source builds
// today, or the worker would run older code than the rest of ttlog.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { buildWorkerSources } from "../scripts/build_workers.mjs";
import {
  CLOCK_WORKER_SOURCE,
  DRAIN_WORKER_SOURCE,
} from "../src/drain/_worker_sources.ts";

test("the bundled worker code is what the source builds now (else: npm run build:workers)", async () => {
  const built = await buildWorkerSources();
  const committed = readFileSync(
    new URL("../src/drain/_worker_sources.ts", import.meta.url),
    "utf8",
  );
  assert.ok(
    built === committed,
    "src/drain/_worker_sources.ts is stale: run npm run build:workers and commit it",
  );
});

test("the bundled workers are self-contained: no import but the loader's and a sink module's by URL", () => {
  for (const source of [DRAIN_WORKER_SOURCE, CLOCK_WORKER_SOURCE]) {
    assert.doesNotMatch(source, /^import\s|[;\n]import\s*[{*\w]/m);
    assert.doesNotMatch(source, /\brequire\(/);
  }
  assert.equal(DRAIN_WORKER_SOURCE.match(/\bimport\(/g)?.length, 2);
  assert.doesNotMatch(CLOCK_WORKER_SOURCE, /\bimport\(/);
});
