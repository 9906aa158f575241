/**
 * Spans: a start and an end event around a piece of work, the end with its
 * duration, for `using` and `await using` or a callback. See
 * {@link Logger.span}.
 *
 * @module
 */

import { TtlogConfigError } from "./errors.ts";
/** Fields of an event (the same as logger.ts's `Fields`). */
type Fields = Record<string, unknown>;

/**
 * What a span needs of its logger (a Logger is one), so that this file does
 * not import logger.ts, which imports it.
 */
interface SpanLogger {
  debug(message: string): void;
  info(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}

/** The clock spans measure with (performance.now where there is one). */
const now: () => number = typeof performance?.now === "function"
  ? () => performance.now()
  : () => Date.now();

/**
 * A piece of work being timed: made by {@link Logger.span}, which logs
 * `"<name> started"` at debug; ending it logs `"<name> ended"` at info with
 * `ms`, or `"<name> failed"` at error with `ms` and `err` when it failed.
 * It ends once: later ends do nothing.
 *
 * @example A failed span in a `using` block
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink], level: "debug" });
 * try {
 *   using span = log.span("payment", { order: 7 });
 *   try {
 *     throw new Error("card declined");
 *   } catch (error) {
 *     span.fail(error);
 *     throw error;
 *   }
 * } catch (error) {
 *   assert.equal((error as Error).message, "card declined");
 * }
 * await log.flush();
 * const end = sink.records[1];
 * assert.equal(end.msg, "payment failed");
 * assert.equal(end.fields.order, 7);
 * assert.equal((end.fields.err as Error).message, "card declined");
 * await log.close();
 * ```
 */
export class Span implements Disposable, AsyncDisposable {
  readonly #log: SpanLogger;
  readonly #start: number;
  #ended = false;
  #error: unknown;
  #failed = false;
  /** The span's name, as given. */
  readonly name: string;

  /**
   * Starts a span (prefer {@link Logger.span}).
   *
   * @param log The logger, with the span's fields bound.
   * @param name The span's name.
   */
  constructor(log: SpanLogger, name: string) {
    if (typeof name !== "string" || name === "") {
      throw new TtlogConfigError(
        `span: name must be a non-empty string, got ${
          typeof name === "string" ? '""' : typeof name
        }`,
      );
    }
    this.#log = log;
    this.name = name;
    this.#start = now();
    log.debug(name + " started");
  }

  /** Milliseconds since the span started. */
  get elapsed(): number {
    return now() - this.#start;
  }

  /**
   * Marks the span failed with `error` (it is attached to the end event),
   * for a `using` block's catch: disposal itself never sees the error.
   *
   * @param error What went wrong.
   */
  fail(error: unknown): void {
    this.#failed = true;
    this.#error = error;
  }

  /**
   * Ends the span: logs its end with `ms` and `fields`. Only the first call
   * logs.
   *
   * @param fields More fields for the end event.
   */
  end(fields?: Fields): void {
    if (this.#ended) return;
    this.#ended = true;
    const ms = Math.round(this.elapsed * 1000) / 1000;
    if (this.#failed) {
      this.#log.error(this.name + " failed", {
        ...fields,
        ms,
        err: this.#error,
      });
    } else this.#log.info(this.name + " ended", { ...fields, ms });
  }

  /**
   * Runs `fn` inside the span: ends it when `fn` returns or its promise
   * settles, failed with the error if it threw or rejected (the error is
   * passed on).
   *
   * @param fn The work.
   * @returns What `fn` returns.
   */
  run<R>(fn: () => R): R {
    let result: R;
    try {
      result = fn();
    } catch (error) {
      this.fail(error);
      this.end();
      throw error;
    }
    if (
      result !== null && typeof result === "object" &&
      typeof (result as { then?: unknown }).then === "function"
    ) {
      return (result as unknown as Promise<unknown>).then(
        (value) => {
          this.end();
          return value;
        },
        (error) => {
          this.fail(error);
          this.end();
          throw error;
        },
      ) as R;
    }
    this.end();
    return result;
  }

  /** Ends the span (for `using`). */
  [Symbol.dispose](): void {
    this.end();
  }

  /** Ends the span (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    this.end();
    return Promise.resolve();
  }
}
