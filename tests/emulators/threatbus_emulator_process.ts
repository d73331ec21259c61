/**
 * A Threat Bus emulator in its own OS process, for faults a process in the
 * test's own runtime cannot show: freeze it (SIGSTOP) and thaw it (SIGCONT),
 * kill it (SIGKILL) and start it again on the same ports.
 *
 * Imported, this module is {@link ThreatBusEmulatorProcess}, which starts
 * such a process and talks to it over the line protocol of
 * `emulator_control.ts`. Run, it is that process (`emulator_process_main.ts`):
 *
 *     deno run --allow-net=127.0.0.1 tests/emulators/threatbus_emulator_process.ts \
 *       --manage-port 13370 --format legacy
 *
 * The process runs on the native sockets by default: it starts fast, needs
 * only `--allow-net`, and no config file (so no npm package is set up).
 */

import type { SocketImplementation } from "./broker_sockets.ts";
import { EmulatorChild } from "./emulator_child.ts";
import type { EmulatorState } from "./emulator_control.ts";
import type {
  IntelPublication,
  LegacySighting,
  ReceivedFrame,
  WireFormat,
} from "./threatbus_emulator.ts";

export type { EmulatorState } from "./emulator_control.ts";

/** How the process is set up; every field has a default. */
export interface ThreatBusEmulatorProcessOptions {
  /** Ports of the first start (0: any free one); restarts reuse the ones bound. */
  readonly managePort?: number;
  readonly pubPort?: number;
  readonly subPort?: number;
  /** Default "stix2". */
  readonly format?: WireFormat;
  /** Default "native"; "libzmq" runs the process with `-A` and the project's config. */
  readonly sockets?: SocketImplementation;
  /** Legacy replies' endpoint host; default "127.0.0.1". */
  readonly advertisedHost?: string;
  /** As the emulator's options of the same names; kept across restarts. */
  readonly snapshot?: readonly unknown[];
  readonly initialIndicators?: readonly unknown[];
  /** How long a start may take; default 20 s (a cold cache compiles the modules). */
  readonly startTimeoutMs?: number;
  /** How long a command may wait for its reply; default 10 s. */
  readonly commandTimeoutMs?: number;
}

const SCRIPT = new URL("./threatbus_emulator_process.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** A controlled emulator process; see the module doc. */
export class ThreatBusEmulatorProcess implements AsyncDisposable {
  readonly #options: ThreatBusEmulatorProcessOptions;
  #ports: { manage: number; pub: number; sub: number };
  #child: EmulatorChild;
  #frozen = false;
  /** Shared with every life's stderr reader. */
  readonly #stderr: { text: string };

  private constructor(
    options: ThreatBusEmulatorProcessOptions,
    child: EmulatorChild,
    stderr: { text: string },
  ) {
    this.#options = options;
    this.#child = child;
    this.#ports = portsOf(child);
    this.#stderr = stderr;
  }

  /** Starts the process and waits until its sockets are bound. */
  static async start(
    options: ThreatBusEmulatorProcessOptions = {},
  ): Promise<ThreatBusEmulatorProcess> {
    const stderr = { text: "" };
    const ports = {
      manage: options.managePort ?? 0,
      pub: options.pubPort ?? 0,
      sub: options.subPort ?? 0,
    };
    const child = await spawn(options, ports, stderr);
    return new ThreatBusEmulatorProcess(options, child, stderr);
  }

  /** The current process's id. */
  get pid(): number {
    return this.#child.pid;
  }

  get managePort(): number {
    return this.#ports.manage;
  }

  get pubPort(): number {
    return this.#ports.pub;
  }

  get subPort(): number {
    return this.#ports.sub;
  }

  /** `127.0.0.1:<manage port>`, the app's `threatbus` setting. */
  get manageEndpoint(): string {
    return `127.0.0.1:${this.#ports.manage}`;
  }

  /** Whether the current process is alive (frozen counts as alive). */
  get running(): boolean {
    return !this.#child.exited;
  }

  get frozen(): boolean {
    return this.#frozen && this.running;
  }

  /** Everything the processes wrote to stderr so far, all lives. */
  get stderr(): string {
    return this.#stderr.text;
  }

  publishIndicator(body: object | string): Promise<number> {
    return this.#ask("publishIndicator", { body }) as Promise<number>;
  }

  publishIntel(body: unknown): Promise<IntelPublication> {
    return this.#ask("publishIntel", { body }) as Promise<IntelPublication>;
  }

  publishMessage(type: string, body: object | string): Promise<number> {
    return this.#ask("publishMessage", { type, body }) as Promise<number>;
  }

  async publishRaw(frame: string): Promise<void> {
    await this.#ask("publishRaw", { frame });
  }

  /** As the emulator's method, run in the process. */
  waitForSubscriber(
    options: { readonly p2p?: string; readonly timeoutMs?: number } = {},
  ): Promise<string> {
    return this.#ask("waitForSubscriber", { ...options }, options.timeoutMs) as Promise<string>;
  }

  waitForReceived(count: number, timeoutMs = 5000): Promise<readonly ReceivedFrame[]> {
    return this.#ask("waitForReceived", { count, timeoutMs }, timeoutMs) as Promise<
      readonly ReceivedFrame[]
    >;
  }

  waitForSightings(count: number, timeoutMs = 5000): Promise<readonly LegacySighting[]> {
    return this.#ask("waitForSightings", { count, timeoutMs }, timeoutMs) as Promise<
      readonly LegacySighting[]
    >;
  }

  /** What the current process recorded (each life starts empty). */
  state(): Promise<EmulatorState> {
    return this.#ask("state", {}) as Promise<EmulatorState>;
  }

  async forgetSubscriptions(): Promise<void> {
    await this.#ask("forgetSubscriptions", {});
  }

  /** SIGSTOP: the process answers nothing until {@link resume}; its sockets stay bound. */
  freeze(): void {
    if (!this.#child.signal("SIGSTOP")) throw new Error("Cannot freeze: the process is gone");
    this.#frozen = true;
  }

  /** SIGCONT: the process takes up where it stopped. */
  resume(): void {
    if (!this.#child.signal("SIGCONT")) throw new Error("Cannot resume: the process is gone");
    this.#frozen = false;
  }

  /** SIGKILL, as a crash: no goodbye to any peer. Resolves once it is gone. */
  async kill(): Promise<void> {
    this.#child.signal("SIGKILL");
    await this.#child.status;
    this.#frozen = false;
  }

  /** Kills the current process if it runs, then starts a new one on the same ports. */
  async restart(): Promise<void> {
    if (this.running) await this.kill();
    this.#child = await spawn(this.#options, this.#ports, this.#stderr);
    this.#ports = portsOf(this.#child);
  }

  /** Shuts the process down (killing it when frozen or unwilling); idempotent. */
  async close(): Promise<void> {
    if (!this.running) return;
    if (this.#frozen) return await this.kill();
    await this.#child.endInput();
    const timer = setTimeout(() => this.#child.signal("SIGKILL"), 5000);
    try {
      await this.#child.status;
    } finally {
      clearTimeout(timer);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #ask(op: string, args: Record<string, unknown>, waitMs = 0): Promise<unknown> {
    // A wait command gets its own time on top of the usual allowance.
    return this.#child.request(op, args, (this.#options.commandTimeoutMs ?? 10_000) + waitMs);
  }
}

async function spawn(
  options: ThreatBusEmulatorProcessOptions,
  ports: { readonly manage: number; readonly pub: number; readonly sub: number },
  stderr: { text: string },
): Promise<EmulatorChild> {
  try {
    return await EmulatorChild.spawn({
      args: argsFor(options, ports),
      startTimeoutMs: options.startTimeoutMs ?? 20_000,
      onStderr: (text) => (stderr.text += text),
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}; stderr:\n${stderr.text}`, { cause: error });
  }
}

function portsOf(child: EmulatorChild): { manage: number; pub: number; sub: number } {
  const { managePort, pubPort, subPort } = child.ready;
  return { manage: managePort, pub: pubPort, sub: subPort };
}

function argsFor(
  options: ThreatBusEmulatorProcessOptions,
  ports: { readonly manage: number; readonly pub: number; readonly sub: number },
): string[] {
  const sockets = options.sockets ?? "native";
  // Native: loopback only and no config, so no npm package (zeromq) is even set up.
  const runtime = sockets === "native"
    ? ["--no-config", "--allow-net=127.0.0.1"]
    : ["--config", CONFIG, "--no-lock", "-A"];
  return [
    "run",
    "--quiet",
    ...runtime,
    SCRIPT,
    ...["--manage-port", String(ports.manage)],
    ...["--pub-port", String(ports.pub)],
    ...["--sub-port", String(ports.sub)],
    ...["--format", options.format ?? "stix2"],
    ...["--sockets", sockets],
    ...["--advertised-host", options.advertisedHost ?? "127.0.0.1"],
    ...["--snapshot-json", JSON.stringify(options.snapshot ?? [])],
    ...["--initial-json", JSON.stringify(options.initialIndicators ?? [])],
  ];
}

if (import.meta.main) {
  const { main } = await import("./emulator_process_main.ts");
  // Deno.exit: stdin may still be open and pending, which would keep the process alive.
  Deno.exit(await main(Deno.args));
}
