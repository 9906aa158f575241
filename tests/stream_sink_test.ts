// streamSink: batches as chunks in order, backpressure through writer.ready,
// flush and close, errors, formats, and option validation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { sampleRecord, sleep } from "./helpers.ts";
import {
  createLogger,
  memorySink,
  ndjsonFormatter,
  TtlogConfigError,
} from "../mod.ts";
import { streamSink } from "../src/sinks/stream.ts";

const decoder = new TextDecoder();

const record = sampleRecord;

/** A stream that keeps its chunks; each write takes `delayMs` when given. */
function collector(
  delayMs = 0,
  highWaterMark = 1,
): {
  writable: WritableStream<Uint8Array>;
  chunks: Uint8Array[];
  closed: () => boolean;
  maxInFlight: () => number;
} {
  const chunks: Uint8Array[] = [];
  let closed = false;
  let inFlight = 0;
  let maxInFlight = 0;
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (delayMs > 0) await sleep(delayMs);
      chunks.push(chunk);
      inFlight--;
    },
    close() {
      closed = true;
    },
  }, new CountQueuingStrategy({ highWaterMark }));
  return {
    writable,
    chunks,
    closed: () => closed,
    maxInFlight: () => maxInFlight,
  };
}

function indexesOf(chunks: readonly Uint8Array[]): number[] {
  const text = chunks.map((c) => decoder.decode(c)).join("");
  if (text === "") return [];
  assert.ok(text.endsWith("\n"));
  return text.slice(0, -1).split("\n").map((line) => JSON.parse(line).i);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, k) => from + k);
}

test("streamSink: each batch is one chunk, in order", async () => {
  const { writable, chunks } = collector();
  const sink = streamSink(writable);
  assert.equal(sink.name, "stream");
  const writes: (void | Promise<void>)[] = [];
  for (let i = 0; i < 50; i += 5) {
    writes.push(sink.write([0, 1, 2, 3, 4].map((k) => record(i + k))));
  }
  await sink.flush?.();
  assert.equal(chunks.length, 10);
  assert.deepEqual(indexesOf(chunks), range(0, 50));
  assert.deepEqual(indexesOf([chunks[3]]), range(15, 20));
  for (const write of writes) assert.ok(write instanceof Promise);
  await Promise.all(writes);
  await sink.close?.();
});

test("streamSink: a slow stream: writes wait for writer.ready, order is kept", async () => {
  const real = collector(5, 2);
  // Watches the writer the sink uses: it must only write when the stream's
  // queue has room.
  let writesWithoutRoom = 0;
  let writes = 0;
  const watched = {
    get locked() {
      return real.writable.locked;
    },
    getWriter() {
      const writer = real.writable.getWriter();
      return {
        get ready() {
          return writer.ready;
        },
        write(chunk: Uint8Array) {
          writes++;
          if ((writer.desiredSize ?? 0) <= 0) writesWithoutRoom++;
          return writer.write(chunk);
        },
        close() {
          return writer.close();
        },
      };
    },
  } as unknown as WritableStream<Uint8Array>;
  const sink = streamSink(watched);
  const pending: Promise<void>[] = [];
  for (let i = 0; i < 20; i++) {
    pending.push(sink.write([record(i)]) as Promise<void>);
  }
  await sleep(1);
  assert.ok(
    writes <= 3,
    `only what the queue holds is handed over (${writes})`,
  );
  assert.ok(real.chunks.length < 20);
  await sink.flush?.();
  assert.equal(writes, 20);
  assert.equal(writesWithoutRoom, 0);
  assert.deepEqual(indexesOf(real.chunks), range(0, 20));
  assert.equal(real.maxInFlight(), 1);
  await Promise.all(pending);
  await sink.close?.();
  assert.ok(real.closed());
});

test("streamSink: write() settles once its chunk is written; flush() waits for the last", async () => {
  const { writable, chunks } = collector(20);
  const sink = streamSink(writable);
  const first = sink.write([record(0)]);
  sink.write([record(1)]);
  await first;
  assert.ok(chunks.length >= 1);
  await sink.flush?.();
  assert.equal(chunks.length, 2);
  await sink.close?.();
});

test("streamSink: through the real drain, N events arrive in order", async () => {
  const { writable, chunks, closed } = collector(1);
  const log = createLogger({
    service: "test",
    directives: "",
    sinks: [streamSink(writable)],
  });
  for (let i = 0; i < 3000; i++) log.info("event", { i });
  await log.flush();
  assert.deepEqual(indexesOf(chunks), range(0, 3000));
  for (let i = 3000; i < 3500; i++) log.info("event", { i });
  await log.close();
  assert.deepEqual(indexesOf(chunks), range(0, 3500));
  assert.ok(closed(), "close() closes the stream");
  assert.equal(log.metrics().sinks[0].errors, 0);
});

test("streamSink: text format", async () => {
  const { writable, chunks } = collector();
  const sink = streamSink(writable, { format: "text" });
  await sink.write([record(0, "hello")]);
  await sink.close?.();
  assert.equal(
    decoder.decode(chunks[0]),
    "2026-11-25T15:04:02.123Z INFO  hello i=0\n",
  );
});

test("streamSink: close() closes the stream once; write after close rejects", async () => {
  const { writable, closed } = collector();
  const sink = streamSink(writable);
  await Promise.all([sink.close?.(), sink.close?.()]);
  assert.ok(closed());
  await assert.rejects(
    Promise.resolve(sink.write([record(0)])),
    /write after close/,
  );
});

test("streamSink: write([]) writes no chunk", async () => {
  const { writable, chunks } = collector();
  const sink = streamSink(writable);
  await sink.write([]);
  await sink.close?.();
  assert.equal(chunks.length, 0);
});

test("streamSink: a failing stream rejects write(); flush() and the drain carry on", async () => {
  let calls = 0;
  const writable = new WritableStream<Uint8Array>({
    write() {
      calls++;
      throw new Error("disk gone");
    },
  });
  const sink = streamSink(writable);
  await assert.rejects(Promise.resolve(sink.write([record(0)])), /disk gone/);
  await assert.rejects(Promise.resolve(sink.write([record(1)])), /disk gone/);
  await sink.flush?.(); // resolves: the failures were reported by write()
  assert.equal(calls, 1);
});

test("streamSink: no spec: the drain stays on the caller's thread", () => {
  const sink = streamSink(new WritableStream<Uint8Array>());
  assert.equal(sink.spec, undefined);
});

test("streamSink: bad arguments throw TtlogConfigError", () => {
  const cases: [unknown, unknown, RegExp][] = [
    [undefined, undefined, /expected a WritableStream, got undefined/],
    [null, undefined, /expected a WritableStream, got null/],
    [{}, undefined, /expected a WritableStream, got object/],
    [new WritableStream(), { format: "xml" }, /format must be .*got "xml"/],
    [new WritableStream(), null, /options must be an object/],
  ];
  for (const [writable, options, message] of cases) {
    assert.throws(
      () =>
        streamSink(
          writable as WritableStream<Uint8Array>,
          options as { format?: "text" },
        ),
      (error: unknown) =>
        error instanceof TtlogConfigError && message.test(error.message),
      String(message),
    );
  }
  const locked = new WritableStream<Uint8Array>();
  locked.getWriter();
  assert.throws(
    () => streamSink(locked),
    (error: unknown) =>
      error instanceof TtlogConfigError && /is locked/.test(error.message),
  );
});

test("streamSink: the drain's NDJSON lines are ndjsonFormatter's, byte for byte, and kept intact", async () => {
  const { writable, chunks } = collector(1);
  const memory = memorySink();
  const log = createLogger({
    service: "test",
    directives: "",
    sinks: [streamSink(writable), memory],
  });
  for (let round = 0; round < 3; round++) {
    // Several passes: a chunk must not change when the drain reuses its buffer.
    for (let i = 0; i < 2000; i++) log.info("event", { i, s: "é\n\u2028" });
    await log.flush();
  }
  await log.close();
  const format = ndjsonFormatter();
  const expected = memory.records.map((r) => format(r) + "\n").join("");
  const got = new TextDecoder().decode(
    chunks.reduce((all, c) => {
      const out = new Uint8Array(all.length + c.length);
      out.set(all);
      out.set(c, all.length);
      return out;
    }, new Uint8Array(0)),
  );
  assert.equal(got, expected);
  assert.equal(memory.records.length, 6000);
});
