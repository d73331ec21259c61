import type { Clock } from "../ports.ts";
import { onAbort } from "../async/abort.ts";

/** The real clock: wall time, a monotonic counter and abortable sleeps. */
export function systemClock(): Clock {
  return {
    now: () => Date.now(),
    monotonic: () => performance.now(),
    sleep: (ms, signal) => abortableSleep(ms, signal),
  };
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      listening[Symbol.dispose]();
      resolve();
    }, Math.max(0, ms));
    const listening = onAbort(signal, () => {
      clearTimeout(timer);
      reject(signal?.reason);
    });
  });
}
