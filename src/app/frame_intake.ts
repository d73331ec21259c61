/**
 * What the bridge does with each broker frame: decode it with the wire
 * codec, translate the indicator's pattern, and hand its query to retro and
 * live matching (or take it away again when the indicator is withdrawn).
 */

import { isRemoval } from "../core/indicator.ts";
import { iocQueryText } from "../core/ioc.ts";
import type { CounterName, MetricsRegistry } from "../core/metrics.ts";
import { type PatternRefusalKind, translatePattern } from "../core/translate_pattern.ts";
import type { BrokerFrame, WireCodec } from "../core/wire_codec.ts";
import type { Indicator, Logger } from "../ports.ts";
import type { LiveMatcher } from "./live_matcher.ts";
import type { RetroMatcher } from "./retro/matcher.ts";

/** What {@linkcode FrameIntake} hands indicators to. */
export interface FrameIntakeDeps {
  readonly codec: WireCodec;
  readonly metrics: MetricsRegistry;
  readonly log: Logger;
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

  constructor(deps: FrameIntakeDeps) {
    this.#deps = deps;
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
        if (isRemoval(decoded.indicator)) await this.#withdraw(decoded.indicator, signal);
        else await this.#add(decoded.indicator, signal);
    }
  }

  async #add(indicator: Indicator, signal: AbortSignal): Promise<void> {
    const { metrics, log, retro, live } = this.#deps;
    const translated = translatePattern(indicator.pattern);
    if (!translated.ok) {
      metrics.count(SKIP_METRICS[translated.kind]);
      log.warning("Skipping indicator", {
        indicator: indicator.id,
        reason: translated.reason,
        ...(translated.kind === "unsupported" ? { construct: translated.construct } : {}),
      });
      return;
    }
    const { query } = translated;
    log.debug("Indicator received", { indicator: indicator.id, ioc: iocQueryText(query) });
    metrics.count("added_iocs");
    retro?.enqueue(indicator, query);
    await live?.add(indicator, query, signal);
  }

  async #withdraw(indicator: Indicator, signal: AbortSignal): Promise<void> {
    const { metrics, log, retro, live } = this.#deps;
    metrics.count("removed_iocs");
    const cancelled = retro?.cancel(indicator.id) ?? 0;
    log.info("Indicator withdrawn", { indicator: indicator.id, cancelled_queries: cancelled });
    if (live === undefined) return;
    const translated = translatePattern(indicator.pattern);
    if (translated.ok || live.holds(indicator.id)) {
      await live.remove(indicator, translated.ok ? translated.query : undefined, signal);
    } else {
      log.warning("Cannot remove the indicator from the live matcher", {
        indicator: indicator.id,
        reason: translated.reason,
      });
    }
  }
}
