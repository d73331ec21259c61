/**
 * Turns raw config input (parsed YAML merged with overrides) into a `Config`,
 * with error messages a user can act on and warnings for keys that do nothing.
 */

import type { z } from "zod";
import {
  BACKEND_KEYS,
  BACKENDS,
  type Config,
  configKeyPaths,
  ConfigSchema,
  DEFAULT_CONFIG,
  DEPRECATED_CONFIG_KEYS,
  sectionShape,
} from "./config_schema.ts";
import { didYouMean } from "./did_you_mean.ts";

/** The outcome of `validateConfig`; warnings are reported either way. */
export type ConfigValidation =
  | { ok: true; config: Config; warnings: string[] }
  | { ok: false; errors: string[]; warnings: string[] };

const MAX_VALUE_CHARS = 60;

/**
 * Validates raw config input against `ConfigSchema`. `null`/`undefined`
 * (an empty YAML file) means all defaults.
 */
export function validateConfig(raw: unknown): ConfigValidation {
  const input = raw ?? {};
  const warnings = isPlainObject(input) ? unknownKeyWarnings(input) : [];
  const result = ConfigSchema.safeParse(input);
  if (result.success) {
    return {
      ok: true,
      config: result.data,
      warnings: [...warnings, ...otherBackendKeys(result.data)],
    };
  }
  const errors = result.error.issues.map((issue) => describeIssue(issue, input));
  return { ok: false, errors, warnings };
}

/** One warning naming the keys of the backend not chosen that are set to non-defaults. */
function otherBackendKeys(config: Config): string[] {
  const unused = BACKENDS.filter((backend) => backend !== config.backend)
    .flatMap((backend) => BACKEND_KEYS[backend])
    .filter((key) => config[key] !== DEFAULT_CONFIG[key]);
  if (unused.length === 0) return [];
  const names = unused.map((key) => `"${key}"`).join(", ");
  const [noun, verb, pronoun] = unused.length === 1
    ? ["key", "has", "it"]
    : ["keys", "have", "them"];
  return [
    `config ${noun} ${names} ${verb} no effect with "backend: ${config.backend}"; remove ${pronoun}`,
  ];
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const path = issue.path.map(String);
  const found = valueAt(input, path);
  const got = found.present ? `got ${showValue(found.value)}` : "missing";
  const subject = path.length === 0 ? "configuration" : `config key "${path.join(".")}"`;
  return `Cannot use ${subject}: ${got}, expected ${issue.message}`;
}

function valueAt(input: unknown, path: readonly string[]): { present: boolean; value?: unknown } {
  let current: unknown = input;
  for (const key of path) {
    if (!isPlainObject(current) || !Object.hasOwn(current, key)) return { present: false };
    current = current[key];
  }
  return { present: true, value: current };
}

function showValue(value: unknown): string {
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  return shown.length > MAX_VALUE_CHARS ? `${shown.slice(0, MAX_VALUE_CHARS - 1)}…` : shown;
}

function unknownKeyWarnings(input: Record<string, unknown>): string[] {
  const known = configKeyPaths();
  const warnings: string[] = [];
  const walk = (
    raw: Record<string, unknown>,
    shape: Readonly<Record<string, z.core.$ZodType>>,
    prefix: string,
  ) => {
    for (const [key, value] of Object.entries(raw)) {
      const path = prefix + key;
      const schema = Object.hasOwn(shape, key) ? shape[key] : undefined;
      if (schema === undefined) {
        const suggestion = didYouMean(path, known);
        warnings.push(
          `unknown config key "${path}"` +
            (suggestion === undefined ? "" : ` (did you mean "${suggestion}"?)`),
        );
        continue;
      }
      const deprecation = prefix === "" && Object.hasOwn(DEPRECATED_CONFIG_KEYS, key)
        ? DEPRECATED_CONFIG_KEYS[key]
        : undefined;
      if (deprecation !== undefined) {
        warnings.push(`config key "${path}" is deprecated: ${deprecation}; remove it`);
      }
      const nested = sectionShape(schema);
      if (nested !== undefined && isPlainObject(value)) walk(value, nested, `${path}.`);
    }
  };
  walk(input, ConfigSchema.shape, "");
  return warnings;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
