/**
 * The dashboard's snapshot files: listing a directory, validating names
 * (nothing outside the directory is ever opened), and selecting a file's
 * events with the filters of `ttlog view`, through the reader library
 * (src/reader/) that the CLI uses too.
 *
 * @module
 */

import { ndjsonFormatter } from "../format/ndjson.ts";
import { nodeFs } from "../runtime/builtin.ts";
import { type EventFilter, parseFilter } from "../reader/filter.ts";
import { openForReading } from "../reader/read.ts";
import { selectEvents } from "../reader/select.ts";
import { TtlogReader } from "../ttlog_file/chunk_reader.ts";

/**
 * What a snapshot file's name looks like: `ttlog-<service>-<pid>-<time>-<reason>.ttlog`,
 * with only letters, digits, `_`, `.` and `-` (what the snapshot writer
 * produces). No slash, no backslash, no NUL, nothing that starts with a dot.
 */
export const SNAPSHOT_NAME: RegExp = /^ttlog-[A-Za-z0-9_.-]{1,200}\.ttlog$/;

/** One snapshot file, as the dashboard lists it. */
export interface SnapshotInfo {
  /** The file name. */
  readonly name: string;
  /** Its size in bytes. */
  readonly size: number;
  /** When it was last written, in ms since the epoch. */
  readonly mtime: number;
  /** The header's `reason`, when the header could be read. */
  readonly reason?: string;
  /** The header's `service`. */
  readonly service?: string;
  /** The header's `time`: when the snapshot was taken. */
  readonly time?: number;
  /** The header's `trigger.kind` (manual, error, crash, signal, exit). */
  readonly trigger?: string;
}

/**
 * Lists the snapshot files in `dir`, newest first: regular files whose
 * names match {@link SNAPSHOT_NAME}, with what their header chunk says. A
 * missing directory lists nothing.
 *
 * @param dir The directory.
 * @returns The files.
 * @throws {TtlogConfigError} Where the runtime has no file system.
 *
 * @example List the snapshots a logger took
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { listSnapshots } from "./snapshots.ts";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * const dir = mkdtempSync(join(tmpdir(), "ttlog-doc-"));
 * const log = createLogger({ sinks: [memorySink()], snapshot: { dir } });
 * log.info("hello");
 * await log.snapshot("checkout failed");
 * await log.close();
 * const [file] = listSnapshots(dir);
 * assert.equal(file.reason, "checkout failed");
 * assert.ok(file.size > 0);
 * rmSync(dir, { recursive: true });
 * ```
 */
export function listSnapshots(dir: string): SnapshotInfo[] {
  const fs = nodeFs("the dashboard's snapshot list");
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return [];
    throw error;
  }
  const files: SnapshotInfo[] = [];
  for (const name of names) {
    if (!SNAPSHOT_NAME.test(name)) continue;
    const path = `${dir}/${name}`;
    let stat;
    try {
      stat = fs.lstatSync(path);
    } catch {
      continue; // deleted meanwhile (pruned)
    }
    if (!stat.isFile()) continue;
    const meta = readHeader(path) ?? {};
    const trigger = meta.trigger as { kind?: unknown } | undefined;
    files.push({
      name,
      size: stat.size,
      mtime: stat.mtimeMs,
      reason: typeof meta.reason === "string" ? meta.reason : undefined,
      service: typeof meta.service === "string" ? meta.service : undefined,
      time: typeof meta.time === "number" ? meta.time : undefined,
      trigger: typeof trigger?.kind === "string" ? trigger.kind : undefined,
    });
  }
  return files.sort((a, b) =>
    b.mtime - a.mtime || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0)
  );
}

/**
 * The whole of a snapshot file, read from what was opened (no link
 * followed, a regular file, the same file the path names): a link swapped
 * in between the directory check and the read is refused, not served.
 *
 * @param path The snapshot file.
 * @returns Its bytes.
 * @throws {Error} When it cannot be opened or is refused.
 */
export function readRegularFile(path: string): Uint8Array {
  const fs = nodeFs("the dashboard's snapshots");
  const fd = openForReading(fs, path, true);
  try {
    const size = fs.fstatSync(fd).size;
    const bytes = new Uint8Array(size);
    let got = 0;
    while (got < size) {
      const n = fs.readSync(fd, bytes, got, size - got, got);
      if (n <= 0) break;
      got += n;
    }
    return got === size ? bytes : bytes.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

/** The first chunk's metadata, reading at most 1 MiB; undefined when it is not a header. */
function readHeader(path: string): Record<string, unknown> | undefined {
  const fs = nodeFs("the dashboard's snapshot list");
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, "r");
    const reader = new TtlogReader();
    const piece = new Uint8Array(64 * 1024);
    for (let read = 0; read < 1 << 20;) {
      const n = fs.readSync(fd, piece, 0, piece.length, null);
      if (n === 0) return undefined;
      read += n;
      const items = reader.push(piece.subarray(0, n));
      if (items.length > 0) {
        return items[0].kind === "header" ? items[0].meta : undefined;
      }
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Checks a snapshot name taken from a URL: it must match
 * {@link SNAPSHOT_NAME} and be a regular file listed in `dir` (not a
 * symbolic link).
 *
 * @param dir The snapshot directory.
 * @param name The name, already percent-decoded.
 * @returns `{ path }` for a valid, present file; else `{ status, error }`:
 *   400 for a name that can never be a snapshot's, 404 for one that is not there.
 *
 * @example Traversal is refused before the file system is touched
 * ```ts
 * import { resolveSnapshot } from "./snapshots.ts";
 * import assert from "node:assert/strict";
 * assert.equal(resolveSnapshot("ttlog-snapshots", "../etc/passwd").status, 400);
 * assert.equal(resolveSnapshot("ttlog-snapshots", "/etc/passwd").status, 400);
 * ```
 */
export function resolveSnapshot(
  dir: string,
  name: string,
):
  | { readonly path: string; readonly status?: undefined }
  | { readonly status: 400 | 404; readonly error: string } {
  if (!SNAPSHOT_NAME.test(name)) {
    return {
      status: 400,
      error: `${
        JSON.stringify(name.slice(0, 300))
      } is not a snapshot file name (ttlog-<service>-<pid>-<time>-<reason>.ttlog, letters, digits, _ . - only)`,
    };
  }
  const fs = nodeFs("the dashboard's snapshots");
  const missing = {
    status: 404,
    error: `no snapshot ${name} in ${dir}`,
  } as const;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return missing;
  }
  if (!names.includes(name)) return missing;
  const path = `${dir}/${name}`;
  try {
    if (!fs.lstatSync(path).isFile()) return missing;
  } catch {
    return missing;
  }
  return { path };
}

/**
 * Reads the `ttlog view` filters from query parameters, through the parser
 * the CLI uses, so that they take the same values and fail with the same
 * messages. Empty parameters are ignored.
 *
 * @param params The query.
 * @param names Which query parameter holds which option (`{ level: "--level" }`).
 * @returns The filter.
 * @throws {ReaderError} When a value is malformed (an unknown level, a bad
 * time) or given twice where once is allowed (kind `"argument"`).
 *
 * @example The query of a snapshot view
 * ```ts
 * import { filterFromQuery, VIEW_PARAMS } from "./snapshots.ts";
 * import assert from "node:assert/strict";
 * const filter = filterFromQuery(new URLSearchParams("level=warn&where=user.id%3D42"), VIEW_PARAMS);
 * assert.equal(filter.level, "warn");
 * assert.equal(filter.where?.[0].key, "user.id");
 * assert.throws(() => filterFromQuery(new URLSearchParams("level=loud"), VIEW_PARAMS), /--level must be one of/);
 * ```
 */
export function filterFromQuery(
  params: URLSearchParams,
  names: Readonly<Record<string, string>>,
): EventFilter {
  const options = new Map<string, string[]>();
  for (const [param, option] of Object.entries(names)) {
    for (const value of params.getAll(param)) {
      if (value.trim() === "") continue;
      const values = options.get(option);
      if (values === undefined) options.set(option, [value]);
      else values.push(value);
    }
  }
  return parseFilter("dashboard", options);
}

/** Query parameters of a snapshot view, and the `ttlog view` options they stand for. */
export const VIEW_PARAMS: Readonly<Record<string, string>> = {
  level: "--level",
  target: "--target",
  grep: "--grep",
  where: "--where",
  since: "--since",
  until: "--until",
};

/** What {@link viewSnapshot} returns. */
export interface SnapshotView {
  /** The header's metadata. */
  readonly meta: Record<string, unknown>;
  /** The selected events, oldest first, each an ndjson line (with `seq`). */
  readonly lines: string[];
  /** Whether more events matched than `last` (only the newest are given). */
  readonly more: boolean;
  /** Events in the file (before filtering). */
  readonly events: number;
  /** Where the whole chunks end, when the file was cut short. */
  readonly truncatedAt?: number;
  /** What was wrong with a corrupt chunk (the events before it are given). */
  readonly error?: string;
  /** Records that could not be decoded. */
  readonly undecodable: number;
}

/**
 * The events of one snapshot that `filter` selects, the newest `last`, in
 * the order `ttlog view` prints them: what `ttlog view FILE --last N`
 * with the same filters shows, without writing to stderr (problems with
 * the file are returned instead).
 *
 * @param path The file.
 * @param filter The filters.
 * @param last How many of the newest selected events to return.
 * @returns The events and what was read.
 * @throws {ReaderError} When the file cannot be read or is not a .ttlog file
 * (kind `"file"`).
 *
 * @example Warnings and worse
 * ```ts
 * import { createLogger, memorySink } from "@ttlog/ttlog";
 * import { viewSnapshot } from "./snapshots.ts";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * const dir = mkdtempSync(join(tmpdir(), "ttlog-doc-"));
 * const log = createLogger({ sinks: [memorySink()], snapshot: { dir } });
 * log.debug("cache miss");
 * log.warn("slow", { ms: 900 });
 * const path = await log.snapshot("example");
 * await log.close();
 * const view = viewSnapshot(path, { level: "warn" }, 100);
 * assert.deepEqual(view.lines.map((line) => JSON.parse(line).msg), ["slow"]);
 * assert.equal(view.events, 2);
 * rmSync(dir, { recursive: true });
 * ```
 */
export function viewSnapshot(
  path: string,
  filter: EventFilter,
  last: number,
): SnapshotView {
  const { records, more, read } = selectEvents([path], filter, {
    last,
    noFollow: true,
  });
  const format = ndjsonFormatter({ seq: true });
  const file = read.files[0];
  return {
    meta: file.meta,
    lines: records.map(format),
    more,
    events: file.events,
    truncatedAt: file.truncatedAt,
    error: file.error,
    undecodable: file.undecodable,
  };
}
