/**
 * A `vast` stand-in written in POSIX sh, for floods: starting the Deno
 * emulator costs tens of milliseconds of CPU per call, which tens of thousands
 * of queries cannot afford. It knows only what a flood needs:
 *
 *     vast -e <endpoint> status
 *     vast -e <endpoint> export --help
 *     vast -e <endpoint> export [options...] json <query>
 *
 * `export` appends its query (the last argument) as one line to the queries
 * file, waits until the gate file exists (when one is set; polled twice a
 * second, so that hundreds of held queries cost next to no CPU), prints
 * `resultsPerQuery` copies of one fixed event and exits 0.
 */

import { shellQuote, writeShellScript } from "./shell_script.ts";

/** Options for {@link makeFastVastBinary}. */
export interface FastVastOptions {
  /** Directory in which the `vast` script is written. */
  readonly dir: string;
  /** Each query is appended to this file as a line. */
  readonly queriesFile: string;
  /** Queries wait until this path exists; absent: they answer at once. */
  readonly gateFile?: string;
  /** Events each query prints; default 1. */
  readonly resultsPerQuery?: number;
}

/** The event every query of the fast stand-in prints. */
export const FAST_VAST_EVENT = {
  ts: "2021-03-01T10:00:00.000000",
  uid: "CfastVast",
  note: "fast vast stand-in",
} as const;

/** Writes an executable `<dir>/vast` (see the module doc); returns its path. */
export async function makeFastVastBinary(options: FastVastOptions): Promise<string> {
  const results = options.resultsPerQuery ?? 1;
  if (!Number.isInteger(results) || results < 0) {
    throw new RangeError(`Cannot make the fast vast: resultsPerQuery ${results} is not a count`);
  }
  const event = JSON.stringify(FAST_VAST_EVENT);
  const script = [
    `queries=${shellQuote(options.queriesFile)}`,
    `gate=${shellQuote(options.gateFile ?? "")}`,
    `results=${results}`,
    'if [ "$1" = "-e" ]; then shift 2; fi',
    'case "$1" in',
    '  status) echo \'{"version":"fast-stand-in"}\' ;;',
    "  export)",
    '    if [ "$2" = "--help" ]; then echo "usage: export [<parameters>] <format> <expr>"; exit 0; fi',
    "    for query; do :; done",
    '    printf \'%s\\n\' "$query" >> "$queries"',
    '    if [ -n "$gate" ]; then while [ ! -e "$gate" ]; do sleep 0.5; done; fi',
    "    i=0",
    '    while [ "$i" -lt "$results" ]; do',
    `      printf '%s\\n' ${shellQuote(event)}`,
    "      i=$((i + 1))",
    "    done",
    "    ;;",
    '  *) echo "vast: error: the fast stand-in knows no \\"$1\\"" >&2; exit 1 ;;',
    "esac",
  ];
  return await writeShellScript(options.dir, "vast", script);
}

/** The queries the fast stand-in received so far, in order. */
export async function fastVastQueries(queriesFile: string): Promise<string[]> {
  const text = await Deno.readTextFile(queriesFile).catch(() => "");
  return text.split("\n").filter((line) => line !== "");
}
