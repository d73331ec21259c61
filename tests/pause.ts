/**
 * Resolves after `ms`, or at once when `signal` aborts; never rejects. For
 * polling zeromq.js sockets in the test doubles, whose own waits hang under
 * Deno (denoland/deno#36317).
 */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
