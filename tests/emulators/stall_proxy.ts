/**
 * A TCP proxy on 127.0.0.1 that can stop forwarding without closing
 * anything: a link that dies silently, as when a NAT or a firewall forgets a
 * connection or a VM is paused. {@link StallProxy.stall} black-holes every
 * connection open at that moment: nothing more is read from either side or
 * passed on, and neither side is told, so their kernels keep the connections
 * "up". Connections opened afterwards are forwarded as usual (the NAT has a
 * fresh entry for them). `close()` ends everything.
 */

/** Bytes read per chunk in each direction. */
const CHUNK_BYTES = 64 * 1024;

/** One proxied connection: the accepted side and the dialled side. */
interface Link {
  readonly client: Deno.TcpConn;
  readonly server: Deno.TcpConn;
  stalled: boolean;
  /** Both directions' copying; ends when a side closes, or on close() once stalled. */
  pumps?: Promise<void>;
}

/** A listening proxy; see the module doc. */
export class StallProxy {
  readonly #listener: Deno.TcpListener;
  readonly #targetPort: number;
  readonly #links = new Set<Link>();
  readonly #accepting: Promise<void>;
  #closed = false;

  private constructor(listener: Deno.TcpListener, targetPort: number) {
    this.#listener = listener;
    this.#targetPort = targetPort;
    this.#accepting = this.#accept();
  }

  /** Listens on a free port and forwards each connection to 127.0.0.1:`targetPort`. */
  static listen(targetPort: number): StallProxy {
    return new StallProxy(Deno.listen({ hostname: "127.0.0.1", port: 0 }), targetPort);
  }

  get port(): number {
    return this.#listener.addr.port;
  }

  /** Connections forwarding now (not stalled). */
  get forwarding(): number {
    return [...this.#links].filter((link) => !link.stalled).length;
  }

  /** Black-holes every connection open now; returns how many. */
  stall(): number {
    let stalled = 0;
    for (const link of this.#links) {
      if (link.stalled) continue;
      link.stalled = true;
      stalled++;
    }
    return stalled;
  }

  /** Stops listening and closes every connection, stalled ones too; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    await this.#accepting;
    for (const link of this.#links) closeLink(link);
    await Promise.all([...this.#links].map((link) => link.pumps));
  }

  async #accept(): Promise<void> {
    for (;;) {
      let client: Deno.TcpConn;
      try {
        client = await this.#listener.accept();
      } catch {
        return; // closed
      }
      let server: Deno.TcpConn;
      try {
        server = await Deno.connect({ hostname: "127.0.0.1", port: this.#targetPort });
      } catch {
        client.close();
        continue;
      }
      const link: Link = { client, server, stalled: false };
      this.#links.add(link);
      link.pumps = Promise.all([pump(client, server, link), pump(server, client, link)]).then(
        () => {
          // A stalled link stays open until close(), as a black hole would.
          if (!link.stalled) this.#links.delete(link);
        },
      );
    }
  }
}

/** Copies `from` → `to` until either ends or the link stalls (then it stops reading). */
async function pump(from: Deno.TcpConn, to: Deno.TcpConn, link: Link): Promise<void> {
  const buffer = new Uint8Array(CHUNK_BYTES);
  try {
    for (;;) {
      if (link.stalled) return;
      const n = await from.read(buffer);
      if (n === null || link.stalled) return;
      let offset = 0;
      while (offset < n) offset += await to.write(buffer.subarray(offset, n));
    }
  } catch {
    // One side went away; the other is closed with it (unless stalled).
  } finally {
    if (!link.stalled) closeLink(link);
  }
}

function closeLink(link: Link): void {
  for (const conn of [link.client, link.server]) {
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  }
}
