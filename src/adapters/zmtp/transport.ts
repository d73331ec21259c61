/**
 * The one interface between the ZMTP sockets and the network, so tests can
 * script a peer and the sockets never touch `Deno.*` themselves.
 */

import type { HostAndPort } from "../../core/endpoint.ts";

/** A TCP peer: `hostname` is a name or an IP literal (IPv6 without brackets). */
export type TcpAddress = HostAndPort;

/** One open byte stream. */
export interface Transport extends AsyncIterable<Uint8Array> {
  /**
   * Iterating reads; a chunk is valid only until the next one is asked for
   * (the reader may reuse its buffer). Iteration ends at end of stream and
   * throws when the connection fails or is closed.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
  /**
   * Writes all of `bytes`; rejects when the connection fails or is closed.
   * The caller may reuse `bytes` once the promise settles.
   */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes both directions; idempotent; pending reads and writes fail. */
  close(): void;
}

/**
 * Opens a transport to `address`; rejects with `signal.reason` when aborted
 * first, and with a {@link ConnectPermissionError} when retrying cannot help.
 */
export type Connector = (address: TcpAddress, signal: AbortSignal) => Promise<Transport>;

/** The runtime does not let this program connect (a missing `--allow-net`): retrying cannot help. */
export class ConnectPermissionError extends Error {
  override readonly name = "ConnectPermissionError";
}
