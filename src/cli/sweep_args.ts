/**
 * The `sweep` subcommand's command line as a pure function. Kept apart from
 * `sweep.ts` so that the main parser can use it without loading any adapter.
 */

import { parseArgs } from "node:util";
import type { WireFormat } from "../core/wire_codec.ts";
import { FORMAT_OPTION, readFormatOption } from "./format_option.ts";

/** What a sweep is asked to do. */
export interface SweepOptions {
  /** `-c/--config FILE`. */
  readonly configPath?: string;
  /** `--snapshot DAYS`; absent means the config's `snapshot`. */
  readonly snapshotDays?: number;
  /** `--idle SECONDS`: stop reading Threat Bus after this long without a new indicator. */
  readonly idleSeconds: number;
  /** `--indicators FILE`, or `-` for standard input; absent means Threat Bus. */
  readonly indicators?: string;
  /** `--dry-run`: print the queries instead of running them. */
  readonly dryRun: boolean;
  /** `--threatbus-format`: over the config's `threatbus_format`. */
  readonly threatbusFormat?: WireFormat;
}

/** What `sweep ...` asks for; the same shapes as the main parser's commands. */
export type SweepCommand =
  | { kind: "sweep"; options: SweepOptions }
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "usage-error"; message: string };

/** `--idle` when not given, in seconds. */
export const DEFAULT_IDLE_SECONDS = 10;

/** The `sweep` section of the usage text. */
export const SWEEP_USAGE = `\
  vast-threatbus sweep [-c FILE] [--snapshot DAYS] [--idle SECONDS] [--dry-run]
  vast-threatbus sweep [-c FILE] --indicators FILE|- [--dry-run]`;

/** The options of `sweep`, for the help text. */
export const SWEEP_OPTIONS_HELP = `\
Sweep (query every indicator once, report the sightings, exit):
  --snapshot DAYS     Days of indicators to ask Threat Bus for
                      (default: the config's snapshot)
  --idle SECONDS      Stop reading Threat Bus after SECONDS without a new
                      indicator (default ${DEFAULT_IDLE_SECONDS})
  --indicators FILE   Read indicators from FILE instead ("-": stdin): a STIX-2.1
                      bundle, one STIX indicator per line, or one IoC per line
                      (type:value, or a bare IPv4/IPv6 address, domain, URL
                      or hash)
  --dry-run           Print the VAST query of each distinct IoC, one per line,
                      and run none
  --threatbus-format stix2|legacy
                      As for run (also with --indicators: the format of the
                      sightings sent to Threat Bus)
  Exit status: 0 all queries succeeded, 1 some failed or timed out,
  2 usage or config error.`;

const OPTIONS = {
  config: { type: "string", short: "c" },
  snapshot: { type: "string" },
  idle: { type: "string" },
  indicators: { type: "string" },
  "dry-run": { type: "boolean" },
  ...FORMAT_OPTION,
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

/** Parses the arguments after `sweep`. Never throws. */
export function parseSweepArgs(args: readonly string[]): SweepCommand {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: true });
  } catch (error) {
    return usageError(firstSentence(error));
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { kind: "help" };
  if (values.version === true) return { kind: "version" };
  if (positionals.length > 0) return usageError(`unexpected argument "${positionals[0]}"`);

  let snapshotDays: number | undefined;
  if (values.snapshot !== undefined) {
    if (!/^\d{1,6}$/.test(values.snapshot)) {
      return usageError(`--snapshot "${values.snapshot}" is not a whole number of days`);
    }
    snapshotDays = Number(values.snapshot);
  }
  let idleSeconds = DEFAULT_IDLE_SECONDS;
  if (values.idle !== undefined) {
    idleSeconds = Number(values.idle);
    if (!/^\d+(\.\d+)?$/.test(values.idle) || !(idleSeconds > 0) || idleSeconds > 86_400) {
      return usageError(
        `--idle "${values.idle}" is not a number of seconds above 0 and at most 86400`,
      );
    }
  }
  const format = readFormatOption(values["threatbus-format"]);
  if (!format.ok) return usageError(format.message);
  if (values.indicators !== undefined) {
    if (values.indicators === "") return usageError("--indicators needs a file name or -");
    const threatBusOnly = ["snapshot", "idle"].filter((name) =>
      values[name as "snapshot" | "idle"] !== undefined
    );
    if (threatBusOnly.length > 0) {
      return usageError(`--${threatBusOnly[0]} applies to Threat Bus, not to --indicators`);
    }
  }
  return {
    kind: "sweep",
    options: {
      ...(values.config === undefined ? {} : { configPath: values.config }),
      ...(snapshotDays === undefined ? {} : { snapshotDays }),
      idleSeconds,
      ...(values.indicators === undefined ? {} : { indicators: values.indicators }),
      dryRun: values["dry-run"] === true,
      ...(format.format === undefined ? {} : { threatbusFormat: format.format }),
    },
  };
}

function usageError(detail: string): SweepCommand {
  return { kind: "usage-error", message: `Cannot parse the sweep command line: ${detail}` };
}

// node:util messages go on with hints in node syntax; the first sentence names the problem.
function firstSentence(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split("\n")[0] ?? message;
  const end = line.indexOf(". ");
  return (end === -1 ? line : line.slice(0, end)).replace(/\.$/, "");
}
