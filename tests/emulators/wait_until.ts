/** Polling waits for the emulators, whose state changes inside socket loops. */

/**
 * Resolves once `done()` holds, checking every 2 ms; rejects with "Cannot
 * wait for <what>: timed out after N ms" when `timeoutMs` passes first.
 */
export async function waitUntil(
  done: () => boolean,
  timeoutMs: number,
  what: string | (() => string),
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() >= deadline) {
      const detail = typeof what === "string" ? what : what();
      throw new Error(`Cannot wait for ${detail}: timed out after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
