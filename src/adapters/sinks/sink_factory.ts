/**
 * Turns the `sink` and `sink_format` settings into a sink (PROTOCOL.md
 * section 5): Threat Bus when unset, `STDOUT`, `file:<path>`, a streaming
 * command, or a per-sighting command when the template has placeholders.
 */

import type { Backoff } from "../../async/backoff.ts";
import { parseCommandTemplate } from "../../core/command_template.ts";
import type { Clock, Logger, Sighting, SightingSink } from "../../ports.ts";
import { CommandSink } from "./command_sink.ts";
import { FileSink } from "./file_sink.ts";
import { PerSightingCommandSink } from "./per_sighting_command_sink.ts";
import { type SinkFormat, streamSink } from "./stdout_sink.ts";

/** The settings that choose the sink (a `Config` fits). */
export interface SinkSettings {
  readonly sink?: string | undefined;
  readonly sink_format?: "context" | "sighting" | undefined;
  /** Bytes of the latest lines sent again to a restarted command or FIFO reader; default 0. */
  readonly sink_resend_bytes?: number | undefined;
}

/** Tuning knobs; every one has a default. */
export interface SinkTuning {
  /** Lines a streaming command or file sink keeps while its target is down. Default 10,000. */
  readonly bufferLines?: number | undefined;
  /** Between restarts of a streaming command or reopens of a file. Default 1 s → 30 s. */
  readonly backoff?: Backoff | undefined;
  /** Per-sighting commands running at once. Default 16. */
  readonly concurrency?: number | undefined;
  /** Milliseconds before a per-sighting command is killed. Default 30 s. */
  readonly timeoutMs?: number | undefined;
  /** How long `close()` may take to deliver what was accepted. Default 10 s. */
  readonly closeTimeoutMs?: number | undefined;
}

/** What the factory cannot make itself. */
export interface SinkParts {
  /** Standard output, for `STDOUT` and the per-sighting commands' output. */
  readonly stdout: WritableStream<Uint8Array>;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Returned when no sink is configured. */
  readonly threatBusSink: SightingSink;
  /**
   * Writes the whole sighting for `sink_format: sighting`: the wire codec's
   * serialiser. Default the STIX-2.1 JSON.
   */
  readonly sightingLine?: ((sighting: Sighting) => string) | undefined;
  readonly tuning?: SinkTuning | undefined;
  /** Told of every line a buffering sink had to drop (its target was down too long). */
  readonly onDropped?: ((lines: number) => void) | undefined;
  /** Told of every line a restarted sink was given again (at-least-once). */
  readonly onResent?: ((lines: number) => void) | undefined;
}

/** Which kind of sink the settings chose. */
export type SinkKind = "threatbus" | "stdout" | "file" | "command" | "per-sighting-command";

/** A configured sink; `reopen` exists for file sinks (call it on SIGHUP). */
export type ConfiguredSink = SightingSink & {
  readonly kind: SinkKind;
  /** Reopens the output file, for log rotation. */
  reopen?(): Promise<void>;
  /** Lines dropped because a buffer overflowed while the target was down. */
  readonly dropped?: number | undefined;
};

const FILE_PREFIX = /^file:/i;

/**
 * Creates the configured sink. Throws at start for what a user must fix: a
 * command line that cannot be split, a command that cannot be started, a file
 * that cannot be opened.
 */
export function createSink(settings: SinkSettings, parts: SinkParts): ConfiguredSink {
  const { sink } = settings;
  const format: SinkFormat = (settings.sink_format ?? "context") === "context"
    ? "context"
    : parts.sightingLine ?? "sighting";
  const tuning = parts.tuning ?? {};
  const log = parts.logger.child("sink");
  if (sink === undefined) return withKind(parts.threatBusSink, "threatbus");
  if (sink.trim().toUpperCase() === "STDOUT") {
    // Deno's own stdout is done with a chunk once its write resolves, so one buffer serves all.
    const reuseBuffer = parts.stdout === Deno.stdout.writable;
    return withKind(streamSink(parts.stdout, { format, reuseBuffer }), "stdout");
  }
  const common = {
    logger: log,
    clock: parts.clock,
    format,
    bufferLines: tuning.bufferLines,
    backoff: tuning.backoff,
    closeTimeoutMs: tuning.closeTimeoutMs,
    onDropped: parts.onDropped,
    onResent: parts.onResent,
    resendBytes: settings.sink_resend_bytes,
  };
  if (FILE_PREFIX.test(sink)) {
    const path = sink.replace(FILE_PREFIX, "");
    if (path === "") throw new Error(`Cannot use sink ${JSON.stringify(sink)}: the path is empty`);
    const file = new FileSink({ ...common, path });
    return {
      kind: "file",
      write: (sighting) => file.write(sighting),
      close: () => file.close(),
      reopen: () => file.reopen(),
      get dropped() {
        return file.dropped;
      },
    };
  }
  let template;
  try {
    template = parseCommandTemplate(sink);
  } catch (error) {
    throw new Error(`Cannot use sink: ${(error as Error).message}`, { cause: error });
  }
  for (const operator of template.shellOperators) {
    log.warning("The sink command contains a shell operator, but no shell is run", {
      operator,
      hint: "wrap the pipeline in sh -c '...'",
    });
  }
  if (template.perSighting) {
    log.info("Sink command runs once per sighting (its template has %ioc or %matchtype)", {
      command: template.words[0],
    });
    const perSighting = new PerSightingCommandSink({
      template,
      logger: log,
      clock: parts.clock,
      stdout: parts.stdout,
      format,
      concurrency: tuning.concurrency,
      timeoutMs: tuning.timeoutMs,
      closeTimeoutMs: tuning.closeTimeoutMs,
    });
    return withKind(perSighting, "per-sighting-command");
  }
  log.info("Sink command runs once and receives every sighting on stdin", {
    command: template.words[0],
  });
  const command = new CommandSink({ ...common, args: template.words });
  return {
    kind: "command",
    write: (sighting) => command.write(sighting),
    close: () => command.close(),
    get dropped() {
      return command.dropped;
    },
  };
}

function withKind(sink: SightingSink, kind: SinkKind): ConfiguredSink {
  return { kind, write: (sighting) => sink.write(sighting), close: () => sink.close() };
}
