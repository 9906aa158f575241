/**
 * Rebuilding sinks from their specs, as the drain's worker does: ttlog's own
 * sinks come from the factories below, carried inside the worker's code
 * (so it needs no module lookup wherever ttlog was loaded from), any other
 * spec's module is imported by its URL.
 *
 * @module
 */

import { dashboardSinkFromSpec } from "../dashboard/sink.ts";
import { consoleSink } from "../sinks/console.ts";
import { fileSink } from "../sinks/file.ts";
import { httpSink } from "../sinks/http.ts";
import { otlpSink } from "../sinks/otlp.ts";
import {
  BUILTIN_SINK_MODULE,
  type Sink,
  type SinkSpec,
} from "../sinks/sink.ts";
import { syslogSink } from "../sinks/syslog.ts";

type Factory = (options: never) => Sink;

/** The built-in sinks' factories, by the name their specs give. */
const BUILTIN_FACTORIES: Readonly<Record<string, Factory>> = Object.freeze({
  consoleSink,
  fileSink,
  httpSink,
  otlpSink,
  syslogSink,
  dashboardSinkFromSpec,
});

/**
 * Builds the sink a spec describes.
 *
 * @param spec The recipe, as it crossed to this thread.
 * @param load Imports a module by URL (the worker passes its own `import()`).
 * @returns The rebuilt sink.
 * @throws {Error} When the module or its factory cannot be found.
 */
export async function sinkFromSpec(
  spec: SinkSpec,
  load: (url: string) => Promise<unknown> = (url) => import(url),
): Promise<Sink> {
  let factory: unknown;
  if (spec.module === BUILTIN_SINK_MODULE) {
    factory = Object.hasOwn(BUILTIN_FACTORIES, spec.factory)
      ? BUILTIN_FACTORIES[spec.factory]
      : undefined;
    if (factory === undefined) {
      throw new Error(
        `no built-in sink factory "${spec.factory}" (known: ${
          Object.keys(BUILTIN_FACTORIES).join(", ")
        })`,
      );
    }
  } else {
    const module = await load(spec.module) as Record<string, unknown>;
    factory = module[spec.factory];
    if (typeof factory !== "function") {
      throw new Error(
        `sink module ${spec.module} has no export ${spec.factory}`,
      );
    }
  }
  return (factory as (options: unknown) => Sink)(spec.options);
}
