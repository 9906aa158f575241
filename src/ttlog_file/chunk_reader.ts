/**
 * Reading `.ttlog` files (docs/FORMAT.md, ".ttlog files"): raw, LZ4 or gzip,
 * told apart by their first bytes, fed in pieces of any size.
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

import { gunzipSync } from "../codec/gzip.ts";
import { readLz4Frame } from "../codec/lz4_frame.ts";
import { xxhash32 } from "../codec/xxhash32.ts";
import { type LevelValue, TtlogConfigError } from "../level.ts";
import {
  decodeEvent,
  type DictionaryLookup,
  TtlogFormatError,
  ValueReader,
} from "../record/decode.ts";
import {
  type DictionaryEntry,
  ENTRY_SITE,
  ENTRY_STRING,
} from "../record/dictionary.ts";
import type { LogRecord } from "../record/values.ts";
import { readWtf8 } from "../record/wtf8.ts";
import { HEADER_BYTES, KIND_EVENT } from "../ring/ring.ts";
import {
  CHUNK_HEADER_BYTES,
  CHUNK_MAGIC,
  CHUNK_TRAILER_BYTES,
  CHUNK_VERSION,
  ChunkKind,
  FLAG_COLUMNS,
  GZIP_SUBFIELD,
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

/**
 * Decides, from a record's header alone, whether the record is decoded: its
 * values (message, fields) are decoded only when this returns true.
 * Records turned away are counted in their events item's `filtered`.
 *
 * @param level The numeric level: 0 trace, 1 debug, 2 info, 3 warn, 4 error,
 * 5 fatal.
 * @param target The target (`""` for the root logger).
 * @param time Milliseconds since the Unix epoch.
 * @param seq The producer's sequence number.
 * @returns Whether to decode the record and return it.
 */
export type TtlogRecordFilter = (
  level: LevelValue,
  target: string,
  time: number,
  seq: number,
) => boolean;

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
   * import assert from "node:assert/strict";
   * // Two events with inline targets and messages: info "a", error "b".
   * const record = (level: number, seq: number, letter: number) => {
   *   const r = new Uint8Array(32);
   *   const view = new DataView(r.buffer);
   *   view.setUint32(0, 31 | (1 << 24), true);
   *   view.setUint32(4, seq, true);
   *   view.setFloat64(8, 1000 + seq, true);
   *   r[16] = level;
   *   r.set([0x07, 0, 1, 0x07, 1, letter, 0], 24);
   *   return r;
   * };
   * const records = new Uint8Array([...record(2, 0, 0x61), ...record(4, 1, 0x62)]);
   * const file = encodeChunk(ChunkKind.events, eventsChunk(0, [], records), "none");
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

const EMPTY = new Uint8Array(0);
const LZ4_MAGIC = 0x184d2204;
const LZ4_SKIPPABLE = 0x184d2a50; // low 4 bits are free
const GZIP_MAGIC = 0x8b1f;

/** What the bytes being collected are. */
const Stage = {
  magic: 0,
  rawHeader: 1,
  lz4Descriptor: 2,
  lz4Block: 3,
  skippable: 4,
  gzipHeader: 5,
  gzipExtra: 6,
  body: 7,
} as const;
type Stage = typeof Stage[keyof typeof Stage];

const Mode = { unknown: 0, raw: 1, lz4: 2, gzip: 3 } as const;
type Mode = typeof Mode[keyof typeof Mode];
const MODE_NAMES = ["", "uncompressed", "LZ4", "gzip"] as const;
const COMPRESSIONS = [undefined, "none", "lz4", "gzip"] as const;

function u32(u8: Uint8Array, at: number): number {
  return (u8[at] | (u8[at + 1] << 8) | (u8[at + 2] << 16) |
    (u8[at + 3] << 24)) >>> 0;
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
  #maxPayload: number;
  #maxUnit: number;
  #service: string | undefined;
  #filter: TtlogRecordFilter | undefined;
  #templates = false;
  #chunks = false;
  #headerService = "";
  /** A record rebuilt from columns, for the record decoder. */
  #scratch = new Uint8Array(256);
  #error: TtlogFormatError | undefined;

  #mode: Mode = Mode.unknown;
  #stage: Stage = Stage.magic;
  /** The file offset where the unit being collected starts. */
  #offset = 0;
  /** Bytes of the current unit collected so far, and how many it needs. */
  #buf = EMPTY;
  #have = 0;
  #need = 4;
  #skip = 0;
  #pushed = 0;
  // The LZ4 frame being collected.
  #blockMax = 0;
  #blockChecksum = false;
  #contentChecksum = false;

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
    this.#maxPayload = max;
    // A chunk compressed: LZ4 and deflate grow incompressible data by well
    // under 1/256, plus their headers.
    this.#maxUnit = CHUNK_HEADER_BYTES + max + CHUNK_TRAILER_BYTES +
      Math.ceil(max / 256) + 1024;
    this.#service = options.service;
    const filter = options.filter;
    if (filter !== undefined && typeof filter !== "function") {
      throw new TtlogConfigError(
        `TtlogReader: filter must be a function (level, target, time, seq) => boolean, got ${typeof filter}`,
      );
    }
    this.#filter = filter;
    this.#templates = options.templates === true;
    this.#chunks = options.chunks === true;
  }

  /** How the input is stored, once its first chunk has begun. */
  get compression(): TtlogCompression | undefined {
    return COMPRESSIONS[this.#mode];
  }

  /** The input offset just past the last whole chunk (or skipped frame). */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes held of a chunk that has not arrived whole yet. */
  get pending(): number {
    return this.#have + this.#skip;
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
      this.#feed(bytes, out);
    } catch (error) {
      if (error instanceof FilterFailure) {
        // The user's filter failed, not the file: its error goes out as it is.
        this.#error = new TtlogFormatError(
          `ttlog: reading stopped at the chunk at byte ${this.#offset}: the filter threw`,
        );
        throw error.cause;
      }
      const formatError = error instanceof TtlogFormatError
        ? error
        : new TtlogFormatError(
          `ttlog: the chunk at byte ${this.#offset} could not be read (${
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
    if (this.#pushed === 0) {
      throw new TtlogFormatError(
        "ttlog: the input is empty; expected a .ttlog file",
      );
    }
    if (this.pending > 0) {
      throw new TtlogFormatError(
        `ttlog: truncated: the input ends inside the chunk at byte ${this.#offset} (the whole chunks before it were read)`,
      );
    }
  }

  #feed(bytes: Uint8Array, out: TtlogItem[]): void {
    this.#pushed += bytes.length;
    let pos = 0;
    const end = bytes.length;
    while (pos < end) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, end - pos);
        this.#skip -= n;
        this.#offset += n;
        pos += n;
        continue;
      }
      const take = Math.min(this.#need - this.#have, end - pos);
      this.#reserve(this.#need);
      this.#buf.set(bytes.subarray(pos, pos + take), this.#have);
      this.#have += take;
      pos += take;
      while (this.#have === this.#need) this.#step(out);
    }
  }

  #reserve(size: number): void {
    if (this.#buf.length >= size) return;
    const grown = new Uint8Array(
      Math.min(Math.max(size, this.#buf.length * 2, 64), this.#maxUnit),
    );
    grown.set(this.#buf.subarray(0, this.#have));
    this.#buf = grown;
  }

  #fail(what: string): never {
    throw new TtlogFormatError(
      `ttlog: the chunk at byte ${this.#offset}: ${what}`,
    );
  }

  /** Sets how many bytes the unit needs in all; refuses more than the bound. */
  #needAll(total: number): void {
    if (total > this.#maxUnit) {
      this.#fail(
        `it claims more than ${this.#maxUnit} bytes (the limit for ${this.#maxPayload}-byte payloads); the file is corrupt, or was written with a larger maxPayloadBytes`,
      );
    }
    this.#need = total;
  }

  /** Acts on a unit's bytes once `#need` of them are there. */
  #step(out: TtlogItem[]): void {
    const buf = this.#buf;
    switch (this.#stage) {
      case Stage.magic:
        return this.#magic();
      case Stage.rawHeader: {
        const length = u32(buf, 8);
        if (length > this.#maxPayload) {
          this.#fail(
            `its payload claims ${length} bytes, over the ${this.#maxPayload}-byte limit`,
          );
        }
        this.#stage = Stage.body;
        return this.#needAll(
          CHUNK_HEADER_BYTES + length + CHUNK_TRAILER_BYTES,
        );
      }
      case Stage.lz4Descriptor: {
        const flags = buf[4];
        const code = (buf[5] >> 4) & 7;
        if ((flags >> 6) !== 1 || (flags & 0x02) !== 0 || code < 4) {
          this.#fail("not a valid LZ4 frame descriptor");
        }
        this.#blockMax = 1 << (2 * code + 8);
        this.#blockChecksum = (flags & 0x10) !== 0;
        this.#contentChecksum = (flags & 0x04) !== 0;
        this.#stage = Stage.lz4Block;
        // Magic, FLG, BD, content size?, dictionary id?, HC; then a block word.
        return this.#needAll(
          7 + ((flags & 0x08) !== 0 ? 8 : 0) + ((flags & 0x01) !== 0 ? 4 : 0) +
            4,
        );
      }
      case Stage.lz4Block: {
        const word = u32(buf, this.#need - 4);
        if (word === 0) {
          this.#stage = Stage.body;
          return this.#needAll(this.#need + (this.#contentChecksum ? 4 : 0));
        }
        const size = word & 0x7fffffff;
        if (size > this.#blockMax) {
          this.#fail(
            `an LZ4 block claims ${size} bytes, over its frame's ${this.#blockMax}-byte maximum`,
          );
        }
        return this.#needAll(
          this.#need + size + (this.#blockChecksum ? 4 : 0) + 4,
        );
      }
      case Stage.skippable: {
        this.#skip = u32(buf, 4);
        this.#offset += 8;
        return this.#reset();
      }
      case Stage.gzipHeader: {
        if (buf[2] !== 8 || (buf[3] & 0x04) === 0 || (buf[3] & 0xe0) !== 0) {
          this.#fail(
            "a gzip member without ttlog's length field (FEXTRA subfield TL); only files written by ttlog can be read in gzip form: decompress it with gzip -dc first",
          );
        }
        this.#stage = Stage.gzipExtra;
        return this.#needAll(12 + (buf[10] | (buf[11] << 8)));
      }
      case Stage.gzipExtra:
        return this.#gzipExtra();
      default:
        out.push(this.#unit());
        this.#offset += this.#need;
        return this.#reset();
    }
  }

  #reset(): void {
    this.#have = 0;
    this.#need = 4;
    this.#stage = Stage.magic;
    // Do not keep a large buffer between chunks.
    if (this.#buf.length > 1 << 22) this.#buf = EMPTY;
  }

  #magic(): void {
    const buf = this.#buf;
    const word = u32(buf, 0);
    let mode: Mode;
    if (
      buf[0] === CHUNK_MAGIC[0] && buf[1] === CHUNK_MAGIC[1] &&
      buf[2] === CHUNK_MAGIC[2] && buf[3] === CHUNK_MAGIC[3]
    ) {
      mode = Mode.raw;
      this.#stage = Stage.rawHeader;
      this.#need = CHUNK_HEADER_BYTES;
    } else if (word === LZ4_MAGIC) {
      mode = Mode.lz4;
      this.#stage = Stage.lz4Descriptor;
      this.#need = 6;
    } else if (((word & 0xfffffff0) >>> 0) === LZ4_SKIPPABLE) {
      mode = Mode.lz4;
      this.#stage = Stage.skippable;
      this.#need = 8;
    } else if ((word & 0xffff) === GZIP_MAGIC) {
      mode = Mode.gzip;
      this.#stage = Stage.gzipHeader;
      this.#need = 12;
    } else {
      return this.#fail(
        this.#mode === Mode.unknown
          ? `not a .ttlog file (it starts with ${
            [...buf.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0"))
              .join(" ")
          }; expected "TTLG", an LZ4 frame or a gzip member)`
          : `expected another ${
            MODE_NAMES[this.#mode]
          } chunk; the file is corrupt here`,
      );
    }
    if (this.#mode === Mode.unknown) this.#mode = mode;
    else if (mode !== this.#mode) {
      this.#fail(
        `a ${MODE_NAMES[mode]} chunk in a ${
          MODE_NAMES[this.#mode]
        } file; a file uses one compression throughout`,
      );
    }
  }

  #gzipExtra(): void {
    const buf = this.#buf;
    const end = this.#need;
    let at = 12;
    let member = -1;
    while (at + 4 <= end) {
      const length = buf[at + 2] | (buf[at + 3] << 8);
      if (
        buf[at] === GZIP_SUBFIELD[0] && buf[at + 1] === GZIP_SUBFIELD[1] &&
        length === 4 && at + 8 <= end
      ) {
        member = u32(buf, at + 4);
        break;
      }
      at += 4 + length;
    }
    if (member < 0) {
      this.#fail(
        "a gzip member without ttlog's length field (FEXTRA subfield TL); only files written by ttlog can be read in gzip form: decompress it with gzip -dc first",
      );
    }
    // The smallest deflate stream is 2 bytes, then CRC32 and ISIZE.
    if (member < end + 10) {
      this.#fail(`its gzip length field says ${member} bytes, too few`);
    }
    this.#stage = Stage.body;
    this.#needAll(member);
  }

  /** Decompresses and decodes the unit in `#buf[0, #need)`. */
  #unit(): TtlogItem {
    const unit = this.#buf.subarray(0, this.#need);
    const limit = CHUNK_HEADER_BYTES + this.#maxPayload + CHUNK_TRAILER_BYTES;
    let chunk: Uint8Array;
    if (this.#mode === Mode.raw) chunk = unit;
    else {
      try {
        if (this.#mode === Mode.lz4) {
          const frame = readLz4Frame(unit, { maxOutputSize: limit });
          if (frame.end !== unit.length) this.#fail("the LZ4 frame is corrupt");
          chunk = frame.data;
        } else {
          chunk = gunzipSync(unit, { maxOutputSize: limit });
        }
      } catch (error) {
        this.#fail(
          `${error instanceof Error ? error.message : String(error)}${
            error instanceof TtlogConfigError ? "" : " (the file is corrupt)"
          }`,
        );
      }
    }
    const item = this.#chunk(chunk);
    if (!this.#chunks) return item;
    // `#buf` is reused for the next chunk: keep copies.
    const stored = unit.slice();
    return {
      ...item,
      chunk: {
        offset: this.#offset,
        stored,
        raw: this.#mode === Mode.raw ? stored : chunk,
      },
    };
  }

  /** Verifies and decodes one uncompressed chunk, all of `chunk`. */
  #chunk(chunk: Uint8Array): TtlogItem {
    if (
      chunk.length < CHUNK_HEADER_BYTES + CHUNK_TRAILER_BYTES ||
      chunk[0] !== CHUNK_MAGIC[0] || chunk[1] !== CHUNK_MAGIC[1] ||
      chunk[2] !== CHUNK_MAGIC[2] || chunk[3] !== CHUNK_MAGIC[3]
    ) {
      this.#fail("its data does not start with a chunk header (TTLG)");
    }
    if (chunk[4] !== CHUNK_VERSION) {
      this.#fail(
        `format version ${
          chunk[4]
        }; this reader knows version ${CHUNK_VERSION} (a newer ttlog may read it)`,
      );
    }
    const kind = chunk[5];
    const flags = chunk[6] | (chunk[7] << 8);
    if ((flags & ~(kind === ChunkKind.events ? FLAG_COLUMNS : 0)) !== 0) {
      this.#fail(
        `unknown flags 0x${
          flags.toString(16)
        } for a chunk of kind ${kind} (a newer ttlog may read it)`,
      );
    }
    const length = u32(chunk, 8);
    if (
      length > this.#maxPayload ||
      chunk.length !== CHUNK_HEADER_BYTES + length + CHUNK_TRAILER_BYTES
    ) {
      this.#fail(
        `its payload length ${length} does not match its ${chunk.length} bytes`,
      );
    }
    const payload = chunk.subarray(
      CHUNK_HEADER_BYTES,
      CHUNK_HEADER_BYTES + length,
    );
    if (xxhash32(payload) !== u32(chunk, CHUNK_HEADER_BYTES + length)) {
      this.#fail("its checksum does not match: the file is corrupt");
    }
    switch (kind) {
      case ChunkKind.header: {
        const meta = this.#json(payload);
        if (meta === null || typeof meta !== "object" || Array.isArray(meta)) {
          this.#fail("a header must hold a JSON object");
        }
        const record = meta as Record<string, unknown>;
        if (typeof record.service === "string") {
          this.#headerService = record.service;
        }
        return { kind: "header", meta: record };
      }
      case ChunkKind.events:
        return this.#events(payload, flags);
      case ChunkKind.loss: {
        const loss = this.#json(payload) as Partial<TtlogLoss> | null;
        if (
          !isCount(loss?.producer) || !isCount(loss?.lost) ||
          typeof loss?.reason !== "string"
        ) {
          this.#fail("a loss chunk must hold {producer, lost, reason}");
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
          this.#fail("an end chunk must hold {chunks, events}");
        }
        return { kind: "end", chunks: end.chunks, events: end.events };
      }
      default:
        return this.#fail(`unknown chunk kind ${kind}`);
    }
  }

  #json(payload: Uint8Array): unknown {
    try {
      return JSON.parse(
        new TextDecoder("utf-8", { fatal: true }).decode(payload),
      );
    } catch (error) {
      return this.#fail(
        `its JSON cannot be read (${
          error instanceof Error ? error.message : String(error)
        })`,
      );
    }
  }

  #events(payload: Uint8Array, flags: number): TtlogItem {
    const end = payload.length;
    if (end < 12) this.#fail("an events chunk shorter than 12 bytes");
    const producer = u32(payload, 0);
    const count = u32(payload, 4);
    // Each entry takes 12 bytes at least: a hostile count stops here.
    if (count > (end - 12) / 12) {
      this.#fail(`${count} dictionary entries cannot fit in ${end} bytes`);
    }
    const entries = new Map<number, DictionaryEntry>();
    let at = 8;
    for (let i = 0; i < count; i++) {
      if (at + 16 > end) this.#fail("its dictionary entries overrun it");
      const id = u32(payload, at);
      const kind = payload[at + 4];
      const length = u32(payload, at + 8);
      if ((payload[at + 5] | payload[at + 6] | payload[at + 7]) !== 0) {
        this.#fail(`dictionary entry ${id} has non-zero reserved bytes`);
      }
      const start = at + 12;
      if (length > end - 4 - start) {
        this.#fail(`dictionary entry ${id} overruns the chunk`);
      }
      const entry = parseEntry(payload, start, start + length, kind);
      if (entry === undefined) {
        this.#fail(`dictionary entry ${id} (kind ${kind}) is malformed`);
      }
      entries.set(id, entry);
      at = start + ((length + 3) & ~3);
    }
    const lookup: DictionaryLookup = { get: (id) => entries.get(id) };
    const reader = new ValueReader(lookup);
    const out: EventsOut = {
      records: [],
      undecodable: 0,
      filtered: 0,
      service: this.#service ?? this.#headerService,
    };
    if ((flags & FLAG_COLUMNS) !== 0) this.#columns(payload, at, reader, out);
    else this.#records(payload, at, reader, out);
    return {
      kind: "events",
      producer,
      records: out.records,
      undecodable: out.undecodable,
      filtered: out.filtered,
    };
  }

  /** Records stored exactly as in the ring (flags 0). */
  #records(
    payload: Uint8Array,
    at: number,
    reader: ValueReader,
    out: EventsOut,
  ): void {
    const end = payload.length;
    if (at + 4 > end) this.#fail("its records length is missing");
    const recordsLength = u32(payload, at);
    at += 4;
    if (recordsLength !== end - at) {
      this.#fail(
        `its records claim ${recordsLength} bytes where ${end - at} remain`,
      );
    }
    const filter = guarded(this.#filter);
    while (at < end) {
      if (at + 4 > end) this.#fail(`a record at byte ${at} is cut`);
      const word = u32(payload, at);
      const content = word & 0xffffff;
      const aligned = (content + 3) & ~3;
      if (
        word >>> 24 !== KIND_EVENT || content < HEADER_BYTES ||
        aligned > end - at
      ) {
        this.#fail(`the record at payload byte ${at} is malformed`);
      }
      if (filter !== undefined) {
        const level = payload[at + 16];
        const targetId = payload[at + 17] | (payload[at + 18] << 8) |
          (payload[at + 19] << 16);
        const target = targetOf(
          reader,
          targetId,
          payload,
          at + 24,
          at + content,
        );
        if (level > 5 || target === undefined) {
          out.undecodable++;
          at += aligned;
          continue;
        }
        f64Bytes.set(payload.subarray(at + 8, at + 16));
        if (
          !filter(level as LevelValue, target, f64[0], u32(payload, at + 4))
        ) {
          out.filtered++;
          at += aligned;
          continue;
        }
      }
      try {
        out.records.push(
          decodeEvent(
            reader,
            payload,
            at,
            at + content,
            out.service,
            this.#templates,
          ),
        );
      } catch (error) {
        if (!(error instanceof TtlogFormatError)) throw error;
        out.undecodable++;
      }
      at += aligned;
    }
  }

  /**
   * Records stored as columns (flags bit 0): every count, size and varint is
   * checked against what remains before it is used, so hostile input fails
   * in linear time without allocating more than the payload's size.
   */
  #columns(
    payload: Uint8Array,
    start: number,
    reader: ValueReader,
    out: EventsOut,
  ): void {
    const end = payload.length;
    if (start + 20 > end) this.#fail("its columns' sizes are missing");
    const count = u32(payload, start);
    const shapes = u32(payload, start + 4);
    const shapeBytes = u32(payload, start + 8);
    const seqBytes = u32(payload, start + 12);
    const timeBytes = u32(payload, start + 16);
    const fail = (what: string): never => this.#fail(what);
    const cursor = new Cursor(payload, start + 20, end, fail);
    // Every record takes a byte in each column and in its stream at least;
    // every shape four bytes of the shape table and one record.
    if (
      shapeBytes > end || seqBytes > end || timeBytes > end ||
      count > shapeBytes || count > seqBytes || count > timeBytes ||
      shapes > count || shapes > (end - start - 20) / 4
    ) {
      this.#fail(
        `its columns claim ${count} records of ${shapes} shapes in ${shapeBytes}+${seqBytes}+${timeBytes} bytes, more than it holds`,
      );
    }
    const levels = new Uint8Array(shapes);
    const targetIds = new Uint32Array(shapes);
    const siteIds = new Uint32Array(shapes);
    const streamEnds = new Float64Array(shapes);
    for (let shape = 0; shape < shapes; shape++) {
      levels[shape] = cursor.byte();
      targetIds[shape] = cursor.varint(0xffffff, "a target id");
      siteIds[shape] = cursor.varint(0xffffffff, "a site id");
      streamEnds[shape] = cursor.varint(end, "a stream size");
    }
    const shapeColumn = new Cursor(
      payload,
      cursor.at,
      cursor.at + shapeBytes,
      fail,
    );
    const seqColumn = new Cursor(
      payload,
      shapeColumn.end,
      shapeColumn.end + seqBytes,
      fail,
    );
    const timeColumn = new Cursor(
      payload,
      seqColumn.end,
      seqColumn.end + timeBytes,
      fail,
    );
    const streamAt = new Float64Array(shapes);
    let streamStart = timeColumn.end;
    for (let shape = 0; shape < shapes; shape++) {
      streamAt[shape] = streamStart;
      streamStart += streamEnds[shape];
      streamEnds[shape] = streamStart;
    }
    if (timeColumn.end > end || streamStart !== end) {
      this.#fail(
        `its columns and streams take ${streamStart - start} bytes where ${
          end - start
        } remain`,
      );
    }
    // Targets by shape: undefined when the target is inline (read from each
    // body) or missing from the entries (its records are undecodable).
    const targets: (string | undefined)[] = [];
    for (let shape = 0; shape < shapes; shape++) {
      const entry = targetIds[shape] === 0
        ? undefined
        : lookupString(reader, targetIds[shape]);
      targets.push(entry);
    }
    const filter = guarded(this.#filter);
    const stream = new Cursor(payload, 0, 0, fail);
    let seq = 0xffffffff;
    let time = 0;
    for (let i = 0; i < count; i++) {
      const shape = shapeColumn.varint(shapes - 1, "a shape");
      const seqCode = seqColumn.varint(0xffffffff, "a sequence delta");
      seq = (seq + 1 + ((seqCode >>> 1) ^ -(seqCode & 1))) >>> 0;
      const timeCode = timeColumn.varint(Number.MAX_SAFE_INTEGER, "a time");
      if (timeCode === 1) time = timeColumn.f64();
      else time += timeCode % 2 === 0 ? timeCode / 2 : -(timeCode - 1) / 2;
      stream.at = streamAt[shape];
      stream.end = streamEnds[shape];
      const body = stream.varint(0xffffff - HEADER_BYTES, "a record length");
      const bodyStart = stream.at;
      if (body > stream.end - bodyStart) {
        this.#fail(`a record of shape ${shape} overruns its stream`);
      }
      const bodyEnd = bodyStart + body;
      streamAt[shape] = bodyEnd;
      const level = levels[shape];
      if (filter !== undefined) {
        const target = targetIds[shape] === 0
          ? inlineTarget(reader, payload, bodyStart, bodyEnd)
          : targets[shape];
        if (level > 5 || target === undefined) {
          out.undecodable++;
          continue;
        }
        if (!filter(level as LevelValue, target, time, seq)) {
          out.filtered++;
          continue;
        }
      }
      // The record decoder reads a whole ring record: rebuild one.
      const content = HEADER_BYTES + body;
      if (this.#scratch.length < content) {
        this.#scratch = new Uint8Array(
          Math.max(content, this.#scratch.length * 2),
        );
      }
      const record = this.#scratch;
      putU32(record, 0, content | (KIND_EVENT << 24));
      putU32(record, 4, seq);
      f64[0] = time;
      for (let k = 0; k < 8; k++) record[8 + k] = f64Bytes[k];
      putU32(record, 16, level | (targetIds[shape] << 8));
      putU32(record, 20, siteIds[shape]);
      if (body < 64) {
        for (let k = 0; k < body; k++) record[24 + k] = payload[bodyStart + k];
      } else record.set(payload.subarray(bodyStart, bodyEnd), 24);
      try {
        out.records.push(
          decodeEvent(
            reader,
            record,
            0,
            content,
            out.service,
            this.#templates,
          ),
        );
      } catch (error) {
        if (!(error instanceof TtlogFormatError)) throw error;
        out.undecodable++;
      }
    }
    if (shapeColumn.at !== shapeColumn.end || seqColumn.at !== seqColumn.end) {
      this.#fail("its shape or sequence column holds more than its records");
    }
    if (timeColumn.at !== timeColumn.end) {
      this.#fail("its time column holds more than its records");
    }
    for (let shape = 0; shape < shapes; shape++) {
      if (streamAt[shape] !== streamEnds[shape]) {
        this.#fail(`the stream of shape ${shape} holds more than its records`);
      }
    }
  }
}

/** Carries what the user's filter threw out of the reader's parsing. */
class FilterFailure {
  readonly cause: unknown;
  constructor(cause: unknown) {
    this.cause = cause;
  }
}

/** The filter, with what it throws wrapped in a {@link FilterFailure}. */
function guarded(
  filter: TtlogRecordFilter | undefined,
): TtlogRecordFilter | undefined {
  if (filter === undefined) return undefined;
  return (level, target, time, seq) => {
    try {
      return filter(level, target, time, seq);
    } catch (error) {
      throw new FilterFailure(error);
    }
  };
}

/** What decoding an events chunk gathers. */
interface EventsOut {
  readonly records: LogRecord[];
  undecodable: number;
  filtered: number;
  readonly service: string;
}

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

function putU32(u8: Uint8Array, at: number, value: number): void {
  u8[at] = value;
  u8[at + 1] = value >>> 8;
  u8[at + 2] = value >>> 16;
  u8[at + 3] = value >>> 24;
}

/** Reads varints and raw values from `u8[at, end)`; overruns fail the chunk. */
class Cursor {
  readonly u8: Uint8Array;
  at: number;
  end: number;
  readonly #fail: (what: string) => never;

  constructor(
    u8: Uint8Array,
    at: number,
    end: number,
    fail: (what: string) => never,
  ) {
    this.u8 = u8;
    this.at = at;
    this.end = end;
    this.#fail = fail;
  }

  byte(): number {
    if (this.at >= this.end) this.#fail("a column or table is cut");
    return this.u8[this.at++];
  }

  /** An unsigned LEB128 varint of at most 8 bytes, at most `max`. */
  varint(max: number, what: string): number {
    const u8 = this.u8;
    let at = this.at;
    if (at < this.end && u8[at] < 0x80) {
      const value = u8[at];
      this.at = at + 1;
      if (value > max) this.#fail(`${what} ${value} is out of range`);
      return value;
    }
    let value = 0;
    let scale = 1;
    for (let n = 0; n < 8; n++) {
      if (at >= this.end) this.#fail(`${what} is cut`);
      const b = u8[at++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.at = at;
        if (value > max) this.#fail(`${what} ${value} is out of range`);
        return value;
      }
      scale *= 128;
    }
    return this.#fail(`${what} is longer than 8 bytes`);
  }

  f64(): number {
    if (this.at + 8 > this.end) this.#fail("a time is cut");
    f64Bytes.set(this.u8.subarray(this.at, this.at + 8));
    this.at += 8;
    return f64[0];
  }
}

/** A dictionary string, or undefined when the id is missing or not a string. */
function lookupString(reader: ValueReader, id: number): string | undefined {
  const entry = reader.dictionary.get(id);
  return typeof entry === "string" ? entry : undefined;
}

/** The target string item that starts a body whose target is inline. */
function inlineTarget(
  reader: ValueReader,
  u8: Uint8Array,
  start: number,
  end: number,
): string | undefined {
  try {
    reader.reset(u8, start, end);
    return reader.string();
  } catch (error) {
    if (error instanceof TtlogFormatError) return undefined;
    throw error;
  }
}

/** A record's target: from the dictionary, or inline at the body's start. */
function targetOf(
  reader: ValueReader,
  targetId: number,
  u8: Uint8Array,
  bodyStart: number,
  bodyEnd: number,
): string | undefined {
  return targetId === 0
    ? inlineTarget(reader, u8, bodyStart, bodyEnd)
    : lookupString(reader, targetId);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) &&
    value >= 0;
}

/**
 * Parses one dictionary entry's payload `u8[start, end)` as the in-ring
 * dictionary lays it out (see `DictionaryReader`), checking every length.
 * Returns undefined when it is malformed.
 */
function parseEntry(
  u8: Uint8Array,
  start: number,
  end: number,
  kind: number,
): DictionaryEntry | undefined {
  if (kind === ENTRY_STRING) {
    if (end - start < 1 || u8[start] > 1) return undefined;
    return readWtf8(u8, start + 1, end, u8[start] === 1);
  }
  if (kind !== ENTRY_SITE || end - start < 4) return undefined;
  const count = u8[start] | (u8[start + 1] << 8) | (u8[start + 2] << 16);
  if (count > (end - start - 4) / 5) return undefined;
  const parts: string[] = [];
  let at = start + 4;
  for (let i = 0; i < count; i++) {
    if (at + 5 > end || u8[at] > 1) return undefined;
    const length = u32(u8, at + 1);
    if (length > end - at - 5) return undefined;
    parts.push(readWtf8(u8, at + 5, at + 5 + length, u8[at] === 1));
    at += 5 + length;
  }
  return at === end ? parts : undefined;
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
    reader.push(EMPTY);
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
