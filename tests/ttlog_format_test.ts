// The .ttlog file format: chunks written from a real logger's ring and read
// back in every compression, interop with the lz4 and gzip tools, truncation
// at every byte, and a fuzz of hostile input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "../src/level.ts";
import { internals } from "../src/logger/logger.ts";
import type { Logger } from "../src/logger/types.ts";
import { TtlogFormatError } from "../src/record/decode.ts";
import type { LogRecord } from "../src/record/values.ts";
import {
  alignedLength,
  contentLength,
  eventHeader,
  readHeader,
  writeHeader,
} from "../src/ring/ring.ts";
import { captureRing } from "../src/snapshot/capture.ts";
import { xxhash32 } from "../src/codec/xxhash32.ts";
import { encodeLz4Frame } from "../src/codec/lz4_frame.ts";
import {
  type ChunkEntry,
  ChunkKind,
  FLAG_COLUMNS,
  MAX_CHUNK_PAYLOAD,
  type TtlogCompression,
} from "../src/ttlog_file/format.ts";
import {
  encodeChunk,
  endChunk,
  eventsChunk,
  headerChunk,
  lossChunk,
  type RingRecords,
} from "../src/ttlog_file/chunk_writer.ts";
import {
  readTtlog,
  type TtlogItem,
  TtlogReader,
} from "../src/ttlog_file/chunk_reader.ts";
import { usedEntries } from "../src/ttlog_file/used_entries.ts";
import {
  canon,
  events,
  finish,
  memoryLogger,
  mulberry32,
  runTool,
} from "./helpers.ts";

const COMPRESSIONS: readonly TtlogCompression[] = ["none", "lz4", "gzip"];

/**
 * The records of `src` from byte `from` to byte `to` (record ends), with
 * their sequence numbers and time base, as eventsChunk takes them.
 */
function part(
  src: RingRecords,
  from = 0,
  to = src.records.length,
): RingRecords {
  const records = src.records;
  let first = 0;
  let count = 0;
  for (let at = 0; at < to;) {
    if (at < from) first++;
    else count++;
    at += alignedLength(
      contentLength(
        records[at] | (records[at + 1] << 8) | (records[at + 2] << 16),
      ),
    );
  }
  return {
    records: records.subarray(from, to),
    seqs: Array.from(src.seqs).slice(first, first + count),
    timeBase: src.timeBase,
  };
}

/** Bytes alone, as eventsChunk's checks see them (no sequence numbers). */
function bare(records: Uint8Array): RingRecords {
  return { records, seqs: [], timeBase: 0 };
}

/** Every entry of a logger's dictionary, payloads as stored. */
function dictionaryEntries(log: Logger): ChunkEntry[] {
  const buffer = internals(log).dictionary.buffer;
  const used = Atomics.load(new Int32Array(buffer, 0, 4), 1);
  const u8 = new Uint8Array(buffer, 16);
  const entries: ChunkEntry[] = [];
  for (let at = 0; at + 4 <= used;) {
    const bytes = u8[at] | (u8[at + 1] << 8) | (u8[at + 2] << 16);
    entries.push({
      id: entries.length + 1,
      kind: u8[at + 3],
      payload: u8.slice(at + 4, at + 4 + bytes),
    });
    at += 4 + ((bytes + 3) & ~3);
  }
  return entries;
}

/** Logs a varied set of events: templates, children, odd values, big ones. */
function logVariety(log: Logger, count: number): void {
  const db = log.child("db.pool", { shard: 3 });
  const user = "ada\ud800";
  const cause = new Error("socket closed");
  for (let i = 0; i < count; i++) {
    switch (i % 8) {
      case 0:
        log.info`user ${user} logged in after ${i} tries`;
        break;
      case 1:
        db.debug("query", { sql: "select 1", ms: i / 3, rows: [1, 2, i] });
        break;
      case 2:
        log.warn("slow", {
          at: new Date(1_700_000_000_000 + i),
          big: 2n ** 70n,
          neg: -0,
          nan: NaN,
          set: new Set(["a", i]),
          map: new Map<unknown, unknown>([["k", { deep: [i] }]]),
        });
        break;
      case 3:
        log.error("failed", { err: new Error(`boom ${i}`, { cause }) });
        break;
      case 4:
        log.trace(`inline message ${i} ${"x".repeat(i % 50)}`);
        break;
      case 5:
        db.child("replica").fatal("down", { __proto__x: 1, "": null, i });
        break;
      case 6:
        log.info("long", { text: "é€😀".repeat(200 + i), flag: true });
        break;
      default:
        log.debug("plain");
    }
  }
}

/** Comparable form of records (runtimes' deepEqual differ on classes). */
function comparable(records: readonly LogRecord[]): unknown {
  return records.map((r) => canon({ ...r }));
}

interface Source extends RingRecords {
  log: Logger;
  expected: LogRecord[];
  entries: ChunkEntry[];
}

async function source(
  count: number,
  dictionaryBytes?: number,
): Promise<Source> {
  const { log, sink } = memoryLogger({
    service: "checkout",
    ring: { bytes: 1 << 20, dictionaryBytes },
  });
  logVariety(log, count);
  await log.flush();
  const expected = events(sink);
  const entries = dictionaryEntries(log);
  const { ring, dictionary } = internals(log);
  const { records, seqs, timeBase } = captureRing(ring, dictionary);
  await finish(log);
  assert.equal(expected.length, count);
  return { log, expected, entries, records, seqs, timeBase };
}

const META = {
  service: "checkout",
  host: "h1",
  pid: 42,
  runtime: "node",
  runtimeVersion: "1.2.3",
  reason: "manual",
  time: 1_700_000_000_000,
  counters: { logged: 3, lost: 0 },
  trigger: null,
};

/** The units (one chunk each, maybe compressed) of a small file. */
function fileUnits(
  src: Source,
  compression: TtlogCompression,
  layout: "columns" | "records" = "columns",
): Uint8Array[] {
  // The records split in two events chunks, to have several of them.
  const words = src.records;
  let half = 0;
  while (half < words.length / 2) {
    half += alignedLength(
      words[half] | (words[half + 1] << 8) | (words[half + 2] << 16),
    );
  }
  return [
    encodeChunk(ChunkKind.header, headerChunk(META), compression),
    encodeChunk(
      ChunkKind.events,
      eventsChunk(0, src.entries, part(src, 0, half), { layout }),
      compression,
    ),
    encodeChunk(ChunkKind.loss, lossChunk(0, 7, "overwritten"), compression),
    encodeChunk(
      ChunkKind.events,
      eventsChunk(0, src.entries, part(src, half), { layout }),
      compression,
    ),
    encodeChunk(
      ChunkKind.end,
      endChunk(4, src.expected.length),
      compression,
    ),
  ];
}

function concat(pieces: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

function eventsOf(items: readonly TtlogItem[]): LogRecord[] {
  return items.flatMap((item) => item.kind === "events" ? item.records : []);
}

function assertWhole(items: readonly TtlogItem[], src: Source, what: string) {
  assert.deepEqual(
    items.map((item) => item.kind),
    ["header", "events", "loss", "events", "end"],
    what,
  );
  assert.deepEqual(items[0], { kind: "header", meta: META }, what);
  assert.deepEqual(
    items[2],
    { kind: "loss", producer: 0, lost: 7, reason: "overwritten" },
    what,
  );
  assert.deepEqual(
    items[4],
    { kind: "end", chunks: 4, events: src.expected.length },
    what,
  );
  for (const item of items) {
    if (item.kind === "events") {
      assert.equal(item.producer, 0, what);
      assert.equal(item.undecodable, 0, what);
    }
  }
  assert.deepEqual(
    comparable(eventsOf(items)),
    comparable(src.expected),
    `${what}: records`,
  );
}

// Round trips

test("records from a real ring read back equal to what the sink received, in every compression", async () => {
  const src = await source(200);
  for (const compression of COMPRESSIONS) {
    const file = concat(fileUnits(src, compression));
    const result = readTtlog(file);
    assert.equal(result.error, undefined, `${compression}: ${result.error}`);
    assert.equal(result.truncatedAt, undefined, compression);
    assertWhole(result.items, src, compression);
    const records = eventsOf(result.items);
    assert.equal(records[0].service, "checkout");
    assert.deepEqual(
      records.map((r) => r.seq),
      src.expected.map((r) => r.seq),
    );
  }
});

test("the chunks option gives each item its offset and its bytes as stored and uncompressed, and the result says how the file is stored", async () => {
  const src = await source(80);
  const raws = fileUnits(src, "none");
  for (const compression of COMPRESSIONS) {
    const units = fileUnits(src, compression);
    const file = concat(units);
    const result = readTtlog(file, { chunks: true });
    assert.equal(result.error, undefined, compression);
    assert.equal(result.compression, compression);
    assertWhole(
      result.items.map(({ chunk: _, ...item }) => item as TtlogItem),
      src,
      compression,
    );
    let offset = 0;
    result.items.forEach((item, i) => {
      const chunk = item.chunk!;
      assert.equal(chunk.offset, offset, `${compression} #${i}`);
      assert.deepEqual(chunk.stored, units[i], `${compression} #${i}`);
      assert.deepEqual(chunk.raw, raws[i], `${compression} #${i}`);
      offset += units[i].length;
    });
    // Without the option, no bytes are kept.
    assert.ok(readTtlog(file).items.every((item) => item.chunk === undefined));
    // A cut file: the whole chunks, and still how it is stored.
    const cut = readTtlog(file.subarray(0, file.length - 3), { chunks: true });
    assert.equal(cut.compression, compression);
    assert.equal(cut.items.length, units.length - 1);
    assert.equal(cut.truncatedAt, file.length - units.at(-1)!.length);
  }
  assert.equal(
    readTtlog(new Uint8Array([1, 2, 3, 4, 5])).compression,
    undefined,
  );
});

test("the streaming reader gives the same chunks for pieces of any size", async () => {
  const src = await source(60);
  const random = mulberry32(7);
  for (const compression of COMPRESSIONS) {
    const file = concat(fileUnits(src, compression));
    for (const pieceMax of [1, 3, 64, 1000, file.length]) {
      const reader = new TtlogReader();
      const items: TtlogItem[] = [];
      for (let at = 0; at < file.length;) {
        const size = 1 + Math.floor(random() * pieceMax);
        for (const item of reader.push(file.subarray(at, at + size))) {
          items.push(item);
        }
        at += size;
      }
      reader.finish();
      assert.equal(reader.offset, file.length);
      assertWhole(items, src, `${compression}, pieces up to ${pieceMax}`);
    }
  }
});

test("an events chunk needs only its own entries, and the service option names the records", async () => {
  const src = await source(16);
  const file = concat([
    encodeChunk(
      ChunkKind.events,
      eventsChunk(9, [...src.entries].reverse(), src),
      "lz4",
    ),
  ]);
  const { items, error } = readTtlog(file, { service: "other" });
  assert.equal(error, undefined);
  assert.equal(items.length, 1);
  const item = items[0];
  assert.ok(item.kind === "events");
  assert.equal(item.producer, 9);
  assert.ok(item.records.every((r) => r.service === "other"));
  assert.deepEqual(
    comparable(item.records.map((r) => ({ ...r, service: "checkout" }))),
    comparable(src.expected),
  );
  // Without the entries, records that need one are skipped and counted.
  const bare = readTtlog(
    encodeChunk(ChunkKind.events, eventsChunk(9, [], src), "none"),
  );
  assert.equal(bare.error, undefined);
  const only = bare.items[0];
  assert.ok(only.kind === "events");
  assert.ok(only.undecodable > 0);
  assert.equal(only.records.length + only.undecodable, src.expected.length);
});

// Events as columns

/** The events payload of a raw (uncompressed) events chunk. */
function payloadOf(chunk: Uint8Array): Uint8Array {
  const length = new DataView(chunk.buffer, chunk.byteOffset).getUint32(
    8,
    true,
  );
  return chunk.subarray(12, 12 + length);
}

test("events chunks store columns (flag 1); files with records as in the ring (flags 0) still read, in every compression", async () => {
  const src = await source(120);
  const columns = encodeChunk(
    ChunkKind.events,
    eventsChunk(0, src.entries, src),
    "none",
  );
  const records = encodeChunk(
    ChunkKind.events,
    eventsChunk(0, src.entries, src, { layout: "records" }),
    "none",
  );
  assert.equal(columns[6], FLAG_COLUMNS);
  assert.equal(records[6], 0);
  assert.ok(
    columns.length < records.length,
    `columns ${columns.length} bytes, records ${records.length}`,
  );
  for (const compression of COMPRESSIONS) {
    const result = readTtlog(concat(fileUnits(src, compression, "records")));
    assert.equal(result.error, undefined, `${compression}: ${result.error}`);
    assertWhole(result.items, src, `records layout, ${compression}`);
  }
  // The columns compress better too.
  for (const compression of ["lz4", "gzip"] as const) {
    const c = encodeChunk(
      ChunkKind.events,
      eventsChunk(0, src.entries, src),
      compression,
    );
    const r = encodeChunk(
      ChunkKind.events,
      eventsChunk(0, src.entries, src, { layout: "records" }),
      compression,
    );
    assert.ok(
      c.length < r.length,
      `${compression}: ${c.length} >= ${r.length}`,
    );
  }
});

test("columns keep every header exactly: odd times, sequence gaps and wrap-around, inline targets and sites", async () => {
  // A dictionary this small sends targets, sites and keys inline.
  for (const dictionaryBytes of [undefined, 48]) {
    const src = await source(64, dictionaryBytes);
    const times = [
      1_700_000_000_000,
      1_700_000_000_000.25,
      0,
      -0,
      NaN,
      Infinity,
      -Infinity,
      2 ** 53,
      -1e15,
      1e300,
      1_600_000_000_000,
      1_600_000_000_001,
      1_599_999_999_990,
      5e-324,
    ];
    const seqs = [0xffffffff, 0, 7, 6, 0x80000000, 0x7fffffff, 12345, 12346];
    const expectedHeaders: { seq: number; time: number }[] = [];
    let inline = 0;
    // Each record again with an odd time (a float64 one where the compact
    // form cannot hold it) and an odd sequence number.
    const pieces: Uint8Array[] = [];
    const h = eventHeader();
    let i = 0;
    for (let at = 0; at < src.records.length; i++) {
      const content = contentLength(
        new DataView(src.records.buffer, src.records.byteOffset).getUint32(
          at,
          true,
        ),
      );
      assert.ok(readHeader(src.records, at, at + content, src.timeBase, h));
      if (h.targetId === 0) inline++;
      const time = times[i % times.length];
      const seq = seqs[i % seqs.length];
      const body = src.records.subarray(h.body, at + content);
      const piece = new Uint8Array(alignedLength(26 + body.length));
      const bodyAt = writeHeader(
        piece,
        0,
        h.level,
        h.targetId,
        h.siteId,
        time,
        src.timeBase,
      );
      piece.set(body, bodyAt);
      new DataView(piece.buffer).setUint32(
        0,
        (bodyAt + body.length) | (1 << 24),
        true,
      );
      pieces.push(piece.subarray(0, alignedLength(bodyAt + body.length)));
      expectedHeaders.push({ seq, time });
      at += alignedLength(content);
    }
    const records: RingRecords = {
      records: concat(pieces),
      seqs: expectedHeaders.map((e) => e.seq),
      timeBase: src.timeBase,
    };
    assert.equal(inline > 0, dictionaryBytes !== undefined, "inline targets");
    const read = (layout: "columns" | "records") => {
      const { items, error } = readTtlog(
        encodeChunk(
          ChunkKind.events,
          eventsChunk(3, src.entries, records, { layout }),
          "lz4",
        ),
        { service: "checkout" },
      );
      assert.equal(error, undefined, String(error));
      const item = items[0];
      assert.ok(item.kind === "events");
      assert.equal(item.undecodable, 0);
      return item.records;
    };
    const fromColumns = read("columns");
    const fromRecords = read("records");
    const what = `dictionary ${dictionaryBytes ?? "default"}`;
    assert.equal(fromColumns.length, src.expected.length, what);
    assert.deepEqual(comparable(fromColumns), comparable(fromRecords), what);
    fromColumns.forEach((record, n) => {
      assert.equal(record.seq, expectedHeaders[n].seq, `${what}: seq ${n}`);
      assert.ok(
        Object.is(record.time, expectedHeaders[n].time),
        `${what}: time ${n}: ${record.time} != ${expectedHeaders[n].time}`,
      );
      const { seq: _s, time: _t, ...rest } = record;
      const { seq: _es, time: _et, ...expected } = src.expected[n];
      assert.deepEqual(canon(rest), canon(expected), `${what}: record ${n}`);
    });
  }
});

test("filter sees each record's level, target, time and seq before decoding, in both layouts", async () => {
  for (const dictionaryBytes of [undefined, 48]) {
    const src = await source(96, dictionaryBytes);
    const keep = (level: number, target: string) =>
      level >= Level.error || target === "db.pool";
    for (const layout of ["columns", "records"] as const) {
      const what = `${layout}, dictionary ${dictionaryBytes ?? "default"}`;
      const calls: unknown[] = [];
      const { items, error } = readTtlog(
        concat(fileUnits(src, "lz4", layout)),
        {
          filter: (level, target, time, seq) => {
            calls.push({ level, target, time, seq });
            return keep(level, target);
          },
        },
      );
      assert.equal(error, undefined, String(error));
      assert.deepEqual(
        calls,
        src.expected.map((r) => ({
          level: Level[r.level],
          target: r.target,
          time: r.time,
          seq: r.seq,
        })),
        what,
      );
      const expected = src.expected.filter((r) =>
        keep(Level[r.level], r.target)
      );
      assert.ok(expected.length > 0 && expected.length < src.expected.length);
      assert.deepEqual(
        comparable(eventsOf(items)),
        comparable(expected),
        what,
      );
      let filtered = 0;
      for (const item of items) {
        if (item.kind === "events") filtered += item.filtered;
      }
      assert.equal(filtered, src.expected.length - expected.length, what);
    }
  }
  // A filter that throws: its error comes out as it is, once; then the
  // reader reports that it stopped.
  const src = await source(8);
  const reader = new TtlogReader({
    filter: () => {
      throw new RangeError("my filter broke");
    },
  });
  assert.throws(
    () => reader.push(concat(fileUnits(src, "none"))),
    (error) =>
      error instanceof RangeError && error.message === "my filter broke",
  );
  assert.throws(() => reader.push(new Uint8Array(0)), /filter threw/);
  assert.throws(
    () => new TtlogReader({ filter: 3 as unknown as () => boolean }),
    /filter must be a function/,
  );
});

test("usedEntries finds the entries records need: a chunk with just those decodes every record", async () => {
  for (const dictionaryBytes of [undefined, 400]) {
    const src = await source(80, dictionaryBytes);
    const byId: (ChunkEntry | undefined)[] = [];
    for (const entry of src.entries) byId[entry.id] = entry;
    // Record by record: each alone, with only the entries found for it.
    let at = 0;
    let fewer = 0;
    src.expected.forEach((expected, n) => {
      const length = alignedLength(
        src.records[at] | (src.records[at + 1] << 8) |
          (src.records[at + 2] << 16),
      );
      const record = src.records.subarray(at, at + length);
      const one = part(src, at, at + length);
      at += length;
      const used = usedEntries(record, byId);
      if (used.length < src.entries.length) fewer++;
      const { items, error } = readTtlog(
        encodeChunk(ChunkKind.events, eventsChunk(0, used, one), "none"),
        { service: "checkout" },
      );
      assert.equal(error, undefined);
      const item = items[0];
      assert.ok(item.kind === "events");
      assert.equal(item.undecodable, 0, `record ${n}: an entry is missing`);
      assert.deepEqual(comparable(item.records), comparable([expected]));
      // And each entry found is needed: without it, the record fails.
      for (const drop of used) {
        const without = used.filter((entry) => entry !== drop);
        const bare = readTtlog(
          encodeChunk(
            ChunkKind.events,
            eventsChunk(0, without, one),
            "none",
          ),
        ).items[0];
        assert.ok(bare.kind === "events");
        assert.equal(bare.undecodable, 1, `record ${n}: entry ${drop.id}`);
      }
    });
    assert.ok(fewer > 0, "some records need fewer entries than all");
  }
  // A record that does not parse gets every entry.
  const src = await source(4);
  const byId: (ChunkEntry | undefined)[] = [];
  for (const entry of src.entries) byId[entry.id] = entry;
  const broken = src.records.slice(0, 64);
  new DataView(broken.buffer).setUint32(0, 60 | (1 << 24), true);
  const h = eventHeader();
  assert.ok(readHeader(broken, 0, 60, src.timeBase, h));
  broken.fill(0x0d, h.body); // arrays that never end
  assert.equal(usedEntries(broken, byId).length, src.entries.length);
});

test("chunk layout: magic, version, kind, flags, length, payload, xxHash32", () => {
  const payload = endChunk(2, 10);
  const chunk = encodeChunk(ChunkKind.end, payload, "none");
  assert.deepEqual([...chunk.subarray(0, 8)], [
    0x54,
    0x54,
    0x4c,
    0x47,
    1,
    4,
    0,
    0,
  ]);
  const view = new DataView(chunk.buffer, chunk.byteOffset);
  assert.equal(view.getUint32(8, true), payload.length);
  assert.equal(
    new TextDecoder().decode(chunk.subarray(12, 12 + payload.length)),
    '{"chunks":2,"events":10}',
  );
  assert.equal(view.getUint32(12 + payload.length, true), xxhash32(payload));
  assert.equal(chunk.length, 16 + payload.length);
  // gzip members carry their length in FEXTRA subfield "TL".
  const member = encodeChunk(ChunkKind.end, payload, "gzip");
  assert.deepEqual([...member.subarray(0, 3)], [0x1f, 0x8b, 8]);
  assert.equal(member[3] & 4, 4);
  assert.deepEqual([...member.subarray(10, 16)], [8, 0, 0x54, 0x4c, 4, 0]);
  assert.equal(
    new DataView(member.buffer, member.byteOffset).getUint32(16, true),
    member.length,
  );
});

test("writers reject what the format cannot hold", () => {
  assert.throws(
    () => encodeChunk(9 as ChunkKind, new Uint8Array(0), "none"),
    /kind must be/,
  );
  assert.throws(
    () =>
      encodeChunk(
        ChunkKind.header,
        new Uint8Array(0),
        "zstd" as TtlogCompression,
      ),
    /compression must be/,
  );
  assert.throws(
    () => eventsChunk(0, [], bare(new Uint8Array(6))),
    /4-byte aligned/,
  );
  assert.throws(() => eventsChunk(-1, [], bare(new Uint8Array(0))), /producer/);
  // Columns need whole event records: not a pad, not a cut one.
  const pad = new Uint8Array(8);
  new DataView(pad.buffer).setUint32(0, 8 | (2 << 24), true);
  assert.throws(
    () => eventsChunk(0, [], bare(pad)),
    /not a whole event record/,
  );
  const cut = new Uint8Array(24);
  new DataView(cut.buffer).setUint32(0, 28 | (1 << 24), true);
  assert.throws(
    () => eventsChunk(0, [], bare(cut)),
    /not a whole event record/,
  );
  // One sequence number per record; a header that overruns its record.
  const one = new Uint8Array(12);
  const at = writeHeader(one, 0, 2, 0, 0, 1000, 0);
  new DataView(one.buffer).setUint32(0, at | (1 << 24), true);
  assert.throws(
    () => eventsChunk(0, [], bare(one)),
    /1 records need 1 sequence numbers, got 0/,
  );
  const long = new Uint8Array(12);
  writeHeader(long, 0, 2, 0x123456, 0, 1000, 0); // a 3-byte target id
  new DataView(long.buffer).setUint32(0, 11 | (1 << 24), true);
  assert.throws(
    () => eventsChunk(0, [], { records: long, seqs: [0], timeBase: 0 }),
    /the header of the record at byte 0 does not fit it/,
  );
  assert.throws(
    () =>
      eventsChunk(0, [], bare(new Uint8Array(0)), {
        layout: "rows" as "columns",
      }),
    /layout must be "columns" or "records"/,
  );
  assert.throws(
    () => encodeChunk(ChunkKind.end, new Uint8Array(0), "none", 0x10000),
    /flags must be an integer/,
  );
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => headerChunk(cyclic), /cannot be written as JSON/);
  assert.throws(
    () => new TtlogReader({ maxPayloadBytes: 0 }),
    /maxPayloadBytes/,
  );
  // Metadata with values JSON lacks is written readably.
  const { items } = readTtlog(
    encodeChunk(
      ChunkKind.header,
      headerChunk({ n: 5n, m: new Map([["a", 1]]) }),
      "none",
    ),
  );
  assert.deepEqual(items, [{ kind: "header", meta: { n: "5", m: { a: 1 } } }]);
});

// Interop with the lz4 and gzip tools

test("lz4 -t/-dc and gzip -t/-dc accept compressed files and give back the raw chunks", async () => {
  const src = await source(100);
  const raw = concat(fileUnits(src, "none"));
  const dir = mkdtempSync(join(tmpdir(), "ttlog-format-"));
  try {
    for (const tool of ["lz4", "gzip"] as const) {
      const file = join(dir, `snapshot.ttlog.${tool === "lz4" ? "lz4" : "gz"}`);
      writeFileSync(file, concat(fileUnits(src, tool)));
      const check = runTool(tool, ["-t", file]);
      assert.equal(check.status, 0, `${tool} -t: ${check.stderr}`);
      const decoded = runTool(tool, ["-dc", file]);
      assert.equal(decoded.status, 0, `${tool} -dc: ${decoded.stderr}`);
      assert.equal(decoded.stdout.length, raw.length, `${tool} -dc: length`);
      assert.ok(
        decoded.stdout.every((b, i) => b === raw[i]),
        `${tool} -dc: bytes differ from the raw chunks`,
      );
      // And what the tool wrote back is a raw .ttlog file.
      assertWhole(readTtlog(decoded.stdout).items, src, `${tool} -dc output`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an LZ4 frame written by the lz4 tool reads as a chunk", async () => {
  const src = await source(10);
  const dir = mkdtempSync(join(tmpdir(), "ttlog-format-"));
  try {
    const file = join(dir, "chunk.ttlog");
    const units = fileUnits(src, "none");
    writeFileSync(file, concat(units));
    // One frame holding every chunk: the reader wants one chunk per frame.
    const packed = runTool("lz4", ["-c", "-BD", file]);
    assert.equal(packed.status, 0, packed.stderr);
    const whole = readTtlog(packed.stdout);
    assert.ok(whole.error instanceof TtlogFormatError);
    // One frame per chunk, linked blocks and block checksums: read.
    const frames: Uint8Array[] = [];
    for (const unit of units) {
      writeFileSync(file, unit);
      const one = runTool("lz4", ["-c", "-BD", "-BX", "-B4", file]);
      assert.equal(one.status, 0, one.stderr);
      frames.push(one.stdout);
    }
    assertWhole(readTtlog(concat(frames)).items, src, "frames from lz4");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Truncation

test("a file cut at every byte offset yields every whole chunk before the cut", async () => {
  const src = await source(12);
  for (const compression of COMPRESSIONS) {
    const units = fileUnits(src, compression);
    const file = concat(units);
    const full = readTtlog(file).items;
    const ends: number[] = [];
    let at = 0;
    for (const unit of units) ends.push(at += unit.length);
    for (let cut = 0; cut <= file.length; cut++) {
      const what = `${compression}, cut at ${cut} of ${file.length}`;
      const result = readTtlog(file.subarray(0, cut));
      assert.equal(result.error, undefined, `${what}: ${result.error}`);
      const whole = ends.filter((end) => end <= cut);
      assert.equal(result.items.length, whole.length, what);
      assert.deepEqual(
        comparable(eventsOf(result.items)),
        comparable(eventsOf(full.slice(0, whole.length))),
        what,
      );
      const last = whole.length === 0 ? 0 : whole[whole.length - 1];
      assert.equal(
        result.truncatedAt,
        cut === last && cut > 0 ? undefined : last,
        what,
      );
    }
  }
});

test("finish() says where a truncated stream stopped", () => {
  const header = encodeChunk(ChunkKind.header, headerChunk({ a: 1 }), "lz4");
  const reader = new TtlogReader();
  assert.equal(reader.push(header).length, 1);
  assert.equal(reader.push(header.subarray(0, 9)).length, 0);
  assert.equal(reader.offset, header.length);
  assert.ok(reader.pending > 0);
  assert.throws(
    () => reader.finish(),
    (error) =>
      error instanceof TtlogFormatError &&
      error.message.includes(`chunk at byte ${header.length}`) &&
      /truncated/.test(error.message),
  );
  assert.throws(() => new TtlogReader().finish(), /empty/);
});

// Hostile input

/** Sets a little-endian u32. */
function setU32(bytes: Uint8Array, at: number, value: number): void {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, value, true);
}

test("a chunk claiming more than the bound is refused before its bytes arrive", () => {
  // Raw: a 12-byte header claiming 4 GiB.
  const raw = encodeChunk(ChunkKind.end, endChunk(0, 0), "none");
  setU32(raw, 8, 0xffffffff);
  const reader = new TtlogReader();
  assert.throws(() => reader.push(raw.subarray(0, 12)), TtlogFormatError);
  // And the error sticks.
  assert.throws(() => reader.push(new Uint8Array(1)), /over the/);
  // A limit of 1 KiB refuses a 2 KiB payload.
  const big = encodeChunk(
    ChunkKind.header,
    headerChunk({ pad: "x".repeat(2048) }),
    "none",
  );
  const small = readTtlog(big, { maxPayloadBytes: 1024 });
  assert.match(String(small.error), /over the 1024-byte limit/);
  assert.equal(readTtlog(big).error, undefined);
  // gzip: the length field set huge.
  const member = encodeChunk(ChunkKind.end, endChunk(0, 0), "gzip");
  setU32(member, 16, 0x7fffffff);
  assert.match(String(readTtlog(member).error), /claims more than/);
  // LZ4: a block claiming more than the frame's block maximum.
  const frame = encodeChunk(ChunkKind.end, endChunk(0, 0), "lz4");
  setU32(frame, 7, 0x7fffffff);
  assert.match(String(readTtlog(frame).error), /LZ4 block claims/);
});

test("decompression bombs stop at the bound", () => {
  // 2 MiB of zeros compress to a few KiB; the reader allows 64 KiB.
  const zeros = new Uint8Array(2 * 1024 * 1024);
  for (const compression of ["lz4", "gzip"] as const) {
    const chunk = encodeChunk(ChunkKind.events, zeros, compression);
    assert.ok(chunk.length < 64 * 1024, `${compression}: compressed small`);
    const result = readTtlog(chunk, { maxPayloadBytes: 64 * 1024 });
    assert.ok(result.error instanceof TtlogFormatError, compression);
    assert.match(result.error.message, /limit/, compression);
  }
  // An LZ4 frame holding one chunk of this size, without compression.
  const frame = encodeLz4Frame(
    encodeChunk(ChunkKind.events, zeros.subarray(0, 100_000), "none"),
  );
  assert.ok(readTtlog(frame, { maxPayloadBytes: 64 * 1024 }).error);
  assert.equal(MAX_CHUNK_PAYLOAD, 64 * 1024 * 1024);
});

test("corrupt files give a TtlogFormatError that says what and where", async () => {
  const src = await source(8);
  const units = fileUnits(src, "none");
  const file = concat(units);
  const cases: [string, (bytes: Uint8Array) => void, RegExp][] = [
    ["bad magic", (b) => (b[0] = 0x55), /not a \.ttlog file/],
    ["new version", (b) => (b[4] = 2), /format version 2/],
    ["flags", (b) => (b[6] = 1), /unknown flags 0x1 for a chunk of kind 1/],
    [
      "events flags",
      (b) => (b[units[0].length + 6] = 3),
      /unknown flags 0x3 for a chunk of kind 2/,
    ],
    ["checksum", (b) => (b[20] ^= 1), /checksum/],
    [
      "second chunk's magic",
      (b) => (b[units[0].length] = 0),
      /expected another uncompressed chunk/,
    ],
  ];
  for (const [name, mutate, pattern] of cases) {
    const bytes = file.slice();
    mutate(bytes);
    const result = readTtlog(bytes);
    assert.ok(result.error instanceof TtlogFormatError, name);
    assert.match(result.error.message, pattern, name);
    assert.equal(result.truncatedAt, undefined, name);
  }
  // Chunks before the corruption are kept.
  const late = file.slice();
  late[units[0].length + units[1].length + 13] ^= 0x40;
  const result = readTtlog(late);
  assert.equal(result.items.length, 2);
  assert.match(
    String(result.error),
    new RegExp(`byte ${units[0].length + units[1].length}\\b`),
  );
  // Mixed compressions are refused.
  const mixed = concat([units[0], fileUnits(src, "lz4")[1]]);
  assert.match(String(readTtlog(mixed).error), /one compression throughout/);
  // A gzip member from another tool (no length field) says what to do.
  const plain = encodeChunk(ChunkKind.end, endChunk(0, 0), "gzip");
  plain[3] &= ~4;
  assert.match(String(readTtlog(plain).error), /gzip -dc/);
});

/** Rewrites each raw chunk's checksum, so that content errors get past it. */
function fixChecksums(bytes: Uint8Array): void {
  for (let at = 0; at + 16 <= bytes.length;) {
    const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(
      at + 8,
      true,
    );
    if (at + 16 + length > bytes.length) return;
    setU32(
      bytes,
      at + 12 + length,
      xxhash32(bytes.subarray(at + 12, at + 12 + length)),
    );
    at += 16 + length;
  }
}

test("fuzz: mutated files give a TtlogFormatError or a read, never anything else", async () => {
  const src = await source(24);
  const random = mulberry32(2024);
  const int = (n: number) => Math.floor(random() * n);
  const started = Date.now();
  let cases = 0;
  let failures = 0;
  const huge = [0xffffffff, 0x7fffffff, 0x80000000, 1 << 26, (1 << 26) + 1];
  const modes = [
    "none",
    "lz4",
    "gzip",
    "content",
    "content-records",
    "columns",
  ] as const;
  for (const mode of modes) {
    const units = fileUnits(
      src,
      mode === "none" || mode === "lz4" || mode === "gzip" ? mode : "none",
      mode === "content-records" ? "records" : "columns",
    );
    const file = concat(units);
    const starts: number[] = [];
    let at = 0;
    for (const unit of units) {
      starts.push(at);
      at += unit.length;
    }
    // "columns": every mutation lands in an events chunk's columns (after
    // its dictionary entries), where the sizes, varints and streams are.
    const regions: { from: number; to: number }[] = [];
    units.forEach((unit, n) => {
      if (unit[5] !== ChunkKind.events) return;
      const payload = payloadOf(unit);
      const view = new DataView(payload.buffer, payload.byteOffset);
      let entry = 8;
      for (let e = view.getUint32(4, true); e > 0; e--) {
        entry += 12 + ((view.getUint32(entry + 8, true) + 3) & ~3);
      }
      regions.push({
        from: starts[n] + 12 + entry,
        to: starts[n] + 12 + payload.length,
      });
    });
    const position = (room: number) => {
      if (mode !== "columns") return int(file.length - room);
      const region = regions[int(regions.length)];
      return region.from + int(region.to - region.from - room);
    };
    for (let i = 0; i < 2000; i++) {
      const bytes = file.slice();
      let cut = bytes.length;
      const mutations = 1 + int(4);
      for (let m = 0; m < mutations; m++) {
        switch (int(6)) {
          case 0:
            bytes[position(0)] ^= 1 << int(8);
            break;
          case 1:
            bytes[position(0)] = int(256);
            break;
          case 2: {
            // A length field (or any word near a chunk's start, or a
            // column size) set huge.
            const start = mode === "columns"
              ? regions[int(regions.length)].from
              : starts[int(starts.length)];
            const offset = Math.min(start + int(24), bytes.length - 4);
            setU32(bytes, offset, huge[int(huge.length)]);
            break;
          }
          case 3:
            cut = Math.min(cut, int(bytes.length + 1));
            break;
          case 4: {
            // A run of random bytes.
            const from = position(0);
            const to = Math.min(bytes.length, from + 1 + int(32));
            for (let k = from; k < to; k++) bytes[k] = int(256);
            break;
          }
          default: {
            // Small random counts and lengths where payloads are parsed.
            setU32(bytes, position(4), int(64));
          }
        }
      }
      if (mode !== "none" && mode !== "lz4" && mode !== "gzip") {
        fixChecksums(bytes);
      }
      const input = bytes.subarray(0, cut);
      cases++;
      try {
        const result = readTtlog(input, { maxPayloadBytes: 1 << 20 });
        if (result.error !== undefined) {
          assert.ok(result.error instanceof TtlogFormatError);
          failures++;
        }
        // The streaming reader, in pieces, agrees on the chunks read.
        const reader = new TtlogReader({ maxPayloadBytes: 1 << 20 });
        let streamed = 0;
        try {
          for (let p = 0; p < input.length; p += 97) {
            streamed += reader.push(input.subarray(p, p + 97)).length;
          }
          reader.finish();
        } catch (error) {
          if (!(error instanceof TtlogFormatError)) throw error;
        }
        assert.equal(streamed, result.items.length, `${mode} case ${i}`);
      } catch (error) {
        assert.fail(
          `${mode} case ${i}: ${
            error instanceof Error ? error.stack : String(error)
          }`,
        );
      }
    }
  }
  const seconds = (Date.now() - started) / 1000;
  assert.ok(cases >= 10_000);
  assert.ok(failures > cases / 2, `only ${failures} of ${cases} failed`);
  assert.ok(seconds < 20, `fuzz took ${seconds} s`);
});
