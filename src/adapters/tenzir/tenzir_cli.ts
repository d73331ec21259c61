/**
 * The `tenzir` command line as a {@link Backend} and {@link LiveBackend}
 * (TENZIR.md): every call is an argument vector
 * `<binary> --endpoint=HOST:PORT --tenzir.connection-timeout=Ns
 * --tenzir.connection-retry-delay=0s (PROGRAM | -f FILE)`, with
 * `TENZIR_UNIFIED` removed from the child's environment, and every program a
 * pure rendering of `core/tenzir_*.ts`.
 */

import { UnsupportedBackendError } from "../../core/backend_error.ts";
import { iocQueryText } from "../../core/ioc.ts";
import {
  eraseContextProgram,
  liveLookupProgram,
  updateContextProgram,
  VERSION_PROGRAM,
} from "../../core/tenzir_context.ts";
import { liveLookupMatches } from "../../core/tenzir_live_line.ts";
import { retroProgram } from "../../core/tenzir_query.ts";
import { checkTenzirVersion } from "../../core/tenzir_version.ts";
import type { TqlText } from "../../core/tql_literal.ts";
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
import { DEFAULT_MAX_LINE_BYTES, describeExit, type RunCollectResult } from "../subprocess.ts";
import { LookupTables } from "./lookup_table.ts";
import { withProgram } from "./program_argument.ts";

/** Options for {@link TenzirCli}. */
export interface TenzirCliOptions {
  /** Path or name of the `tenzir` executable (`tenzir_binary`). */
  readonly binary: string;
  /** The node's `host:port` (`tenzir_endpoint`). */
  readonly endpoint: string;
  /** Seconds each call may spend connecting to the node (`tenzir_connect_timeout`). */
  readonly connectTimeoutSeconds: number;
  readonly logger: Logger;
  /** Result lines longer than this are dropped with a warning; default 16 MiB. */
  readonly maxLineBytes?: number | undefined;
  /** Measures timeouts and durations; defaults to the system clock. */
  readonly clock?: Clock | undefined;
}

/** Would send the call to the Tenzir Platform CLI instead of the node (TENZIR.md). */
const REMOVED_ENV = ["TENZIR_UNIFIED"];
/** How long a short call may take once connected before it is killed. */
const SHORT_CALL_MS = 30_000;

/** Runs status checks, retro queries and live matching through the `tenzir` binary. */
export class TenzirCli implements Backend, LiveBackend {
  /** A node that crashed may have lost the latest context updates (TENZIR.md, Persistence). */
  readonly resendAfterAttach = true;
  readonly #endpoint: string;
  readonly #prefix: readonly string[];
  readonly #shortCallMs: number;
  readonly #logger: Logger;
  readonly #command: BackendCommand;
  readonly #tables: LookupTables;
  #version: string | undefined;

  constructor(options: TenzirCliOptions) {
    const { binary, endpoint, connectTimeoutSeconds, logger } = options;
    this.#endpoint = endpoint;
    this.#logger = logger;
    this.#prefix = [
      `--endpoint=${endpoint}`,
      `--tenzir.connection-timeout=${connectTimeoutSeconds}s`,
      // Tenzir retries a refused connection by default, which would hide a down node.
      "--tenzir.connection-retry-delay=0s",
    ];
    this.#shortCallMs = connectTimeoutSeconds * 1000 + SHORT_CALL_MS;
    this.#command = new BackendCommand({
      binary,
      label: "Tenzir",
      logger,
      clock: options.clock ?? systemClock(),
      maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      removeEnv: REMOVED_ENV,
    });
    this.#tables = new LookupTables({
      runProgram: (program, signal) => this.#runShort(program, signal),
      outcomeOf: (result) => this.#command.outcomeOf(result),
      logger,
    });
  }

  /** Resolves when the node answers with a supported version; see {@linkcode version}. */
  async status(signal: AbortSignal): Promise<void> {
    await this.version(signal);
  }

  /**
   * Runs `remote { version }` and resolves to the node's version, logged when
   * it changes. Rejects with the reason when the node does not answer, and
   * with an {@link UnsupportedBackendError} when it is older than v5.31.
   */
  async version(signal: AbortSignal): Promise<string> {
    const result = await this.#runShort(VERSION_PROGRAM, signal);
    if (result.kind === "spawn_failed") {
      throw new Error(this.#command.cannotRun(result.error), { cause: result.error });
    }
    if (result.kind !== "exited" || result.code !== 0 || result.signal !== null) {
      throw new Error(`Cannot reach Tenzir at "${this.#endpoint}": ${describeExit(result)}`);
    }
    const checked = checkTenzirVersion(result.stdout);
    if (!checked.ok) {
      throw new UnsupportedBackendError(
        `Cannot use Tenzir at "${this.#endpoint}": ${checked.reason}`,
      );
    }
    if (checked.version !== this.#version) {
      this.#version = checked.version;
      this.#logger.info("Tenzir node answers", {
        endpoint: this.#endpoint,
        version: checked.version,
      });
    }
    return checked.version;
  }

  /**
   * Runs `export | where EXPR [| head N] | write_ndjson` for one indicator's
   * query (its terms' EXPRs joined by `or`), streaming each result line.
   */
  retro(query: IocQuery, options: QueryOptions): Promise<RetroQueryOutcome> {
    return this.#export(retroProgram(query, options), { ioc: iocQueryText(query) }, options);
  }

  /** As {@linkcode retro}, for the events that match any of `terms`, in one `tenzir` process. */
  retroAny(terms: IocQuery, options: QueryOptions): Promise<RetroQueryOutcome> {
    return this.#export(retroProgram(terms, options), { iocs: terms.length }, options);
  }

  /** The program a dry run prints; a value no program can hold shows as a TQL comment. */
  retroQueryText(query: IocQuery, options: { readonly maxEvents: number }): string {
    const program = retroProgram(query, options);
    return program.ok ? program.text : `// ${program.reason}`;
  }

  async #export(program: TqlText, about: About, options: QueryOptions): Promise<RetroQueryOutcome> {
    if (!program.ok) {
      options.onStarted?.();
      return { status: "failed", detail: program.reason };
    }
    return await withProgram(program.text, {
      run: (args) => this.#command.query(this.#args(args), { ...options, about }),
      cannot: (detail) => {
        options.onStarted?.();
        return { status: "failed", detail };
      },
    });
  }

  /**
   * Makes sure the lookup table exists, then runs the long-lived
   * `context::lookup … live=true` whose every line becomes one match per
   * stored indicator id. `onStarted` is told once the node answered and the
   * stream runs. Rejects only on abort or when `onMatch` throws.
   */
  async attachMatcher(
    matcher: string,
    options: AttachMatcherOptions,
  ): Promise<LiveAttachOutcome> {
    const { onMatch, onStarted, signal } = options;
    // Every (re)start asks afresh: a restarted node may have lost the table.
    const table = await this.#tables.ensure(matcher, { fresh: true, signal });
    if (table.status !== "ok") {
      return { status: "failed", detail: `Cannot prepare the lookup table: ${table.detail}` };
    }
    const program = liveLookupProgram(matcher);
    if (!program.ok) return { status: "failed", detail: program.reason };
    return await this.#command.stream(this.#args([program.text]), {
      onLine: async (line) => {
        for (const match of liveLookupMatches(line)) await onMatch(match);
      },
      onStarted,
      signal,
      about: { context: matcher },
    });
  }

  /**
   * A lookup table holds single values, subnets among them (an address with
   * no key of its own finds the longest subnet holding it); not connections,
   * whose constraints must hold together.
   */
  canMatchLive(term: IocTerm): boolean {
    return term.type !== "flow";
  }

  /** Stores `{ids: [ref]}` under the value's key (`context::update`). */
  addToMatcher(
    matcher: string,
    options: { readonly ioc: PointIoc; readonly ref: string; readonly signal: AbortSignal },
  ): Promise<MatcherUpdateOutcome> {
    const { ioc, ref, signal } = options;
    return this.#change(matcher, updateContextProgram(matcher, { ioc, ids: [ref] }), signal);
  }

  /** Rewrites the value's `{ids}` with every indicator holding it (`context::update`). */
  updateMatcherRefs(
    matcher: string,
    options: {
      readonly ioc: PointIoc;
      readonly refs: readonly string[];
      readonly signal: AbortSignal;
    },
  ): Promise<MatcherUpdateOutcome> {
    const { ioc, refs, signal } = options;
    return this.#change(matcher, updateContextProgram(matcher, { ioc, ids: refs }), signal);
  }

  /** Erases the value's key (`context::erase`). */
  removeFromMatcher(
    matcher: string,
    options: { readonly ioc: PointIoc; readonly signal: AbortSignal },
  ): Promise<MatcherUpdateOutcome> {
    return this.#change(matcher, eraseContextProgram(matcher, options.ioc), options.signal);
  }

  async #change(
    matcher: string,
    program: TqlText,
    signal: AbortSignal,
  ): Promise<MatcherUpdateOutcome> {
    const table = await this.#tables.ensure(matcher, { fresh: false, signal });
    if (table.status !== "ok") return table;
    if (!program.ok) return { status: "failed", detail: program.reason };
    return this.#command.outcomeOf(await this.#runShort(program.text, signal));
  }

  #runShort(program: string, signal: AbortSignal): Promise<RunCollectResult> {
    return withProgram(program, {
      run: (args) => this.#command.run(this.#args(args), { signal, timeoutMs: this.#shortCallMs }),
      cannot: (reason) => ({ kind: "spawn_failed", error: new Error(reason) }),
    });
  }

  #args(program: readonly string[]): string[] {
    return [...this.#prefix, ...program];
  }
}
