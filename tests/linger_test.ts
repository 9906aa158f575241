// The drain's worker lingers after the rings run dry: it polls on a short
// timer instead of sleeping, so a steady trickle of events (a server's)
// costs producers no wake-up calls, while a burst that fills a quarter of
// the ring still wakes it at once and nothing is lost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../mod.ts";
import { internals } from "../src/logger/logger.ts";
import { fileSink } from "../src/sinks/file.ts";
import {
  CTL_COMMIT,
  CTL_READ,
  CTL_WAITING,
  WAITING_ASLEEP,
  WAITING_LINGER,
} from "../src/ring/ring.ts";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertAccounting, sleep } from "./helpers.ts";

const LIMIT = { timeout: 60_000 };

function setup(ringBytes: number) {
  const dir = mkdtempSync(join(tmpdir(), "ttlog-linger-"));
  const path = join(dir, "out.ndjson");
  const log = createLogger({
    sinks: [fileSink({ path, format: "ndjson" })],
    directives: "",
    worker: true,
    ring: { bytes: ringBytes },
  });
  const recorder = internals(log).recorder;
  let wakes = 0;
  const wake = recorder.wake;
  recorder.wake = () => {
    wakes++;
    wake();
  };
  return {
    log,
    dir,
    lines: () => readFileSync(path, "utf8").split("\n").filter((l) => l),
    wakes: () => wakes,
  };
}

test(
  "a steady trickle of events does not ring the worker for each one",
  LIMIT,
  async () => {
    const { log, dir, lines, wakes } = setup(1 << 20);
    try {
      log.info("first");
      await log.flush();
      const before = wakes();
      for (let i = 0; i < 60; i++) {
        log.info("tick", { i });
        await sleep(1);
      }
      // Without lingering, most of these would find the worker asleep
      // (it drains each event in microseconds) and ring it.
      assert.ok(
        wakes() - before <= 3,
        `${wakes() - before} wake-ups for 60 events`,
      );
      const m = await assertAccounting(log);
      assert.equal(m.emitted, 61);
      assert.equal(lines().length, 61);
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("producers: asleep rings on every commit, lingering only past a quarter of the ring unread, awake never", () => {
  const ring = 64 * 1024;
  const log = createLogger({
    sinks: [],
    directives: "",
    worker: false,
    ring: { bytes: ring },
  });
  const { recorder, ring: memory } = internals(log);
  // Stand in for the drain: count the wake-ups, read nothing.
  let wakes = 0;
  recorder.wake = () => wakes++;
  const unread = () =>
    (Atomics.load(memory.ctl, CTL_COMMIT) -
      Atomics.load(memory.ctl, CTL_READ)) |
    0;
  const payload = "x".repeat(60);

  Atomics.store(memory.ctl, CTL_WAITING, 0);
  for (let i = 0; i < 10; i++) log.info("awake", { i, payload });
  assert.equal(wakes, 0);

  Atomics.store(memory.ctl, CTL_WAITING, WAITING_ASLEEP);
  for (let i = 0; i < 10; i++) log.info("asleep", { i, payload });
  assert.equal(wakes, 10);

  wakes = 0;
  Atomics.store(memory.ctl, CTL_WAITING, WAITING_LINGER);
  let firstWakeAt = -1;
  for (let i = 0; i < 400 && firstWakeAt < 0; i++) {
    log.info("lingering", { i, payload });
    if (wakes > 0) firstWakeAt = unread();
  }
  assert.ok(firstWakeAt > 0, "a lingering drain was never woken");
  // Woken on the first commit past a quarter, not before.
  assert.ok(firstWakeAt > ring / 4, `woken at ${firstWakeAt} bytes unread`);
  assert.ok(
    firstWakeAt <= ring / 4 + 200,
    `woken at ${firstWakeAt} bytes unread`,
  );
  // The real drain would now be awake; close without waiting for it.
  recorder.wake = () => {};
  Atomics.store(memory.ctl, CTL_WAITING, 0);
  void log.close();
});

test(
  "a burst past a quarter of the ring while the worker lingers: every loss counted, the rest in order",
  LIMIT,
  async () => {
    const ring = 64 * 1024;
    const { log, dir, lines } = setup(ring);
    try {
      log.info("first");
      await log.flush();
      const payload = "x".repeat(60);
      for (let i = 0; i < 2000; i++) log.info("burst", { i, payload });
      const m = await assertAccounting(log);
      assert.equal(m.logged, 2001);
      // Overwrite policy: the worker may lose the race on two cores, but
      // every loss is counted, and what arrived is in order.
      const got = lines().map((l) => JSON.parse(l).i as number | undefined)
        .filter((i) => i !== undefined) as number[];
      for (let k = 1; k < got.length; k++) assert.ok(got[k] > got[k - 1]);
      assert.equal(got.length + m.lost, 2000);
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
