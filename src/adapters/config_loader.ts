/**
 * Finds, reads and validates the configuration the way the original did:
 * `-c FILE`, else `config.yaml`/`config.yml` in the working directory, else
 * defaults; then `VAST_THREATBUS_*` variables (real ones over `.env` ones) on top.
 */

import { parseDocument } from "yaml";
import { deepMerge, envOverrides } from "../core/config_env.ts";
import type { Config } from "../core/config_schema.ts";
import { validateConfig } from "../core/config_validate.ts";
import { parseDotenv } from "../core/dotenv.ts";

/** Options for `loadConfig`. */
export interface LoadConfigOptions {
  /** The `-c/--config` argument; relative paths are taken from `cwd`. */
  readonly configPath?: string | undefined;
  /** Where `config.yaml`, `config.yml` and `.env` are looked for. */
  readonly cwd: string;
  /** The process environment, e.g. `Deno.env.toObject()`. */
  readonly env: Readonly<Record<string, string>>;
  /** Config keys given on the command line; they win over the file and the environment. */
  readonly overrides?: Readonly<Record<string, unknown>> | undefined;
  /** Reads a text file, resolving `undefined` when it does not exist; defaults to `Deno.readTextFile`. */
  readonly readTextFile?: (path: string) => Promise<string | undefined>;
}

/** A validated configuration and where it came from. */
export interface LoadedConfig {
  readonly config: Config;
  /** Unknown or deprecated keys, ignored `.env` lines, YAML warnings. */
  readonly warnings: string[];
  /** The config file read, or `"defaults"` when there was none. */
  readonly source: string;
}

/** The configuration cannot be used; `errors` lists every problem found, one per line. */
export class ConfigError extends Error {
  readonly errors: string[];
  /** Warnings gathered before the failure (they often explain it, e.g. a misspelt key). */
  readonly warnings: string[];

  constructor(errors: string[], options: ErrorOptions & { warnings?: string[] } = {}) {
    super(errors.join("\n"), { cause: options.cause });
    this.name = "ConfigError";
    this.errors = errors;
    this.warnings = options.warnings ?? [];
  }
}

const DEFAULT_CONFIG_FILES = ["config.yaml", "config.yml"] as const;

/** Loads the configuration; throws `ConfigError` when it cannot be used. */
export async function loadConfig(options: LoadConfigOptions): Promise<LoadedConfig> {
  const read = options.readTextFile ?? readTextFileIfExists;
  const warnings: string[] = [];
  const file = await findConfigFile(options, read, warnings);
  // An empty (or comments-only) file yields null: all defaults.
  const fileConfig = file === undefined ? {} : parseYaml(file.path, file.text, warnings) ?? {};

  const dotenvPath = joinPath(options.cwd, ".env");
  const dotenvText = await readOrFail(read, dotenvPath, "environment file");
  let dotenvEntries: Record<string, string> = {};
  if (dotenvText !== undefined) {
    const parsed = parseDotenv(dotenvText);
    dotenvEntries = parsed.entries;
    for (const error of parsed.errors) {
      warnings.push(`ignoring line ${error.line} of "${dotenvPath}": ${error.message}`);
    }
  }
  const overrides = envOverrides({ ...dotenvEntries, ...options.env });
  const raw = isPlainObject(fileConfig)
    ? deepMerge(deepMerge(fileConfig, overrides), options.overrides ?? {})
    : fileConfig;

  const result = validateConfig(raw);
  warnings.push(...result.warnings);
  if (!result.ok) throw new ConfigError(result.errors, { warnings });
  return { config: result.config, warnings, source: file?.path ?? "defaults" };
}

async function findConfigFile(
  options: LoadConfigOptions,
  read: (path: string) => Promise<string | undefined>,
  warnings: string[],
): Promise<{ path: string; text: string } | undefined> {
  if (options.configPath !== undefined) {
    const path = joinPath(options.cwd, options.configPath);
    if (!/\.ya?ml$/i.test(options.configPath)) {
      throw new ConfigError([
        `Cannot use config file "${options.configPath}": the name must end in .yaml or .yml`,
      ]);
    }
    const text = await readOrFail(read, path, "config file");
    if (text === undefined) {
      throw new ConfigError([`Cannot read config file "${path}": no such file`]);
    }
    return { path, text };
  }
  for (const [index, name] of DEFAULT_CONFIG_FILES.entries()) {
    const path = joinPath(options.cwd, name);
    const text = await readOrFail(read, path, "config file");
    if (text === undefined) continue;
    for (const other of DEFAULT_CONFIG_FILES.slice(index + 1)) {
      const otherPath = joinPath(options.cwd, other);
      if (await readOrFail(read, otherPath, "config file") !== undefined) {
        warnings.push(`ignoring "${otherPath}" because "${path}" exists`);
      }
    }
    return { path, text };
  }
  return undefined;
}

function parseYaml(path: string, text: string, warnings: string[]): unknown {
  // `merge` keeps `<<:` keys working as they did under PyYAML.
  const document = parseDocument(text, { merge: true, prettyErrors: true });
  for (const warning of document.warnings) {
    warnings.push(`config file "${path}": ${firstLine(warning.message)}`);
  }
  if (document.errors.length > 0) {
    throw new ConfigError(
      document.errors.map((error) =>
        `Cannot parse config file "${path}": ${firstLine(error.message)}`
      ),
      { warnings },
    );
  }
  try {
    return document.toJS();
  } catch (error) {
    throw new ConfigError(
      [`Cannot parse config file "${path}": ${error instanceof Error ? error.message : error}`],
      { cause: error, warnings },
    );
  }
}

// With prettyErrors the message continues with a source excerpt; the first line says where.
function firstLine(message: string): string {
  return (message.split("\n")[0] ?? message).replace(/:$/, "");
}

async function readOrFail(
  read: (path: string) => Promise<string | undefined>,
  path: string,
  what: string,
): Promise<string | undefined> {
  try {
    return await read(path);
  } catch (error) {
    throw new ConfigError(
      [`Cannot read ${what} "${path}": ${error instanceof Error ? error.message : error}`],
      { cause: error },
    );
  }
}

async function readTextFileIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

function joinPath(directory: string, path: string): string {
  if (/^([/\\]|[A-Za-z]:[/\\])/.test(path)) return path;
  return /[/\\]$/.test(directory) ? `${directory}${path}` : `${directory}/${path}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
