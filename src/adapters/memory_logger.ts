/** Loggers for tests: one that drops everything, one that keeps records in memory. */

import type { LogFields, Logger, LogLevel } from "../ports.ts";
import { componentLogger } from "./logger.ts";

/** One log call as `memoryLogger` keeps it. */
export interface LogRecord {
  readonly level: LogLevel;
  readonly component: string;
  readonly message: string;
  readonly fields: LogFields;
}

/** A logger that discards every record. */
export function nullLogger(): Logger {
  return componentLogger("null", () => {});
}

/** A logger (children included) that appends every record, at any level, to `records`. */
export function memoryLogger(component = "test"): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = componentLogger(component, (level, name, message, fields) => {
    records.push({ level, component: name, message, fields: { ...fields } });
  });
  return { logger, records };
}
