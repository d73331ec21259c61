/**
 * The command line as a pure function: arguments in, a tagged command out.
 * Never throws and never exits; `main.ts` decides what each command does.
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import type { WireFormat } from "../core/wire_codec.ts";
import { FORMAT_OPTION, readFormatOption } from "./format_option.ts";
import { parseSweepArgs, type SweepOptions } from "./sweep_args.ts";

/** What the command line asks for. */
export type CliCommand =
  | { kind: "run"; configPath?: string; threatbusFormat?: WireFormat }
  | { kind: "check"; configPath?: string; timeoutSeconds?: number; threatbusFormat?: WireFormat }
  | { kind: "sweep"; options: SweepOptions }
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "usage-error"; message: string };

/** The subcommand used when the first argument is an option or absent. */
export const DEFAULT_SUBCOMMAND = "run";

const COMMON_OPTIONS = {
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const satisfies ParseArgsOptionsConfig;

const CONFIG_OPTION = {
  config: { type: "string", short: "c" },
} as const satisfies ParseArgsOptionsConfig;

const TIMEOUT_OPTION = {
  timeout: { type: "string" },
} as const satisfies ParseArgsOptionsConfig;

type OptionValues = Readonly<Record<string, string | boolean | undefined>>;

/** One parser per subcommand; each receives the arguments after the subcommand name. */
const SUBCOMMANDS: Readonly<Record<string, (args: readonly string[]) => CliCommand>> = {
  run: (args) =>
    withOptions(args, { ...CONFIG_OPTION, ...FORMAT_OPTION }, (values) => {
      const configPath = values.config;
      const format = readFormatOption(values["threatbus-format"]);
      if (!format.ok) return usageError(format.message);
      return {
        kind: "run",
        ...(typeof configPath === "string" ? { configPath } : {}),
        ...(format.format === undefined ? {} : { threatbusFormat: format.format }),
      };
    }),
  check: (args) =>
    withOptions(args, { ...CONFIG_OPTION, ...TIMEOUT_OPTION, ...FORMAT_OPTION }, (values) => {
      const { config, timeout } = values;
      const format = readFormatOption(values["threatbus-format"]);
      if (!format.ok) return usageError(format.message);
      let timeoutSeconds: number | undefined;
      if (typeof timeout === "string") {
        timeoutSeconds = Number(timeout);
        if (timeout.trim() === "" || !Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
          return {
            kind: "usage-error",
            message:
              `Cannot parse the command line: --timeout expects seconds > 0, got "${timeout}"`,
          };
        }
      }
      return {
        kind: "check",
        ...(typeof config === "string" ? { configPath: config } : {}),
        ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
        ...(format.format === undefined ? {} : { threatbusFormat: format.format }),
      };
    }),
  sweep: parseSweepArgs,
};

/** Names of the subcommands, for the help text and tests. */
export function subcommandNames(): string[] {
  return Object.keys(SUBCOMMANDS);
}

/**
 * Parses the arguments after the program name: an optional leading
 * subcommand (default `run`), then its options.
 */
export function parseCommandLine(args: readonly string[]): CliCommand {
  const first = args[0];
  const named = first !== undefined && !first.startsWith("-");
  const name = named ? first : DEFAULT_SUBCOMMAND;
  const subcommand = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
  if (subcommand === undefined) {
    return {
      kind: "usage-error",
      message: `Cannot parse the command line: unknown subcommand "${name}" (expected one of ${
        subcommandNames().map((n) => `"${n}"`).join(", ")
      })`,
    };
  }
  return subcommand(named ? args.slice(1) : args);
}

/** Parses `options` plus `--help`/`--version`, leaving the subcommand only the happy path. */
function withOptions(
  args: readonly string[],
  options: ParseArgsOptionsConfig,
  toCommand: (values: OptionValues) => CliCommand,
): CliCommand {
  let values: OptionValues;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      options: { ...options, ...COMMON_OPTIONS },
      strict: true,
      allowPositionals: true,
    }));
  } catch (error) {
    return {
      kind: "usage-error",
      message: `Cannot parse the command line: ${firstSentence(error)}`,
    };
  }
  if (values.help === true) return { kind: "help" };
  if (values.version === true) return { kind: "version" };
  if (positionals.length > 0) {
    return {
      kind: "usage-error",
      message: `Cannot parse the command line: unexpected argument "${positionals[0]}"`,
    };
  }
  return toCommand(values);
}

function usageError(detail: string): CliCommand {
  return { kind: "usage-error", message: `Cannot parse the command line: ${detail}` };
}

// node:util messages go on with hints in node syntax; the first sentence names the problem.
function firstSentence(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split("\n")[0] ?? message;
  const end = line.indexOf(". ");
  return (end === -1 ? line : line.slice(0, end)).replace(/\.$/, "");
}
