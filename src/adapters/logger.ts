/**
 * The logger: one line per record on stderr and/or an appended log file,
 * each destination with its own level, as text or JSON. Stdout is never
 * touched: it is a data pipe.
 */

import type { Config, LogFormat } from "../core/config_schema.ts";
import { describeError } from "../core/error_text.ts";
import { LOG_LEVELS } from "../core/log_level.ts";
import type { Clock, LogFields, Logger, LogLevel } from "../ports.ts";

/** Anything bytes can be written to synchronously, like `Deno.stderr`. */
export interface SyncWriter {
  writeSync(p: Uint8Array): number;
}

/** Options for `createLogger`. */
export interface LoggerOptions {
  /** Component of the root logger; defaults to `vast-threatbus`. */
  readonly component?: string | undefined;
  readonly console: { readonly enabled: boolean; readonly level: LogLevel };
  readonly file: { readonly enabled: boolean; readonly level: LogLevel; readonly path: string };
  readonly clock: Pick<Clock, "now">;
  /** `text` (default) or `json`, one object per line; both destinations alike. */
  readonly format?: LogFormat | undefined;
  /** Where console lines go; defaults to `Deno.stderr`. */
  readonly stderr?: SyncWriter | undefined;
}

/** A root logger that owns its log file until `close()`. */
export type ClosableLogger = Logger & { close(): void };

/** Receives every record of a logger tree; must not throw. */
export type LogEmitter = (
  level: LogLevel,
  component: string,
  message: string,
  fields: LogFields | undefined,
) => void;

/** The default component of the root logger. */
export const ROOT_COMPONENT = "vast-threatbus";

/**
 * Creates the process logger. Opens the log file (append, created when
 * missing) right away, so a bad `logging.filename` fails at start, not at the
 * first line. Log calls never throw: a broken stderr or a full disk loses lines,
 * not the program.
 */
export function createLogger(options: LoggerOptions): ClosableLogger {
  const stderr = options.stderr ?? Deno.stderr;
  const encoder = new TextEncoder();
  const consoleRank = options.console.enabled ? rank(options.console.level) : Infinity;
  const fileRank = options.file.enabled ? rank(options.file.level) : Infinity;
  const format = options.format === "json" ? formatJsonLogLine : formatLogLine;
  let file: Deno.FsFile | undefined;
  if (options.file.enabled) {
    try {
      file = Deno.openSync(options.file.path, { append: true, create: true });
    } catch (error) {
      throw new Error(
        `Cannot open log file "${options.file.path}": ${
          error instanceof Error ? error.message : String(error)
        }`,
        { cause: error },
      );
    }
  }
  let fileFailureReported = false;

  const writeToStderr = (bytes: Uint8Array) => {
    try {
      writeAll(stderr, bytes);
    } catch {
      // Nowhere left to report to (EPIPE on stderr, for example).
    }
  };

  const emit: LogEmitter = (level, component, message, fields) => {
    const levelRank = rank(level);
    if (levelRank < consoleRank && (file === undefined || levelRank < fileRank)) return;
    let bytes: Uint8Array;
    try {
      const time = options.clock.now();
      bytes = encoder.encode(format({ time, level, component, message, fields }) + "\n");
    } catch (error) {
      const text = options.format === "json"
        ? JSON.stringify({ level, component, message: `unloggable record: ${String(error)}` })
        : `${level} [${component}] unloggable record: ${String(error)}`;
      bytes = encoder.encode(text + "\n");
    }
    if (levelRank >= consoleRank) writeToStderr(bytes);
    if (file !== undefined && levelRank >= fileRank) {
      try {
        writeAll(file, bytes);
      } catch (error) {
        if (!fileFailureReported && options.console.enabled) {
          fileFailureReported = true;
          writeToStderr(encoder.encode(
            `Cannot write log file "${options.file.path}": ${
              String(error)
            } (further failures are silent)\n`,
          ));
        }
      }
    }
  };

  const root = componentLogger(options.component ?? ROOT_COMPONENT, emit);
  return {
    ...root,
    close() {
      const open = file;
      file = undefined;
      try {
        open?.close();
      } catch {
        // Already closed; nothing to release.
      }
    },
  };
}

/** The logger for a validated config: console and file settings from `logging.*`. */
export function createLoggerFromConfig(
  config: Pick<Config, "logging">,
  clock: Pick<Clock, "now">,
  options: { readonly stderr?: SyncWriter | undefined } = {},
): ClosableLogger {
  const { logging } = config;
  return createLogger({
    console: { enabled: logging.console, level: logging.console_verbosity },
    file: { enabled: logging.file, level: logging.file_verbosity, path: logging.filename },
    format: logging.format,
    clock,
    stderr: options.stderr,
  });
}

/** A `Logger` for `component` whose records, and its children's, all go to `emit`. */
export function componentLogger(component: string, emit: LogEmitter): Logger {
  return {
    debug: (message, fields) => emit("DEBUG", component, message, fields),
    info: (message, fields) => emit("INFO", component, message, fields),
    warning: (message, fields) => emit("WARNING", component, message, fields),
    error: (message, fields) => emit("ERROR", component, message, fields),
    critical: (message, fields) => emit("CRITICAL", component, message, fields),
    child: (name) => componentLogger(name, emit),
  };
}

/** One record as `formatLogLine` needs it; `time` is Unix milliseconds. */
export interface LogLine {
  readonly time: number;
  readonly level: LogLevel;
  readonly component: string;
  readonly message: string;
  readonly fields?: LogFields | undefined;
}

/**
 * `2026-11-28T04:00:00.123Z INFO     [bridge] message key=value key2="two words"`;
 * newlines in the message are escaped so every record stays one line.
 */
export function formatLogLine(line: LogLine): string {
  const time = new Date(line.time).toISOString();
  const message = line.message.replace(/\r/g, "\\r").replace(/\n/g, "\\n");
  let text = `${time} ${line.level.padEnd(8)} [${line.component}] ${message}`;
  for (const [key, value] of Object.entries(line.fields ?? {})) {
    if (value === undefined) continue;
    text += ` ${key}=${formatFieldValue(value)}`;
  }
  return text;
}

/** Names every JSON record has; a field with one of these names is renamed `field_<name>`. */
const JSON_RESERVED = new Set(["time", "level", "component", "message"]);

/**
 * One JSON object: `{"time":"2026-11-28T04:00:00.123Z","level":"INFO",
 * "component":"bridge","message":"...", ...fields}`. Fields sit at the top
 * level so a SIEM can index them; errors become their description, bigints
 * strings, and a field that cannot be serialised its string form.
 */
export function formatJsonLogLine(line: LogLine): string {
  const record: Record<string, unknown> = {
    time: new Date(line.time).toISOString(),
    level: line.level,
    component: line.component,
    message: line.message,
  };
  for (const [key, value] of Object.entries(line.fields ?? {})) {
    if (value === undefined) continue;
    let name = JSON_RESERVED.has(key) ? `field_${key}` : key;
    while (Object.hasOwn(record, name)) name = `field_${name}`;
    record[name] = jsonFieldValue(value);
  }
  return JSON.stringify(record);
}

function jsonFieldValue(value: unknown): unknown {
  if (value instanceof Error) return describeError(value, { names: true });
  if (typeof value === "bigint") return String(value);
  if (typeof value !== "object" || value === null) {
    return typeof value === "function" || typeof value === "symbol" ? String(value) : value;
  }
  try {
    const json = JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? String(v) : v));
    return json === undefined ? String(value) : JSON.parse(json);
  } catch {
    // Cyclic structures fall back to their string form.
    return String(value);
  }
}

/** A field value as it appears after `key=`: bare when unambiguous, else JSON. */
export function formatFieldValue(value: unknown): string {
  if (typeof value === "string") {
    return needsQuotes(value) ? JSON.stringify(value) : value;
  }
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (value === null) return "null";
  if (value instanceof Error) return JSON.stringify(describeError(value, { names: true }));
  if (typeof value === "object") {
    try {
      const json = JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? String(v) : v));
      if (json !== undefined) return json;
    } catch {
      // Cyclic structures fall through to their string form.
    }
  }
  return JSON.stringify(String(value));
}

function needsQuotes(text: string): boolean {
  if (text === "" || /[\s"'=\\]/.test(text)) return true;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function rank(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level);
}

function writeAll(writer: SyncWriter, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) {
    const written = writer.writeSync(bytes.subarray(offset));
    if (written <= 0) return;
    offset += written;
  }
}
