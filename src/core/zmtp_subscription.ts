/**
 * ZMTP subscriptions in both forms: the 3.0 message (0x01/0x00 + prefix)
 * and the 3.1 SUBSCRIBE/CANCEL command. Pure.
 */

import { type Command, encodeCommand, parseCommand } from "./zmtp_command.ts";
import { encodeFrame, type Frame } from "./zmtp_frame.ts";

/** A subscribe or cancel for a prefix. */
export interface Subscription {
  readonly subscribe: boolean;
  readonly prefix: Uint8Array;
}

/**
 * A subscription frame in the ZMTP 3.0 message form (0x01/0x00 + prefix):
 * every ZMTP 3 peer understands it, while libzmq before 4.3.3 announces 3.1
 * yet does not know the SUBSCRIBE command.
 */
export function encodeSubscription(subscription: Subscription): Uint8Array {
  const body = new Uint8Array(1 + subscription.prefix.length);
  body[0] = subscription.subscribe ? 1 : 0;
  body.set(subscription.prefix, 1);
  return encodeFrame(body);
}

/** The ZMTP 3.1 SUBSCRIBE/CANCEL command for a subscription. */
export function encodeSubscriptionCommand(subscription: Subscription): Uint8Array {
  return encodeCommand(subscription.subscribe ? "SUBSCRIBE" : "CANCEL", subscription.prefix);
}

/** A subscription from a one-part message (3.0 form); undefined when it is none. */
export function subscriptionFromMessage(body: Uint8Array): Subscription | undefined {
  const kind = body[0];
  if (kind !== 0 && kind !== 1) return undefined;
  return { subscribe: kind === 1, prefix: body.subarray(1) };
}

/** A subscription from a command (3.1 form); undefined for other commands. */
export function subscriptionFromCommand(command: Command): Subscription | undefined {
  if (command.name === "SUBSCRIBE") return { subscribe: true, prefix: command.data };
  if (command.name === "CANCEL") return { subscribe: false, prefix: command.data };
  return undefined;
}

/** A subscription in either form from a single frame; undefined when it is none. */
export function parseSubscription(frame: Frame): Subscription | undefined {
  if (frame.command) return subscriptionFromCommand(parseCommand(frame.body));
  return frame.more ? undefined : subscriptionFromMessage(frame.body);
}
