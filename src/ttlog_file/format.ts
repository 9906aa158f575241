/**
 * The `.ttlog` file format, version 1: constants and types shared by the
 * chunk writer (./chunk_writer.ts) and the chunk reader (./chunk_reader.ts).
 * The bytes are specified in docs/FORMAT.md, section ".ttlog files".
 *
 * A file is a sequence of self-contained chunks, each decodable on its own:
 * a header (metadata), events (the dictionary entries they need, then the
 * records: their headers as columns, their values grouped by call site),
 * loss markers and an end marker. Compressed files hold one LZ4 frame or one
 * gzip member per chunk.
 *
 * @module
 */

/** The four bytes that start every uncompressed chunk: "TTLG". */
export const CHUNK_MAGIC: readonly number[] = [0x54, 0x54, 0x4c, 0x47];

/** The chunk format version this code writes and reads. */
export const CHUNK_VERSION = 1;

/** Bytes before a chunk's payload: magic, version, kind, flags, length. */
export const CHUNK_HEADER_BYTES = 12;

/** Bytes after a chunk's payload: its xxHash32. */
export const CHUNK_TRAILER_BYTES = 4;

/**
 * Flag of an events chunk (bit 0 of the flags): its records are stored as
 * columns (docs/FORMAT.md, "Events, columns"). Without it, the records are
 * stored exactly as in the ring (the layout of the first files).
 */
export const FLAG_COLUMNS = 1;

/** Chunk kinds, as stored in the chunk's kind byte. */
export const ChunkKind = {
  /** Metadata: a UTF-8 JSON object. */
  header: 1,
  /** One producer's dictionary entries and records. */
  events: 2,
  /** A loss marker: JSON `{producer, lost, reason}`. */
  loss: 3,
  /** The end marker: JSON `{chunks, events}`. */
  end: 4,
} as const;

/** A chunk kind's code. */
export type ChunkKind = typeof ChunkKind[keyof typeof ChunkKind];

/** How a file's chunks are stored. */
export type TtlogCompression = "none" | "lz4" | "gzip";

/**
 * The largest chunk payload readers accept by default, and writers produce:
 * 64 MiB. A reader holds at most one chunk (compressed and decompressed) in
 * memory, so this bounds its memory whatever the input claims.
 */
export const MAX_CHUNK_PAYLOAD = 64 * 1024 * 1024;

/** The gzip FEXTRA subfield id ("TL") that carries a member's length. */
export const GZIP_SUBFIELD: readonly number[] = [0x54, 0x4c];

/** A dictionary entry as an events chunk stores it. */
export interface ChunkEntry {
  /** The entry's id in its producer's dictionary (1 and up). */
  readonly id: number;
  /** 1 string (key or target), 2 call site: as in the in-ring dictionary. */
  readonly kind: number;
  /** The entry's payload, exactly as stored in the in-ring dictionary. */
  readonly payload: Uint8Array;
}

/** The JSON of a loss chunk. */
export interface TtlogLoss {
  /** The producer that lost events. */
  readonly producer: number;
  /** How many events were lost. */
  readonly lost: number;
  /** Why (for example "overwritten" or "dropped"). */
  readonly reason: string;
}

/** The JSON of an end chunk. */
export interface TtlogEnd {
  /** Chunks written before the end chunk. */
  readonly chunks: number;
  /** Events written in those chunks. */
  readonly events: number;
}
