/**
 * Whether the `vast` in use knows `export --low-priority` (VAST 2.x gained
 * it; older nodes refuse unknown options), asked once per backend.
 */

import type { Clock, Logger } from "../../ports.ts";
import { describeExit, runCollect } from "../subprocess.ts";

/** `export --help` should answer at once; a node that hangs there gets no flag. */
const PROBE_TIMEOUT_MS = 30_000;

type ProbeResult = "supported" | "unsupported" | "aborted";

/** What the probe runs: the `vast` binary with the endpoint arguments in front. */
export interface LowPriorityProbeOptions {
  readonly binary: string;
  /** The arguments before the command (`-e <endpoint>`). */
  readonly prefix: readonly string[];
  readonly logger: Logger;
  readonly clock: Clock;
}

/** Asks `export --help` once, remembering the answer. */
export class LowPriorityProbe {
  readonly #options: LowPriorityProbeOptions;
  #probe: Promise<ProbeResult> | undefined;

  constructor(options: LowPriorityProbeOptions) {
    this.#options = options;
  }

  /**
   * Whether `export --help` mentions `--low-priority`. A probe cut short by
   * its caller's abort is forgotten so that the next caller asks again
   * instead of inheriting a wrong "no".
   */
  async supported(signal: AbortSignal): Promise<boolean> {
    for (;;) {
      signal.throwIfAborted();
      this.#probe ??= this.#run(signal);
      const probe = this.#probe;
      const result = await probe;
      if (result !== "aborted") return result === "supported";
      if (this.#probe === probe) this.#probe = undefined;
    }
  }

  async #run(signal: AbortSignal): Promise<ProbeResult> {
    const { binary, logger, clock } = this.#options;
    const args = [...this.#options.prefix, "export", "--help"];
    logger.debug("Running VAST", { command: [binary, ...args] });
    const without = (reason: string): ProbeResult => {
      logger.debug("Cannot probe for --low-priority; exporting without it", { reason });
      return "unsupported";
    };
    try {
      const result = await runCollect(binary, { args, signal, timeoutMs: PROBE_TIMEOUT_MS, clock });
      if (result.kind === "spawn_failed") return without(result.error.message);
      if (result.kind !== "exited" || result.code !== 0) return without(describeExit(result));
      const supported = result.stdout.includes("--low-priority") ||
        result.stderr.includes("--low-priority");
      logger.debug("Probed VAST for --low-priority", { supported });
      return supported ? "supported" : "unsupported";
    } catch (error) {
      if (signal.aborted) return "aborted";
      return without(error instanceof Error ? error.message : String(error));
    }
  }
}
