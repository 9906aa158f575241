// A hello-world HTTP server for bench/http_serve.ts, on this runtime's own
// server (Deno.serve, Bun.serve, node:http through nodeListener), in one of
// three variants: "bare" (no logging), "ttlog" (withLogging, an ndjson file
// sink drained by ttlog's worker) or "pino" (one pino-http-shaped line per
// request to a file through pino's asynchronous destination). Prints
// `port <n>` when listening; ends on SIGTERM.
//
// Usage: http_server.ts <bare|ttlog|pino> <dir>
import process from "node:process";
import pino from "pino";
import { createLogger } from "../mod.ts";
import { fileSink } from "../src/sinks/file.ts";
import { withLogging } from "../src/http.ts";
import { serve } from "../tests/fixtures/serve.ts";

const [variant, dir] = process.argv.slice(2);
const hello = (_req: Request) => new Response("hello world");

let handler: (req: Request) => Response | Promise<Response>;
let close = async () => {};
if (variant === "bare") handler = hello;
else if (variant === "ttlog") {
  const log = createLogger({
    service: "bench",
    sinks: [fileSink({ path: `${dir}/ttlog.ndjson`, format: "ndjson" })],
    worker: process.env.TTLOG_WORKER === "0" ? false : "auto",
  });
  handler = withLogging(hello, { log });
  close = () => log.close();
} else if (variant === "pino") {
  const destination = pino.destination({
    dest: `${dir}/pino.ndjson`,
    sync: false,
  });
  const logger = pino({ base: { service: "bench" } }, destination);
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
  close = () =>
    new Promise<void>((ok) => {
      destination.flushSync();
      ok();
    });
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
