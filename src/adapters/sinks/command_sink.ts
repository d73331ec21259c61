/**
 * The streaming command sink: one long-lived process (`logger -t
 * vast-threatbus`, a `jq` pipeline) fed one JSON line per sighting on stdin,
 * restarted with backoff whenever it exits.
 */

import type { Logger } from "../../ports.ts";
import { readLines } from "../line_reader.ts";
import type { LineTarget } from "./line_target.ts";
import { ResilientLineWriter } from "./resilient_line_writer.ts";
import { LineSink, type LineSinkOptions } from "./line_sink.ts";

/** Options of {@linkcode CommandSink}. */
export interface CommandSinkOptions extends LineSinkOptions {
  /** Program and arguments, already split; no shell is run. */
  readonly args: readonly string[];
  /** The command's stdout: ours (the default, as in the original) or nowhere. */
  readonly stdout?: "inherit" | "null" | undefined;
}

const MAX_STDERR_LINE_BYTES = 4096;

/**
 * Writes sightings as JSON lines to one process for its whole life. The
 * process runs in its own process group, so a Ctrl-C at the terminal reaches
 * only this program, which then drains the sink before the command sees EOF.
 * A command that dies is restarted and gets the latest `resendBytes` of lines
 * again: at-least-once, so after a crash a reader may see a few lines twice.
 */
export class CommandSink extends LineSink {
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
    const writer = new ResilientLineWriter({
      ...options,
      name,
      connect: () => Promise.resolve().then(spawn),
    });
    super(writer, options.format);
    writer.start(first);
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
