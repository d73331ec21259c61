/**
 * The {@link Transport} of a TCP connection a listener accepted. The client
 * side has its own in `src/adapters/zmtp/tcp_transport.ts`, which only dials;
 * this one wraps a `Deno.Conn` that already exists.
 */

import type { Transport } from "../../../src/adapters/zmtp/transport.ts";

/** Bytes asked for per read; also the largest chunk a reader sees. */
const READ_BYTES = 64 * 1024;

/** A transport over an accepted connection. */
export class AcceptedTransport implements Transport {
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
      // The runtime closed it already after a failure: nothing left to release.
    }
  }
}
