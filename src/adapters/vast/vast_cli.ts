/**
 * The `vast` command line as a {@link Backend}: every call is
 * `<binary> -e <endpoint> <command...>` (PROTOCOL.md section 4).
 */

import { matcherReference, parseLiveMatchLine } from "../../core/live_match.ts";
import { iocQueryText } from "../../core/ioc.ts";
import { vastQueryAny } from "../../core/vast_query.ts";
import type {
  Backend,
  Clock,
  IocQuery,
  IocTerm,
  LiveAttachOutcome,
  LiveBackend,
  Logger,
  MatcherUpdateOutcome,
  ParsedLiveMatch,
  PointIoc,
  RetroQueryOptions,
  RetroQueryOutcome,
} from "../../ports.ts";
import { systemClock } from "../clock.ts";
import { SpawnTurns } from "../spawn_turns.ts";
import { DEFAULT_MAX_LINE_BYTES, describeExit, runCollect, runLines } from "../subprocess.ts";
import { LowPriorityProbe } from "./low_priority_probe.ts";

/** Options for {@link VastCli}. */
export interface VastCliOptions {
  /** Path or name of the `vast` executable (`vast_binary`). */
  readonly binary: string;
  /** The node's `host:port` (`vast`). */
  readonly endpoint: string;
  readonly logger: Logger;
  /** Result lines longer than this are dropped with a warning; default 16 MiB. */
  readonly maxLineBytes?: number | undefined;
  /** Measures timeouts and durations; defaults to the system clock. */
  readonly clock?: Clock | undefined;
}

/** A matcher add/remove that hangs this long is killed, so it cannot hold a slot forever. */
const MATCHER_UPDATE_TIMEOUT_MS = 30_000;

/** Runs status checks, retro queries and the live matcher through the `vast` binary. */
export class VastCli implements Backend, LiveBackend {
  readonly #binary: string;
  readonly #endpoint: string;
  readonly #logger: Logger;
  readonly #maxLineBytes: number;
  readonly #clock: Clock;
  readonly #lowPriority: LowPriorityProbe;
  readonly #spawnTurns = new SpawnTurns();

  #cannotRun(error: Error): string {
    return `Cannot run "${this.#binary}": ${error.message}`;
  }

  constructor(options: VastCliOptions) {
    this.#binary = options.binary;
    this.#endpoint = options.endpoint;
    this.#logger = options.logger;
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#clock = options.clock ?? systemClock();
    this.#lowPriority = new LowPriorityProbe({
      binary: this.#binary,
      prefix: this.#args([]),
      logger: this.#logger,
      clock: this.#clock,
    });
  }

  /** Resolves when `vast status` exits 0; rejects with VAST's stderr otherwise. */
  async status(signal: AbortSignal): Promise<void> {
    const args = this.#args(["status"]);
    this.#logger.debug("Running VAST", { command: [this.#binary, ...args] });
    const result = await runCollect(this.#binary, { args, signal, clock: this.#clock });
    if (result.kind === "spawn_failed") {
      throw new Error(this.#cannotRun(result.error), { cause: result.error });
    }
    if (result.kind !== "exited" || result.code !== 0) {
      throw new Error(`Cannot reach VAST at "${this.#endpoint}": ${describeExit(result)}`);
    }
  }

  /**
   * Runs `vast export ... json <query>`, handing each non-empty result line to
   * `onLine` as it streams. Rejects only on abort (with `signal.reason`) or when
   * `onLine` throws.
   */
  retro(
    query: IocQuery,
    options: RetroQueryOptions & {
      readonly onLine: (line: string) => void | Promise<void>;
      readonly signal: AbortSignal;
    },
  ): Promise<RetroQueryOutcome> {
    return this.#export(vastQueryAny(query), { ioc: iocQueryText(query) }, options);
  }

  /** As {@linkcode retro}, for the events that match any of `terms`, in one `vast` process. */
  retroAny(
    terms: IocQuery,
    options: RetroQueryOptions & {
      readonly onLine: (line: string) => void | Promise<void>;
      readonly signal: AbortSignal;
    },
  ): Promise<RetroQueryOutcome> {
    return this.#export(vastQueryAny(terms), { iocs: terms.length }, options);
  }

  async #export(
    query: string,
    about: Readonly<Record<string, string | number>>,
    options: RetroQueryOptions & {
      readonly onLine: (line: string) => void | Promise<void>;
      readonly signal: AbortSignal;
    },
  ): Promise<RetroQueryOutcome> {
    const { maxEvents, timeoutSeconds, onLine, signal } = options;
    const lowPriority = await this.#lowPriority.supported(signal);
    const args = this.#args([
      "export",
      // The original limited each query to one scheduler thread so that many
      // concurrent retro queries cannot starve the node.
      "--caf.scheduler.max-threads=1",
      ...(lowPriority ? ["--low-priority"] : []),
      ...(maxEvents > 0 ? [`--max-events=${Math.floor(maxEvents)}`] : []),
      "json",
      query,
    ]);
    this.#logger.debug("Running VAST", { command: [this.#binary, ...args] });
    await this.#spawnTurns.next();
    const started = this.#clock.monotonic();
    let lines = 0;
    const running = runLines(this.#binary, {
      args,
      signal,
      timeoutMs: timeoutSeconds > 0 ? timeoutSeconds * 1000 : 0,
      maxLineBytes: this.#maxLineBytes,
      clock: this.#clock,
      onOversize: (bytes) =>
        this.#logger.warning("Dropped an oversized VAST result line", {
          bytes,
          limit: this.#maxLineBytes,
          ...about,
        }),
      onLine: (line) => {
        // VAST prints no blank lines of its own; one is noise, not an event.
        if (line.length === 0) return;
        lines += 1;
        return onLine(line);
      },
    });
    // runLines spawns before its first await, so the process is running by now.
    options.onStarted?.();
    const result = await running;
    const durationMs = this.#clock.monotonic() - started;
    this.#logger.debug("VAST query finished", {
      ...about,
      outcome: result.kind,
      lines,
      durationMs: Math.round(durationMs),
    });
    switch (result.kind) {
      case "spawn_failed":
        return { status: "failed", detail: this.#cannotRun(result.error) };
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
   * Runs `vast matcher attach json <matcher>` with no timeout, parsing each
   * non-empty line as it streams. Rejects only on abort (after killing the
   * process group) or when `onMatch` throws.
   */
  async attachMatcher(
    matcher: string,
    options: {
      readonly onMatch: (match: ParsedLiveMatch) => void | Promise<void>;
      readonly signal: AbortSignal;
    },
  ): Promise<LiveAttachOutcome> {
    const args = this.#args(["matcher", "attach", "json", matcher]);
    this.#logger.debug("Running VAST", { command: [this.#binary, ...args] });
    const result = await runLines(this.#binary, {
      args,
      signal: options.signal,
      maxLineBytes: this.#maxLineBytes,
      clock: this.#clock,
      onOversize: (bytes) =>
        this.#logger.warning("Dropped an oversized VAST matcher line", {
          bytes,
          limit: this.#maxLineBytes,
          matcher,
        }),
      onLine: (line) => line.length === 0 ? undefined : options.onMatch(parseLiveMatchLine(line)),
    });
    switch (result.kind) {
      case "spawn_failed":
        return { status: "failed", detail: this.#cannotRun(result.error) };
      case "timeout":
        return { status: "failed", detail: describeExit(result) };
      case "exited":
        return {
          status: result.code === 0 && result.signal === null ? "ended" : "failed",
          detail: `after ${result.lines} lines, ${describeExit(result)}`,
        };
    }
  }

  /**
   * VAST's matcher compares single values with the fields of new events: it
   * holds addresses, names, URLs and hashes, not subnets or connections.
   */
  canMatchLive(term: IocTerm): boolean {
    return term.type !== "flow" && term.type !== "subnet";
  }

  /** Runs `vast matcher add <matcher> <value> threatbus__<ref>`. */
  addToMatcher(
    matcher: string,
    options: { readonly ioc: PointIoc; readonly ref: string; readonly signal: AbortSignal },
  ): Promise<MatcherUpdateOutcome> {
    // The value is its own argv element and the point IoC parser refused
    // values starting with "-", so it cannot be taken for an option.
    const command = ["matcher", "add", matcher, options.ioc.value, matcherReference(options.ref)];
    return this.#matcherUpdate(command, options.signal);
  }

  /** Runs `vast matcher remove <matcher> <value>`. */
  removeFromMatcher(
    matcher: string,
    options: { readonly ioc: PointIoc; readonly signal: AbortSignal },
  ): Promise<MatcherUpdateOutcome> {
    return this.#matcherUpdate(["matcher", "remove", matcher, options.ioc.value], options.signal);
  }

  async #matcherUpdate(
    command: readonly string[],
    signal: AbortSignal,
  ): Promise<MatcherUpdateOutcome> {
    const args = this.#args(command);
    this.#logger.debug("Running VAST", { command: [this.#binary, ...args] });
    const result = await runCollect(this.#binary, {
      args,
      signal,
      timeoutMs: MATCHER_UPDATE_TIMEOUT_MS,
      clock: this.#clock,
    });
    if (result.kind === "spawn_failed") {
      return { status: "failed", detail: this.#cannotRun(result.error) };
    }
    if (result.kind === "exited" && result.code === 0 && result.signal === null) {
      return { status: "ok" };
    }
    return { status: "failed", detail: describeExit(result) };
  }

  #args(command: readonly string[]): string[] {
    return ["-e", this.#endpoint, ...command];
  }
}
