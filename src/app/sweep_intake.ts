import { hasExpired, WITHDRAWAL_FIELDS, withdrawalOf } from "../core/indicator.ts";
import { formatLocation, type SourceEntry, type SourceLocation } from "../core/indicator_source.ts";
import { type IocQuery, iocQueryKey, iocQueryText } from "../core/ioc.ts";
import type { SweepTally } from "../core/sweep_summary.ts";
import { translatePattern } from "../core/translate_pattern.ts";
import type { Clock, Indicator, Logger } from "../ports.ts";
import type { UsableFrame } from "./frames_until_idle.ts";
import type { RetroMatcher } from "./retro/matcher.ts";

/** Options of {@linkcode SweepIntake}. */
export interface SweepIntakeOptions {
  readonly tally: SweepTally;
  readonly log: Logger;
  /** `valid_until` is read against its wall time. */
  readonly clock: Clock;
  /** Runs the queries; absent for a dry run, which prints them instead. */
  readonly retro: RetroMatcher | undefined;
  /** Prints one query of a dry run, in the backend's language. */
  readonly printQuery?: ((query: IocQuery) => Promise<void>) | undefined;
  /** While this many queries wait or run, `entry` waits (bounded memory for big files). */
  readonly queueLimit: number;
  /** Problems logged one by one before the rest go to DEBUG. */
  readonly maxLoggedProblems: number;
  readonly signal: AbortSignal;
}

/**
 * Turns what a sweep's source delivers into queries: one per distinct IoC
 * query (the same values in any order), the first indicator carrying it being
 * the one its sightings refer to. Everything not queried is counted by reason
 * and logged. Of the bridge's lifecycle rules a sweep keeps those of one
 * indicator: withdrawn (`x_threatbus_update: REMOVE`, `revoked: true`) and
 * expired (`valid_until` passed) indicators are not queried; re-sent and
 * edited ones are whatever their query is, since each query runs once.
 */
export class SweepIntake {
  readonly #options: SweepIntakeOptions;
  readonly #seen = new Set<string>();
  #logged = 0;

  constructor(options: SweepIntakeOptions) {
    this.#options = { ...options, queueLimit: Math.max(1, options.queueLimit) };
  }

  /** One decoded Threat Bus frame. */
  async frame(decoded: UsableFrame): Promise<void> {
    if (decoded.kind === "invalid") {
      this.#options.tally.read();
      this.#options.tally.skip("unreadable");
      this.#problem("Skipping broker message", { reason: decoded.reason });
      return;
    }
    if (decoded.kind === "unsupported") {
      this.#options.tally.read();
      this.#options.tally.skip("unsupported-pattern");
      this.#problem("Skipping indicator", { reason: decoded.reason });
      return;
    }
    await this.#indicator(decoded.indicator, undefined);
  }

  /** One entry of a file source; waits while the query queue is full. */
  async entry(entry: SourceEntry): Promise<void> {
    const { tally, log, retro, queueLimit, signal } = this.#options;
    switch (entry.kind) {
      case "other-object":
        tally.otherObject();
        log.debug("Ignoring a STIX object that is not an indicator", {
          at: formatLocation(entry.at),
          type: entry.objectType,
        });
        return;
      case "unusable":
        tally.read();
        tally.skip(entry.category === "invalid-value" ? "invalid-value" : "unreadable");
        this.#problem(`Skipping ${formatLocation(entry.at)}`, { reason: entry.reason });
        return;
      case "indicator":
        // Reading stops while the queue is long, so a huge file does not fill memory.
        await retro?.waitForBacklog(queueLimit - 1, signal);
        await this.#indicator(entry.indicator, entry.at);
    }
  }

  async #indicator(indicator: Indicator, at: SourceLocation | undefined): Promise<void> {
    const { tally, log, retro } = this.#options;
    tally.read();
    const where = at === undefined ? {} : { at: formatLocation(at) };
    const withdrawal = withdrawalOf(indicator);
    if (withdrawal !== undefined) {
      tally.skip("withdrawn");
      const cancelled = retro?.cancel(indicator.id) ?? 0;
      tally.cancel(cancelled);
      log.info("Indicator withdrawn", {
        indicator: indicator.id,
        ...where,
        by: WITHDRAWAL_FIELDS[withdrawal],
        cancelled_queries: cancelled,
      });
      return;
    }
    if (hasExpired(indicator, this.#options.clock.now())) {
      tally.skip("expired");
      log.debug("Skipping expired indicator", {
        indicator: indicator.id,
        ...where,
        valid_until: indicator.valid_until,
      });
      return;
    }
    const translated = translatePattern(indicator.pattern);
    if (!translated.ok) {
      tally.skip(
        translated.kind === "syntax"
          ? "invalid-pattern"
          : translated.kind === "invalid-value"
          ? "invalid-value"
          : "unsupported-pattern",
      );
      this.#problem("Skipping indicator", {
        indicator: indicator.id,
        ...where,
        reason: translated.reason,
        ...(translated.kind === "unsupported" ? { construct: translated.construct } : {}),
      });
      return;
    }
    const { query } = translated;
    const key = iocQueryKey(query);
    if (this.#seen.has(key)) {
      tally.skip("duplicate");
      log.debug("IoC already queried in this sweep", {
        indicator: indicator.id,
        ...where,
        ioc: iocQueryText(query),
      });
      return;
    }
    this.#seen.add(key);
    tally.queue();
    if (retro === undefined) await this.#options.printQuery?.(query);
    else retro.enqueue(indicator, query);
  }

  #problem(message: string, fields: Record<string, unknown>): void {
    const { log, maxLoggedProblems } = this.#options;
    this.#logged++;
    if (this.#logged <= maxLoggedProblems) log.warning(message, fields);
    else log.debug(message, fields);
    if (this.#logged === maxLoggedProblems) {
      log.warning("Further skipped items are counted but logged only at DEBUG level");
    }
  }
}
