/**
 * Reading `.ttlog` files (docs/FORMAT.md, ".ttlog files"): raw, LZ4 or gzip,
 * told apart by their first bytes, fed in pieces of any size: the public
 * {@link TtlogReader} and {@link readTtlog}, and the items they return.
 * ./chunk_frames.ts finds, decompresses and verifies the chunks,
 * ./chunk_events.ts decodes the records of events chunks.
 *
 * Memory stays bounded whatever the input claims: the reader holds at most
 * one chunk (its compressed bytes, then its decompressed bytes), and rejects
 * a chunk that declares more than `maxPayloadBytes` (64 MiB by default)
 * before allocating anything for it. Every chunk is verified (xxHash32, and
 * the LZ4 or gzip checksums) before it is decoded. Hostile input raises
 * {@link TtlogFormatError} and nothing else; the work is linear in the input.
 *
 * @module
 */

import { TtlogConfigError } from "../errors.ts";
import { TtlogFormatError } from "../record/decode.ts";
import type { LogRecord } from "../record/values.ts";
import {
  EventsDecoder,
  FilterFailure,
  type TtlogRecordFilter,
} from "./chunk_events.ts";
import { ChunkFramer } from "./chunk_frames.ts";
import {
  ChunkKind,
  MAX_CHUNK_PAYLOAD,
  type TtlogCompression,
  type TtlogEnd,
  type TtlogLoss,
} from "./format.ts";

/** A chunk's bytes, given with its item under the `chunks` option. */
export interface TtlogChunk {
  /** Where the chunk starts in the input. */
  readonly offset: number;
  /** Its bytes as stored (an LZ4 frame or gzip member when compressed). */
  readonly stored: Uint8Array;
  /** Its bytes uncompressed: `TTLG`, version, kind, length, payload, hash. */
  readonly raw: Uint8Array;
}

/** One decoded chunk (with its bytes under the `chunks` option). */
export type TtlogItem =
  & (
    | {
      readonly kind: "header";
      /** The metadata object the writer was given. */
      readonly meta: Record<string, unknown>;
    }
    | {
      readonly kind: "events";
      /** The producer whose records these are. */
      readonly producer: number;
      /** The records, in the order they were written (oldest first). */
      readonly records: LogRecord[];
      /**
       * Records whose framing was sound but whose content could not be decoded
       * (skipped; a torn record copied from a live ring, for example).
       */
      readonly undecodable: number;
      /** Records the `filter` option turned away (never decoded). */
      readonly filtered: number;
    }
    | ({ readonly kind: "loss" } & TtlogLoss)
    | ({ readonly kind: "end" } & TtlogEnd)
  )
  & { readonly chunk?: TtlogChunk };

/** Options of {@link TtlogReader} and {@link readTtlog}. */
export interface TtlogReaderOptions {
  /**
   * The largest chunk payload to accept, in bytes (default and most useful
   * value: {@link MAX_CHUNK_PAYLOAD}, 64 MiB). The reader's memory is about
   * twice this at most.
   */
  readonly maxPayloadBytes?: number;
  /**
   * The service name given to decoded records; default: the last header's
   * `service`, else "".
   */
  readonly service?: string;
  /**
   * Called with each record's header before its values are decoded; a
   * record for which it returns false is skipped (and counted in its events
   * item's `filtered`). What it throws, `push` (or `readTtlog`) throws as it
   * is, and the reader stops. Skipping costs a few ns per record, decoding a few
   * hundred: filters by level, target or time belong here. Records whose
   * level or target cannot be read are counted `undecodable` without a call.
   *
   * @example Only error and fatal events
   * ```ts
   * import { ChunkKind } from "./format.ts";
   * import { encodeChunk, eventsChunk } from "./chunk_writer.ts";
   * import { readTtlog } from "./chunk_reader.ts";
   * import { writeHeader } from "../ring/ring.ts";
   * import assert from "node:assert/strict";
   * // Two events with inline targets and messages: info "a", error "b".
   * const record = (level: number, time: number, letter: number) => {
   *   const r = new Uint8Array(20);
   *   const body = writeHeader(r, 0, level, 0, 0, time, 0);
   *   r.set([0x07, 0, 1, 0x07, 1, letter, 0], body);
   *   new DataView(r.buffer).setUint32(0, (body + 7) | (1 << 24), true);
   *   return r;
   * };
   * const records = new Uint8Array([...record(2, 1000, 0x61), ...record(4, 1001, 0x62)]);
   * const chunk = eventsChunk(0, [], { records, seqs: [0, 1], timeBase: 0 });
   * const file = encodeChunk(ChunkKind.events, chunk, "none");
   * const { items } = readTtlog(file, { filter: (level) => level >= 4 });
   * assert.ok(items[0].kind === "events");
   * assert.deepEqual(items[0].records.map((r) => r.msg), ["b"]);
   * assert.equal(items[0].filtered, 1);
   * ```
   */
  readonly filter?: TtlogRecordFilter;
  /**
   * Give each record its call site's `template` (the message's text parts,
   * shared by every event of the site), for grouping by call site.
   */
  readonly templates?: boolean;
  /**
   * Give each item its chunk's bytes, as stored and uncompressed, and its
   * offset (`chunk`): for tools that copy chunks (`ttlog merge`).
   */
  readonly chunks?: boolean;
}

/**
 * Reads a `.ttlog` stream that arrives in pieces: feed each piece to
 * {@link TtlogReader.push} and take the decoded chunks it returns, then call
 * {@link TtlogReader.finish} at the end of the input.
 *
 * When the input goes bad after some chunks of a piece were decoded, `push`
 * returns those chunks and the error is thrown by the next call; after an
 * error every call throws it again.
 *
 * @example Read a file as it arrives
 * ```ts
 * import { ChunkKind } from "./format.ts";
 * import { encodeChunk, endChunk, headerChunk } from "./chunk_writer.ts";
 * import { TtlogReader } from "./chunk_reader.ts";
 * import assert from "node:assert/strict";
 * const file = new Uint8Array([
 *   ...encodeChunk(ChunkKind.header, headerChunk({ reason: "manual" }), "none"),
 *   ...encodeChunk(ChunkKind.end, endChunk(1, 0), "none"),
 * ]);
 * const reader = new TtlogReader();
 * const kinds = [];
 * for (let at = 0; at < file.length; at += 7) {
 *   for (const item of reader.push(file.subarray(at, at + 7))) kinds.push(item.kind);
 * }
 * reader.finish();
 * assert.deepEqual(kinds, ["header", "end"]);
 * ```
 */
export class TtlogReader {
  readonly #service: string | undefined;
  readonly #chunks: boolean;
  readonly #framer: ChunkFramer;
  readonly #events: EventsDecoder;
  #headerService = "";
  #error: TtlogFormatError | undefined;

  /**
   * Creates a reader.
   *
   * @param options The chunk size limit and the records' service name.
   * @throws {TtlogConfigError} When `maxPayloadBytes` is not an integer from
   * 1 to 2^30.
   */
  constructor(options: TtlogReaderOptions = {}) {
    const max = options.maxPayloadBytes ?? MAX_CHUNK_PAYLOAD;
    if (!Number.isInteger(max) || max < 1 || max > 2 ** 30) {
      throw new TtlogConfigError(
        `TtlogReader: maxPayloadBytes must be an integer from 1 to 2^30, got ${max}`,
      );
    }
    this.#service = options.service;
    const filter = options.filter;
    if (filter !== undefined && typeof filter !== "function") {
      throw new TtlogConfigError(
        `TtlogReader: filter must be a function (level, target, time, seq) => boolean, got ${typeof filter}`,
      );
    }
    this.#chunks = options.chunks === true;
    const framer = new ChunkFramer(max);
    this.#framer = framer;
    this.#events = new EventsDecoder({
      filter,
      templates: options.templates === true,
      fail: (what) => framer.fail(what),
    });
  }

  /** How the input is stored, once its first chunk has begun. */
  get compression(): TtlogCompression | undefined {
    return this.#framer.compression;
  }

  /** The input offset just past the last whole chunk (or skipped frame). */
  get offset(): number {
    return this.#framer.offset;
  }

  /** Bytes held of a chunk that has not arrived whole yet. */
  get pending(): number {
    return this.#framer.pending;
  }

  /**
   * Feeds the next piece of input.
   *
   * @param bytes The next bytes (not kept after the call returns).
   * @returns The chunks completed by these bytes, decoded, in order.
   * @throws {TtlogFormatError} When the input is not a valid .ttlog file (or
   * an earlier piece was not and its error is still to be reported).
   */
  push(bytes: Uint8Array): TtlogItem[] {
    if (this.#error !== undefined) throw this.#error;
    const out: TtlogItem[] = [];
    try {
      this.#framer.feed(bytes, (stored, raw) => {
        out.push(this.#item(stored, raw));
      });
    } catch (error) {
      if (error instanceof FilterFailure) {
        // The user's filter failed, not the file: its error goes out as it is.
        this.#error = new TtlogFormatError(
          `ttlog: reading stopped at the chunk at byte ${this.offset}: the filter threw`,
        );
        throw error.cause;
      }
      const formatError = error instanceof TtlogFormatError
        ? error
        : new TtlogFormatError(
          `ttlog: the chunk at byte ${this.offset} could not be read (${
            error instanceof Error ? error.message : String(error)
          })`,
        );
      this.#error = formatError;
      if (out.length === 0) throw formatError;
    }
    return out;
  }

  /**
   * Declares the end of the input.
   *
   * @throws {TtlogFormatError} When the input was empty, ended inside a
   * chunk (the message says at which byte the whole chunks end), or an error
   * is still to be reported.
   */
  finish(): void {
    if (this.#error !== undefined) throw this.#error;
    if (this.#framer.pushed === 0) {
      throw new TtlogFormatError(
        "ttlog: the input is empty; expected a .ttlog file",
      );
    }
    if (this.pending > 0) {
      throw new TtlogFormatError(
        `ttlog: truncated: the input ends inside the chunk at byte ${this.offset} (the whole chunks before it were read)`,
      );
    }
  }

  /** Decodes one whole chunk, with its bytes under the `chunks` option. */
  #item(stored: Uint8Array, raw: Uint8Array): TtlogItem {
    const item = this.#decode(raw);
    if (!this.#chunks) return item;
    // The framer reuses its buffer for the next chunk: keep copies.
    const copy = stored.slice();
    return {
      ...item,
      chunk: {
        offset: this.offset,
        stored: copy,
        raw: raw === stored ? copy : raw,
      },
    };
  }

  /** Verifies and decodes one uncompressed chunk, all of `chunk`. */
  #decode(chunk: Uint8Array): TtlogItem {
    const { kind, flags, payload } = this.#framer.verify(chunk);
    switch (kind) {
      case ChunkKind.header: {
        const meta = this.#json(payload);
        if (meta === null || typeof meta !== "object" || Array.isArray(meta)) {
          this.#framer.fail("a header must hold a JSON object");
        }
        const record = meta as Record<string, unknown>;
        if (typeof record.service === "string") {
          this.#headerService = record.service;
        }
        return { kind: "header", meta: record };
      }
      case ChunkKind.events:
        return {
          kind: "events",
          ...this.#events.decode(
            payload,
            flags,
            this.#service ?? this.#headerService,
          ),
        };
      case ChunkKind.loss: {
        const loss = this.#json(payload) as Partial<TtlogLoss> | null;
        if (
          !isCount(loss?.producer) || !isCount(loss?.lost) ||
          typeof loss?.reason !== "string"
        ) {
          this.#framer.fail("a loss chunk must hold {producer, lost, reason}");
        }
        return {
          kind: "loss",
          producer: loss.producer,
          lost: loss.lost,
          reason: loss.reason,
        };
      }
      case ChunkKind.end: {
        const end = this.#json(payload) as Partial<TtlogEnd> | null;
        if (!isCount(end?.chunks) || !isCount(end?.events)) {
          this.#framer.fail("an end chunk must hold {chunks, events}");
        }
        return { kind: "end", chunks: end.chunks, events: end.events };
      }
      default:
        return this.#framer.fail(`unknown chunk kind ${kind}`);
    }
  }

  #json(payload: Uint8Array): unknown {
    try {
      return JSON.parse(
        new TextDecoder("utf-8", { fatal: true }).decode(payload),
      );
    } catch (error) {
      return this.#framer.fail(
        `its JSON cannot be read (${
          error instanceof Error ? error.message : String(error)
        })`,
      );
    }
  }
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) &&
    value >= 0;
}

/** What {@link readTtlog} found. */
export interface TtlogReadResult {
  /** Every whole chunk before the end, the truncation or the error. */
  readonly items: TtlogItem[];
  /**
   * Set when the input ends inside a chunk (a file still being written, or
   * cut off by a crash): the byte offset where the whole chunks end.
   */
  readonly truncatedAt?: number;
  /** Set when the input is corrupt: what was wrong, and where. */
  readonly error?: TtlogFormatError;
  /** How the input is stored, once its first chunk has begun. */
  readonly compression?: TtlogCompression;
}

/**
 * Reads a whole `.ttlog` file held in memory: every whole chunk, and where
 * and why reading stopped early. Never throws for bad input.
 *
 * @param bytes The file's bytes (raw, LZ4 or gzip).
 * @param options The chunk size limit and the records' service name.
 * @returns The decoded chunks, plus `truncatedAt` or `error`.
 * @throws {TtlogConfigError} When the options are invalid.
 *
 * @example Read what is left of a truncated file
 * ```ts
 * import { ChunkKind } from "./format.ts";
 * import { encodeChunk, endChunk, headerChunk } from "./chunk_writer.ts";
 * import { readTtlog } from "./chunk_reader.ts";
 * import assert from "node:assert/strict";
 * const header = encodeChunk(ChunkKind.header, headerChunk({ pid: 1 }), "none");
 * const end = encodeChunk(ChunkKind.end, endChunk(1, 0), "none");
 * const cut = new Uint8Array([...header, ...end.subarray(0, 5)]);
 * const result = readTtlog(cut);
 * assert.equal(result.items.length, 1);
 * assert.equal(result.truncatedAt, header.length);
 * ```
 */
export function readTtlog(
  bytes: Uint8Array,
  options: TtlogReaderOptions = {},
): TtlogReadResult {
  const reader = new TtlogReader(options);
  if (bytes.length === 0) return { items: [], truncatedAt: 0 };
  let items: TtlogItem[] = [];
  const stored = () => {
    const compression = reader.compression;
    return compression === undefined ? {} : { compression };
  };
  try {
    items = reader.push(bytes);
    // An error found after some chunks is reported by the next call.
    reader.push(new Uint8Array(0));
    if (reader.pending > 0) {
      return { items, truncatedAt: reader.offset, ...stored() };
    }
    reader.finish();
  } catch (error) {
    if (error instanceof TtlogFormatError) {
      return { items, error, ...stored() };
    }
    throw error;
  }
  return { items, ...stored() };
}
