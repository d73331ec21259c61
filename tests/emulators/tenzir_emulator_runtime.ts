/**
 * What a running `tenzir` emulator pipeline can reach: its settings (read
 * once from `TENZIR_EMU_*`, see `tenzir_emulator.ts`), stdout, and the
 * diagnostics sink that prints warnings to stderr or, with `--strict`, turns
 * the first one into an error.
 */

import type { Diagnostics, EventData } from "./tenzir_emulator_eval.ts";
import { fromJson, type RecordValue } from "./tenzir_emulator_value.ts";

/** The emulator's settings; see the list in `tenzir_emulator.ts`. */
export interface EmulatorSettings {
  readonly data: string;
  readonly calls: string | undefined;
  readonly version: string;
  readonly down: boolean;
  readonly downFile: string | undefined;
  readonly state: string | undefined;
  readonly exportFailTimes: number;
  readonly delayMs: number;
  readonly hang: boolean;
  readonly pidFile: string | undefined;
  readonly spool: string | undefined;
  readonly livePidFile: string | undefined;
  readonly liveExitAfter: number;
  readonly loseUpdates: number | "all" | undefined;
  readonly fail: ReadonlySet<string>;
}

/** Everything operators use while running. */
export interface Runtime {
  readonly settings: EmulatorSettings;
  readonly endpoint: string;
  readonly diagnostics: Diagnostics;
  /** Writes one line (a newline is added) to stdout, waiting until it is taken. */
  write(line: string): Promise<void>;
}

/** An error that fails the pipeline with `error: <message>` and exit status 1. */
export class PipelineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PipelineError";
  }
}

/** Warnings on stderr, each message once; fatal under `--strict`. */
export class StderrDiagnostics implements Diagnostics {
  readonly #strict: boolean;
  readonly #seen = new Set<string>();

  constructor(strict: boolean) {
    this.#strict = strict;
  }

  warn(message: string): void {
    if (this.#seen.has(message)) return;
    this.#seen.add(message);
    if (this.#strict) throw new PipelineError(message);
    console.error(`warning: ${message}`);
  }
}

const encoder = new TextEncoder();

/** Writes `line` and a newline to stdout completely. */
export async function writeStdout(line: string): Promise<void> {
  let bytes = encoder.encode(`${line}\n`);
  while (bytes.length > 0) bytes = bytes.subarray(await Deno.stdout.write(bytes));
}

/** Whether the emulated node is unreachable right now. */
export async function nodeDown(settings: EmulatorSettings): Promise<boolean> {
  if (settings.down) return true;
  if (settings.downFile === undefined) return false;
  return await Deno.stat(settings.downFile).then(() => true, () => false);
}

/** The message of a failed connection, as the `tenzir` client prints it. */
export function connectError(endpoint: string): string {
  return `failed to connect to node at ${endpoint}: Connection refused`;
}

/**
 * Types one line of a data or spool file, `{"schema":"zeek.dns","event":{…}}`
 * with an optional `"string_fields":["dns.rdata"]` (see `tenzir_emulator_value.ts`).
 */
export function readEventLine(line: string, where: string): EventData {
  let parsed: { schema?: unknown; event?: unknown; string_fields?: unknown };
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new PipelineError(`cannot read ${where}: ${(error as Error).message}`);
  }
  const { schema, event, string_fields: strings = [] } = parsed ?? {};
  const valid = typeof schema === "string" && typeof event === "object" && event !== null &&
    !Array.isArray(event) && Array.isArray(strings) && strings.every((s) => typeof s === "string");
  if (!valid) throw new PipelineError(`cannot read ${where}: expected {"schema","event"}`);
  const fields = fromJson(event, { stringFields: new Set(strings as string[]) }) as RecordValue;
  return { schema, fields };
}

/** Never returns: a node that stalls mid-query, with a descendant holding our pipes. */
export async function hang(settings: EmulatorSettings): Promise<never> {
  const child = new Deno.Command("sleep", {
    args: ["600"],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  if (settings.pidFile !== undefined) {
    const record = JSON.stringify({ pid: Deno.pid, childPid: child.pid });
    await Deno.writeTextFile(settings.pidFile, `${record}\n`, { append: true });
  }
  await child.status;
  return await new Promise<never>(() => {
    setInterval(() => {}, 60_000);
  });
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
