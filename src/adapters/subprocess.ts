/**
 * A backend-neutral subprocess runner: starts a command in its own process
 * group, streams its stdout as lines, keeps the tail of its stderr, and kills
 * the whole group on timeout or abort. The `vast` adapter, the live matcher and
 * the transform runner build on it.
 */

import { killGroup, spawnInOwnGroup } from "./process_group.ts";
import { onAbort } from "../async/abort.ts";
import type { Clock } from "../ports.ts";
import { systemClock } from "./clock.ts";
import { readLines } from "./line_reader.ts";

/** Default for {@link RunLinesOptions.maxLineBytes}: 16 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
/** Default for {@link RunLinesOptions.maxStderrBytes}: 64 KiB. */
export const DEFAULT_MAX_STDERR_BYTES = 64 * 1024;

/** Options for {@link runLines}. */
export interface RunLinesOptions {
  /** The argument vector; no shell is involved. */
  readonly args: readonly string[];
  /** Called with each stdout line as it arrives; awaited before reading on. */
  readonly onLine: (line: string) => void | Promise<void>;
  /** Aborting kills the process group; `runLines` then rejects with the reason. */
  readonly signal: AbortSignal;
  /** Milliseconds until the process group is killed; 0 (the default) means none. */
  readonly timeoutMs?: number | undefined;
  /** Longer stdout lines are dropped and reported to `onOversize`. */
  readonly maxLineBytes?: number | undefined;
  readonly onOversize?: ((bytes: number) => void) | undefined;
  /** Only this many bytes from the end of stderr are kept. */
  readonly maxStderrBytes?: number | undefined;
  /** Written to the process' stdin, which is then closed; stdin is null without it. */
  readonly input?: Uint8Array | undefined;
  /** Environment variables the process must not inherit. */
  readonly removeEnv?: readonly string[] | undefined;
  /** Measures the timeout; defaults to the system clock. */
  readonly clock?: Clock | undefined;
}

/** How a process run by {@link runLines} ended. */
export type RunLinesResult =
  | {
    /** The process ended by itself (or was killed by someone else). */
    readonly kind: "exited";
    readonly code: number;
    readonly signal: Deno.Signal | null;
    /** Stdout lines delivered to `onLine`. */
    readonly lines: number;
    /** The tail of stderr, decoded leniently. */
    readonly stderr: string;
  }
  | {
    /** The timeout killed the process group; lines printed before it were delivered. */
    readonly kind: "timeout";
    readonly lines: number;
    readonly stderr: string;
  }
  | {
    /** The command could not be started (missing binary, no permission). */
    readonly kind: "spawn_failed";
    readonly error: Error;
  };

/**
 * Runs `binary` with `options.args`, delivering stdout line by line.
 *
 * Never rejects for the process' own failures; rejects with `signal.reason` on
 * abort and with `onLine`'s error if that throws, in both cases only after the
 * process group is killed and reaped.
 */
export async function runLines(binary: string, options: RunLinesOptions): Promise<RunLinesResult> {
  const { signal, onLine, input } = options;
  const clock = options.clock ?? systemClock();
  const timeoutMs = options.timeoutMs ?? 0;
  signal.throwIfAborted();

  let child: Deno.ChildProcess;
  try {
    child = spawnInOwnGroup(binary, {
      args: options.args,
      withInput: input !== undefined,
      removeEnv: options.removeEnv ?? [],
    });
  } catch (error) {
    return { kind: "spawn_failed", error: asError(error) };
  }

  let killedBy: "timeout" | "abort" | "line_error" | undefined;
  // Stops reading stdout when lines are no longer wanted; a timeout instead
  // drains what the process printed before it died.
  const stopReading = new AbortController();
  const kill = (why: NonNullable<typeof killedBy>) => {
    killedBy ??= why;
    killGroup(child.pid);
  };
  using _killOnAbort = onAbort(signal, () => {
    kill("abort");
    stopReading.abort();
  });
  // Stops the timer once everything is over.
  const finished = new AbortController();
  const timer = timeoutMs > 0
    ? clock.sleep(timeoutMs, finished.signal).then(() => kill("timeout"), () => {})
    : Promise.resolve();
  const stderrTask = collectTail(child.stderr, options.maxStderrBytes ?? DEFAULT_MAX_STDERR_BYTES);
  const stdinTask = input === undefined ? Promise.resolve() : feed(child.stdin, input);

  let lines = 0;
  let lineError: { readonly error: unknown } | undefined;
  try {
    const stream = readLines(child.stdout, {
      maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      signal: stopReading.signal,
      onOversize: options.onOversize,
    });
    for await (const line of stream) {
      lines += 1;
      await onLine(line);
    }
  } catch (error) {
    if (!stopReading.signal.aborted) {
      lineError = { error };
      kill("line_error");
    }
  }
  // Reap the process and let the group's pipes close before anything is
  // reported, so nothing outlives this call.
  const status = await child.status;
  await stdinTask;
  const stderr = await stderrTask;
  // setsid(1) exits 126/127 with this message when the command itself cannot start.
  if (
    (status.code === 126 || status.code === 127) && stderr.startsWith("setsid: failed to execute")
  ) {
    finished.abort();
    await timer;
    const reason = stderr.replace(/^setsid: failed to execute \S+: /, "").trim();
    const error = status.code === 127
      ? new Deno.errors.NotFound(reason)
      : new Deno.errors.PermissionDenied(reason);
    return { kind: "spawn_failed", error };
  }
  finished.abort();
  await timer;
  if (lineError !== undefined) throw lineError.error;
  if (killedBy === "abort") throw signal.reason;
  // A process that finished just as the timer fired was not cut short.
  if (killedBy === "timeout" && status.signal !== null) return { kind: "timeout", lines, stderr };
  return { kind: "exited", code: status.code, signal: status.signal, lines, stderr };
}

/** Options for {@link runCollect}. */
export interface RunCollectOptions {
  readonly args: readonly string[];
  readonly signal: AbortSignal;
  /** Milliseconds; 0 (the default) means none. */
  readonly timeoutMs?: number | undefined;
  /** Stdout beyond this many characters is discarded; default 64 Ki. */
  readonly maxStdoutChars?: number | undefined;
  readonly input?: Uint8Array | undefined;
  readonly removeEnv?: readonly string[] | undefined;
  readonly clock?: Clock | undefined;
}

/** How a process run by {@link runCollect} ended; stdout is whole lines joined by `\n`. */
export type RunCollectResult =
  | (Extract<RunLinesResult, { kind: "exited" }> & { readonly stdout: string })
  | (Extract<RunLinesResult, { kind: "timeout" }> & { readonly stdout: string })
  | Extract<RunLinesResult, { kind: "spawn_failed" }>;

/** Runs a short command and returns the head of its stdout with the outcome. */
export async function runCollect(
  binary: string,
  options: RunCollectOptions,
): Promise<RunCollectResult> {
  const maxStdoutChars = options.maxStdoutChars ?? DEFAULT_MAX_STDERR_BYTES;
  const kept: string[] = [];
  let keptChars = 0;
  const result = await runLines(binary, {
    args: options.args,
    signal: options.signal,
    // A UTF-8 character takes at most 4 bytes.
    maxLineBytes: maxStdoutChars * 4,
    onLine: (line) => {
      if (keptChars + line.length > maxStdoutChars) return;
      kept.push(line);
      keptChars += line.length + 1;
    },
    timeoutMs: options.timeoutMs,
    input: options.input,
    removeEnv: options.removeEnv,
    clock: options.clock,
  });
  if (result.kind === "spawn_failed") return result;
  return { ...result, stdout: kept.join("\n") };
}

/** Describes a finished run in one line, for error messages and outcomes. */
export function describeExit(
  result: Exclude<RunLinesResult, { kind: "spawn_failed" }>,
  maxChars = 2000,
): string {
  const how = result.kind === "timeout"
    ? "timed out and was killed"
    : result.signal !== null
    ? `killed by ${result.signal}`
    : `exit code ${result.code}`;
  const stderr = result.stderr.trim();
  if (stderr === "") return `${how} (no stderr)`;
  const tail = stderr.length > maxChars ? `…${stderr.slice(-maxChars)}` : stderr;
  return `${how}: ${tail}`;
}

/** Reads a stream to its end, keeping only its last `maxBytes` bytes. */
async function collectTail(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk);
      bytes += chunk.length;
      // Whole chunks that lie entirely before the kept tail are dropped.
      while (chunks.length > 1 && bytes - (chunks[0]?.length ?? 0) >= maxBytes) {
        bytes -= chunks.shift()?.length ?? 0;
      }
    }
  } catch {
    // A broken pipe only ends the collection early; the tail so far is kept.
  }
  const joined = new Uint8Array(bytes);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(joined.subarray(Math.max(0, bytes - maxBytes)));
}

/** Writes `input` and closes stdin; a process that exits without reading is fine. */
async function feed(stdin: WritableStream<Uint8Array>, input: Uint8Array): Promise<void> {
  const writer = stdin.getWriter();
  try {
    await writer.write(input);
    await writer.close();
  } catch {
    // The process closed its stdin early (broken pipe); its exit status tells the rest.
  } finally {
    writer.releaseLock();
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
