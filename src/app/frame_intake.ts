/**
 * What the bridge does with each broker frame: decode it with the wire
 * codec, translate the indicator's pattern, and hand the IoC to retro and
 * live matching (or take it away again when the indicator is withdrawn).
 */

import { isRemoval } from "../core/indicator.ts";
import type { CounterName, MetricsRegistry } from "../core/metrics.ts";
import { pointIocFromPattern, type PointIocRefusal } from "../core/point_ioc.ts";
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
const SKIP_METRICS: Readonly<Record<PointIocRefusal, CounterName>> = {
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
    const point = pointIocFromPattern(indicator.pattern);
    if (!point.ok) {
      metrics.count(SKIP_METRICS[point.kind]);
      log.warning("Skipping indicator", { indicator: indicator.id, reason: point.reason });
      return;
    }
    log.debug("Indicator received", { indicator: indicator.id, ioc: point.ioc.value });
    metrics.count("added_iocs");
    retro?.enqueue(indicator, point.ioc);
    await live?.add(indicator, point.ioc, signal);
  }

  async #withdraw(indicator: Indicator, signal: AbortSignal): Promise<void> {
    const { metrics, log, retro, live } = this.#deps;
    metrics.count("removed_iocs");
    const cancelled = retro?.cancel(indicator.id) ?? 0;
    log.info("Indicator withdrawn", { indicator: indicator.id, cancelled_queries: cancelled });
    if (live === undefined) return;
    const point = pointIocFromPattern(indicator.pattern);
    if (point.ok) await live.remove(indicator, point.ioc, signal);
    else {
      log.warning("Cannot remove the indicator from the live matcher", {
        indicator: indicator.id,
        reason: point.reason,
      });
    }
  }
}
