/**
 * Abort signals as the rest of the toolkit uses them: one listener that undoes
 * itself, a promise that settles on abort, and a race against one.
 */

/**
 * Calls `listener` once when `signal` aborts (at once if it already has);
 * disposing the result removes the listener, so `using` scopes it to a block.
 */
export function onAbort(signal: AbortSignal | undefined, listener: () => void): Disposable {
  if (signal === undefined) return { [Symbol.dispose]: () => {} };
  if (signal.aborted) {
    listener();
    return { [Symbol.dispose]: () => {} };
  }
  signal.addEventListener("abort", listener, { once: true });
  return { [Symbol.dispose]: () => signal.removeEventListener("abort", listener) };
}

/** Resolves when `signal` aborts; never rejects. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  onAbort(signal, resolve);
  return promise;
}

/**
 * Settles as `promise` does, or rejects with `signal.reason` when the signal
 * aborts first. `promise` itself goes on; whoever owns it must clean up.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const listening = onAbort(signal, () => reject(signal.reason));
    promise.then(resolve, reject).finally(() => listening[Symbol.dispose]());
  });
}
