/**
 * The dashboard's snapshot API (`/api/snapshots`): list, take, download,
 * and view a snapshot's events with the filters of `ttlog view`.
 *
 * @module
 */

import { ReaderError } from "../reader/errors.ts";
import { parseLast } from "../reader/select.ts";
import { nodeFs, tryBuiltin } from "../runtime/builtin.ts";
import { refuseCrossSite } from "./access.ts";
import type { DashboardLogger } from "./options.ts";
import { json, problem, SECURITY_HEADERS } from "./responses.ts";
import {
  filterFromQuery,
  listSnapshots,
  readRegularFile,
  resolveSnapshot,
  VIEW_PARAMS,
  viewSnapshot,
} from "./snapshots.ts";

// deno-lint-ignore no-control-regex
const REASON = /^[^\x00-\x1f\x7f]{1,80}$/;

/** Takes a snapshot for `POST /api/snapshots` (`{ "reason": "..." }`). */
async function takeSnapshot(
  request: Request,
  log: DashboardLogger,
  snapshotDir: string,
): Promise<Response> {
  let reason = "dashboard";
  const text = await request.text();
  if (text.trim() !== "") {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return problem(
        400,
        `the body must be JSON such as {"reason":"slow checkout"}`,
      );
    }
    const given = (body as { reason?: unknown } | null)?.reason;
    if (given !== undefined && given !== "") {
      if (typeof given !== "string" || !REASON.test(given)) {
        return problem(
          400,
          `reason must be a string of 1 to 80 characters without control characters`,
        );
      }
      reason = given;
    }
  }
  const path = await log.snapshot(reason);
  const fs = nodeFs("the dashboard's snapshots");
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  const name = path.slice(slash + 1);
  const pathModule = tryBuiltin<{ resolve(...parts: string[]): string }>(
    "node:path",
  );
  const inDir = pathModule === undefined
    ? path === `${snapshotDir}/${name}`
    : pathModule.resolve(path.slice(0, Math.max(slash, 0)) || ".") ===
      pathModule.resolve(snapshotDir);
  return json({
    name,
    path,
    reason,
    size: fs.statSync(path).size,
    listed: inDir,
    warning: inDir
      ? undefined
      : `the logger wrote the snapshot to ${path}, outside the dashboard's snapshotDir (${snapshotDir}): give dashboardHandler the same snapshotDir as createLogger's snapshot.dir`,
  }, 201);
}

/**
 * Answers the snapshot routes, `/api/snapshots` and below: `GET` lists the
 * files, `POST` takes a snapshot, `GET NAME` downloads one, `GET
 * NAME/events` views its events with the filters of `ttlog view` (and
 * `last`, at most 100000). A name is checked against the snapshot pattern
 * and the directory's listing before any file is opened.
 *
 * @param request The request (its access already checked).
 * @param url Its URL, parsed.
 * @param rest The path after `/api/snapshots/` (`""` for the list).
 * @param log The logger, to take snapshots.
 * @param snapshotDir The directory the snapshots are listed from.
 * @returns The answer.
 *
 * @example A name that cannot be a snapshot's is refused
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { snapshotRoute } from "./snapshot_routes.ts";
 * import assert from "node:assert/strict";
 * const log = createLogger({ sinks: [memorySink()] });
 * const url = new URL("http://127.0.0.1/api/snapshots/..%2Fsecret");
 * const res = await snapshotRoute(new Request(url), url, "..%2Fsecret", log, "ttlog-snapshots");
 * assert.equal(res.status, 400);
 * await log.close();
 * ```
 */
export function snapshotRoute(
  request: Request,
  url: URL,
  rest: string,
  log: DashboardLogger,
  snapshotDir: string,
): Response | Promise<Response> {
  if (rest === "") {
    if (request.method === "GET") {
      return json({ dir: snapshotDir, files: listSnapshots(snapshotDir) });
    }
    if (request.method === "POST") {
      return refuseCrossSite(request, url) ??
        takeSnapshot(request, log, snapshotDir);
    }
    return problem(405, `use GET or POST`, { allow: "GET, POST" });
  }
  const parts = rest.split("/");
  if (parts.length > 2 || (parts.length === 2 && parts[1] !== "events")) {
    return problem(404, `no such route`);
  }
  if (request.method !== "GET") {
    return problem(405, `use GET`, { allow: "GET" });
  }
  let name: string;
  try {
    name = decodeURIComponent(parts[0]);
  } catch {
    return problem(400, `the snapshot name is not valid percent-encoding`);
  }
  const found = resolveSnapshot(snapshotDir, name);
  if (found.status !== undefined) return problem(found.status, found.error);
  if (parts.length === 1) {
    let bytes: Uint8Array;
    try {
      bytes = readRegularFile(found.path);
    } catch {
      return problem(404, `no snapshot ${name} in ${snapshotDir}`);
    }
    return new Response(bytes as BodyInit, {
      headers: {
        ...SECURITY_HEADERS,
        "content-type": "application/octet-stream",
        "content-disposition": `attachment; filename="${name}"`,
        "content-length": String(bytes.length),
      },
    });
  }
  try {
    const filter = filterFromQuery(url.searchParams, VIEW_PARAMS);
    const last = parseLast(
      "dashboard",
      "last",
      url.searchParams.get("last") || undefined,
    ) ?? 1000;
    if (last > 100_000) {
      return problem(400, `last must be at most 100000, got ${last}`);
    }
    const view = viewSnapshot(found.path, filter, last);
    const { lines, ...rest } = view;
    // The lines are JSON already: spliced in, not parsed and stringified again.
    const head = JSON.stringify({ name, last, ...rest });
    return new Response(
      `${head.slice(0, -1)},"lines":[${lines.join(",")}]}`,
      {
        headers: {
          ...SECURITY_HEADERS,
          "content-type": "application/json; charset=utf-8",
        },
      },
    );
  } catch (error) {
    if (error instanceof ReaderError) {
      // A bad query is the client's; a file that cannot be read, not.
      return problem(error.kind === "argument" ? 400 : 422, error.message);
    }
    throw error;
  }
}
