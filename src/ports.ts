/**
 * The small interfaces through which the bridge reaches the outside world.
 *
 * `src/app/` depends only on these; `src/adapters/` implements them; tests swap
 * in fakes. Nothing here does I/O.
 */

import type { Indicator } from "./core/indicator.ts";
import type { IocQuery, IocTerm, PointIoc } from "./core/ioc.ts";
import type { LiveMatch, ParsedLiveMatch } from "./core/live_match.ts";
import type { Sighting } from "./core/sighting.ts";
import type { BrokerFrame, OutboundFrame } from "./core/wire_codec.ts";

/** Time, injected so tests can drive timers without sleeping. */
export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch. */
  now(): number;
  /** Monotonic milliseconds, for durations. */
  monotonic(): number;
  /** Resolves after `ms`; rejects with `signal.reason` when aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

import type { LogLevel } from "./core/log_level.ts";

/** Structured key/value details attached to a log line. */
export type LogFields = Record<string, unknown>;

/** A component-scoped logger; every line carries time, level and component. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warning(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  critical(message: string, fields?: LogFields): void;
  /** A logger for a sub-component, e.g. `logger.child("vast")`. */
  child(component: string): Logger;
}

/**
 * A connection to Threat Bus: subscription, heartbeats and re-subscription
 * happen inside; the caller sees frames in and frames out.
 */
export interface ThreatBus {
  /**
   * Subscribes and yields every data frame addressed to this app until the
   * signal aborts. Re-subscribes transparently when heartbeats fail.
   */
  frames(signal: AbortSignal): AsyncIterable<BrokerFrame>;
  /** Sends one frame to the broker. */
  publish(frame: OutboundFrame, signal?: AbortSignal): Promise<void>;
  /** Unsubscribes (best effort) and closes every socket. */
  close(): Promise<void>;
}

/** Limits for one retro query. */
export interface RetroQueryOptions {
  /** 0 means unlimited. */
  readonly maxEvents: number;
  /** Seconds; 0 means none. */
  readonly timeoutSeconds: number;
  /**
   * Told once the query is under way (its process started, or it could not
   * be), so the caller can pace new queries to what the backend takes.
   */
  readonly onStarted?: (() => void) | undefined;
}

/** How a retro query ended. */
export interface RetroQueryOutcome {
  readonly status: "ok" | "timeout" | "failed";
  /** Why it failed, including the backend's stderr where there was one. */
  readonly detail?: string | undefined;
}

/**
 * A telemetry store that can answer retro queries. The `vast` command line
 * implements it, and so does the `tenzir` one. A query is an {@link IocQuery}
 * (`core/ioc.ts`), which the backend renders in its own language. Live
 * matching is the separate {@link LiveBackend}, so a backend without it need
 * not pretend.
 */
export interface Backend {
  /** Resolves when the node answers; rejects with a reason otherwise. */
  status(signal: AbortSignal): Promise<void>;
  /**
   * Runs the historical query for one indicator's `query` (the events that
   * match any of its terms, each once), calling `onLine` with each raw result
   * line as it streams. Never throws for query failures: the outcome says how
   * it ended, and lines delivered before a failure or timeout still count.
   */
  retro(
    query: IocQuery,
    options: RetroQueryOptions & {
      readonly onLine: (line: string) => void | Promise<void>;
      readonly signal: AbortSignal;
    },
  ): Promise<RetroQueryOutcome>;
  /**
   * Optional: one query, in one backend call, for the events that match any of
   * the terms of several indicators' queries (`terms`, each once); each event
   * is delivered once, and never with a cap. Otherwise as {@link retro}. The
   * caller works out which indicators a line belongs to.
   */
  retroAny?(
    terms: IocQuery,
    options: RetroQueryOptions & {
      readonly onLine: (line: string) => void | Promise<void>;
      readonly signal: AbortSignal;
    },
  ): Promise<RetroQueryOutcome>;
}

/** How one attachment to a live matcher ended; it is meant to run until aborted. */
export interface LiveAttachOutcome {
  /** "ended": the stream closed cleanly; "failed": it broke or could not start. */
  readonly status: "ended" | "failed";
  /** Why, including the backend's stderr where there was one. */
  readonly detail: string;
}

/** How adding or removing one live-matching IoC ended. */
export interface MatcherUpdateOutcome {
  readonly status: "ok" | "failed";
  /** Why it failed, including the backend's stderr where there was one. */
  readonly detail?: string | undefined;
}

/** What {@linkcode LiveBackend.attachMatcher} is given. */
export interface AttachMatcherOptions {
  readonly onMatch: (match: ParsedLiveMatch) => void | Promise<void>;
  /** Told once the stream runs (the backend answered), each time it is attached. */
  readonly onStarted?: (() => void) | undefined;
  readonly signal: AbortSignal;
}

/**
 * A backend that matches new telemetry against a named, persistent set of
 * values (VAST's matcher plugin, a Tenzir lookup table) and streams the matches. The bridge keeps
 * which indicators hold each value (`core/live_values.ts`): it adds a value
 * when the first indicator brings it and removes it when the last is gone.
 */
export interface LiveBackend {
  /**
   * Whether the matcher can hold `term` with the meaning it has in a retro
   * query; the terms it cannot (for VAST subnets and connections) are left
   * out of live matching, logged and counted.
   */
  canMatchLive(term: IocTerm): boolean;
  /**
   * Whether every value held must be told again each time the stream
   * (re)started: a node that crashed may have lost recent updates (Tenzir).
   * VAST's matcher keeps them; absent means false.
   */
  readonly resendAfterAttach?: boolean | undefined;
  /**
   * Streams the matches of `matcher`, each already parsed (or with the reason
   * it is unusable), until the stream ends or `signal` aborts. `onMatch` is
   * awaited before the next one is read. Never throws for backend failures:
   * the outcome says how it ended. Rejects on abort (with `signal.reason`) or
   * with `onMatch`'s error.
   */
  attachMatcher(matcher: string, options: AttachMatcherOptions): Promise<LiveAttachOutcome>;
  /** Adds `ioc` to `matcher` for its first indicator, the id `ref`, which its matches name. */
  addToMatcher(
    matcher: string,
    options: { readonly ioc: PointIoc; readonly ref: string; readonly signal: AbortSignal },
  ): Promise<MatcherUpdateOutcome>;
  /**
   * Optional: tells `matcher` every indicator that holds `ioc` now (oldest
   * first), after one joined or left, for a backend that stores them all with
   * the value (a Tenzir lookup table). VAST's matcher stores one, so the
   * bridge gives its matches to the indicators itself.
   */
  updateMatcherRefs?(
    matcher: string,
    options: {
      readonly ioc: PointIoc;
      readonly refs: readonly string[];
      readonly signal: AbortSignal;
    },
  ): Promise<MatcherUpdateOutcome>;
  /** Removes `ioc`'s value from `matcher`. */
  removeFromMatcher(
    matcher: string,
    options: { readonly ioc: PointIoc; readonly signal: AbortSignal },
  ): Promise<MatcherUpdateOutcome>;
}

/** Where sightings end up: Threat Bus, stdout, a command, a file. */
export interface SightingSink {
  /** Accepts one sighting; resolves once it is buffered (backpressure). */
  write(sighting: Sighting): Promise<void>;
  /** Flushes everything accepted and releases resources. */
  close(): Promise<void>;
}

/** Rewrites a sighting's context (the `transform_context` command). */
export interface ContextTransformer {
  transform(
    context: unknown,
    options: {
      readonly ioc: string;
      readonly matchType: "RETRO" | "LIVE";
      readonly signal?: AbortSignal | undefined;
    },
  ): Promise<unknown>;
}

/** Re-exported so adapters need only this module for the shapes they pass. */
export type {
  BrokerFrame,
  Indicator,
  IocQuery,
  IocTerm,
  LiveMatch,
  LogLevel,
  OutboundFrame,
  ParsedLiveMatch,
  PointIoc,
  Sighting,
};
