/** The TCP {@link Transport}: the only place the ZMTP sockets reach the network. */

import { abortable } from "../../async/abort.ts";
import { formatHostAndPort } from "../../core/endpoint.ts";
import { ConnectPermissionError, type TcpAddress, type Transport } from "./transport.ts";

/** Bytes asked for per read; also the largest chunk a reader sees. */
const READ_BYTES = 64 * 1024;

/**
 * The TCP `Connector`: connects with keepalive on, so a peer that vanished without a
 * FIN (a rebooted host, a dropped NAT entry) is noticed in the end. Deno's
 * `setKeepAlive` takes no times, so the kernel's apply (two hours idle on Linux
 * unless `net.ipv4.tcp_keepalive_time` says otherwise): the ZMTP heartbeat of
 * a 3.1 peer, and for a 3.0 one the Threat Bus management heartbeat, notice
 * much sooner.
 */
export async function connectTcp(address: TcpAddress, signal: AbortSignal): Promise<Transport> {
  signal.throwIfAborted();
  const connecting = Deno.connect({ hostname: address.hostname, port: address.port });
  try {
    const conn = await abortable(connecting, signal);
    conn.setKeepAlive(true);
    conn.setNoDelay(true);
    return new ConnTransport(conn);
  } catch (error) {
    // A connect that finishes after the abort must not leak its socket.
    connecting.then((conn) => conn.close(), () => {});
    if (signal.aborted) throw signal.reason;
    const denied = error instanceof Deno.errors.NotCapable ||
      error instanceof Deno.errors.PermissionDenied;
    throw new (denied ? ConnectPermissionError : Error)(
      `Cannot connect to ${formatHostAndPort(address)}: ${messageOf(error)}`,
      { cause: error },
    );
  }
}

/**
 * The {@link Transport} of an open connection: one this module dialled, or one
 * a listener accepted (the tests' broker emulator serves with it).
 */
export class ConnTransport implements Transport {
  readonly #conn: Deno.Conn;
  #closed = false;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    // One buffer for the connection's life: readers copy what they keep.
    const buffer = new Uint8Array(READ_BYTES);
    for (;;) {
      const n = await this.#conn.read(buffer);
      if (n === null) return;
      yield buffer.subarray(0, n);
    }
  }

  async write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) offset += await this.#conn.write(bytes.subarray(offset));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime after a failure: nothing left to release.
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
