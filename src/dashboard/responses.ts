/**
 * The dashboard's HTTP answers: the security headers every response
 * carries, JSON bodies, and errors as `{ "error": "..." }`.
 *
 * @module
 */

/**
 * Headers on every dashboard response: nothing cached, nothing sniffed, no
 * referrer, never framed.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/**
 * A JSON response with the security headers.
 *
 * @param body What to send, given to `JSON.stringify`.
 * @param status The status (default 200).
 * @returns The response.
 *
 * @example A created resource
 * ```ts
 * import { json } from "./responses.ts";
 * import assert from "node:assert/strict";
 * const res = json({ name: "a" }, 201);
 * assert.equal(res.status, 201);
 * assert.equal(res.headers.get("x-frame-options"), "DENY");
 * assert.deepEqual(await res.json(), { name: "a" });
 * ```
 */
export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      ...SECURITY_HEADERS,
      "content-type": "application/json; charset=utf-8",
    },
  });
}

/**
 * An error response: `{ "error": message }` as JSON.
 *
 * @param status The status (4xx or 5xx).
 * @param error What went wrong, for the user.
 * @param headers More headers (`allow`, `www-authenticate`).
 * @returns The response.
 *
 * @example A method not allowed
 * ```ts
 * import { problem } from "./responses.ts";
 * import assert from "node:assert/strict";
 * const res = problem(405, "use GET", { allow: "GET" });
 * assert.equal(res.headers.get("allow"), "GET");
 * assert.deepEqual(await res.json(), { error: "use GET" });
 * ```
 */
export function problem(
  status: number,
  error: string,
  headers: Readonly<Record<string, string>> = {},
): Response {
  const response = json({ error }, status);
  for (const [name, value] of Object.entries(headers)) {
    response.headers.set(name, value);
  }
  return response;
}
