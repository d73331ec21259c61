/**
 * The `vast` command line as a {@link Backend}: every call is
 * `<binary> -e <endpoint> <command...>` (PROTOCOL.md section 4).
 */

import { matcherReference, parseLiveMatchLine } from "../../core/live_match.ts";
import { iocQueryText } from "../../core/ioc.ts";
import { vastQueryAny } from "../../core/vast_query.ts";
import type {
  AttachMatcherOptions,
  Backend,
  Clock,
  IocQuery,
  IocTerm,
  LiveAttachOutcome,
  LiveBackend,
  Logger,
  MatcherUpdateOutcome,
  PointIoc,
  RetroQueryOutcome,
} from "../../ports.ts";
import { type About, BackendCommand, type QueryOptions } from "../backend_command.ts";
import { systemClock } from "../clock.ts";
import { DEFAULT_MAX_LINE_BYTES, describeExit } from "../subprocess.ts";
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
  readonly #endpoint: string;
  readonly #command: BackendCommand;
  readonly #lowPriority: LowPriorityProbe;

  constructor(options: VastCliOptions) {
    const { binary, logger } = options;
    const clock = options.clock ?? systemClock();
    this.#endpoint = options.endpoint;
    this.#command = new BackendCommand({
      binary,
      label: "VAST",
      logger,
      clock,
      maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    });
    this.#lowPriority = new LowPriorityProbe({ binary, prefix: this.#args([]), logger, clock });
  }

  /** Resolves when `vast status` exits 0; rejects with VAST's stderr otherwise. */
  async status(signal: AbortSignal): Promise<void> {
    const result = await this.#command.run(this.#args(["status"]), { signal });
    if (result.kind === "spawn_failed") {
      throw new Error(this.#command.cannotRun(result.error), { cause: result.error });
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
  retro(query: IocQuery, options: QueryOptions): Promise<RetroQueryOutcome> {
    return this.#export(vastQueryAny(query), { ioc: iocQueryText(query) }, options);
  }

  /** As {@linkcode retro}, for the events that match any of `terms`, in one `vast` process. */
  retroAny(terms: IocQuery, options: QueryOptions): Promise<RetroQueryOutcome> {
    return this.#export(vastQueryAny(terms), { iocs: terms.length }, options);
  }

  async #export(query: string, about: About, options: QueryOptions): Promise<RetroQueryOutcome> {
    const { maxEvents, signal } = options;
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
    return await this.#command.query(args, { ...options, about });
  }

  /**
   * Runs `vast matcher attach json <matcher>` with no timeout, parsing each
   * non-empty line as it streams. Rejects only on abort (after killing the
   * process group) or when `onMatch` throws.
   */
  attachMatcher(matcher: string, options: AttachMatcherOptions): Promise<LiveAttachOutcome> {
    return this.#command.stream(this.#args(["matcher", "attach", "json", matcher]), {
      onLine: (line) => options.onMatch(parseLiveMatchLine(line)),
      onStarted: options.onStarted,
      signal: options.signal,
      about: { matcher },
    });
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

  #matcherUpdate(command: readonly string[], signal: AbortSignal): Promise<MatcherUpdateOutcome> {
    return this.#command.update(this.#args(command), {
      signal,
      timeoutMs: MATCHER_UPDATE_TIMEOUT_MS,
    });
  }

  #args(command: readonly string[]): string[] {
    return ["-e", this.#endpoint, ...command];
  }
}
