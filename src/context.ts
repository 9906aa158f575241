/**
 * Context fields: fields that every event logged inside a function (and
 * everything it awaits or schedules) carries, with no argument passing.
 * Built on `AsyncLocalStorage` from node:async_hooks, which Deno, Bun, Node
 * and Cloudflare Workers (with `nodejs_compat`) provide.
 *
 * ```ts
 * import { createLogger, memorySink, withContext } from "@ttlog/ttlog";
 * const log = createLogger({ sinks: [memorySink()] });
 * await withContext({ request_id: "r-1" }, async () => {
 *   log.info("charged"); // carries request_id: "r-1"
 * });
 * await log.close();
 * ```
 *
 * @module
 */

import { TtlogConfigError } from "./errors.ts";
import { tryBuiltin } from "./runtime/builtin.ts";
import { edgePlatform } from "./runtime/edge.ts";

/**
 * What a context holds: its fields, and where the last recorder that used it
 * encoded them into its ring, so that later events copy those bytes.
 */
export interface ContextStore {
  /** The fields, the enclosing contexts' merged in (inner ones win). */
  readonly fields: Readonly<Record<string, unknown>>;
  /** The recorder that encoded them last (its dictionary ids are in them). */
  owner: unknown;
  /** Where in `owner`'s ring (an absolute position) the encoding starts. */
  at: number;
  /** Its length in bytes. */
  length: number;
  /** The request logging front that entered it, if one did (requestLogger). */
  readonly front: unknown;
}

interface Storage {
  getStore(): ContextStore | undefined;
  run<A, B, C, R>(
    store: ContextStore,
    fn: (a: A, b: B, c: C) => R,
    a: A,
    b: B,
    c: C,
  ): R;
}

let storage: Storage | null | undefined;

/**
 * Whether any context was ever entered in this thread: until then a log
 * call does not even look for one.
 */
export const contextState: { active: boolean } = { active: false };

type StorageClass = new () => Storage;

function load(): Storage | null {
  if (storage === undefined) {
    // node:async_hooks where there are Node modules; Vercel's Edge runtime
    // has the class as a global instead.
    const Class = tryBuiltin<{ AsyncLocalStorage?: StorageClass }>(
      "node:async_hooks",
    )?.AsyncLocalStorage ??
      (globalThis as { AsyncLocalStorage?: StorageClass }).AsyncLocalStorage;
    storage = typeof Class === "function" ? new Class() : null;
  }
  return storage;
}

/**
 * Hands ttlog the AsyncLocalStorage class where it cannot find one itself:
 * on Cloudflare Workers with `nodejs_compat` and a compatibility date before
 * 2024-09-23, `node:async_hooks` can be imported but there is no
 * `process.getBuiltinModule` to reach it from a library. Call it once, at
 * start, before anything enters a context.
 *
 * @param Class `AsyncLocalStorage` from `node:async_hooks`.
 * @throws {TtlogConfigError} When `Class` is not a constructor, or a
 *   context was already entered with another storage.
 *
 * @example On an older Cloudflare compatibility date
 * ```ts
 * import { AsyncLocalStorage } from "node:async_hooks";
 * import { getContext, useAsyncLocalStorage, withContext } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * useAsyncLocalStorage(AsyncLocalStorage);
 * withContext({ tenant: "acme" }, () => {
 *   assert.equal(getContext()?.tenant, "acme");
 * });
 * ```
 */
export function useAsyncLocalStorage(Class: new () => unknown): void {
  if (typeof Class !== "function") {
    throw new TtlogConfigError(
      `useAsyncLocalStorage: expected the AsyncLocalStorage class, got ${typeof Class}`,
    );
  }
  if (storage instanceof Class) return;
  if (storage !== undefined && storage !== null && contextState.active) {
    throw new TtlogConfigError(
      "useAsyncLocalStorage: a context was already entered with another AsyncLocalStorage; call it once, before any context",
    );
  }
  storage = new (Class as StorageClass)();
}

/**
 * Whether this runtime has AsyncLocalStorage, which contexts need (on
 * Cloudflare Workers: the `nodejs_compat` or `nodejs_als` flag).
 */
export function hasAsyncContext(): boolean {
  return load() !== null;
}

function isPlainFields(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null &&
    !Array.isArray(value) && !(value instanceof Error);
}

/**
 * Runs `fn` with `fields` as context: every event logged by any ttlog
 * logger of this thread while `fn` runs, and in everything it awaits or
 * schedules, carries them (after the logger's bound fields, before the
 * call's own). Contexts nest; an inner one's fields win over an outer
 * one's of the same name.
 *
 * @param fields The context fields (a plain object).
 * @param fn What to run; its result (or promise) is returned.
 * @returns What `fn` returns.
 * @throws {TtlogConfigError} When `fields` is not a plain object or `fn`
 *   not a function, or when the runtime has no `AsyncLocalStorage` (a
 *   Cloudflare Worker without `nodejs_compat`, for example).
 *
 * @example Every event of a request carries its id
 * ```ts
 * import { createLogger, memorySink, withContext } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink] });
 * await withContext({ request_id: "r-7" }, async () => {
 *   await Promise.resolve();
 *   log.info("charged", { cents: 250 });
 * });
 * log.info("outside");
 * await log.flush();
 * assert.deepEqual(sink.records[0].fields, { request_id: "r-7", cents: 250 });
 * assert.deepEqual(sink.records[1].fields, {});
 * await log.close();
 * ```
 */
export function withContext<R>(
  fields: Readonly<Record<string, unknown>>,
  fn: () => R,
): R {
  if (!isPlainFields(fields)) {
    throw new TtlogConfigError(
      `withContext: fields must be a plain object, got ${
        fields === null
          ? "null"
          : Array.isArray(fields)
          ? "an array"
          : typeof fields
      }`,
    );
  }
  if (typeof fn !== "function") {
    throw new TtlogConfigError(
      `withContext: the second argument must be a function, got ${typeof fn}`,
    );
  }
  return runInContext({ ...fields }, fn, undefined, undefined, undefined);
}

/**
 * The storage, or a clear error on a runtime without AsyncLocalStorage.
 */
function required(): Storage {
  const store = load();
  if (store === null) {
    throw new TtlogConfigError(
      `withContext needs AsyncLocalStorage (node:async_hooks), which this runtime does not provide${
        edgePlatform() === "cloudflare"
          ? " (on Cloudflare Workers, enable the nodejs_compat or nodejs_als compatibility flag)"
          : ""
      }`,
    );
  }
  return store;
}

/**
 * Runs `fn(a, b, c)` in a new context: {@link withContext} without the checks
 * and the copy, for callers that made `fields` themselves and never touch it
 * again (withLogging, once per request), and without a closure per call.
 *
 * @internal
 */
export function runInContext<A, B, C, R>(
  fields: Record<string, unknown>,
  fn: (a: A, b: B, c: C) => R,
  a: A,
  b: B,
  c: C,
  front?: unknown,
): R {
  const store = storage ?? required();
  const outer = store.getStore();
  contextState.active = true;
  return store.run(
    {
      fields: outer === undefined ? fields : { ...outer.fields, ...fields },
      owner: undefined,
      at: 0,
      length: 0,
      front: front ?? outer?.front,
    },
    fn,
    a,
    b,
    c,
  );
}

/**
 * The context fields in effect here (see {@link withContext}), or
 * `undefined` outside any context.
 *
 * @returns The merged fields of the enclosing contexts, or `undefined`.
 *
 * @example Read the request id anywhere below the handler
 * ```ts
 * import { getContext, withContext } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * assert.equal(getContext(), undefined);
 * withContext({ request_id: "r-1" }, () => {
 *   withContext({ user: 7 }, () => {
 *     assert.deepEqual(getContext(), { request_id: "r-1", user: 7 });
 *   });
 * });
 * ```
 */
export function getContext(): Readonly<Record<string, unknown>> | undefined {
  if (!contextState.active) return undefined;
  return load()?.getStore()?.fields;
}

/** The current context's store, for the logger (undefined outside any context). */
export function currentStore(): ContextStore | undefined {
  return storage?.getStore();
}
