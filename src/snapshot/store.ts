/**
 * Snapshot stores: where snapshots go where there is no file system (or as
 * well as the file system): a function that receives each snapshot as the
 * complete .ttlog bytes, exactly what a file would hold, such as an R2 or
 * S3 object put, a Deno KV set, or an HTTP PUT ({@link httpStore}).
 *
 * @module
 */

import { TtlogConfigError } from "../errors.ts";
import { runtime } from "../runtime/mod.ts";

/**
 * A snapshot on its way to a store.
 *
 * @example What a store receives
 * ```ts
 * import { createLogger, memorySink, type StoredSnapshot } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const got: StoredSnapshot[] = [];
 * const log = createLogger({
 *   service: "shop",
 *   sinks: [memorySink()],
 *   snapshot: { store: (snapshot) => void got.push(snapshot) },
 * });
 * log.debug("cache miss");
 * await log.snapshot("by hand");
 * await log.close();
 * assert.match(got[0].name, /^ttlog-shop-\d+-\d{8}T\d{6}\.\d{3}Z-by_hand\.ttlog$/);
 * assert.equal(got[0].reason, "by hand");
 * assert.ok(got[0].bytes.length > 0);
 * ```
 */
export interface StoredSnapshot {
  /** The file name the file writer would give it (`ttlog-<service>-<pid>-<time>-<reason>.ttlog`). */
  readonly name: string;
  /** Why it was taken. */
  readonly reason: string;
  /** The whole .ttlog file: `ttlog view` reads it as it is. */
  readonly bytes: Uint8Array;
}

/**
 * Where snapshots go: called once per snapshot; may return a promise, which
 * `flush()` and `close()` wait for (at most `exitTimeoutMs`). A store that
 * throws or rejects is counted (`snapshotStoreErrors`) and reported on
 * stderr, never thrown into the caller.
 *
 * @example A store that keeps snapshots in memory
 * ```ts
 * import { createLogger, memorySink, type SnapshotStore } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const kept = new Map<string, Uint8Array>();
 * const store: SnapshotStore = ({ name, bytes }) => void kept.set(name, bytes);
 * const log = createLogger({ sinks: [memorySink()], snapshot: { store } });
 * await log.snapshot("kept");
 * await log.close();
 * assert.equal(kept.size, 1);
 * ```
 */
export type SnapshotStore = (
  snapshot: StoredSnapshot,
) => void | PromiseLike<unknown>;

/** Counters of a logger's snapshot store. */
export interface StoreCounters {
  /** Snapshots the store took (its call returned, or its promise resolved). */
  stored: number;
  /** Snapshots it threw or rejected on. */
  errors: number;
  /** Snapshots whose promise has not settled yet. */
  pending: number;
}

/** Runs a logger's store and keeps its promises, to wait for them. */
export class StoreRunner {
  readonly #store: SnapshotStore;
  readonly #pending = new Set<Promise<void>>();
  readonly counters: StoreCounters = { stored: 0, errors: 0, pending: 0 };
  #lastReport = -Infinity;

  constructor(store: SnapshotStore) {
    this.#store = store;
  }

  /** Hands a snapshot to the store; never throws. */
  put(snapshot: StoredSnapshot): void {
    let result: void | PromiseLike<unknown>;
    try {
      result = this.#store(snapshot);
    } catch (error) {
      this.#failed(snapshot, error);
      return;
    }
    if (
      result === undefined || result === null ||
      typeof (result as PromiseLike<unknown>).then !== "function"
    ) {
      this.counters.stored++;
      return;
    }
    this.counters.pending++;
    const tracked: Promise<void> = Promise.resolve(result).then(
      () => {
        this.counters.stored++;
      },
      (error: unknown) => this.#failed(snapshot, error),
    ).finally(() => {
      this.counters.pending--;
      this.#pending.delete(tracked);
    });
    this.#pending.add(tracked);
  }

  /**
   * Waits for the stores under way, at most `timeoutMs`; returns whether
   * they all settled.
   */
  async settle(timeoutMs: number): Promise<boolean> {
    if (this.#pending.size === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      const settled = await Promise.race([
        Promise.all([...this.#pending]).then(() => true),
        expired,
      ]);
      if (!settled) {
        runtime.write(
          "stderr",
          `ttlog: ${this.counters.pending} snapshot store call(s) still pending after ${timeoutMs} ms\n`,
        );
      }
      return settled;
    } finally {
      clearTimeout(timer);
    }
  }

  #failed(snapshot: StoredSnapshot, error: unknown): void {
    this.counters.errors++;
    const now = Date.now();
    if (now - this.#lastReport < 10_000) return;
    this.#lastReport = now;
    let text: string;
    try {
      text = error instanceof Error
        ? `${error.name}: ${error.message}`
        : String(error);
    } catch {
      text = "(unprintable error)";
    }
    runtime.write(
      "stderr",
      `ttlog: the snapshot store failed on ${snapshot.name} (${this.counters.errors} errors so far): ${text}\n`,
    );
  }
}

/**
 * Options of {@link httpStore}.
 *
 * @example A presigned S3 URL per snapshot
 * ```ts
 * import type { HttpStoreOptions } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const options: HttpStoreOptions = {
 *   url: (name) => `https://bucket.s3.amazonaws.com/snapshots/${name}?X-Amz-Signature=...`,
 *   headers: { "x-amz-server-side-encryption": "AES256" },
 * };
 * assert.equal(typeof options.url, "function");
 * ```
 */
export interface HttpStoreOptions {
  /**
   * Where each snapshot goes: a URL (the name is appended to it when it
   * ends with `/`), or a function of the snapshot's name returning one,
   * sync or async (a presigned S3, R2 or GCS PUT URL).
   */
  readonly url: string | ((name: string) => string | Promise<string>);
  /** The method (default `"PUT"`). */
  readonly method?: "PUT" | "POST";
  /** Extra request headers (an authorization, say). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Give up on a request after this many ms (default 30000). */
  readonly timeoutMs?: number;
}

/**
 * A store that sends each snapshot's bytes over HTTP (`PUT` by default),
 * with `content-type: application/vnd.ttlog` and the reason in
 * `x-ttlog-reason`. A status outside 200-299, a network error or a timeout
 * is a failed store (counted and reported, never thrown).
 *
 * @param options Where and how.
 * @returns The store, for `createLogger({ snapshot: { store } })`.
 * @throws {TtlogConfigError} When an option is invalid or there is no fetch.
 *
 * @example PUT each snapshot to a local server
 * ```ts
 * import { createServer } from "node:http";
 * import { createLogger, httpStore, memorySink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const got: string[] = [];
 * const server = createServer((req, res) => {
 *   got.push(`${req.method} ${req.url} ${req.headers["content-type"]}`);
 *   req.resume();
 *   req.on("end", () => res.writeHead(201).end());
 * });
 * await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
 * const { port } = server.address() as { port: number };
 * const log = createLogger({
 *   service: "api",
 *   sinks: [memorySink()],
 *   snapshot: { store: httpStore({ url: `http://127.0.0.1:${port}/snapshots/` }) },
 * });
 * await log.snapshot("by hand");
 * await log.flush(); // waits for the store
 * assert.match(got[0], /^PUT \/snapshots\/ttlog-api-.*-by_hand\.ttlog application\/vnd\.ttlog$/);
 * await log.close();
 * await new Promise((ok) => server.close(ok));
 * ```
 */
export function httpStore(options: HttpStoreOptions): SnapshotStore {
  if (typeof options !== "object" || options === null) {
    throw new TtlogConfigError(
      `httpStore: options must be an object with a url`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!["url", "method", "headers", "timeoutMs"].includes(key)) {
      throw new TtlogConfigError(
        `httpStore: unknown option ${JSON.stringify(key)}`,
      );
    }
  }
  const { url } = options;
  if (typeof url === "string") {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TtlogConfigError(
        `httpStore: url must be an absolute http: or https: URL, got ${
          JSON.stringify(url)
        }`,
      );
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new TtlogConfigError(
        `httpStore: url must be an absolute http: or https: URL, got ${
          JSON.stringify(url)
        }`,
      );
    }
  } else if (typeof url !== "function") {
    throw new TtlogConfigError(
      `httpStore: url must be a URL or a function of the snapshot's name, got ${typeof url}`,
    );
  }
  const method = options.method ?? "PUT";
  if (method !== "PUT" && method !== "POST") {
    throw new TtlogConfigError(
      `httpStore: method must be "PUT" or "POST", got ${
        JSON.stringify(method)
      }`,
    );
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    throw new TtlogConfigError(
      `httpStore: timeoutMs must be a positive integer, got ${timeoutMs}`,
    );
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (typeof value !== "string") {
      throw new TtlogConfigError(
        `httpStore: header ${JSON.stringify(name)} must be a string`,
      );
    }
    headers[name.toLowerCase()] = value;
  }
  headers["content-type"] ??= "application/vnd.ttlog";
  if (typeof fetch !== "function") {
    throw new TtlogConfigError(
      "httpStore needs fetch, which this runtime does not provide",
    );
  }
  return async ({ name, reason, bytes }) => {
    const target = typeof url === "string"
      ? (url.endsWith("/") ? url + encodeURIComponent(name) : url)
      : await url(name);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await fetch(target, {
        method,
        headers: { ...headers, "x-ttlog-reason": encodeURIComponent(reason) },
        body: bytes as BodyInit,
        signal: controller.signal,
      });
      await response.arrayBuffer();
      if (response.status < 200 || response.status > 299) {
        throw new Error(
          `httpStore: ${method} ${
            new URL(target).origin
          } answered ${response.status}`,
        );
      }
    } finally {
      clearTimeout(timer);
    }
  };
}
