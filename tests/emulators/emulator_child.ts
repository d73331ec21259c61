/**
 * One life of an emulator process: spawns it, waits for its ready line, and
 * matches the replies on its stdout to the commands written to its stdin
 * (`emulator_control.ts`). A {@link ThreatBusEmulatorProcess} starts a new
 * one for every (re)start.
 */

import type { ReadyLine, ReplyLine } from "./emulator_control.ts";

/** How to spawn the process. */
export interface EmulatorChildOptions {
  /** Arguments after `deno`. */
  readonly args: readonly string[];
  /** How long the ready line may take. */
  readonly startTimeoutMs: number;
  /** Told everything the process writes to stderr. */
  readonly onStderr: (text: string) => void;
}

interface Pending {
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: Error) => void;
}

/** A spawned emulator process; see the module doc. */
export class EmulatorChild {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #pending = new Map<number, Pending>();
  readonly #ready = Promise.withResolvers<ReadyLine["ready"]>();
  readonly #readers: Promise<void>;
  #info: ReadyLine["ready"] | undefined;
  #nextId = 1;
  #exited = false;
  /** The exit status, once the process is gone and its output read. */
  readonly status: Promise<Deno.CommandStatus>;

  private constructor(options: EmulatorChildOptions) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: [...options.args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#readers = Promise.all([
      this.#readLines(),
      this.#readText(this.#child.stderr, options.onStderr),
    ]).then(() => {});
    this.#ready.promise.catch(() => {});
    this.status = this.#child.status.then(async (status) => {
      this.#exited = true;
      await this.#readers;
      const gone = new Error(
        `Cannot get a reply: the emulator process exited (${describe(status)})`,
      );
      this.#ready.reject(gone);
      for (const pending of this.#pending.values()) pending.reject(gone);
      this.#pending.clear();
      // Nobody reads it any more; closing releases the pipe.
      await this.#writer.close().catch(() => {});
      return status;
    });
  }

  /** Spawns the process and resolves with its ready line; kills it when that does not come. */
  static async spawn(options: EmulatorChildOptions): Promise<EmulatorChild> {
    const child = new EmulatorChild(options);
    const timer = setTimeout(
      () => child.#ready.reject(new Error(`no ready line within ${options.startTimeoutMs} ms`)),
      options.startTimeoutMs,
    );
    try {
      child.#info = await child.#ready.promise;
      return child;
    } catch (error) {
      child.signal("SIGKILL");
      await child.status;
      throw new Error(`Cannot start the emulator process: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** What the ready line said. */
  get ready(): ReadyLine["ready"] {
    if (this.#info === undefined) {
      throw new Error("Cannot read the ports: the process is not ready");
    }
    return this.#info;
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /** Ends stdin, which the process takes as `shutdown`; idempotent. */
  async endInput(): Promise<void> {
    if (!this.#exited) await this.#writer.close().catch(() => {});
  }

  /** Sends a command; resolves with its result, rejects with its error or after `timeoutMs`. */
  async request(op: string, args: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    if (this.#exited) throw new Error(`Cannot send ${op}: the emulator process exited`);
    const id = this.#nextId++;
    const reply = Promise.withResolvers<unknown>();
    this.#pending.set(id, reply);
    const timer = setTimeout(() => {
      this.#pending.delete(id);
      reply.reject(new Error(`Cannot get a reply to ${op}: none within ${timeoutMs} ms`));
    }, timeoutMs);
    try {
      const line = JSON.stringify({ ...args, id, op }) + "\n";
      await this.#writer.write(new TextEncoder().encode(line));
      return await reply.promise;
    } finally {
      clearTimeout(timer);
      this.#pending.delete(id);
    }
  }

  /** Sends `signal`; false when the process is already gone. */
  signal(signal: Deno.Signal): boolean {
    if (this.#exited) return false;
    try {
      this.#child.kill(signal);
      return true;
    } catch {
      return false;
    }
  }

  async #readLines(): Promise<void> {
    let partial = "";
    await this.#readText(this.#child.stdout, (text) => {
      partial += text;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) if (line.trim() !== "") this.#accept(line);
    });
  }

  #accept(line: string): void {
    let value: ReadyLine | ReplyLine;
    try {
      value = JSON.parse(line);
    } catch {
      return; // Not ours: the protocol lines are JSON.
    }
    if ("ready" in value) return this.#ready.resolve(value.ready);
    const pending = value.id === null ? undefined : this.#pending.get(value.id);
    if (pending === undefined) return;
    if (value.ok) pending.resolve(value.result);
    else pending.reject(new Error(value.error));
  }

  async #readText(stream: ReadableStream<Uint8Array>, onText: (text: string) => void) {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) onText(text);
  }
}

function describe(status: Deno.CommandStatus): string {
  return status.signal === null ? `code ${status.code}` : `signal ${status.signal}`;
}
