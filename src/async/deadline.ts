/** Work bounded in time by an injected clock. */

import type { Clock } from "../ports.ts";

/** Options of {@linkcode withDeadline}. */
export interface DeadlineOptions {
  /** How long `run` may take. */
  readonly ms: number;
  /** The caller's own signal; `run`'s signal aborts with it too. */
  readonly signal?: AbortSignal | undefined;
  /** The abort reason once the time is up; default an `Error` naming the milliseconds. */
  readonly reason?: (() => unknown) | undefined;
}

/**
 * Runs `run` with a signal that aborts when `options.signal` does or when
 * `options.ms` have passed on `clock`, whichever comes first; the timer is
 * stopped however `run` ends. `expired()` tells afterwards whether the time ran out.
 */
export async function withDeadline<T>(
  clock: Clock,
  options: DeadlineOptions,
  run: (signal: AbortSignal, expired: () => boolean) => Promise<T>,
): Promise<T> {
  const deadline = new AbortController();
  const done = new AbortController();
  const reason = options.reason ?? (() => new Error(`no result within ${options.ms} ms`));
  const timer = clock.sleep(options.ms, done.signal).then(
    () => deadline.abort(reason()),
    () => {},
  );
  const signal = options.signal === undefined
    ? deadline.signal
    : AbortSignal.any([options.signal, deadline.signal]);
  try {
    return await run(signal, () => deadline.signal.aborted);
  } finally {
    done.abort();
    await timer;
  }
}
