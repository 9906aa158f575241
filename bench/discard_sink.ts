/**
 * A sink that discards what it gets, with a spec, so that benchmarks run the
 * drain where users' loggers run it: in the drain's worker thread.
 *
 * @module
 */

import type { LogRecord, Sink } from "../mod.ts";

/** Counts records and drops them. */
export function discardSink(): Sink {
  let count = 0;
  return {
    name: "discard",
    write(records: readonly LogRecord[]) {
      count += records.length;
    },
    flush() {
      if (count < 0) throw new Error("unreachable");
    },
    spec: { module: import.meta.url, factory: "discardSink", options: {} },
  };
}
