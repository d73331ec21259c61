/**
 * A backend's command line as processes with outcomes: a retro query (streamed
 * lines, a timeout that kills the process group, spawns spaced one per turn),
 * a long-lived stream, and a short command. What the VAST and Tenzir adapters
 * share; each builds its own argument vectors.
 */

import type {
  Clock,
  LiveAttachOutcome,
  Logger,
  MatcherUpdateOutcome,
  RetroQueryOptions,
  RetroQueryOutcome,
} from "../ports.ts";
import { SpawnTurns } from "./spawn_turns.ts";
import { describeExit, runCollect, type RunCollectResult, runLines } from "./subprocess.ts";

/** How {@link BackendCommand} runs its binary. */
export interface BackendCommandOptions {
  readonly binary: string;
  /** Names the backend in log lines: `Running VAST`, `Tenzir query finished`. */
  readonly label: string;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Result lines longer than this are dropped with a warning. */
  readonly maxLineBytes: number;
  /** Environment variables the processes must not inherit. */
  readonly removeEnv?: readonly string[] | undefined;
}

/** Log fields that say what a process was for, e.g. `{ ioc: "6.6.6.6" }`. */
export type About = Readonly<Record<string, string | number>>;

/** What a retro query is given. */
export type QueryOptions = RetroQueryOptions & {
  readonly onLine: (line: string) => void | Promise<void>;
  readonly signal: AbortSignal;
};

/** Runs a backend's processes; see the module doc. */
export class BackendCommand {
  readonly #options: BackendCommandOptions;
  readonly #spawnTurns = new SpawnTurns();

  constructor(options: BackendCommandOptions) {
    this.#options = options;
  }

  /** The reason a process could not start, naming the binary. */
  cannotRun(error: Error): string {
    return `Cannot run "${this.#options.binary}": ${error.message}`;
  }

  /**
   * Runs a retro query, handing each non-empty line to `onLine` as it streams.
   * Rejects only on abort (with `signal.reason`) or when `onLine` throws.
   */
  async query(
    args: readonly string[],
    options: QueryOptions & { readonly about: About },
  ): Promise<RetroQueryOutcome> {
    const { binary, label, logger, clock, maxLineBytes, removeEnv } = this.#options;
    const { timeoutSeconds, onLine, signal, about } = options;
    logger.debug(`Running ${label}`, { command: [binary, ...args] });
    await this.#spawnTurns.next();
    const started = clock.monotonic();
    let lines = 0;
    const running = runLines(binary, {
      args,
      signal,
      timeoutMs: timeoutSeconds > 0 ? timeoutSeconds * 1000 : 0,
      maxLineBytes,
      removeEnv,
      clock,
      onOversize: (bytes) =>
        logger.warning(`Dropped an oversized ${label} result line`, {
          bytes,
          limit: maxLineBytes,
          ...about,
        }),
      onLine: (line) => {
        // Neither backend prints blank lines of its own; one is noise, not an event.
        if (line.length === 0) return;
        lines += 1;
        return onLine(line);
      },
    });
    // runLines spawns before its first await, so the process is running by now.
    options.onStarted?.();
    const result = await running;
    logger.debug(`${label} query finished`, {
      ...about,
      outcome: result.kind,
      lines,
      durationMs: Math.round(clock.monotonic() - started),
    });
    switch (result.kind) {
      case "spawn_failed":
        return { status: "failed", detail: this.cannotRun(result.error) };
      case "timeout":
        return {
          status: "timeout",
          detail: `Query ran longer than ${timeoutSeconds} s and was killed after ${lines} results`,
        };
      case "exited":
        return result.code === 0 && result.signal === null
          ? { status: "ok" }
          : { status: "failed", detail: describeExit(result) };
    }
  }

  /**
   * Runs a long-lived stream with no timeout, handing each non-empty line to
   * `onLine`; `onStarted` is told once the process runs. Rejects only on abort
   * (after killing the process group) or when `onLine` throws.
   */
  async stream(
    args: readonly string[],
    options: {
      readonly onLine: (line: string) => void | Promise<void>;
      readonly onStarted?: (() => void) | undefined;
      readonly signal: AbortSignal;
      readonly about: About;
    },
  ): Promise<LiveAttachOutcome> {
    const { binary, label, logger, clock, maxLineBytes, removeEnv } = this.#options;
    logger.debug(`Running ${label}`, { command: [binary, ...args] });
    const running = runLines(binary, {
      args,
      signal: options.signal,
      maxLineBytes,
      removeEnv,
      clock,
      onOversize: (bytes) =>
        logger.warning(`Dropped an oversized ${label} matcher line`, {
          bytes,
          limit: maxLineBytes,
          ...options.about,
        }),
      onLine: (line) => line.length === 0 ? undefined : options.onLine(line),
    });
    options.onStarted?.();
    const result = await running;
    switch (result.kind) {
      case "spawn_failed":
        return { status: "failed", detail: this.cannotRun(result.error) };
      case "timeout":
        return { status: "failed", detail: describeExit(result) };
      case "exited":
        return {
          status: result.code === 0 && result.signal === null ? "ended" : "failed",
          detail: `after ${result.lines} lines, ${describeExit(result)}`,
        };
    }
  }

  /** Runs a short command, killed after `timeoutMs`; the result says how it ended. */
  run(
    args: readonly string[],
    options: { readonly signal: AbortSignal; readonly timeoutMs?: number | undefined },
  ): Promise<RunCollectResult> {
    const { binary, label, logger, clock, removeEnv } = this.#options;
    logger.debug(`Running ${label}`, { command: [binary, ...args] });
    return runCollect(binary, { args, ...options, removeEnv, clock });
  }

  /** Runs a short command whose exit status is all that counts. */
  async update(
    args: readonly string[],
    options: { readonly signal: AbortSignal; readonly timeoutMs: number },
  ): Promise<MatcherUpdateOutcome> {
    return this.outcomeOf(await this.run(args, options));
  }

  /** A short command's result as an update outcome. */
  outcomeOf(result: RunCollectResult): MatcherUpdateOutcome {
    if (result.kind === "spawn_failed") {
      return { status: "failed", detail: this.cannotRun(result.error) };
    }
    if (result.kind === "exited" && result.code === 0 && result.signal === null) {
      return { status: "ok" };
    }
    return { status: "failed", detail: describeExit(result) };
  }
}
