/** `run`: the bridge on the adapters of the config, until the signal aborts. */

import { runBridge } from "../app/bridge.ts";
import type { Config } from "../core/config_schema.ts";
import { composeAdapters, type Environment } from "./adapters.ts";
import { bridgeSettings } from "./settings.ts";

/** What `run` needs besides {@linkcode Environment}. */
export interface BridgeEnvironment extends Environment {
  /**
   * Registers a listener for SIGHUP (log rotation); returns its removal.
   * Absent where no signal can arrive, e.g. in tests.
   */
  readonly onHangup?: ((listener: () => void) => () => void) | undefined;
}

/** Builds the adapters of `config` and runs the bridge on them until `signal` aborts. */
export async function runConfiguredBridge(
  config: Config,
  env: BridgeEnvironment,
  signal: AbortSignal,
): Promise<void> {
  const adapters = composeAdapters(config, env);
  const threatBus = adapters.threatBus({ snapshot: config.snapshot });
  // The transformer first: it starts no process, while a streaming sink starts one.
  const transformer = adapters.transformer();
  const sink = adapters.sink({ threatBus });
  let reopening = Promise.resolve();
  const stopHangup = sink.reopen === undefined ? undefined : env.onHangup?.(() => {
    reopening = reopening.then(() => sink.reopen?.());
  });
  // Stopped only after the bridge, so the last line holds the figures of the shutdown drain.
  const metricsStop = new AbortController();
  const reporting = adapters.reportMetrics(metricsStop.signal);
  try {
    await runBridge({
      settings: bridgeSettings(config, adapters.backendName),
      threatBus,
      backend: adapters.backend,
      liveBackend: adapters.backend,
      codec: adapters.codec,
      sink,
      transformer,
      logger: env.logger,
      clock: env.clock,
      newUuid: adapters.newUuid,
      metrics: adapters.metrics,
    }, signal);
  } finally {
    stopHangup?.();
    await reopening;
    metricsStop.abort();
    await reporting;
  }
}
