/**
 * The emulator process: starts a Threat Bus emulator (native sockets unless
 * told otherwise) and serves the line protocol of `emulator_control.ts` on
 * stdin/stdout until `shutdown`, end of stdin, SIGINT or SIGTERM.
 *
 *     deno run --allow-net=127.0.0.1 tests/emulators/threatbus_emulator_process.ts \
 *       [--manage-port N] [--pub-port N] [--sub-port N] [--format stix2|legacy] \
 *       [--sockets native|libzmq] [--advertised-host H] \
 *       [--snapshot-json '[...]'] [--initial-json '[...]']
 */

import { parseArgs } from "node:util";
import { parseCommand, type ReplyLine, runCommand } from "./emulator_control.ts";
import type { SocketImplementation } from "./broker_sockets.ts";
import { ThreatBusEmulator, type ThreatBusEmulatorOptions } from "./threatbus_emulator.ts";
import type { WireFormat } from "./wire_format.ts";

/** The emulator's options from the command line; throws "Cannot ..." on a bad one. */
export function parseProcessArgs(args: readonly string[]): ThreatBusEmulatorOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      "manage-port": { type: "string", default: "0" },
      "pub-port": { type: "string", default: "0" },
      "sub-port": { type: "string", default: "0" },
      format: { type: "string", default: "stix2" },
      sockets: { type: "string", default: "native" },
      "advertised-host": { type: "string", default: "127.0.0.1" },
      "snapshot-json": { type: "string", default: "[]" },
      "initial-json": { type: "string", default: "[]" },
    },
    strict: true,
    allowPositionals: false,
  });
  const port = (name: "manage-port" | "pub-port" | "sub-port") => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 0 || value > 65535) {
      throw new Error(`Cannot use --${name} "${values[name]}": expected 0 to 65535`);
    }
    return value;
  };
  const list = (name: "snapshot-json" | "initial-json") => {
    let value: unknown;
    try {
      value = JSON.parse(values[name]);
    } catch (error) {
      throw new Error(`Cannot use --${name}: ${(error as Error).message}`);
    }
    if (!Array.isArray(value)) throw new Error(`Cannot use --${name}: expected a JSON array`);
    return value;
  };
  return {
    managePort: port("manage-port"),
    pubPort: port("pub-port"),
    subPort: port("sub-port"),
    format: values.format as WireFormat,
    sockets: values.sockets as SocketImplementation,
    advertisedHost: values["advertised-host"],
    snapshot: list("snapshot-json"),
    initialIndicators: list("initial-json"),
  };
}

/** The process; returns its exit status. */
export async function main(args: readonly string[]): Promise<number> {
  let emulator: ThreatBusEmulator;
  try {
    emulator = await ThreatBusEmulator.start({
      ...parseProcessArgs(args),
      onLog: (line) => console.error(`threatbus_emulator: ${line}`),
    });
  } catch (error) {
    const cause = (error as Error).cause;
    console.error(`threatbus_emulator: ${(error as Error).message}${cause ? `: ${cause}` : ""}`);
    return 2;
  }
  const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
  const signals = ["SIGINT", "SIGTERM"] as const;
  for (const name of signals) Deno.addSignalListener(name, stop);
  print({
    ready: {
      managePort: emulator.managePort,
      pubPort: emulator.pubPort,
      subPort: emulator.subPort,
      format: emulator.format,
      sockets: emulator.implementation,
      pid: Deno.pid,
    },
  });
  const serving = serve(emulator, stop);
  await stopped;
  for (const name of signals) Deno.removeSignalListener(name, stop);
  await emulator.close();
  // stdin may stay open (a signal ended us): do not wait for it.
  serving.catch(() => {});
  return 0;
}

/** Reads commands until `shutdown` or end of input; every command runs at once, replies as it ends. */
async function serve(emulator: ThreatBusEmulator, stop: () => void): Promise<void> {
  const running = new Set<Promise<void>>();
  let pending = "";
  try {
    for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (line.trim() === "") continue;
        const task = handle(emulator, line, stop);
        running.add(task);
        task.then(() => running.delete(task));
      }
    }
  } finally {
    await Promise.all(running);
    stop();
  }
}

async function handle(emulator: ThreatBusEmulator, line: string, stop: () => void): Promise<void> {
  let id: number | null = null;
  try {
    const command = parseCommand(line);
    id = command.id;
    const result = await runCommand(emulator, command);
    print({ id: command.id, ok: true, result: result ?? null });
    if (command.op === "shutdown") stop();
  } catch (error) {
    print({ id, ok: false, error: (error as Error).message });
  }
}

function print(line: ReplyLine | { readonly ready: unknown }): void {
  console.log(JSON.stringify(line));
}
