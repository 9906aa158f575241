/**
 * The node:http adapter: a fetch-style handler as an `(req, res)` listener,
 * for Node (Deno and Bun serve fetch handlers as they are).
 *
 * @module
 */

import { TtlogConfigError } from "../errors.ts";
import type { FetchHandler } from "./request.ts";

/**
 * The parts of node:http's IncomingMessage that {@link nodeListener} reads.
 *
 * @example Feed a listener a request body without a server
 * ```ts
 * import { nodeListener, type NodeRequestLike } from "@ttlog/ttlog/http";
 * import assert from "node:assert/strict";
 * const req: NodeRequestLike = {
 *   method: "POST",
 *   url: "/echo",
 *   headers: { host: "example.test" },
 *   async *[Symbol.asyncIterator]() {
 *     yield new TextEncoder().encode("ping");
 *   },
 * };
 * const echo = nodeListener(async (request) => new Response(await request.text()));
 * let body = "";
 * await new Promise((done) => {
 *   echo(req, {
 *     headersSent: false,
 *     writeHead() {},
 *     write(chunk) {
 *       body += new TextDecoder().decode(chunk);
 *       return true;
 *     },
 *     end: done,
 *     once() {},
 *     destroy: done,
 *   });
 * });
 * assert.equal(body, "ping");
 * ```
 */
export interface NodeRequestLike extends AsyncIterable<Uint8Array> {
  /** The method. */
  readonly method?: string;
  /** The path and query. */
  readonly url?: string;
  /** Header names (lowercase) to values. */
  readonly headers: Record<string, string | string[] | undefined>;
  /** The connection (a node:tls socket has `encrypted: true`). */
  readonly socket?: object | null;
}

/**
 * The parts of node:http's ServerResponse that {@link nodeListener} uses.
 *
 * @example Read the status and headers a listener sends
 * ```ts
 * import { nodeListener, type NodeResponseLike } from "@ttlog/ttlog/http";
 * import assert from "node:assert/strict";
 * let status = 0;
 * let headers: string[] = [];
 * await new Promise((done) => {
 *   const res: NodeResponseLike = {
 *     headersSent: false,
 *     writeHead(code, list) {
 *       status = code;
 *       headers = list.flat();
 *     },
 *     write: () => true,
 *     end: done,
 *     once: () => {},
 *     destroy: done,
 *   };
 *   const listener = nodeListener(() => new Response(null, { status: 204, headers: { "x-app": "shop" } }));
 *   listener({ method: "GET", url: "/", headers: {}, async *[Symbol.asyncIterator]() {} }, res);
 * });
 * assert.equal(status, 204);
 * assert.deepEqual(headers, ["x-app", "shop"]);
 * ```
 */
export interface NodeResponseLike {
  /** Whether the status line was sent. */
  readonly headersSent: boolean;
  /** Sends the status line and headers. */
  writeHead(status: number, headers: [string, string][] | string[]): unknown;
  /** Sends a piece of the body; false when the socket's buffer is full. */
  write(chunk: Uint8Array): boolean;
  /** Ends the response. */
  end(chunk?: string): unknown;
  /** Waits for room: "drain". */
  once(event: "drain" | "close", listener: () => void): unknown;
  /** Drops the connection. */
  destroy(error?: Error): unknown;
}

/**
 * Adapts a fetch-style handler to node:http's `(req, res)` listener, for
 * Node (Deno and Bun have `Deno.serve` and `Bun.serve`, which take the
 * handler as it is). Request bodies are streamed in, response bodies
 * streamed out with backpressure. A handler that throws gets a bare 500.
 *
 * @param handler The handler (wrap it with {@link withLogging} first).
 * @returns A listener for `http.createServer()`.
 *
 * @example With node:http
 * ```ts
 * import { createServer } from "node:http";
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { nodeListener, withLogging } from "@ttlog/ttlog/http";
 * import assert from "node:assert/strict";
 * const log = createLogger({ sinks: [memorySink()] });
 * const server = createServer(
 *   nodeListener(withLogging(() => new Response("hi"), { log })),
 * );
 * await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
 * const { port } = server.address() as { port: number };
 * const res = await fetch(`http://127.0.0.1:${port}/`);
 * assert.equal(await res.text(), "hi");
 * assert.ok(res.headers.get("x-request-id"));
 * await new Promise((ok) => server.close(ok));
 * await log.close();
 * ```
 */
export function nodeListener(
  handler: FetchHandler<[]>,
): (req: NodeRequestLike, res: NodeResponseLike) => void {
  if (typeof handler !== "function") {
    throw new TtlogConfigError(
      `nodeListener: handler must be a function, got ${typeof handler}`,
    );
  }
  return (req, res) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) {
        for (const item of value) headers.append(name, item);
      } else headers.set(name, value);
    }
    const method = req.method ?? "GET";
    const scheme =
      (req.socket as { encrypted?: boolean } | null | undefined)?.encrypted
        ? "https"
        : "http";
    const url = `${scheme}://${headers.get("host") ?? "localhost"}${
      req.url ?? "/"
    }`;
    const hasBody = method !== "GET" && method !== "HEAD";
    const init: RequestInit & { duplex?: "half" } = { method, headers };
    if (hasBody) {
      const iterator = req[Symbol.asyncIterator]();
      init.body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { value, done } = await iterator.next();
          if (done) controller.close();
          else controller.enqueue(value);
        },
        async cancel() {
          await iterator.return?.();
        },
      });
      init.duplex = "half";
    }
    let request: Request;
    try {
      request = new Request(url, init);
    } catch {
      res.writeHead(400, [["content-type", "text/plain"]]);
      res.end("Bad Request");
      return;
    }
    Promise.resolve()
      .then(() => handler(request))
      .then(async (response) => {
        const out: string[] = [];
        response.headers.forEach((value, name) => {
          if (name !== "set-cookie") out.push(name, value);
        });
        for (const cookie of response.headers.getSetCookie?.() ?? []) {
          out.push("set-cookie", cookie);
        }
        res.writeHead(response.status, out);
        if (response.body === null || method === "HEAD") {
          res.end();
          return;
        }
        const reader = response.body.getReader();
        let closed = false;
        let wake: (() => void) | undefined;
        res.once("close", () => {
          closed = true;
          wake?.();
          reader.cancel().catch(() => {});
        });
        while (!closed) {
          const { value, done } = await reader.read();
          if (done) break;
          if (!res.write(value)) {
            // Room again, or the client went away.
            await new Promise<void>((ok) => {
              wake = ok;
              res.once("drain", ok);
            });
          }
        }
        res.end();
      })
      .catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, [["content-type", "text/plain"]]);
          res.end("Internal Server Error");
        } else res.destroy(error instanceof Error ? error : undefined);
      });
  };
}
