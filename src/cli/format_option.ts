/**
 * `--threatbus-format stix2|legacy` of `run`, `check` and `sweep`: the
 * `threatbus_format` key where a config file is not handy. It wins over the
 * config file and the environment.
 */

import { WIRE_FORMATS, type WireFormat } from "../core/wire_codec.ts";

/** The option for `node:util` `parseArgs`. */
export const FORMAT_OPTION = { "threatbus-format": { type: "string" } } as const;

/** The option's line in the help text. */
export const FORMAT_OPTION_HELP = `\
      --threatbus-format stix2|legacy
                      run, check, sweep: Threat Bus's wire format, over the
                      config's threatbus_format (legacy: Threat Bus 2020.x)`;

/** The option's value checked: the format, none given, or why it is refused. */
export type FormatOption =
  | { readonly ok: true; readonly format: WireFormat | undefined }
  | { readonly ok: false; readonly message: string };

/** Reads the value of `--threatbus-format` (any case). */
export function readFormatOption(value: string | boolean | undefined): FormatOption {
  if (typeof value !== "string") return { ok: true, format: undefined };
  const format = WIRE_FORMATS.find((name) => name === value.trim().toLowerCase());
  if (format !== undefined) return { ok: true, format };
  return {
    ok: false,
    message: `--threatbus-format expects ${WIRE_FORMATS.join(" or ")}, got "${value}"`,
  };
}

/** The config keys the option sets, for `loadConfig`'s `overrides`. */
export function formatOverrides(format: WireFormat | undefined): Record<string, unknown> {
  return format === undefined ? {} : { threatbus_format: format };
}
