/**
 * How live matches become sightings: one per indicator the bridge's table of
 * live values names for the matched value (or the one the matcher named, for
 * a value from an earlier run), the placeholder reference only when nobody
 * knows it (counted), and at most `sightingsPerIocPerMinute` a minute per
 * indicator and value, the rest summed up in one sighting when the minute ends.
 */

import { Notifier } from "../async/notifier.ts";
import { runTimerLoop } from "../async/timer_loop.ts";
import type { LiveMatch } from "../core/live_match.ts";
import { type CappedMatch, type HeldBack, LiveSightingCap } from "../core/live_sighting_cap.ts";
import type { LiveValues } from "../core/live_values.ts";
import type { MetricsRegistry } from "../core/metrics.ts";
import { liveSighting, type Sighting, UNKNOWN_INDICATOR_REF } from "../core/sighting.ts";
import type { Clock, Logger } from "../ports.ts";

/** The window the live cap counts in. */
const CAP_WINDOW_MS = 60_000;

/** What {@linkcode LiveReports} needs. */
export interface LiveReportsDeps {
  readonly clock: Clock;
  readonly newUuid: () => string;
  readonly metrics: MetricsRegistry;
  readonly log: Logger;
  /** Delivers one sighting; must not throw for delivery problems it can log. */
  readonly report: (sighting: Sighting) => Promise<void>;
  /** The indicators holding each value. */
  readonly values: LiveValues;
  /** The sightings' `x_threatbus_source`. */
  readonly source: string;
  /** 0 is unlimited. */
  readonly sightingsPerIocPerMinute: number;
}

/** See the module doc. */
export class LiveReports {
  readonly #deps: LiveReportsDeps;
  readonly #cap: LiveSightingCap | undefined;
  /** Told when the earliest end of a cap window moved. */
  readonly #capChanged = new Notifier();

  constructor(deps: LiveReportsDeps) {
    this.#deps = deps;
    const limit = deps.sightingsPerIocPerMinute;
    this.#cap = limit === 0 ? undefined : new LiveSightingCap({ limit, windowMs: CAP_WINDOW_MS });
  }

  /** Reports the sightings of one match, or holds them back under the cap. */
  async deliver(match: LiveMatch): Promise<void> {
    const cap = this.#cap;
    const { clock, metrics } = this.#deps;
    const nowMs = clock.monotonic();
    if (cap !== undefined) await this.#summarise(cap.takeEnded(nowMs));
    for (const target of this.#targetsOf(match)) {
      if (cap !== undefined) {
        const endBefore = cap.nextEndMs();
        const admitted = cap.admit(target, match.event, nowMs);
        if (cap.nextEndMs() !== endBefore) this.#capChanged.notify();
        if (!admitted) {
          metrics.count("live_sightings_held_back");
          continue;
        }
      }
      await this.#send(liveSighting(target, match.event, this.#stamp()), {
        ...(match.type === undefined ? {} : { event_type: match.type }),
      });
    }
  }

  /** Sends the summary of each cap window as it ends, until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const cap = this.#cap;
    if (cap === undefined) return;
    const { clock } = this.#deps;
    await runTimerLoop({
      clock,
      now: () => clock.monotonic(),
      next: () => cap.nextEndMs(),
      changed: this.#capChanged,
      onDue: (nowMs) => this.#summarise(cap.takeEnded(nowMs)),
      signal,
    });
  }

  /** Sends the summary of every open cap window (at shutdown), unless `kill` aborts first. */
  async flush(kill: AbortSignal): Promise<void> {
    const held = this.#cap?.takeAll() ?? [];
    for (const [index, window] of held.entries()) {
      if (kill.aborted) {
        const lost = held.slice(index).reduce((sum, w) => sum + w.held.count, 0);
        this.#deps.log.warning("Shutting down; held-back live sightings not summarised", { lost });
        return;
      }
      await this.#summarise([window]);
    }
  }

  async #summarise(ended: readonly HeldBack[]): Promise<void> {
    const { log, sightingsPerIocPerMinute: limit } = this.#deps;
    for (const { ref, value, held } of ended) {
      const summary = held.result();
      if (summary === undefined) continue;
      log.warning("Live sightings held back for a minute, sent as one sighting with their count", {
        indicator: ref ?? UNKNOWN_INDICATOR_REF,
        ioc: value,
        held_back: held.count,
        limit_per_minute: limit,
      });
      await this.#send(
        liveSighting({ ref, value }, summary.event, this.#stamp(), summary.span),
        { held_back: held.count },
      );
    }
  }

  async #send(sighting: Sighting, fields: Record<string, unknown>): Promise<void> {
    const { report, metrics, log } = this.#deps;
    try {
      await report(sighting);
      metrics.count("live_matcher_sightings");
      log.debug("Live match reported", {
        indicator: sighting.sighting_of_ref,
        ioc: sighting.x_threatbus_indicator_value,
        ...fields,
      });
    } catch (error) {
      log.error("Cannot deliver a live sighting", { sighting: sighting.id, error: `${error}` });
    }
  }

  #stamp() {
    const { newUuid, clock, source } = this.#deps;
    return { uuid: newUuid(), createdMs: clock.now(), source };
  }

  /**
   * The indicators a match is a sighting of, with the value: those holding
   * its value here, else the one the matcher named (a value added before this
   * run), else nobody known: the placeholder reference, counted. A match that
   * names its indicator but not the value (a Tenzir lookup, which stores every
   * indicator of a value and reports each) is that indicator's, for the value
   * it holds.
   */
  #targetsOf(match: LiveMatch): readonly CappedMatch[] {
    const { ref, value } = match;
    const { values } = this.#deps;
    if (value === undefined && ref !== undefined) {
      return [{ ref, value: values.valueOf(ref, match.event) }];
    }
    const refs = value === undefined ? [] : values.refsOf(value);
    if (refs.length > 0) return refs.map((held) => ({ ref: held, value }));
    if (ref !== undefined) return [{ ref, value }];
    this.#deps.metrics.count("live_sightings_unknown_indicator");
    this.#deps.log.debug("Live match of a value no known indicator holds", { ioc: value });
    return [{ ref: undefined, value }];
  }
}
