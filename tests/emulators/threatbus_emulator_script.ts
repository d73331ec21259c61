/**
 * `threatbus_emulator.ts` run as a script: serves until SIGINT/SIGTERM,
 * printing its endpoints to stderr, publishing the file's indicators (or, in
 * legacy format, intel) to each subscriber once it is connected, and printing
 * every received frame to stdout as a JSON line `{"topic":...,"body":...}`.
 *
 * The emulator module hands in its `start`: importing it from here would be
 * a cycle that its top-level await never resolves.
 */

import { parseArgs } from "node:util";
import type { ThreatBusEmulator, ThreatBusEmulatorOptions } from "./threatbus_emulator.ts";
import type { SocketImplementation } from "./broker_sockets.ts";
import type { WireFormat } from "./wire_format.ts";

function parseCommandLine(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    options: {
      "manage-port": { type: "string", default: "13370" },
      "pub-port": { type: "string", default: "0" },
      "sub-port": { type: "string", default: "0" },
      indicators: { type: "string" },
      format: { type: "string", default: "stix2" },
      sockets: { type: "string", default: "libzmq" },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

/** The script: see the module doc. Returns the exit status. */
export async function main(
  args: readonly string[],
  start: (options: ThreatBusEmulatorOptions) => Promise<ThreatBusEmulator>,
): Promise<number> {
  let values: ReturnType<typeof parseCommandLine>;
  try {
    values = parseCommandLine(args);
  } catch (error) {
    console.error(`threatbus_emulator: ${(error as Error).message}`);
    return 2;
  }
  const ports = [values["manage-port"], values["pub-port"], values["sub-port"]].map(Number);
  if (ports.some((port) => !Number.isInteger(port) || port < 0 || port > 65535)) {
    console.error("threatbus_emulator: ports must be whole numbers from 0 to 65535");
    return 2;
  }
  let initialIndicators: unknown[] = [];
  if (values.indicators !== undefined) {
    try {
      initialIndicators = (await Deno.readTextFile(values.indicators))
        .split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
    } catch (error) {
      console.error(`threatbus_emulator: cannot read "${values.indicators}": ${error}`);
      return 2;
    }
  }
  let emulator: ThreatBusEmulator;
  try {
    emulator = await start({
      managePort: ports[0] as number,
      pubPort: ports[1] as number,
      subPort: ports[2] as number,
      initialIndicators,
      format: values.format as WireFormat,
      sockets: values.sockets as SocketImplementation,
      onReceive: (frame) =>
        console.log(JSON.stringify({ topic: frame.topic, body: parseOr(frame.body) })),
      onLog: (line) => console.error(`threatbus_emulator: ${line}`),
    });
  } catch (error) {
    console.error(`threatbus_emulator: ${(error as Error).message}`);
    return 2;
  }
  console.error(
    `threatbus_emulator: manage=127.0.0.1:${emulator.managePort} ` +
      `pub=127.0.0.1:${emulator.pubPort} sub=127.0.0.1:${emulator.subPort}`,
  );
  const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
  const signals = ["SIGINT", "SIGTERM"] as const;
  for (const name of signals) Deno.addSignalListener(name, stop);
  await stopped;
  for (const name of signals) Deno.removeSignalListener(name, stop);
  await emulator.close();
  return 0;
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
