/**
 * The line protocol between a test and a Threat Bus emulator running as its
 * own process (`threatbus_emulator_process.ts`). Each line is one JSON
 * object; the process's stdout carries only protocol lines, its log goes to
 * stderr.
 *
 * - On start, stdout: `{"ready":{"managePort":N,"pubPort":N,"subPort":N,"format":"...","sockets":"...","pid":N}}`
 * - stdin, one command per line: `{"id":N,"op":"<name>",...arguments}`
 * - stdout, one reply per command, in the order they finish:
 *   `{"id":N,"ok":true,"result":...}` or `{"id":N,"ok":false,"error":"Cannot ..."}`
 *   (`"id":null` when the line was no command at all).
 *
 * Commands: `publishIndicator {body}`, `publishIntel {body}`,
 * `publishMessage {type, body}`, `publishRaw {frame}` (each as the emulator's
 * method of that name), `waitForSubscriber {p2p?, timeoutMs?}`,
 * `waitForReceived {count, timeoutMs?}`, `waitForSightings {count, timeoutMs?}`,
 * `state` (an {@link EmulatorState}), `forgetSubscriptions`, and `shutdown`
 * (replies, then the process exits 0). End of stdin means `shutdown` too, so
 * the process never outlives its test.
 */

import type { ThreatBusEmulator } from "./threatbus_emulator.ts";

/** What `state` returns: everything the emulator recorded in this process's life. */
export interface EmulatorState {
  readonly ports: { readonly manage: number; readonly pub: number; readonly sub: number };
  readonly subscriptions: ThreatBusEmulator["subscriptions"];
  readonly requests: ThreatBusEmulator["requests"];
  readonly managementLog: ThreatBusEmulator["managementLog"];
  readonly received: ThreatBusEmulator["received"];
  readonly sightings: ThreatBusEmulator["sightings"];
  readonly rejectedSightings: ThreatBusEmulator["rejectedSightings"];
  readonly droppedIntel: ThreatBusEmulator["droppedIntel"];
  readonly log: ThreatBusEmulator["log"];
}

/** The first line a process prints. */
export interface ReadyLine {
  readonly ready: {
    readonly managePort: number;
    readonly pubPort: number;
    readonly subPort: number;
    readonly format: string;
    readonly sockets: string;
    readonly pid: number;
  };
}

/** A reply line. */
export type ReplyLine =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number | null; readonly ok: false; readonly error: string };

/** A command that reached a handler; `shutdown` is the caller's to act on. */
export interface Command {
  readonly id: number;
  readonly op: string;
  readonly args: Readonly<Record<string, unknown>>;
}

/** Reads one command line; throws "Cannot read command: ..." when it is none. */
export function parseCommand(line: string): Command {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new Error(`Cannot read command: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("Cannot read command: not a JSON object");
  }
  const { id, op, ...args } = value as Record<string, unknown>;
  if (typeof id !== "number" || !Number.isInteger(id)) {
    throw new Error("Cannot read command: its id is not a whole number");
  }
  if (typeof op !== "string") throw new Error("Cannot read command: its op is not a string");
  return { id, op, args };
}

/** Carries out `command` on `emulator`; resolves with the result, rejects with "Cannot ...". */
export async function runCommand(emulator: ThreatBusEmulator, command: Command): Promise<unknown> {
  const { args } = command;
  switch (command.op) {
    case "publishIndicator":
      return await emulator.publishIndicator(body(args));
    case "publishIntel":
      return await emulator.publishIntel(args.body);
    case "publishMessage":
      return await emulator.publishMessage(text(args, "type"), body(args));
    case "publishRaw":
      await emulator.publishRaw(text(args, "frame"));
      return null;
    case "waitForSubscriber":
      return await emulator.waitForSubscriber({
        ...(typeof args.p2p === "string" ? { p2p: args.p2p } : {}),
        timeoutMs: timeout(args),
      });
    case "waitForReceived":
      return await emulator.waitForReceived(count(args), timeout(args));
    case "waitForSightings":
      return await emulator.waitForSightings(count(args), timeout(args));
    case "state":
      return stateOf(emulator);
    case "forgetSubscriptions":
      emulator.forgetSubscriptions();
      return null;
    case "shutdown":
      return null;
    default:
      throw new Error(`Cannot run command: unknown op "${command.op}"`);
  }
}

/** Everything the emulator recorded, as plain data. */
export function stateOf(emulator: ThreatBusEmulator): EmulatorState {
  return {
    ports: { manage: emulator.managePort, pub: emulator.pubPort, sub: emulator.subPort },
    subscriptions: emulator.subscriptions,
    requests: emulator.requests,
    managementLog: emulator.managementLog,
    received: emulator.received,
    sightings: emulator.sightings,
    rejectedSightings: emulator.rejectedSightings,
    droppedIntel: emulator.droppedIntel,
    log: emulator.log,
  };
}

function body(args: Readonly<Record<string, unknown>>): object | string {
  const value = args.body;
  if (typeof value === "string" || (typeof value === "object" && value !== null)) return value;
  throw new Error("Cannot run command: body must be a string or an object");
}

function text(args: Readonly<Record<string, unknown>>, name: string): string {
  const value = args[name];
  if (typeof value !== "string") throw new Error(`Cannot run command: ${name} must be a string`);
  return value;
}

function count(args: Readonly<Record<string, unknown>>): number {
  const value = args.count;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new Error("Cannot run command: count must be a whole number");
  }
  return value;
}

function timeout(args: Readonly<Record<string, unknown>>): number {
  const value = args.timeoutMs ?? 5000;
  if (typeof value !== "number" || !(value >= 0)) {
    throw new Error("Cannot run command: timeoutMs must be a number of milliseconds");
  }
  return value;
}
