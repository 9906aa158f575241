/**
 * Per-target level directives in the style of Rust's env_logger:
 * `"warn,db=debug,http.client=trace"`.
 *
 * A spec is a comma-separated list of entries. A bare level sets the default;
 * `target=level` sets the level of a target and everything below it. Targets
 * are dot-separated segments of letters, digits, `_` and `-` (`http.client`).
 * The dot is the only hierarchy separator: `:` and `/` are rejected rather
 * than silently treated as part of a flat name, so `app:db=debug` fails loudly
 * instead of never matching `app:db:pool`. Targets match case-sensitively;
 * level names do not.
 *
 * Directives are resolved once per logger or target, never per event.
 *
 * @module
 */

import { TtlogConfigError } from "./errors.ts";
import { Level, type LevelValue } from "./level.ts";

/**
 * One `target=level` entry of a directives spec.
 *
 * @example Find a target's entry
 * ```ts
 * import { Level } from "@ttlog/ttlog";
 * import { parseDirectives, type TargetDirective } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * const { targets } = parseDirectives("info,db=debug");
 * const db: TargetDirective | undefined = targets.find((d) => d.target === "db");
 * assert.equal(db?.level, Level.debug);
 * ```
 */
export interface TargetDirective {
  /** The dot-separated target, such as `"http.client"`. */
  readonly target: string;
  /** The level for the target and every target below it. */
  readonly level: LevelValue;
}

/**
 * Parsed level directives: a default and per-target levels.
 *
 * @example Build directives by hand
 * ```ts
 * import { Level } from "@ttlog/ttlog";
 * import { type Directives, levelFor } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * const directives: Directives = {
 *   default: Level.warn,
 *   targets: [{ target: "db", level: Level.debug }],
 * };
 * assert.equal(levelFor(directives, "db.pool", Level.info), Level.debug);
 * assert.equal(levelFor(directives, "http", Level.info), Level.warn);
 * ```
 */
export interface Directives {
  /** The level of a bare entry, or `undefined` when the spec has none. */
  readonly default: LevelValue | undefined;
  /** Per-target levels, one per target; a later duplicate in the spec wins. */
  readonly targets: readonly TargetDirective[];
}

const TARGET_PATTERN = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

/**
 * Tells whether a string is a valid target name: dot-separated, non-empty
 * segments of letters, digits, `_` and `-`.
 *
 * @param target The candidate target name.
 * @returns `true` when `target` can appear in a directive.
 *
 * @example Check target names
 * ```ts
 * import { isValidTarget } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * assert.equal(isValidTarget("http.client"), true);
 * assert.equal(isValidTarget("db..pool"), false);
 * assert.equal(isValidTarget("app:db"), false);
 * ```
 */
export function isValidTarget(target: string): boolean {
  return TARGET_PATTERN.test(target);
}

/**
 * Parses an env_logger-style directives spec such as
 * `"warn,db=debug,http.client=trace"`.
 *
 * Whitespace around entries, targets and levels is ignored, level names are
 * case-insensitive, `off` is allowed, and empty entries (a trailing comma) are
 * skipped. When an entry repeats a target or the default, the later one wins.
 *
 * @param spec The directives spec; `""` yields no directives.
 * @returns The parsed directives, frozen.
 * @throws {TtlogConfigError} When `spec` is not a string or an entry is
 * malformed; the message names the entry and its position.
 *
 * @example Parse a spec
 * ```ts
 * import { parseDirectives } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * const directives = parseDirectives("warn, db=DEBUG, http.client=trace,");
 * assert.equal(directives.default, 3);
 * assert.deepEqual(directives.targets, [
 *   { target: "db", level: 1 },
 *   { target: "http.client", level: 0 },
 * ]);
 * assert.throws(() => parseDirectives("warn,db=verbose"), /entry 2/);
 * ```
 */
export function parseDirectives(spec: string): Directives {
  if (typeof spec !== "string") {
    throw new TtlogConfigError(
      `directives: expected a string such as "warn,db=debug", got ${
        spec === null ? "null" : typeof spec
      }`,
    );
  }
  let defaultLevel: LevelValue | undefined;
  const byTarget = new Map<string, LevelValue>();
  const entries = spec.split(",");
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index].trim();
    if (entry === "") continue;
    const fail = (problem: string): never => {
      throw new TtlogConfigError(
        `directives: bad entry ${JSON.stringify(entry)} (entry ${
          index + 1
        } of ${JSON.stringify(spec)}): ${problem}`,
      );
    };
    const parts = entry.split("=");
    if (parts.length > 2) {
      fail(`more than one "=" (write target=level)`);
    }
    if (parts.length === 1) {
      defaultLevel = levelOf(entry, fail, entry);
      continue;
    }
    const target = parts[0].trim();
    const levelText = parts[1].trim();
    if (target === "") fail(`empty target before "=" (write target=level)`);
    if (levelText === "") fail(`empty level after "=" (write target=level)`);
    if (!isValidTarget(target)) {
      fail(
        `bad target ${
          JSON.stringify(target)
        } (targets are dot-separated, non-empty segments of letters, digits, _ and -, such as "http.client")`,
      );
    }
    const level = levelOf(levelText, fail);
    // Delete first so the map's order follows the entry that takes effect.
    byTarget.delete(target);
    byTarget.set(target, level);
  }
  const targets = [...byTarget].map(([target, level]) =>
    Object.freeze({ target, level })
  );
  return Object.freeze({
    default: defaultLevel,
    targets: Object.freeze(targets),
  });
}

/** Parses a level name, reporting a failure through the entry's `fail`. */
function levelOf(
  text: string,
  fail: (problem: string) => never,
  bareEntry?: string,
): LevelValue {
  const name = text.toLowerCase();
  // hasOwn: "constructor" or "toString" must not resolve to Object.prototype.
  if (Object.hasOwn(Level, name)) {
    return (Level as Record<string, LevelValue>)[name];
  }
  const hint = bareEntry !== undefined && isValidTarget(bareEntry)
    ? `; for a target, write ${bareEntry}=<level>`
    : "";
  return fail(
    `unknown level ${
      JSON.stringify(text)
    } (expected one of trace, debug, info, warn, error, fatal, off)${hint}`,
  );
}

/**
 * Resolves the level of a target: the longest directive target that equals
 * `target` or is a dot-segment prefix of it wins (`db` matches `db` and
 * `db.pool.x`, never `dbx`); else the directives' default; else `fallback`.
 * Among equal targets, the later one wins. The root target `""` gets only the
 * default.
 *
 * @param directives Directives from {@link parseDirectives}.
 * @param target The logger's dot-separated target; `""` for the root logger.
 * @param fallback The level when no directive applies.
 * @returns The level for `target`.
 *
 * @example Resolve levels hierarchically
 * ```ts
 * import { levelFor, parseDirectives } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * const directives = parseDirectives("warn,db=debug,db.pool=error");
 * assert.equal(levelFor(directives, "db.query", 2), 1);
 * assert.equal(levelFor(directives, "db.pool.conn", 2), 4);
 * assert.equal(levelFor(directives, "dbx", 2), 3);
 * assert.equal(levelFor(parseDirectives(""), "", 2), 2);
 * ```
 */
export function levelFor(
  directives: Directives,
  target: string,
  fallback: LevelValue,
): LevelValue {
  let best: TargetDirective | undefined;
  for (const directive of directives.targets) {
    const prefix = directive.target;
    const matches = target === prefix ||
      (target.length > prefix.length && target.startsWith(prefix) &&
        target[prefix.length] === ".");
    if (
      matches && (best === undefined || prefix.length >= best.target.length)
    ) {
      best = directive;
    }
  }
  return best?.level ?? directives.default ?? fallback;
}

/**
 * The lowest level at which any target could be enabled: events below it can
 * be dropped before any per-target lookup (the record and drain threshold).
 *
 * @param directives Directives from {@link parseDirectives}.
 * @param fallback The level for targets no directive covers.
 * @returns The minimum over the default (or `fallback`) and every target level.
 *
 * @example Find the lowest enabled level
 * ```ts
 * import { minLevel, parseDirectives } from "@ttlog/ttlog/sink";
 * import assert from "node:assert/strict";
 * assert.equal(minLevel(parseDirectives("warn,db=debug"), 2), 1);
 * assert.equal(minLevel(parseDirectives("off"), 2), 6);
 * assert.equal(minLevel(parseDirectives(""), 2), 2);
 * ```
 */
export function minLevel(
  directives: Directives,
  fallback: LevelValue,
): LevelValue {
  let lowest: LevelValue = directives.default ?? fallback;
  for (const { level } of directives.targets) {
    if (level < lowest) lowest = level;
  }
  return lowest;
}
