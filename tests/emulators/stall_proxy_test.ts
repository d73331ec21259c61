import { equal, ok } from "node:assert/strict";
import { StallProxy } from "./stall_proxy.ts";

/** An echo server on a free port; closes with the test. */
function echoServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.TcpConn>();
  const serving = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      (async () => {
        const buffer = new Uint8Array(1024);
        try {
          for (;;) {
            const n = await conn.read(buffer);
            if (n === null) return;
            await conn.write(buffer.subarray(0, n));
          }
        } catch {
          // closed
        }
      })();
    }
  })();
  return {
    port: listener.addr.port,
    async close() {
      listener.close();
      for (const conn of conns) conn.close();
      await serving.catch(() => {});
    },
  };
}

async function roundTrip(conn: Deno.TcpConn, text: string, timeoutMs: number): Promise<string> {
  await conn.write(new TextEncoder().encode(text));
  const buffer = new Uint8Array(1024);
  const timer = Promise.withResolvers<null>();
  const id = setTimeout(() => timer.resolve(null), timeoutMs);
  try {
    const n = await Promise.race([conn.read(buffer), timer.promise]);
    return n === null ? "(nothing)" : new TextDecoder().decode(buffer.subarray(0, n));
  } finally {
    clearTimeout(id);
  }
}

Deno.test("a stalled link forwards nothing and closes nothing; a new one forwards again", async () => {
  const server = echoServer();
  const proxy = StallProxy.listen(server.port);
  const old = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  const reads: Promise<number | null>[] = [];
  try {
    equal(await roundTrip(old, "hello", 3000), "hello");
    equal(proxy.stall(), 1);
    equal(proxy.forwarding, 0);
    // No answer, yet no end of stream either: the connection looks up from here.
    await old.write(new TextEncoder().encode("anyone?"));
    const buffer = new Uint8Array(16);
    const read = old.read(buffer);
    reads.push(read);
    const outcome = await Promise.race([
      read.then((n) => (n === null ? "closed" : "data")),
      new Promise((resolve) => setTimeout(resolve, 300, "silent")),
    ]);
    equal(outcome, "silent");
    const fresh = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
    try {
      equal(await roundTrip(fresh, "again", 3000), "again");
      ok(proxy.forwarding >= 1);
    } finally {
      fresh.close();
    }
  } finally {
    await proxy.close();
    // close() ends the stalled link too: the pending read sees the end.
    equal(await reads[0]?.catch(() => null), null);
    old.close();
    await server.close();
  }
});
