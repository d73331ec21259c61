/**
 * What the bridge does with each broker frame: decode it with the wire
 * codec, translate the indicator's pattern, and hand its query to retro and
 * live matching, or take it away again. The lifecycle rules live here:
 *
 * - withdrawn (`x_threatbus_update: REMOVE`) or revoked (`revoked: true`):
 *   out of the matcher, its queued query dropped;
 * - expired (`valid_until` passed): not matched at all, and out of the
 *   matcher if an earlier version was in it;
 * - re-sent (same id and `modified`): not queried again within the dedup
 *   window; an older version than the one known: ignored;
 * - edited (a later `modified`): replaces the old version in the matcher, and
 *   is queried again only if its IoC query changed.
 */

import {
  hasExpired,
  type Indicator,
  modifiedMs,
  type Withdrawal,
  WITHDRAWAL_FIELDS,
  withdrawalOf,
} from "../core/indicator.ts";
import { IndicatorMemory } from "../core/indicator_memory.ts";
import { type IocQuery, iocQueryKey, iocQueryText } from "../core/ioc.ts";
import type { CounterName, MetricsRegistry } from "../core/metrics.ts";
import { type PatternRefusalKind, translatePattern } from "../core/translate_pattern.ts";
import type { BrokerFrame, WireCodec } from "../core/wire_codec.ts";
import type { Clock, Logger } from "../ports.ts";
import type { LiveMatcher } from "./live_matcher.ts";
import type { RetroMatcher } from "./retro/matcher.ts";

/** How re-sent and edited indicators are told apart, from the config. */
export interface IndicatorLifecycleSettings {
  /**
   * An indicator received again with the same IoC query is queried again only
   * once this long has passed since it was (`indicator_dedup_window`); 0: always.
   */
  readonly dedupWindowMs: number;
  /** Most indicator ids remembered for that, the oldest forgotten first (`indicator_dedup_max_ids`). */
  readonly maxRememberedIds: number;
}

/** What {@linkcode FrameIntake} hands indicators to. */
export interface FrameIntakeDeps {
  readonly codec: WireCodec;
  readonly metrics: MetricsRegistry;
  readonly log: Logger;
  /** `valid_until` and the dedup window are read against its wall time. */
  readonly clock: Clock;
  readonly indicators: IndicatorLifecycleSettings;
  /** Absent when retro matching is off. */
  readonly retro: RetroMatcher | undefined;
  /** Absent when live matching is off. */
  readonly live: LiveMatcher | undefined;
}

/** The metric that counts an indicator skipped for each kind of refusal. */
const SKIP_METRICS: Readonly<Record<PatternRefusalKind, CounterName>> = {
  "invalid-value": "indicators_skipped_invalid_value",
  syntax: "indicators_skipped_invalid_message",
  unsupported: "indicators_skipped_unsupported_pattern",
};

/** Turns broker frames into matching work; see the module doc. */
export class FrameIntake {
  readonly #deps: FrameIntakeDeps;
  readonly #memory: IndicatorMemory;

  constructor(deps: FrameIntakeDeps) {
    this.#deps = deps;
    this.#memory = new IndicatorMemory({
      maxIds: deps.indicators.maxRememberedIds,
      windowMs: deps.indicators.dedupWindowMs,
    });
  }

  /**
   * Handles one frame. Waits while the live matcher is backed up, so that
   * reading slows down instead of queueing without bound.
   */
  async frame(frame: BrokerFrame, signal: AbortSignal): Promise<void> {
    const { codec, metrics, log } = this.#deps;
    const decoded = codec.decode(frame);
    switch (decoded.kind) {
      case "ignored":
        log.debug("Skipping broker message", { reason: decoded.reason });
        return;
      case "invalid":
        metrics.count("indicators_skipped_invalid_message");
        log.warning("Skipping broker message", { reason: decoded.reason });
        return;
      case "unsupported":
        metrics.count("indicators_skipped_unsupported_pattern");
        log.warning("Skipping indicator", { reason: decoded.reason });
        return;
      case "indicator":
        await this.#indicator(decoded.indicator, signal);
    }
  }

  async #indicator(indicator: Indicator, signal: AbortSignal): Promise<void> {
    const { metrics, log } = this.#deps;
    const withdrawal = withdrawalOf(indicator);
    if (withdrawal !== undefined) return await this.#withdraw(indicator, withdrawal, signal);
    const nowMs = this.#deps.clock.now();
    if (hasExpired(indicator, nowMs)) return await this.#expired(indicator, signal);
    const translated = translatePattern(indicator.pattern);
    if (!translated.ok) {
      metrics.count(SKIP_METRICS[translated.kind]);
      log.warning("Skipping indicator", {
        indicator: indicator.id,
        reason: translated.reason,
        ...(translated.kind === "unsupported" ? { construct: translated.construct } : {}),
      });
      // A new version that cannot be matched still replaces the old one.
      const known = this.#memory.has(indicator.id) || this.#deps.live?.holds(indicator.id);
      if (known && !this.#memory.isStale(indicator.id, modifiedMs(indicator))) {
        log.info("The indicator's earlier version is withdrawn", { indicator: indicator.id });
        this.#forget(indicator.id);
        await this.#removeLive(indicator, undefined, signal);
      }
      return;
    }
    await this.#arrive(indicator, translated.query, { nowMs, signal });
  }

  /** A matchable, valid indicator: new, re-sent, edited or stale. */
  async #arrive(
    indicator: Indicator,
    query: IocQuery,
    at: { readonly nowMs: number; readonly signal: AbortSignal },
  ): Promise<void> {
    const { metrics, log, retro, live } = this.#deps;
    const { signal } = at;
    const arrival = this.#memory.arrive(indicator.id, {
      modifiedMs: modifiedMs(indicator),
      queryKey: iocQueryKey(query),
      nowMs: at.nowMs,
    });
    this.#updateMemoryMetrics();
    const queried = arrival.kind === "new" || (arrival.kind !== "stale" && arrival.query);
    log.debug("Indicator received", {
      indicator: indicator.id,
      ioc: iocQueryText(query),
      arrival: arrival.kind,
      queried,
    });
    switch (arrival.kind) {
      case "stale":
        metrics.count("indicators_skipped_duplicate");
        log.debug("Skipping an older version of a known indicator", { indicator: indicator.id });
        return;
      case "resent":
        if (!arrival.query) {
          metrics.count("indicators_skipped_duplicate");
          await live?.renew(indicator, query, signal);
          return;
        }
        break;
      case "edited":
        metrics.count("indicators_edited");
        log.info("Indicator edited", {
          indicator: indicator.id,
          pattern_changed: arrival.patternChanged,
          queried,
        });
        // The old version's query, if it still waits, is of a pattern no longer meant.
        if (arrival.query) retro?.cancel(indicator.id);
        break;
      case "new":
        break;
    }
    if (queried) {
      metrics.count("added_iocs");
      retro?.enqueue(indicator, query);
    }
    await live?.add(indicator, query, signal);
  }

  async #withdraw(indicator: Indicator, by: Withdrawal, signal: AbortSignal): Promise<void> {
    this.#deps.metrics.count("removed_iocs");
    const cancelled = this.#forget(indicator.id);
    this.#deps.log.info("Indicator withdrawn", {
      indicator: indicator.id,
      by: WITHDRAWAL_FIELDS[by],
      cancelled_queries: cancelled,
    });
    await this.#removeLive(indicator, translatePattern(indicator.pattern), signal);
  }

  /** Like a withdrawal, but an unreadable pattern is no news: it was skipped before. */
  async #expired(indicator: Indicator, signal: AbortSignal): Promise<void> {
    this.#deps.metrics.count("indicators_skipped_expired");
    const cancelled = this.#forget(indicator.id);
    this.#deps.log.info("Skipping expired indicator", {
      indicator: indicator.id,
      valid_until: indicator.valid_until,
      ...(cancelled > 0 ? { cancelled_queries: cancelled } : {}),
    });
    const translated = translatePattern(indicator.pattern);
    await this.#removeLive(indicator, translated.ok ? translated : undefined, signal);
  }

  /** Forgets `indicatorId` and drops its queued queries; returns how many. */
  #forget(indicatorId: string): number {
    this.#memory.forget(indicatorId);
    this.#updateMemoryMetrics();
    return this.#deps.retro?.cancel(indicatorId) ?? 0;
  }

  /**
   * Takes `indicator`'s values out of the live matcher, and with `translated`
   * its pattern's values that nobody holds (the matcher may have them from an
   * earlier run); says so when neither is known.
   */
  async #removeLive(
    indicator: Indicator,
    translated: ReturnType<typeof translatePattern> | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const { live, log } = this.#deps;
    if (live === undefined) return;
    if (translated?.ok === true || live.holds(indicator.id)) {
      await live.remove(indicator, translated?.ok === true ? translated.query : undefined, signal);
    } else if (translated !== undefined) {
      log.warning("Cannot remove the indicator from the live matcher", {
        indicator: indicator.id,
        reason: translated.reason,
      });
    }
  }

  #updateMemoryMetrics(): void {
    const { metrics } = this.#deps;
    const forgotten = this.#memory.takeForgotten();
    if (forgotten > 0) metrics.count("indicator_memory_forgotten", forgotten);
    metrics.gauge("indicator_memory_ids", this.#memory.size);
  }
}
