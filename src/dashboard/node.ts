/**
 * The dashboard on node:http: `nodeListener` from ./http.ts, plus the
 * socket's remote address passed to the handler the way `Deno.serve` passes
 * it (`info.remoteAddr.hostname`), so the loopback check works.
 *
 * @module
 */

import {
  nodeListener,
  type NodeRequestLike,
  type NodeResponseLike,
} from "../http.ts";
import { TtlogConfigError } from "../errors.ts";
import type { DashboardHandler } from "./handler.ts";

/**
 * Adapts the dashboard's handler to node:http's `(req, res)` listener,
 * passing the connection's remote address along (node:http does not put it
 * on the Request). Works under Node, Bun and Deno's node:http.
 *
 * @param handler What {@link dashboardHandler} returned.
 * @returns A listener for `http.createServer()`.
 * @throws {TtlogConfigError} When `handler` is not a function.
 *
 * @example Serve the dashboard with node:http on the loopback
 * ```ts
 * import { createServer } from "node:http";
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { dashboardHandler, dashboardNodeListener } from "@ttlog/ttlog/dashboard";
 * import assert from "node:assert/strict";
 * const log = createLogger({ sinks: [memorySink()] });
 * const server = createServer(dashboardNodeListener(dashboardHandler(log)));
 * await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
 * const { port } = server.address() as { port: number };
 * const res = await fetch(`http://127.0.0.1:${port}/api/metrics`);
 * assert.equal(res.status, 200);
 * assert.equal((await res.json()).service, "app");
 * await new Promise((ok) => server.close(ok));
 * await log.close();
 * ```
 */
export function dashboardNodeListener(
  handler: DashboardHandler,
): (req: NodeRequestLike, res: NodeResponseLike) => void {
  if (typeof handler !== "function") {
    throw new TtlogConfigError(
      `dashboardNodeListener: handler must be what dashboardHandler() returned, got ${typeof handler}`,
    );
  }
  return (req, res) => {
    const socket = req.socket as
      | { remoteAddress?: unknown; remotePort?: unknown }
      | null
      | undefined;
    const hostname = typeof socket?.remoteAddress === "string"
      ? socket.remoteAddress
      : "";
    const info = {
      remoteAddr: {
        transport: "tcp",
        hostname,
        port: typeof socket?.remotePort === "number" ? socket.remotePort : 0,
      },
    };
    nodeListener((request) => handler(request, info))(req, res);
  };
}
