/**
 * The broker's sockets on the project's own ZMTP code (`zmtp_server/`): no
 * npm `zeromq`, so no native addon and no `--allow-ffi`. Must not import
 * `zeromq`, directly or through another module.
 */

import type { BrokerSockets, BrokerSocketsOptions } from "./broker_sockets.ts";
import { RepServer } from "./zmtp_server/rep_server.ts";
import { SubServer } from "./zmtp_server/sub_server.ts";
import { XpubServer } from "./zmtp_server/xpub_server.ts";

/** Binds REP, XPUB and SUB listeners on 127.0.0.1. */
export async function openNativeBrokerSockets(
  options: BrokerSocketsOptions,
): Promise<BrokerSockets> {
  const { handlers } = options;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const text = (parts: readonly Uint8Array[]) => parts.map((part) => decoder.decode(part)).join("");
  const opened: { close(): Promise<void> }[] = [];
  try {
    const manage = await RepServer.listen({
      port: options.ports.manage,
      respond: (request) => [encoder.encode(handlers.answer(text(request)))],
    });
    opened.push(manage);
    const pub = await XpubServer.listen({
      port: options.ports.pub,
      onListen: (prefix, listening) => handlers.listen(decoder.decode(prefix), listening),
    });
    opened.push(pub);
    const sub = await SubServer.listen({
      port: options.ports.sub,
      prefixes: options.subPrefixes.map((prefix) => encoder.encode(prefix)),
      onMessage: (parts) => handlers.receive(text(parts)),
    });
    opened.push(sub);
    return {
      ports: { manage: manage.port, pub: pub.port, sub: sub.port },
      async publish(frame, timeoutMs) {
        await pub.publish(encoder.encode(frame), timeoutMs);
      },
      async close() {
        await Promise.all(opened.map((socket) => socket.close()));
      },
    };
  } catch (error) {
    await Promise.all(opened.map((socket) => socket.close()));
    throw error;
  }
}
