/**
 * The REQ envelope as a REP socket reads it: every frame up to and including
 * the first empty one is the route back (just the empty delimiter from a
 * direct REQ; routing ids before it when the request came through a ROUTER
 * proxy), the rest is the request. Pure.
 */

/** A request split at its delimiter. */
export interface EnvelopedRequest {
  /** Frames the reply must start with: the route, ending in the empty delimiter. */
  readonly envelope: readonly Uint8Array[];
  /** The request's own frames; at least one. */
  readonly body: readonly Uint8Array[];
}

/**
 * Splits a received message; undefined when it has no empty delimiter before
 * its last frame. libzmq's REP discards such a message without a reply (a
 * DEALER that forgot the delimiter), so the emulator does too.
 */
export function splitRequest(parts: readonly Uint8Array[]): EnvelopedRequest | undefined {
  const delimiter = parts.findIndex((part) => part.length === 0);
  if (delimiter < 0 || delimiter === parts.length - 1) return undefined;
  return { envelope: parts.slice(0, delimiter + 1), body: parts.slice(delimiter + 1) };
}
