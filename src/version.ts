import denoConfig from "../deno.json" with { type: "json" };

/** The program's version, taken from deno.json at build time. */
export const VERSION: string = denoConfig.version;
