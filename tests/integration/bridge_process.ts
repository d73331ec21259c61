/** The bridge as a child process, its stdout lines and stderr collected as they arrive. */

/** A running bridge process with its output collected as it arrives. */
export class BridgeProcess {
  readonly #child: Deno.ChildProcess;
  readonly #stdoutLines: string[] = [];
  #stderr = "";
  readonly #readers: Promise<void>;
  readonly exited: Promise<Deno.CommandStatus>;

  constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#readers = Promise.all([
      this.#collect(child.stdout, (text) => {
        this.#partial += text;
        const lines = this.#partial.split("\n");
        this.#partial = lines.pop() ?? "";
        this.#stdoutLines.push(...lines);
      }),
      this.#collect(child.stderr, (text) => {
        this.#stderr += text;
      }),
    ]).then(() => undefined);
    this.exited = child.status;
  }
  #partial = "";

  get pid(): number {
    return this.#child.pid;
  }

  /** Complete lines printed on stdout so far. */
  get stdoutLines(): readonly string[] {
    return this.#stdoutLines;
  }

  /** Everything printed on stderr so far (the log). */
  get stderr(): string {
    return this.#stderr;
  }

  async #collect(stream: ReadableStream<Uint8Array>, onText: (text: string) => void) {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) onText(text);
  }

  /** Waits until `predicate` holds for the output; fails with the log after `timeoutMs`. */
  async waitFor(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) {
        throw new Error(`Cannot see ${what} within ${timeoutMs} ms; log:\n${this.#stderr}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Sends `signal` without waiting; false when the process is already gone. */
  signal(signal: Deno.Signal): boolean {
    try {
      this.#child.kill(signal);
      return true;
    } catch {
      return false;
    }
  }

  /** Sends `signal` and waits for exit and for all output. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    try {
      this.#child.kill(signal);
    } catch {
      // Already gone.
    }
    return await this.wait();
  }

  /** Waits for the process to exit by itself and for all output. */
  async wait(): Promise<Deno.CommandStatus> {
    const status = await this.exited;
    await this.#readers;
    return status;
  }
}
