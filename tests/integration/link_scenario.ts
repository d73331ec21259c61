/**
 * Scenarios for the faults of the link between bridge and broker: a broker
 * in its own process that a test freezes, kills and restarts, or an
 * in-process broker behind TCP proxies that a test stalls (a link that dies
 * silently). The `vast` emulator gets a hold file (queries print nothing
 * while it exists) so a test decides when sightings are made.
 */
import { StallProxy } from "../emulators/stall_proxy.ts";
import { ThreatBusEmulator } from "../emulators/threatbus_emulator.ts";
import { ThreatBusEmulatorProcess } from "../emulators/threatbus_emulator_process.ts";
import { makeVastBinary } from "../emulators/vast_wrapper.ts";
import {
  type BridgeProcess,
  JSON_DEBUG_LOG,
  killProcessesOf,
  launchBridge,
  type LogRecord,
  logRecords,
} from "./harness.ts";

/** What every link scenario has. */
interface LinkParts extends AsyncDisposable {
  readonly dir: string;
  readonly bridge: BridgeProcess;
  /** While this file exists, `vast export` prints nothing (`VAST_EMU_HOLD_FILE`). */
  readonly holdFile: string;
  /** Holds every query's results until {@link release}. */
  hold(): Promise<void>;
  release(): Promise<void>;
  /** The argv of every `vast export ... json` so far. */
  exportCalls(): Promise<string[][]>;
  /** The bridge's JSON log records with this message (or matching it). */
  records(message: string | RegExp): LogRecord[];
}

/** A scenario whose broker runs in its own process. */
export interface BrokerProcessScenario extends LinkParts {
  readonly broker: ThreatBusEmulatorProcess;
}

/** A scenario whose broker is reached through three proxies (manage, pub, sub). */
export interface ProxiedScenario extends LinkParts {
  readonly emulator: ThreatBusEmulator;
  readonly proxies: readonly StallProxy[];
  /** Stalls every connection through every proxy; returns how many. */
  stall(): number;
}

interface LinkOptions {
  /** Config keys on top of the scenario's (JSON debug log, no snapshot). */
  readonly config?: Record<string, unknown>;
  /** More environment for the `vast` emulator. */
  readonly vastEnv?: Record<string, string>;
}

async function linkParts(
  threatbus: string,
  options: LinkOptions,
  close: () => Promise<void>,
): Promise<LinkParts> {
  const dir = await Deno.makeTempDir({ prefix: "vast-threatbus-link-" });
  const holdFile = `${dir}/vast-hold`;
  const callsFile = `${dir}/vast-calls.ndjson`;
  const vastBinary = await makeVastBinary({
    dir,
    env: { VAST_EMU_CALLS: callsFile, VAST_EMU_HOLD_FILE: holdFile, ...options.vastEnv },
  });
  const bridge = await launchBridge({
    dir,
    config: { logging: JSON_DEBUG_LOG, threatbus, vast_binary: vastBinary, ...options.config },
  });
  return {
    dir,
    bridge,
    holdFile,
    hold: () => Deno.writeTextFile(holdFile, ""),
    release: () => Deno.remove(holdFile),
    async exportCalls() {
      const text = await Deno.readTextFile(callsFile).catch(() => "");
      return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as string[])
        .filter((argv) => argv.includes("export") && argv.includes("json"));
    },
    records: (message) =>
      logRecords(bridge.stderr).filter((r) =>
        typeof message === "string" ? r.message === message : message.test(r.message)
      ),
    async [Symbol.asyncDispose]() {
      await bridge.stop("SIGKILL");
      await killProcessesOf(dir);
      await close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Starts a broker process (native sockets) and the bridge against it. */
export async function startBrokerProcessScenario(
  options: LinkOptions = {},
): Promise<BrokerProcessScenario> {
  const broker = await ThreatBusEmulatorProcess.start();
  try {
    const parts = await linkParts(broker.manageEndpoint, options, () => broker.close());
    return { ...parts, broker };
  } catch (error) {
    await broker.close();
    throw error;
  }
}

/**
 * Starts an in-process broker (libzmq), a proxy in front of each of its
 * ports (its subscribe replies name the proxies' pub and sub ports), and
 * the bridge against the manage proxy.
 */
export async function startProxiedScenario(options: LinkOptions = {}): Promise<ProxiedScenario> {
  const emulator = await ThreatBusEmulator.start();
  const proxies = [emulator.managePort, emulator.pubPort, emulator.subPort].map((port) =>
    StallProxy.listen(port)
  );
  const [manage, pub, sub] = proxies as [StallProxy, StallProxy, StallProxy];
  emulator.advertisePorts({ pub: pub.port, sub: sub.port });
  const close = async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await emulator.close();
  };
  try {
    const parts = await linkParts(`127.0.0.1:${manage.port}`, options, close);
    return {
      ...parts,
      emulator,
      proxies,
      stall: () => proxies.reduce((sum, proxy) => sum + proxy.stall(), 0),
    };
  } catch (error) {
    await close();
    throw error;
  }
}
