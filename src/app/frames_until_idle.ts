import type { DecodedFrame, WireCodec } from "../core/wire_codec.ts";
import type { BrokerFrame, Clock, Logger, ThreatBus } from "../ports.ts";

/** Options of {@linkcode framesUntilIdle}. */
export interface FramesUntilIdleOptions {
  readonly codec: WireCodec;
  /** Stop after this long without a frame the codec does not ignore. */
  readonly idleMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly signal: AbortSignal;
}

/** A decoded frame worth the caller's attention: an indicator or a broken message. */
export type UsableFrame = Exclude<DecodedFrame, { kind: "ignored" }>;

/**
 * Yields the decoded frames of one subscription until nothing new arrived for
 * `idleMs` (or `signal` aborts), then stops iterating, which unsubscribes.
 * The time to subscribe counts too, so an unreachable broker ends the wait as
 * well. Frames the codec ignores are no sign of life.
 */
export async function* framesUntilIdle(
  threatBus: ThreatBus,
  options: FramesUntilIdleOptions,
): AsyncGenerator<UsableFrame> {
  const { clock, codec, idleMs, log, signal } = options;
  const stop = new AbortController();
  const run = AbortSignal.any([signal, stop.signal]);
  const iterator = threatBus.frames(run)[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<BrokerFrame>> | undefined;
  let deadline = clock.monotonic() + idleMs;
  try {
    while (!run.aborted) {
      const next = pending ??= iterator.next();
      const timer = new AbortController();
      const idle = clock.sleep(
        Math.max(0, deadline - clock.monotonic()),
        AbortSignal.any([run, timer.signal]),
      ).then(() => "idle" as const, () => "cancelled" as const);
      const winner = await Promise.race([next.then((result) => ({ result })), idle]);
      timer.abort();
      await idle;
      if (winner === "idle") {
        log.info("No new indicator; leaving Threat Bus", { idle_s: idleMs / 1000 });
        return;
      }
      if (winner === "cancelled") continue;
      pending = undefined;
      if (winner.result.done) return;
      const decoded = codec.decode(winner.result.value);
      if (decoded.kind === "ignored") {
        log.debug("Skipping broker message", { reason: decoded.reason });
        continue;
      }
      deadline = clock.monotonic() + idleMs;
      yield decoded;
    }
  } finally {
    stop.abort();
    // The subscription ends (and unsubscribes) only once the pending read settles.
    await pending?.catch(() => undefined);
    await iterator.return?.();
  }
}
