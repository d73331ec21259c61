/**
 * The per-sighting command sink: a command whose template mentions `%ioc` or
 * `%matchtype` runs once per sighting with the JSON line on stdin, as the
 * original ran every sink command.
 */

import {
  type CommandTemplate,
  expandCommand,
  placeholderValues,
} from "../../core/command_template.ts";
import type { Clock, Logger, Sighting, SightingSink } from "../../ports.ts";
import { ConcurrencyLimit } from "../../async/concurrency_limit.ts";
import { LineWriter } from "./line_writer.ts";
import { describeExit, runLines } from "../subprocess.ts";
import { type SinkFormat, sinkLine } from "./stdout_sink.ts";

/** Default for {@linkcode PerSightingCommandSinkOptions.concurrency}. */
export const DEFAULT_SINK_CONCURRENCY = 16;
/** Default for {@linkcode PerSightingCommandSinkOptions.timeoutMs}: 30 s. */
export const DEFAULT_SINK_TIMEOUT_MS = 30_000;
/** Default for {@linkcode PerSightingCommandSinkOptions.closeTimeoutMs}: 10 s. */
export const DEFAULT_SINK_CLOSE_TIMEOUT_MS = 10_000;
const MAX_OUTPUT_LINE_BYTES = 16 * 1024 * 1024;

/** Options of {@linkcode PerSightingCommandSink}. */
export interface PerSightingCommandSinkOptions {
  readonly template: CommandTemplate;
  readonly logger: Logger;
  /** The commands' output lines are relayed here (our stdout), whole lines only. */
  readonly stdout: WritableStream<Uint8Array>;
  /** Default `context`. */
  readonly format?: SinkFormat | undefined;
  /** Commands running at once; `write` waits for a free slot. */
  readonly concurrency?: number | undefined;
  /** Milliseconds before one command's process group is killed; 0 means none. */
  readonly timeoutMs?: number | undefined;
  /** How long `close()` waits for running commands before killing them. */
  readonly closeTimeoutMs?: number | undefined;
  /** Measures timeouts. */
  readonly clock: Clock;
}

/**
 * Runs the command once per sighting, at most `concurrency` at a time. A
 * command that fails or times out loses its sighting; that is logged with
 * the command's stderr and counted in `failed`.
 */
export class PerSightingCommandSink implements SightingSink {
  readonly #options: PerSightingCommandSinkOptions;
  readonly #format: SinkFormat;
  readonly #limit: ConcurrencyLimit;
  readonly #running = new Set<Promise<void>>();
  readonly #stop = new AbortController();
  readonly #encoder = new TextEncoder();
  #output: LineWriter | undefined;
  #failed = 0;
  #closed: Promise<void> | undefined;

  constructor(options: PerSightingCommandSinkOptions) {
    this.#options = options;
    this.#format = options.format ?? "context";
    this.#limit = new ConcurrencyLimit(options.concurrency ?? DEFAULT_SINK_CONCURRENCY);
  }

  /** Sightings whose command failed, timed out or could not start. */
  get failed(): number {
    return this.#failed;
  }

  /** Resolves once the sighting's command has started (waiting for a free slot first). */
  async write(sighting: Sighting): Promise<void> {
    if (this.#closed !== undefined) throw new Error("Cannot write to the sink: it is closed");
    const release = await this.#limit.acquire(this.#stop.signal);
    const task = this.#deliver(sighting).finally(() => {
      release();
      this.#running.delete(task);
    });
    this.#running.add(task);
  }

  /** Waits for every running command (killing them after `closeTimeoutMs`), then closes stdout. */
  close(): Promise<void> {
    this.#closed ??= this.#finish();
    return this.#closed;
  }

  async #finish(): Promise<void> {
    const done = new AbortController();
    const timeoutMs = this.#options.closeTimeoutMs ?? DEFAULT_SINK_CLOSE_TIMEOUT_MS;
    const deadline = this.#options.clock.sleep(timeoutMs, done.signal).then(
      () => this.#stop.abort(new Error("the sink did not finish in time")),
      () => {},
    );
    while (this.#running.size > 0) await Promise.all(this.#running);
    done.abort();
    await deadline;
    await this.#output?.close();
  }

  async #deliver(sighting: Sighting): Promise<void> {
    const { template, logger } = this.#options;
    const [program = "", ...args] = expandCommand(template, placeholderValues(sighting));
    const fields = { command: program, sighting: sighting.id };
    try {
      const result = await runLines(program, {
        args,
        input: this.#encoder.encode(sinkLine(sighting, this.#format) + "\n"),
        signal: this.#stop.signal,
        timeoutMs: this.#options.timeoutMs ?? DEFAULT_SINK_TIMEOUT_MS,
        maxLineBytes: MAX_OUTPUT_LINE_BYTES,
        onLine: (line) => this.#relay(line),
        clock: this.#options.clock,
      });
      if (result.kind === "spawn_failed") {
        this.#failed++;
        logger.error("Cannot run sink command; sighting lost", {
          ...fields,
          reason: result.error.message,
        });
      } else if (result.kind === "timeout" || result.code !== 0 || result.signal !== null) {
        this.#failed++;
        logger.error("Sink command failed; sighting lost", {
          ...fields,
          reason: describeExit(result),
        });
      }
    } catch (error) {
      this.#failed++;
      logger.error("Sink command stopped; sighting lost", {
        ...fields,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }

  #relay(line: string): Promise<void> {
    this.#output ??= new LineWriter(this.#options.stdout);
    return this.#output.writeLine(line);
  }
}
