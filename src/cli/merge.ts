/**
 * `ttlog merge FILE... --out PATH`: one .ttlog file from many (snapshots of
 * several processes, or files of several workers), read back by `view` in
 * the same order and with the same records as the inputs viewed together.
 *
 * Records are not re-encoded. An events chunk holds one producer's records,
 * which name that producer's dictionary entries by id, so each input
 * producer stays a producer of its own in the output, renumbered so that
 * none collide: the streams are numbered in the order `view` ranks them
 * (files in the order given, then producers by number), so ties in time
 * break the same way. Each events chunk is copied with only its producer
 * number rewritten, then compressed again.
 *
 * The output: a header chunk (the first input's service, `reason: "merge"`,
 * and `merged`: per input its path, header metadata and producer renumbering),
 * then the events chunks ordered by their first event's time (each producer's
 * chunks keeping their order, so a reader can merge them as they come), each
 * input loss chunk (renumbered) just before the chunk of its producer that
 * followed it, and an end chunk. Records take their service from the last
 * header before them; when an events chunk's service differs from the one in
 * force, a header `{service, merge: "service"}` comes first.
 *
 * @module
 */

import { TtlogFormatError } from "../record/decode.ts";
import { nodeFs } from "../runtime/builtin.ts";
import { readTtlog } from "../ttlog_file/chunk_reader.ts";
import {
  encodeChunk,
  endChunk,
  headerChunk,
  lossChunk,
} from "../ttlog_file/chunk_writer.ts";
import {
  CHUNK_HEADER_BYTES,
  ChunkKind,
  type TtlogCompression,
} from "../ttlog_file/format.ts";
import { CliError, optionValue, type ParsedArgs } from "./args.ts";
import { AtomicFile, refuseInputAsOutput, stderr } from "./output.ts";

interface Loss {
  readonly lost: number;
  readonly reason: string;
}

/** One events chunk to copy, with the losses to write before it. */
interface EventsPiece {
  readonly payload: Uint8Array;
  /** The chunk's flags (bytes 6-7): they say how the payload is laid out. */
  readonly flags: number;
  readonly service: string;
  readonly firstTime: number;
  readonly events: number;
  readonly lossesBefore: Loss[];
}

/** One producer of one input. */
interface Source {
  readonly file: number;
  readonly producer: number;
  readonly pieces: EventsPiece[];
  /** Losses with no events chunk after them. */
  trailingLosses: Loss[];
  trailingService: string;
}

function u32(u8: Uint8Array, at: number): number {
  return (u8[at] | (u8[at + 1] << 8) | (u8[at + 2] << 16) |
    (u8[at + 3] << 24)) >>> 0;
}

function writeU32(u8: Uint8Array, at: number, value: number): void {
  u8[at] = value;
  u8[at + 1] = value >>> 8;
  u8[at + 2] = value >>> 16;
  u8[at + 3] = value >>> 24;
}

/**
 * `ttlog merge FILE... --out PATH [--compression C]`: writes the merged file
 * (under a temporary name, renamed into place when whole).
 *
 * @param parsed The command line (files, `--out`, `--compression`).
 * @returns The exit status.
 * @throws {CliError} When `--out` is missing or one of the inputs, an input
 * cannot be read, is not .ttlog or is corrupt (nothing is written then), or
 * the output cannot be written.
 *
 * @example Merge the snapshots of two loggers
 * ```ts
 * import { createLogger, memorySink } from "../../mod.ts";
 * import { parseArgs } from "./args.ts";
 * import { mergeCommand } from "./merge.ts";
 * import { selectEvents } from "../reader/select.ts";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * const dir = mkdtempSync(join(tmpdir(), "ttlog-doc-"));
 * const paths: string[] = [];
 * for (const service of ["api", "worker"]) {
 *   const log = createLogger({ service, sinks: [memorySink()], snapshot: { dir } });
 *   log.info("started");
 *   paths.push(await log.snapshot("example"));
 *   await log.close();
 * }
 * const out = join(dir, "merged.ttlog");
 * const parsed = parseArgs("ttlog merge", [...paths, "--out", out], [{ name: "--out", value: true }], "");
 * assert.equal(mergeCommand(parsed), 0);
 * const { records } = selectEvents([out], {});
 * assert.deepEqual(records, selectEvents(paths, {}).records);
 * assert.deepEqual(records.map((r) => r.service).sort(), ["api", "worker"]);
 * rmSync(dir, { recursive: true });
 * ```
 */
export function mergeCommand(parsed: ParsedArgs): number {
  const command = "ttlog merge";
  const out = optionValue(parsed, "--out");
  if (out === undefined) {
    throw new CliError(`${command}: --out PATH is required`);
  }
  const compressionText = optionValue(parsed, "--compression");
  if (
    compressionText !== undefined && compressionText !== "lz4" &&
    compressionText !== "gzip" && compressionText !== "none"
  ) {
    throw new CliError(
      `${command}: --compression must be lz4, gzip or none, got ${
        JSON.stringify(compressionText)
      }`,
    );
  }
  refuseInputAsOutput(command, out, parsed.files);
  const fs = nodeFs("ttlog");
  const sources: Source[] = [];
  const inputs: Record<string, unknown>[] = [];
  let compression: TtlogCompression | undefined = compressionText;
  let firstService: string | undefined;
  for (const [file, path] of parsed.files.entries()) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(fs.readFileSync(path));
    } catch (error) {
      throw new CliError(
        `ttlog: cannot read ${path}: ${(error as Error).message}`,
      );
    }
    // Records are copied, never decoded: the filter notes each one's time
    // (a chunk's first orders the chunks) and turns it away.
    const times: number[] = [];
    const read = readTtlog(bytes, {
      chunks: true,
      filter: (_level, _target, time) => {
        times.push(time);
        return false;
      },
    });
    let timed = 0;
    if (read.items.length === 0) {
      throw new CliError(
        `ttlog: ${path} is not a .ttlog file${
          read.error ? ` (${read.error.message})` : ""
        }`,
      );
    }
    if (read.error !== undefined) {
      throw new CliError(
        `${command}: ${path}: ${read.error.message}; nothing was written`,
      );
    }
    if (read.truncatedAt !== undefined) {
      stderr.write(
        `ttlog: ${path} is truncated at byte ${read.truncatedAt}; merging the whole chunks before it\n`,
      );
    }
    compression ??= read.compression;
    const mine = new Map<number, Source>();
    const source = (producer: number): Source => {
      let found = mine.get(producer);
      if (found === undefined) {
        found = {
          file,
          producer,
          pieces: [],
          trailingLosses: [],
          trailingService: "",
        };
        mine.set(producer, found);
      }
      return found;
    };
    let meta: Record<string, unknown> | undefined;
    let service = "";
    for (const item of read.items) {
      switch (item.kind) {
        case "header":
          meta ??= item.meta;
          if (typeof item.meta.service === "string") {
            service = item.meta.service;
          }
          break;
        case "loss": {
          const s = source(item.producer);
          s.trailingLosses.push({ lost: item.lost, reason: item.reason });
          s.trailingService = service;
          break;
        }
        case "events": {
          const s = source(item.producer);
          const raw = item.chunk!.raw;
          const length = u32(raw, 8);
          s.pieces.push({
            payload: raw.subarray(
              CHUNK_HEADER_BYTES,
              CHUNK_HEADER_BYTES + length,
            ),
            flags: raw[6] | (raw[7] << 8),
            service,
            firstTime: item.filtered > 0 ? times[timed] : NaN,
            events: item.filtered + item.undecodable,
            lossesBefore: s.trailingLosses,
          });
          timed += item.filtered;
          s.trailingLosses = [];
          break;
        }
      }
    }
    firstService ??= typeof meta?.service === "string"
      ? meta.service
      : undefined;
    const ordered = [...mine.values()].sort((a, b) => a.producer - b.producer);
    const renumbered: Record<string, number> = {};
    for (const s of ordered) {
      renumbered[s.producer] = sources.length;
      sources.push(s);
    }
    inputs.push({ path, meta: meta ?? {}, producers: renumbered });
  }
  compression ??= "lz4";

  const file = new AtomicFile(out, command);
  try {
    let chunks = 0;
    let events = 0;
    let service = firstService ?? "";
    const write = (kind: ChunkKind, payload: Uint8Array, flags = 0) => {
      file.write(encodeChunk(kind, payload, compression, flags));
      chunks++;
    };
    write(
      ChunkKind.header,
      headerChunk({
        service,
        reason: "merge",
        time: Date.now(),
        producers: sources.length,
        merged: inputs,
      }),
    );
    const switchTo = (next: string) => {
      if (next === service) return;
      service = next;
      write(ChunkKind.header, headerChunk({ service, merge: "service" }));
    };
    for (const [producer, source, piece] of chunkOrder(sources)) {
      if (piece === undefined) {
        switchTo(source.trailingService);
        for (const loss of source.trailingLosses) {
          write(ChunkKind.loss, lossChunk(producer, loss.lost, loss.reason));
        }
        continue;
      }
      switchTo(piece.service);
      for (const loss of piece.lossesBefore) {
        write(ChunkKind.loss, lossChunk(producer, loss.lost, loss.reason));
      }
      const payload = piece.payload;
      writeU32(payload, 0, producer);
      write(ChunkKind.events, payload, piece.flags);
      events += piece.events;
    }
    write(ChunkKind.end, endChunk(chunks, events));
    file.commit();
  } catch (error) {
    file.abort();
    if (error instanceof CliError) throw error;
    if (error instanceof TtlogFormatError) {
      throw new CliError(`${command}: ${error.message}; nothing was written`);
    }
    throw new CliError(
      `${command}: cannot write ${out}: ${(error as Error).message}`,
    );
  }
  return 0;
}

/**
 * The output order: events chunks by their first event's time (at equal
 * times the lower producer first; chunks without events keep their place
 * after the producer's previous chunk), each producer's chunks in their own
 * order; a producer's trailing losses (as `piece` undefined) right after its
 * last chunk.
 */
function* chunkOrder(
  sources: readonly Source[],
): Generator<[number, Source, EventsPiece | undefined]> {
  const next = new Int32Array(sources.length);
  const keyOf = (piece: EventsPiece | undefined) =>
    piece === undefined || Number.isNaN(piece.firstTime)
      ? -Infinity
      : piece.firstTime;
  const keys = sources.map((s) => keyOf(s.pieces[0]));
  const done = (i: number) => next[i] > sources[i].pieces.length;
  for (;;) {
    let best = -1;
    for (let i = 0; i < sources.length; i++) {
      if (done(i)) continue;
      const key = keys[i];
      if (best < 0 || key < keys[best]) best = i;
    }
    if (best < 0) return;
    const source = sources[best];
    const at = next[best]++;
    if (at === source.pieces.length) {
      if (source.trailingLosses.length > 0) yield [best, source, undefined];
      continue;
    }
    yield [best, source, source.pieces[at]];
    keys[best] = keyOf(source.pieces[at + 1]);
  }
}
