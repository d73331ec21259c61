/**
 * The streaming command sink: one long-lived process (`logger -t
 * vast-threatbus`, a `jq` pipeline) fed one JSON line per sighting on stdin,
 * restarted with backoff whenever it exits.
 */

import type { Backoff } from "../../async/backoff.ts";
import type { Clock, Logger, Sighting, SightingSink } from "../../ports.ts";
import { readLines } from "../line_reader.ts";
import type { LineTarget } from "./line_target.ts";
import { ResilientLineWriter } from "./resilient_line_writer.ts";
import { type SinkFormat, sinkLine } from "./stdout_sink.ts";

/** Options of {@linkcode CommandSink}. */
export interface CommandSinkOptions {
  /** Program and arguments, already split; no shell is run. */
  readonly args: readonly string[];
  readonly logger: Logger;
  readonly clock: Clock;
  /** Default `context`. */
  readonly format?: SinkFormat | undefined;
  /** Lines kept while the command is down; the oldest beyond are dropped. Default 10,000. */
  readonly bufferLines?: number | undefined;
  /** Between restarts; default 1 s doubling to 30 s. */
  readonly backoff?: Backoff | undefined;
  /** How long `close()` waits for the command to take every line and exit. Default 10 s. */
  readonly closeTimeoutMs?: number | undefined;
  /** Told of every line dropped from a full buffer, for the metrics. */
  readonly onDropped?: ((lines: number) => void) | undefined;
  /** Told of every line written again after a restart, for the metrics. */
  readonly onResent?: ((lines: number) => void) | undefined;
  /** The command's stdout: ours (the default, as in the original) or nowhere. */
  readonly stdout?: "inherit" | "null" | undefined;
  /**
   * Bytes of the latest lines written again to a restarted command: what sat
   * in the pipe (and in the dead command's own buffers) is otherwise lost.
   * Default 0, none (`sink_resend_bytes` sets it).
   */
  readonly resendBytes?: number | undefined;
}

const MAX_STDERR_LINE_BYTES = 4096;

/**
 * Writes sightings as JSON lines to one process for its whole life. The
 * process runs in its own process group, so a Ctrl-C at the terminal reaches
 * only this program, which then drains the sink before the command sees EOF.
 * A command that dies is restarted and gets the latest `resendBytes` of lines
 * again: at-least-once, so after a crash a reader may see a few lines twice.
 */
export class CommandSink implements SightingSink {
  readonly #writer: ResilientLineWriter;
  readonly #format: SinkFormat;

  /** Starts the command at once; throws when it cannot be started (a config mistake). */
  constructor(options: CommandSinkOptions) {
    const program = options.args[0];
    if (program === undefined) throw new Error("Cannot start sink command: it has no words");
    const name = `sink command ${JSON.stringify(program)}`;
    const spawn = () =>
      spawnTarget(options.args, { logger: options.logger, stdout: options.stdout ?? "inherit" });
    let first: LineTarget;
    try {
      first = spawn();
    } catch (error) {
      throw new Error(
        `Cannot start sink command ${JSON.stringify(program)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.#format = options.format ?? "context";
    this.#writer = new ResilientLineWriter({
      name,
      connect: () => Promise.resolve().then(spawn),
      logger: options.logger,
      clock: options.clock,
      bufferLines: options.bufferLines,
      backoff: options.backoff,
      closeTimeoutMs: options.closeTimeoutMs,
      onDropped: options.onDropped,
      onResent: options.onResent,
      resendBytes: options.resendBytes,
    });
    this.#writer.start(first);
  }

  /** Lines dropped because the buffer overflowed while the command was down (a metric). */
  get dropped(): number {
    return this.#writer.dropped;
  }

  /** Lines accepted and not yet written to the command. */
  get pending(): number {
    return this.#writer.pending;
  }

  /** Lines written again to a restarted command. */
  get resent(): number {
    return this.#writer.resent;
  }

  /** Times the command was restarted. */
  get restarts(): number {
    return this.#writer.restarts;
  }

  /** Lines still undelivered when `close()` gave up. */
  get lost(): number {
    return this.#writer.lost;
  }

  write(sighting: Sighting): Promise<void> {
    return this.#writer.writeLine(sinkLine(sighting, this.#format));
  }

  /** Writes everything accepted, closes the command's stdin and waits (bounded) for it to exit. */
  close(): Promise<void> {
    return this.#writer.close();
  }
}

function spawnTarget(
  args: readonly string[],
  options: { readonly logger: Logger; readonly stdout: "inherit" | "null" },
): LineTarget {
  const [program = "", ...rest] = args;
  const child = new Deno.Command(program, {
    args: rest,
    stdin: "piped",
    stdout: options.stdout,
    stderr: "piped",
    detached: true,
  }).spawn();
  const stdin = child.stdin.getWriter();
  const stderrDone = forwardStderr(child.stderr, { logger: options.logger, program });
  const status = child.status.then((s) =>
    s.signal !== null ? `was killed by ${s.signal}` : `exited with code ${s.code}`
  );
  const finished = async () => {
    const how = await status;
    await stderrDone;
    return how;
  };
  let destroyed: Promise<string> | undefined;
  return {
    write: (bytes) => stdin.write(bytes),
    ended: status,
    async close() {
      try {
        await stdin.close();
      } catch {
        // It exited before reading everything; its status says how.
      }
      return await finished();
    },
    destroy() {
      destroyed ??= (async () => {
        try {
          // The whole group: grandchildren may hold the pipes open.
          Deno.kill(-child.pid, "SIGKILL");
        } catch {
          // Already gone.
        }
        await stdin.abort().catch(() => {});
        return await finished();
      })();
      return destroyed;
    },
  };
}

/** Relays the command's stderr to the log line by line, so it reaches the log file too. */
async function forwardStderr(
  stream: ReadableStream<Uint8Array>,
  options: { readonly logger: Logger; readonly program: string },
): Promise<void> {
  try {
    for await (
      const line of readLines(stream, {
        maxLineBytes: MAX_STDERR_LINE_BYTES,
        onOversize: (bytes) =>
          options.logger.warning("Sink command wrote an overlong stderr line", { bytes }),
      })
    ) {
      options.logger.warning("Sink command wrote to stderr", { command: options.program, line });
    }
  } catch {
    // The pipe broke as the process died; nothing more to relay.
  }
}
