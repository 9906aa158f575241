// The little of Deno's global that src/runtime/deno.ts uses, for compiling
// the npm build with tsc (which has no Deno types). Deno itself type-checks
// that file against its real declarations.
declare namespace Deno {
  interface StdFile {
    writeSync(data: Uint8Array): number;
    isTerminal(): boolean;
  }
  const stdout: StdFile;
  const stderr: StdFile;
  const version: { readonly deno: string };
  const env: { get(name: string): string | undefined };
  const permissions:
    | {
      querySync?(
        descriptor: { name: "env"; variable: string },
      ): { state: "granted" | "denied" | "prompt" };
    }
    | undefined;
  function exit(code?: number): never;
}
