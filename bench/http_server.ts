// A hello-world HTTP server for bench/http_serve.ts, on this runtime's own
// server (Deno.serve, Bun.serve, node:http through nodeListener), in one of
// these variants:
//
// - "bare": no logging;
// - "ttlog-off": withLogging with a logger whose levels are off: the
//   wrapper's own work (the request id read and echoed, the context) and no
//   event;
// - "ttlog": withLogging, an NDJSON file sink;
// - "ttlog-bin": withLogging, a `.ttlog` file (binary records, decoded by
//   the CLI later, as NanoLog does);
//   both drained where `worker: "auto"` puts the drain: its worker thread, or
//   the server's own thread when the process may use one CPU only (as when
//   http_serve.ts pins it);
// - "ttlog-noctx": as "ttlog" with `context: false`: no AsyncLocalStorage
//   context (the request event carries the ids itself; the app's own events
//   would not);
// - "pino": one pino-http-shaped line per request (a counter id, no header,
//   no context) to a file through pino's asynchronous destination;
// - "pino-full": pino doing what withLogging does: the request id read from
//   x-request-id or generated, echoed in the response, and carried by an
//   AsyncLocalStorage context that pino's `mixin` adds to every line.
//
// Prints `port <n>` when listening; ends on SIGTERM.
//
// Usage: http_server.ts <variant> <dir>
import { AsyncLocalStorage } from "node:async_hooks";
import process from "node:process";
import pino from "pino";
import { createLogger } from "../mod.ts";
import { fileSink } from "../src/sinks/file.ts";
import { withLogging } from "../src/http.ts";
import { serve } from "../tests/fixtures/serve.ts";

const [variant, dir] = process.argv.slice(2);
const hello = (_req: Request) => new Response("hello world");

let handler: (req: Request) => Response | Promise<Response> = hello;
let close = async () => {};
const ttlog = (
  path: string,
  format: "ndjson" | "ttlog",
  on = true,
  context = true,
) => {
  const log = createLogger({
    service: "bench",
    sinks: [fileSink({ path, format })],
    worker: process.env.TTLOG_WORKER === "0" ? false : "auto",
    ...(on ? {} : { level: "off", recordLevel: "off" }),
  });
  handler = withLogging(hello, { log, context });
  close = () => log.close();
};
const pinoLogger = (mixin?: () => Record<string, unknown>) => {
  const destination = pino.destination({
    dest: `${dir}/pino.ndjson`,
    sync: false,
  });
  close = () =>
    new Promise<void>((ok) => {
      destination.flushSync();
      ok();
    });
  return pino(
    mixin === undefined
      ? { base: { service: "bench" } }
      : { base: { service: "bench" }, mixin },
    destination,
  );
};
if (variant === "bare") { /* the hello handler as it is */ }
else if (variant === "ttlog-off") ttlog(`${dir}/ttlog.ndjson`, "ndjson", false);
else if (variant === "ttlog") ttlog(`${dir}/ttlog.ndjson`, "ndjson");
else if (variant === "ttlog-bin") ttlog(`${dir}/ttlog.ttlog`, "ttlog");
else if (variant === "ttlog-noctx") {
  ttlog(`${dir}/ttlog.ndjson`, "ndjson", true, false);
} else if (variant === "pino") {
  const logger = pinoLogger();
  // What pino-http logs per request (its default id is a counter).
  let next = 0;
  handler = (req: Request) => {
    const start = performance.now();
    const id = ++next;
    const res = hello(req);
    logger.info({
      req: { id, method: req.method, url: req.url },
      res: { statusCode: res.status },
      responseTime: performance.now() - start,
    }, "request completed");
    return res;
  };
} else if (variant === "pino-full") {
  const context = new AsyncLocalStorage<{ request_id: string }>();
  const logger = pinoLogger(() => context.getStore() ?? {});
  const respond = (req: Request, id: string): Response => {
    const start = performance.now();
    const res = hello(req);
    const url = req.url;
    logger.info({
      method: req.method,
      path: url.slice(url.indexOf("/", url.indexOf("//") + 2)),
      status: res.status,
      ms: performance.now() - start,
    }, "request");
    res.headers.set("x-request-id", id);
    return res;
  };
  handler = (req: Request) => {
    const id = req.headers.get("x-request-id") ?? crypto.randomUUID();
    return context.run({ request_id: id }, respond, req, id);
  };
} else {
  throw new Error(`http_server: unknown variant ${variant}`);
}

const server = await serve(handler);
process.stdout.write(`port ${new URL(server.url).port}\n`);
process.on("SIGTERM", async () => {
  await server.close();
  await close();
  process.exit(0);
});
