/**
 * A raw ZMTP peer for the listener tests: one connection of any socket type,
 * so a test can send what the client sockets never would (a DEALER without
 * a delimiter, both subscription forms) and read exactly what came back.
 */

import { connectTcp } from "../../../src/adapters/zmtp/tcp_transport.ts";
import { ZmtpConnection, type ZmtpEvent } from "../../../src/adapters/zmtp/zmtp_connection.ts";
import type { SocketType } from "../../../src/core/zmtp_command.ts";

/** Opens a connection to 127.0.0.1:`port` as a `socketType` socket. */
export async function rawPeer(port: number, socketType: SocketType): Promise<ZmtpConnection> {
  const signal = AbortSignal.timeout(5000);
  return await ZmtpConnection.open(await connectTcp({ hostname: "127.0.0.1", port }, signal), {
    socketType,
    maxMessageBytes: 1024 * 1024,
    signal,
  });
}

/** The next message's frames as text, failing after `timeoutMs`. */
export async function nextText(peer: ZmtpConnection, timeoutMs = 3000): Promise<string[]> {
  const event = await nextEvent(peer, timeoutMs);
  if (event?.kind !== "message") throw new Error(`Cannot read a message: got ${event?.kind}`);
  return event.parts.map((part) => new TextDecoder().decode(part));
}

/** The next event, or undefined when none arrives within `timeoutMs` (or the peer closed). */
export async function nextEvent(
  peer: ZmtpConnection,
  timeoutMs: number,
): Promise<ZmtpEvent | undefined> {
  const expired = new AbortController();
  const timer = setTimeout(() => expired.abort(), timeoutMs);
  try {
    return await peer.next(expired.signal);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** Frames as UTF-8. */
export function frames(...texts: string[]): Uint8Array[] {
  return texts.map((text) => new TextEncoder().encode(text));
}
