/**
 * The seam between the Threat Bus emulator and its three bound sockets
 * (manage REP, publishing XPUB, receiving SUB), with two implementations:
 * libzmq through npm `zeromq` (tests check the client against the real
 * thing) and the project's own ZMTP code (no native addon, no
 * `--allow-ffi`). Each is loaded only when chosen, so a program on the
 * native sockets never loads npm:zeromq.
 */

/** Which implementation binds the broker's sockets. */
export type SocketImplementation = "libzmq" | "native";

/** The broker's three ports. */
export interface BrokerPorts {
  readonly manage: number;
  readonly pub: number;
  readonly sub: number;
}

/** What the sockets tell their owner; called from the sockets' own loops. */
export interface BrokerSocketHandlers {
  /** Answers one management request (its body frames joined as UTF-8) with the reply text. */
  readonly answer: (request: string) => string;
  /** A prefix got its first subscriber on the publishing socket (true) or lost its last one. */
  readonly listen: (prefix: string, listening: boolean) => void;
  /** One message received on the sub socket, its frames joined as UTF-8. */
  readonly receive: (message: string) => void;
}

/** What a socket implementation is opened with. */
export interface BrokerSocketsOptions {
  /** 0 picks a free port. */
  readonly ports: BrokerPorts;
  /** The prefixes the receiving SUB socket subscribes to. */
  readonly subPrefixes: readonly string[];
  readonly handlers: BrokerSocketHandlers;
}

/** Three bound sockets serving until closed. */
export interface BrokerSockets {
  /** The ports actually bound. */
  readonly ports: BrokerPorts;
  /**
   * Sends one frame on the publishing socket to every subscriber with a
   * matching prefix, waiting while one's queue is full; rejects after
   * `timeoutMs` without room.
   */
  publish(frame: string, timeoutMs: number): Promise<void>;
  /** Disconnects every peer and unbinds; idempotent. */
  close(): Promise<void>;
}

/** Binds the broker's sockets with `implementation`; rejects (having closed all) when one cannot bind. */
export async function openBrokerSockets(
  implementation: SocketImplementation,
  options: BrokerSocketsOptions,
): Promise<BrokerSockets> {
  switch (implementation) {
    case "native": {
      const { openNativeBrokerSockets } = await import("./native_broker_sockets.ts");
      return await openNativeBrokerSockets(options);
    }
    case "libzmq": {
      const { openLibzmqBrokerSockets } = await import("./libzmq_broker_sockets.ts");
      return await openLibzmqBrokerSockets(options);
    }
    default:
      throw new RangeError(
        `Cannot open broker sockets: unknown implementation "${implementation}"`,
      );
  }
}
