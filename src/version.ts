/**
 * ttlog's version, as deno.json and package.json give it (a test keeps the
 * three the same): what `ttlog --version` prints.
 *
 * @module
 */

/** The version of this ttlog. */
export const VERSION: string = "0.1.0";
