/**
 * The small driver interface behind which every runtime-specific call lives.
 * Only files under `src/runtime/` name `Deno`, `Bun` or `process`.
 *
 * @module
 */

/** Names of the runtimes ttlog knows. */
export type RuntimeName = "deno" | "bun" | "node" | "web";

/** An output stream of the process. */
export type StdStream = "stdout" | "stderr";

/** What ttlog needs from the runtime it runs on. */
export interface Runtime {
  /** Which runtime this is. */
  readonly name: RuntimeName;
  /** Its version, such as `2.9.6`, or `""` when unknown. */
  readonly version: string;
  /** Reads an environment variable; `undefined` when unset or not permitted. Never throws. */
  env(name: string): string | undefined;
  /** Whether the stream is a terminal. Never throws. */
  isTerminal(stream: StdStream): boolean;
  /** Writes the whole text to the stream, synchronously where the runtime allows. */
  write(stream: StdStream, text: string): void;
}
