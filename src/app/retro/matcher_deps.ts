import type { Indicator } from "../../core/indicator.ts";
import type { IocQuery } from "../../core/ioc.ts";
import type { MetricsRegistry } from "../../core/metrics.ts";
import type { Sighting } from "../../core/sighting.ts";
import type { Backend, Clock, Logger } from "../../ports.ts";
import type { RetroJobEnd } from "./job.ts";

/** What `RetroMatcher` needs from the outside. */
export interface RetroMatcherDeps {
  readonly backend: Backend;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly newUuid: () => string;
  readonly metrics: MetricsRegistry;
  /** Delivers one sighting; must not throw for delivery problems it can log. */
  readonly report: (sighting: Sighting) => Promise<void>;
  /** Told how every started query ended, for callers that keep score. */
  readonly onFinished?: ((result: RetroQueryResult) => void) | undefined;
  /** Told of each queued query dropped unstarted because its indicator's `valid_until` passed. */
  readonly onExpired?: ((indicator: Indicator) => void) | undefined;
}

/** How one query of `RetroMatcher` ended. */
export interface RetroQueryResult extends RetroJobEnd {
  readonly indicator: Indicator;
  readonly query: IocQuery;
}
