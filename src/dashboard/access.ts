/**
 * Who may use the dashboard: the remote address as each server reports it,
 * loopback tests for addresses and Host headers, the token check (in
 * constant time), and the refusals built on them ({@link refuseRequest},
 * {@link refuseCrossSite}).
 *
 * @module
 */

import { problem } from "./responses.ts";

/**
 * Finds a request's remote address from what the server passed beside it.
 *
 * @param request The request.
 * @param info The server's second argument to the handler.
 * @returns The address (`127.0.0.1`, `::1`...), or undefined when unknown.
 *
 * @example Behind a server that passes the address in its own way
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { dashboardHandler, type RemoteAddress } from "@ttlog/ttlog/dashboard";
 * import assert from "node:assert/strict";
 * const log = createLogger({ sinks: [memorySink()] });
 * const remoteAddress: RemoteAddress = (_request, info) =>
 *   (info as { ip?: string } | undefined)?.ip;
 * const handler = dashboardHandler(log, { remoteAddress });
 * const res = await handler(new Request("http://127.0.0.1/"), { ip: "127.0.0.1" });
 * assert.equal(res.status, 200);
 * await res.body?.cancel();
 * await log.close();
 * ```
 */
export type RemoteAddress = (
  request: Request,
  info: unknown,
) => string | undefined;

/**
 * The remote address from the servers ttlog knows: `Deno.serve`'s info
 * (`info.remoteAddr.hostname`, TCP only), `Bun.serve`'s server
 * (`server.requestIP(request).address`), and what `dashboardNodeListener`
 * passes for node:http (the same shape as Deno's).
 *
 * @param request The request.
 * @param info The server's second argument.
 * @returns The address, or undefined.
 *
 * @example Deno.serve and Bun.serve
 * ```ts
 * import { serverRemoteAddress } from "./access.ts";
 * import assert from "node:assert/strict";
 * const req = new Request("http://127.0.0.1/");
 * assert.equal(serverRemoteAddress(req, { remoteAddr: { transport: "tcp", hostname: "::1" } }), "::1");
 * assert.equal(serverRemoteAddress(req, { requestIP: () => ({ address: "127.0.0.1" }) }), "127.0.0.1");
 * assert.equal(serverRemoteAddress(req, undefined), undefined);
 * ```
 */
export function serverRemoteAddress(
  request: Request,
  info: unknown,
): string | undefined {
  if (typeof info !== "object" || info === null) return undefined;
  const remote = (info as { remoteAddr?: unknown }).remoteAddr;
  if (typeof remote === "object" && remote !== null) {
    const { hostname, transport } = remote as {
      hostname?: unknown;
      transport?: unknown;
    };
    if (
      typeof hostname === "string" && hostname !== "" &&
      (transport === undefined || transport === "tcp")
    ) return hostname;
    return undefined;
  }
  const requestIP = (info as { requestIP?: unknown }).requestIP;
  if (typeof requestIP === "function") {
    try {
      const address = (requestIP.call(info, request) as {
        address?: unknown;
      } | null)?.address;
      return typeof address === "string" && address !== ""
        ? address
        : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const IPV4_LOOPBACK = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * Whether an IP address is a loopback address: 127.0.0.0/8, ::1, or
 * 127.0.0.0/8 mapped into IPv6 (`::ffff:127.0.0.1`). Brackets and a zone
 * (`%lo`) are ignored.
 *
 * @param address The address.
 * @returns True for a loopback address.
 *
 * @example
 * ```ts
 * import { isLoopbackAddress } from "./access.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isLoopbackAddress("127.0.0.1"), true);
 * assert.equal(isLoopbackAddress("::ffff:127.0.0.1"), true);
 * assert.equal(isLoopbackAddress("[::1]"), true);
 * assert.equal(isLoopbackAddress("192.0.2.1"), false);
 * ```
 */
export function isLoopbackAddress(address: string): boolean {
  let text = address.trim().toLowerCase();
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  const v4 = text.startsWith("::ffff:") ? text.slice(7) : text;
  const match = IPV4_LOOPBACK.exec(v4);
  if (match !== null) return match.slice(1).every((part) => Number(part) < 256);
  const groups = ipv6Groups(text);
  return groups !== undefined &&
    groups.every((group, i) => group === (i === 7 ? 1 : 0));
}

/** The eight groups of an IPv6 address in hex notation, or undefined. */
function ipv6Groups(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const split = (part: string) => part === "" ? [] : part.split(":");
  const head = split(halves[0]);
  const tail = halves.length === 2 ? split(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(missing).fill("0"), ...tail];
  if (groups.some((group) => !/^[0-9a-f]{1,4}$/.test(group))) return undefined;
  return groups.map((group) => parseInt(group, 16));
}

/**
 * Whether a Host header names this machine's loopback: `localhost` (and
 * `*.localhost`), a 127.0.0.0/8 address or `[::1]`, with any port. Checked
 * on requests answered without a token, so that a web page whose name
 * resolves to 127.0.0.1 (DNS rebinding) cannot read the dashboard.
 *
 * @param host The Host header.
 * @returns True when it names the loopback.
 *
 * @example
 * ```ts
 * import { isLoopbackHost } from "./access.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isLoopbackHost("localhost:8077"), true);
 * assert.equal(isLoopbackHost("[::1]:8077"), true);
 * assert.equal(isLoopbackHost("evil.example:8077"), false);
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  let name = host.trim().toLowerCase();
  if (name.startsWith("[")) {
    const end = name.indexOf("]");
    if (end < 0) return false;
    const rest = name.slice(end + 1);
    if (rest !== "" && !/^:\d{1,5}$/.test(rest)) return false;
    return isLoopbackAddress(name.slice(1, end));
  }
  const colon = name.indexOf(":");
  if (colon >= 0) {
    if (!/^\d{1,5}$/.test(name.slice(colon + 1))) return false;
    name = name.slice(0, colon);
  }
  if (name.endsWith(".")) name = name.slice(0, -1);
  return name === "localhost" || name.endsWith(".localhost") ||
    isLoopbackAddress(name);
}

const encoder = new TextEncoder();

/**
 * Compares a token given by a client with the expected one in time that
 * depends only on the expected token's length, not on where they differ.
 *
 * @param given The token the client sent.
 * @param expected The expected token's UTF-8 bytes.
 * @returns True when they are equal.
 *
 * @example
 * ```ts
 * import { tokensEqual } from "./access.ts";
 * import assert from "node:assert/strict";
 * const expected = new TextEncoder().encode("s3cret-s3cret-s3cret");
 * assert.equal(tokensEqual("s3cret-s3cret-s3cret", expected), true);
 * assert.equal(tokensEqual("s3cret-s3cret-s3creT", expected), false);
 * assert.equal(tokensEqual("s3cret", expected), false);
 * ```
 */
export function tokensEqual(given: string, expected: Uint8Array): boolean {
  const bytes = encoder.encode(given);
  let diff = bytes.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    // Out-of-range reads give undefined, | 0 makes them 0: no early exit.
    diff |= (bytes[i] | 0) ^ expected[i];
  }
  return diff === 0;
}

/**
 * The token a request carries: `authorization: Bearer <token>`, or for GET
 * and HEAD requests (the page, the event stream and downloads, which a
 * browser fetches without headers) the `token` query parameter.
 *
 * @param request The request.
 * @param url The request's parsed URL.
 * @returns The token, or undefined when there is none.
 *
 * @example
 * ```ts
 * import { requestToken } from "./access.ts";
 * import assert from "node:assert/strict";
 * const req = new Request("http://x/api", { headers: { authorization: "Bearer abc" } });
 * assert.equal(requestToken(req, new URL(req.url)), "abc");
 * const page = new Request("http://x/?token=def");
 * assert.equal(requestToken(page, new URL(page.url)), "def");
 * ```
 */
export function requestToken(request: Request, url: URL): string | undefined {
  const header = request.headers.get("authorization");
  if (header !== null) {
    const match = /^bearer\s+(\S+)\s*$/i.exec(header);
    return match === null ? "" : match[1];
  }
  if (request.method === "GET" || request.method === "HEAD") {
    return url.searchParams.get("token") ?? undefined;
  }
  return undefined;
}

/**
 * Refuses a request that may not use the dashboard. With a token, a request
 * without it gets 401. Without one, only the loopback gets in: 403 when the
 * remote address is unknown or not the loopback, when a proxy header is
 * present, or when the Host header is not a loopback name (DNS rebinding).
 *
 * @param request The request.
 * @param url Its URL, parsed.
 * @param info The server's second argument to the handler.
 * @param token The token's bytes, or undefined for loopback only.
 * @param remoteAddress Finds the request's remote address.
 * @returns The refusal, or undefined to let the request through.
 *
 * @example Without a token, another machine is refused
 * ```ts
 * import { refuseRequest, serverRemoteAddress } from "./access.ts";
 * import assert from "node:assert/strict";
 * const request = new Request("http://127.0.0.1/");
 * const url = new URL(request.url);
 * const from = (hostname: string) => ({ remoteAddr: { transport: "tcp", hostname } });
 * assert.equal(refuseRequest(request, url, from("127.0.0.1"), undefined, serverRemoteAddress), undefined);
 * assert.equal(refuseRequest(request, url, from("192.0.2.7"), undefined, serverRemoteAddress)?.status, 403);
 * ```
 */
export function refuseRequest(
  request: Request,
  url: URL,
  info: unknown,
  token: Uint8Array | undefined,
  remoteAddress: RemoteAddress,
): Response | undefined {
  if (token !== undefined) {
    const given = requestToken(request, url);
    if (given === undefined || !tokensEqual(given, token)) {
      return problem(
        401,
        "this dashboard needs its token: authorization: Bearer <token>, or ?token=<token> on the page's URL",
        { "www-authenticate": 'Bearer realm="ttlog dashboard"' },
      );
    }
    return undefined;
  }
  let address: string | undefined;
  try {
    address = remoteAddress(request, info);
  } catch {
    address = undefined;
  }
  if (address === undefined || address === "") {
    return problem(
      403,
      "the dashboard cannot tell where this request came from, and without a token it answers only the loopback: serve it with Deno.serve, Bun.serve or dashboardNodeListener (node:http), give a remoteAddress option, or set a token",
    );
  }
  if (!isLoopbackAddress(address)) {
    return problem(
      403,
      `the dashboard answers only the loopback without a token; this request came from ${address}: set a token to open it to other machines`,
    );
  }
  for (const header of ["forwarded", "x-forwarded-for", "x-real-ip"]) {
    if (request.headers.has(header)) {
      return problem(
        403,
        `the request came through a proxy (${header} header), so its loopback address says nothing about the client: set a token`,
      );
    }
  }
  const host = request.headers.get("host") ?? url.host;
  if (!isLoopbackHost(host)) {
    return problem(
      403,
      `Host ${
        JSON.stringify(host)
      } is not a loopback name; open the dashboard as http://127.0.0.1:<port>/ or http://localhost:<port>/, or set a token`,
    );
  }
  return undefined;
}

/**
 * Refuses a state-changing request that may come from another site's page:
 * an `origin` that is not the dashboard's, `sec-fetch-site: cross-site`, or
 * a body that is not JSON (which a plain HTML form cannot send).
 *
 * @param request The request.
 * @param url Its URL, parsed.
 * @returns The refusal (403 or 415), or undefined to let it through.
 *
 * @example A form post from elsewhere is refused
 * ```ts
 * import { refuseCrossSite } from "./access.ts";
 * import assert from "node:assert/strict";
 * const request = new Request("http://127.0.0.1/api/snapshots", {
 *   method: "POST",
 *   headers: { origin: "https://evil.example", "content-type": "application/json" },
 * });
 * assert.equal(refuseCrossSite(request, new URL(request.url))?.status, 403);
 * ```
 */
export function refuseCrossSite(
  request: Request,
  url: URL,
): Response | undefined {
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== url.origin) {
    const host = request.headers.get("host");
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = undefined;
    }
    if (originHost === undefined || originHost !== host) {
      return problem(403, `cross-site request from ${origin} refused`);
    }
  }
  if (request.headers.get("sec-fetch-site") === "cross-site") {
    return problem(403, `cross-site request refused`);
  }
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    return problem(
      415,
      `send the request as JSON (content-type: application/json)`,
    );
  }
  return undefined;
}
