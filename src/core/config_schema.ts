/**
 * The configuration schema: the one place that names every config key, its
 * type, its default and what a valid value looks like. Everything else (key
 * listings, did-you-mean, defaults) is derived from it, so adding a key means
 * adding one line here (plus its line in `config.yaml.example`).
 */

import { z } from "zod";
import { parseEndpoint } from "./endpoint.ts";
import { parseDurationSeconds } from "./duration.ts";
import { LOG_LEVELS, type LogLevel } from "./log_level.ts";
import { SIGHTING_AGGREGATIONS } from "./sighting.ts";
import { WIRE_FORMATS } from "./wire_codec.ts";

const LEVEL_EXPECTED = `one of ${LOG_LEVELS.join(", ")} (any case)`;

function flag(defaultValue: boolean) {
  return z.boolean({ error: "true or false" }).default(defaultValue);
}

function level(defaultValue: LogLevel) {
  return z.string({ error: LEVEL_EXPECTED })
    .transform((s) => s.trim().toUpperCase())
    .pipe(z.enum(LOG_LEVELS, { error: LEVEL_EXPECTED }))
    .default(defaultValue);
}

function wholeNumber(options: { min: number; default: number; expected: string }) {
  const error = options.expected;
  return z.number({ error }).int({ error }).min(options.min, { error }).default(options.default);
}

/** How log lines look: human-readable text or one JSON object per line. */
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = typeof LOG_FORMATS[number];

/** What a line-delimited sink writes per sighting: its context or the whole sighting. */
export const SINK_FORMATS = ["context", "sighting"] as const;

/** The telemetry stores the bridge can drive: the VAST 2.x command line or a Tenzir node. */
export const BACKENDS = ["vast", "tenzir"] as const;
export type BackendKind = typeof BACKENDS[number];

/** A word from a fixed list, in any case. */
function choice<const Words extends readonly [string, ...string[]]>(
  words: Words,
  defaultValue: Words[number],
) {
  const expected = `one of ${words.join(", ")}`;
  return z.string({ error: expected })
    .transform((s) => s.trim().toLowerCase())
    .pipe(z.enum(words, { error: expected }))
    .default(defaultValue);
}

function seconds(defaultValue: number, expected: string) {
  return z.number({ error: expected }).min(0, { error: expected }).default(defaultValue);
}

// Numbers are accepted for free text because environment overrides turn
// digit-only values (a matcher named `42`) into numbers before the schema sees them.
function text(expected: string) {
  return z.union([z.string(), z.number()], { error: expected })
    .transform(String)
    .pipe(z.string().min(1, { error: expected }));
}

function requiredText(defaultValue: string, expected: string) {
  return text(expected).default(defaultValue);
}

/** Free text without a default; null and "" mean unset, as `sink:` did for the original. */
function optionalText(expected: string) {
  return z.preprocess((v) => (v === null || v === "" ? undefined : v), text(expected).optional());
}

const ENDPOINT_EXPECTED =
  'an endpoint "host:port" (host: a name, an IPv4 or a [bracketed] IPv6 address)';

function endpoint(defaultValue: string) {
  const error = ENDPOINT_EXPECTED;
  return z.string({ error }).refine((s) => parseEndpoint(s) !== undefined, { error })
    .default(defaultValue);
}

/** A duration in seconds (`30d`, `12h`, `90m`, `45s`, `2w`, or a number of seconds). */
function duration(expected: string) {
  return z.union([z.number(), z.string()], { error: expected }).transform((value, ctx) => {
    const seconds = parseDurationSeconds(value);
    if (seconds === undefined) {
      ctx.addIssue({ code: "custom", message: expected });
      return z.NEVER;
    }
    return seconds;
  });
}

const DURATION_EXPECTED = "a duration such as 30d, 12h, 90m or 45s, or a number of seconds ≥ 0";

/** An endpoint without a default; null and "" mean unset. */
function optionalEndpoint() {
  const error = ENDPOINT_EXPECTED;
  return z.preprocess(
    (v) => (v === null || v === "" ? undefined : v),
    z.string({ error }).refine((s) => parseEndpoint(s) !== undefined, { error }).optional(),
  );
}

/** A nested mapping; an empty YAML section (`logging:` with every key commented out) means defaults. */
function section<Shape extends z.ZodRawShape>(name: string, shape: Shape) {
  const object = z.object(shape, { error: `a mapping of "${name}.*" keys` });
  // Every section key has a default, so `{}` is valid input; TypeScript cannot see that generically.
  const empty = {} as z.input<typeof object>;
  return z.preprocess((v) => (v === null ? undefined : v), object.prefault(empty));
}

/** The configuration schema: parse YAML/env input into a complete `Config`. */
export const ConfigSchema = z.object({
  logging: section("logging", {
    console: flag(true),
    console_verbosity: level("INFO"),
    file: flag(false),
    file_verbosity: level("INFO"),
    filename: requiredText("vast-threatbus.log", "a non-empty file name"),
    format: choice(LOG_FORMATS, "text"),
  }),
  metrics: section("metrics", {
    interval: seconds(10, "a number of seconds ≥ 0 (0 disables metrics)"),
    filename: requiredText("metrics.log", "a non-empty file name"),
    listen: optionalEndpoint(),
  }),
  backend: choice(BACKENDS, "vast"),
  vast: endpoint("localhost:42000"),
  vast_binary: requiredText("vast", "a non-empty command name or path"),
  tenzir_endpoint: endpoint("localhost:5158"),
  tenzir_binary: requiredText("tenzir", "a non-empty command name or path"),
  tenzir_context: requiredText("threatbus", "a non-empty context name"),
  tenzir_connect_timeout: wholeNumber({
    min: 1,
    default: 5,
    expected: "a whole number of seconds ≥ 1",
  }),
  threatbus: endpoint("localhost:13370"),
  threatbus_format: choice(WIRE_FORMATS, "stix2"),
  snapshot: wholeNumber({ min: 0, default: 30, expected: "a whole number of days ≥ 0" }),
  live_match: flag(false),
  matcher_name: optionalText("a non-empty matcher name"),
  retro_match: flag(true),
  retro_match_max_events: wholeNumber({
    min: 0,
    default: 0,
    expected: "a whole number ≥ 0 (0 = unlimited)",
  }),
  retro_match_timeout: seconds(3600, "a number ≥ 0 (seconds, 0 = none)"),
  max_background_tasks: wholeNumber({ min: 1, default: 500, expected: "a whole number ≥ 1" }),
  transform_context: optionalText("a non-empty command line"),
  sink: optionalText('"STDOUT", "file:<path>" or a non-empty command line'),
  sink_format: choice(SINK_FORMATS, "context"),
  sink_resend_bytes: wholeNumber({
    min: 0,
    default: 256 * 1024,
    expected: "a whole number of bytes ≥ 0 (0 = resend nothing)",
  }),
  retro_match_retries: wholeNumber({ min: 0, default: 3, expected: "a whole number ≥ 0" }),
  retro_match_batch_size: wholeNumber({
    min: 1,
    default: 32,
    expected: "a whole number ≥ 1 (1 = one query per indicator)",
  }),
  shutdown_timeout: seconds(10, "a number of seconds ≥ 0"),
  max_message_bytes: wholeNumber({
    min: 1024,
    default: 16 * 1024 * 1024,
    expected: "a whole number of bytes ≥ 1024",
  }),
  max_result_line_bytes: wholeNumber({
    min: 1024,
    default: 16 * 1024 * 1024,
    expected: "a whole number of bytes ≥ 1024",
  }),
  zmtp_heartbeat_interval: seconds(2, "a number of seconds ≥ 0 (0 = no ZMTP heartbeats)"),
  zmtp_heartbeat_timeout: seconds(6, "a number of seconds ≥ 0 (0 = never time out)"),
  // Default: the backend's product (`sightingSource` in backend_identity.ts).
  source: optionalText("a non-empty name of the app that makes the sightings"),
  sighting_aggregation: choice(SIGHTING_AGGREGATIONS, "none"),
  live_sightings_per_ioc_per_minute: wholeNumber({
    min: 0,
    default: 0,
    expected: "a whole number ≥ 0 (0 = unlimited)",
  }),
  indicator_max_age: z.preprocess(
    (v) => (v === null || v === "" ? undefined : v),
    duration(`${DURATION_EXPECTED} (0 or unset = off)`).optional(),
  ),
  indicator_dedup_window: duration(`${DURATION_EXPECTED} (0 = query every re-send)`)
    .default(86_400),
  indicator_dedup_max_ids: wholeNumber({
    min: 0,
    default: 100_000,
    expected: "a whole number ≥ 0 (0 = remember none)",
  }),
  unflatten: z.unknown().optional(),
}, { error: "a mapping of config keys" }).superRefine((config, ctx) => {
  const interval = config.zmtp_heartbeat_interval;
  const timeout = config.zmtp_heartbeat_timeout;
  if (
    typeof interval === "number" && typeof timeout === "number" && interval > 0 && timeout > 0 &&
    timeout <= interval
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["zmtp_heartbeat_timeout"],
      message:
        `a number of seconds longer than zmtp_heartbeat_interval (${interval}), or 0 (never time out)`,
    });
  }
  const matcherHasOwnIssue = ctx.issues.some((i) => i.path?.[0] === "matcher_name");
  // Tenzir's live matching uses `tenzir_context`, which has a default.
  const needsMatcher = config.live_match === true && config.backend !== "tenzir";
  if (needsMatcher && config.matcher_name === undefined && !matcherHasOwnIssue) {
    ctx.addIssue({
      code: "custom",
      path: ["matcher_name"],
      message: 'a non-empty matcher name (required when "live_match" is true)',
    });
  }
}, {
  // Run even when other keys are invalid, so every problem is reported at once.
  when: (payload) => typeof payload.value === "object" && payload.value !== null,
});

/** A complete, validated configuration. */
export type Config = z.output<typeof ConfigSchema>;

/** Keys still accepted for old configs, with why they are deprecated. */
export const DEPRECATED_CONFIG_KEYS: Readonly<Record<string, string>> = Object.freeze({
  unflatten: "it has had no effect since 2021.02",
});

/**
 * The keys that only one backend reads: each has no effect while the other
 * backend is chosen (and a warning says so when it is set to a non-default).
 */
export const BACKEND_KEYS: Readonly<Record<BackendKind, readonly (keyof Config)[]>> = {
  vast: ["vast", "vast_binary", "matcher_name"],
  tenzir: ["tenzir_endpoint", "tenzir_binary", "tenzir_context", "tenzir_connect_timeout"],
};

/** Every default, i.e. what an empty config file yields (deeply frozen). */
export const DEFAULT_CONFIG: Config = deepFreeze(ConfigSchema.parse({}));

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** The object schema behind a field, if the field is a nested section. */
export function sectionShape(
  schema: z.core.$ZodType,
): Readonly<Record<string, z.core.$ZodType>> | undefined {
  if (schema instanceof z.ZodObject) return schema.shape;
  if (schema instanceof z.ZodPipe) return sectionShape(schema.out) ?? sectionShape(schema.in);
  if (
    schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault ||
    schema instanceof z.ZodOptional || schema instanceof z.ZodNullable
  ) {
    return sectionShape(schema.unwrap());
  }
  return undefined;
}

/**
 * Every known key path, sections included (`logging`, `logging.console`, ...),
 * in schema order; deprecated keys are left out.
 */
export function configKeyPaths(): string[] {
  const paths: string[] = [];
  const walk = (shape: Readonly<Record<string, z.core.$ZodType>>, prefix: string) => {
    for (const [key, schema] of Object.entries(shape)) {
      const path = prefix + key;
      if (prefix === "" && Object.hasOwn(DEPRECATED_CONFIG_KEYS, key)) continue;
      paths.push(path);
      const nested = sectionShape(schema);
      if (nested) walk(nested, `${path}.`);
    }
  };
  walk(ConfigSchema.shape, "");
  return paths;
}
