/**
 * What decoding a record gives back: the {@link LogRecord} and the few value
 * classes that stand for what a plain JS value cannot (an Error's parts, a
 * circular reference, a value cut at a limit, a redacted secret).
 *
 * @module
 */

import type { LevelName } from "../level.ts";

/**
 * Field values as they come out of a record.
 *
 * @example Read decoded fields
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { type FieldValues } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink] });
 * log.info("order placed", { id: 7, at: new Date(0), tags: ["new"] });
 * await log.flush();
 * const fields: FieldValues = sink.records[0].fields;
 * assert.equal(fields.id, 7);
 * assert.deepEqual(fields.tags, ["new"]);
 * assert.ok(fields.at instanceof Date);
 * await log.close();
 * ```
 */
export type FieldValues = Record<string, unknown>;

/**
 * One decoded event, as sinks and formatters see it.
 *
 * @example Inspect a record
 * ```ts
 * import { createLogger, type LogRecord, memorySink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ service: "checkout", sinks: [sink] });
 * const before = Date.now();
 * log.child("db").warn("slow query", { ms: 812 });
 * await log.flush();
 * const record: LogRecord = sink.records[0];
 * assert.equal(record.level, "warn");
 * assert.equal(record.target, "db");
 * assert.equal(record.service, "checkout");
 * assert.equal(record.msg, "slow query");
 * assert.deepEqual(record.fields, { ms: 812 });
 * assert.ok(record.time >= before);
 * await log.close();
 * ```
 */
export interface LogRecord {
  /** Milliseconds since the Unix epoch (may have a fractional part). */
  readonly time: number;
  /** The level name. */
  readonly level: LevelName;
  /** The target (`""` for the root logger; `db.pool` for nested children). */
  readonly target: string;
  /** The message, with a tagged template's values rendered into it. */
  readonly msg: string;
  /** Bound fields of the logger, then the call's own fields. */
  readonly fields: FieldValues;
  /** The logger's service name. */
  readonly service: string;
  /** The producer's sequence number of this event (loss records: -1). */
  readonly seq: number;
  /**
   * The message's text parts as written at the call site (one part for a
   * plain message; a tagged template's strings), when the reader was asked
   * for them (the .ttlog reader's `templates` option): events of one call
   * site share them, whatever their values.
   */
  readonly template?: readonly string[];
}

/**
 * Kinds of {@link Marker}.
 *
 * @example Tell a redacted value from a circular one
 * ```ts
 * import { createLogger, Marker, memorySink } from "@ttlog/ttlog";
 * import { type MarkerKind } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink], redact: ["token"] });
 * const node: Record<string, unknown> = { name: "root" };
 * node.self = node;
 * log.info("login", { token: "s3cret", node });
 * await log.flush();
 * const kindOf = (value: unknown): MarkerKind | undefined =>
 *   value instanceof Marker ? value.kind : undefined;
 * const fields = sink.records[0].fields;
 * assert.equal(kindOf(fields.token), "redacted");
 * assert.equal(kindOf((fields.node as Record<string, unknown>).self), "circular");
 * await log.close();
 * ```
 */
export type MarkerKind =
  | "circular"
  | "depth"
  | "truncated"
  | "redacted"
  | "function"
  | "symbol"
  | "opaque"
  | "thrown";

/**
 * A stand-in for a value that was not recorded as is: a circular reference,
 * a value past the depth or size limit, a redacted secret, a function, a
 * symbol, or a property whose getter threw. Serializes to its text.
 *
 * @example A marker prints as its text
 * ```ts
 * import { Marker } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const m = new Marker("redacted", "[Redacted]");
 * assert.equal(JSON.stringify({ password: m }), '{"password":"[Redacted]"}');
 * ```
 */
export class Marker {
  /** What the marker stands for. */
  readonly kind: MarkerKind;
  /** How it prints, such as `[Circular]` or `[Function: send]`. */
  readonly text: string;
  /**
   * Creates a marker.
   *
   * @param kind What the marker stands for.
   * @param text How it prints.
   */
  constructor(kind: MarkerKind, text: string) {
    this.kind = kind;
    this.text = text;
  }
  /**
   * The marker's text.
   *
   * @returns The text, such as `[Circular]`.
   */
  toString(): string {
    return this.text;
  }
  /**
   * The marker's text, so JSON output shows it.
   *
   * @returns The text.
   */
  toJSON(): string {
    return this.text;
  }
}

/**
 * A logged Error, decoded: name, message, stack, cause and any other own
 * enumerable properties (such as `code`).
 *
 * @example Read a logged error from a memory sink
 * ```ts
 * import { createLogger, LoggedError, memorySink } from "@ttlog/ttlog";
 * import assert from "node:assert/strict";
 * const sink = memorySink();
 * const log = createLogger({ sinks: [sink] });
 * log.error("failed", { err: new TypeError("bad input") });
 * await log.close();
 * const err = sink.records[0].fields.err as LoggedError;
 * assert.equal(err.name, "TypeError");
 * assert.equal(err.message, "bad input");
 * ```
 */
export class LoggedError {
  /** The error's `name`, such as `TypeError`. */
  readonly name: string;
  /** The error's `message`. */
  readonly message: string;
  /** The error's `stack`, if it had one. */
  readonly stack: string | undefined;
  /** The error's `cause`, decoded, if it had one. */
  readonly cause: unknown;
  /** Other own enumerable properties, such as `code`. */
  readonly props: FieldValues;
  /**
   * Creates a decoded error.
   *
   * @param name The error's name.
   * @param message The error's message.
   * @param stack The error's stack.
   * @param cause The error's cause.
   * @param props Other own enumerable properties.
   */
  constructor(
    name: string,
    message: string,
    stack: string | undefined,
    cause: unknown,
    props: FieldValues,
  ) {
    this.name = name;
    this.message = message;
    this.stack = stack;
    this.cause = cause;
    this.props = props;
  }
  /**
   * The error as an Error prints.
   *
   * @returns `"Name: message"` (or just the name when the message is empty).
   */
  toString(): string {
    return this.message === "" ? this.name : `${this.name}: ${this.message}`;
  }
}
