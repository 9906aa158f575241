/**
 * The counters a logger keeps, and how they add up.
 *
 * @module
 */

/**
 * A logger's counters. For every logger, at every moment:
 * `logged = emitted + filtered + dropped + lost + pending`, and after
 * `flush()` nothing is pending. Every loss (dropped or lost) also appears in
 * the output as one "lost N events" record.
 */
export interface Metrics {
  /** Events that passed the level check (recorded or dropped). */
  readonly logged: number;
  /** Events encoded into the ring. */
  readonly recorded: number;
  /** Ring bytes those events took (padding included). */
  readonly recordedBytes: number;
  /** Events delivered to the sinks. */
  readonly emitted: number;
  /** Events recorded but below their target's emit level (kept for snapshots only). */
  readonly filtered: number;
  /** Events not recorded because the ring was full (`drop`, or `block` when it could not wait). */
  readonly dropped: number;
  /** Events overwritten in the ring before the drain read them (`overwrite`). */
  readonly lost: number;
  /** Events recorded and not yet read by the drain. */
  readonly pending: number;
  /** "lost N events" records written to the sinks. */
  readonly lossRecords: number;
  /** The ring's capacity in bytes. */
  readonly ringBytes: number;
  /** Ring bytes holding records now (history included). */
  readonly ringUsed: number;
  /** The most ring bytes held at once. */
  readonly ringHighWater: number;
  /** Entries in the dictionary (keys, targets, call sites). */
  readonly dictionaryEntries: number;
  /** Bytes the dictionary uses. */
  readonly dictionaryBytes: number;
  /** Drain passes that read at least one record. */
  readonly drainPasses: number;
  /** Median duration of a drain pass (read, decode, deliver), in ms, over recent passes. */
  readonly drainBatchMsP50: number;
  /** 99th-percentile duration of a drain pass, in ms, over recent passes. */
  readonly drainBatchMsP99: number;
  /** Whether the drain runs in a worker thread. */
  readonly worker: boolean;
  /** Times the drain moved to the caller's thread because its worker failed. */
  readonly workerRestarts: number;
  /** Per sink: records written and failures. */
  readonly sinks: readonly { name: string; written: number; errors: number }[];
}
