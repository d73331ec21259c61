/**
 * The `transform_context` command: one process per sighting that reads the
 * context JSON on stdin and prints the replacement JSON on stdout.
 */

import {
  type CommandTemplate,
  expandCommand,
  parseCommandTemplate,
  placeholderValues,
} from "../core/command_template.ts";
import { parseEventLine, type Sighting } from "../core/sighting.ts";
import type { Clock, ContextTransformer, Logger } from "../ports.ts";
import { ConcurrencyLimit } from "../async/concurrency_limit.ts";
import { describeExit, runLines } from "./subprocess.ts";

/** Default for {@linkcode TransformRunnerOptions.concurrency}. */
export const DEFAULT_TRANSFORM_CONCURRENCY = 16;
/** Default for {@linkcode TransformRunnerOptions.timeoutMs}: 30 s. */
export const DEFAULT_TRANSFORM_TIMEOUT_MS = 30_000;
/** Default for {@linkcode TransformRunnerOptions.maxOutputBytes}: 16 MiB. */
export const DEFAULT_TRANSFORM_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** Options of {@linkcode createTransformRunner}. */
export interface TransformRunnerOptions {
  /** The `transform_context` template, with `%ioc` and `%matchtype`. */
  readonly template: string;
  readonly logger: Logger;
  /** Transform processes running at once; more sightings wait. */
  readonly concurrency?: number | undefined;
  /** Milliseconds before a transform's process group is killed; 0 means none. */
  readonly timeoutMs?: number | undefined;
  /** Output beyond this many bytes makes the transform fail. */
  readonly maxOutputBytes?: number | undefined;
  /** Measures the timeout; defaults to the system clock. */
  readonly clock?: Clock | undefined;
}

/** A running `transform_context` command. */
export interface TransformRunner extends ContextTransformer {
  readonly template: CommandTemplate;
}

type Outcome = { readonly ok: true; readonly context: unknown } | {
  readonly ok: false;
  readonly reason: string;
};

const MAX_REPORTED_STDERR_CHARS = 2000;

class OutputTooLarge extends Error {}

/**
 * Creates the transformer. Throws at once when the template cannot be split,
 * so a bad config fails at start.
 *
 * `transform` never rejects: when the command cannot start, fails, times
 * out, prints something other than a JSON object, or the signal aborts, the
 * original context is returned and the reason, with the command's stderr, is
 * logged. A broken transform never loses a sighting.
 */
export function createTransformRunner(options: TransformRunnerOptions): TransformRunner {
  const template = parseCommandTemplate(options.template);
  const log = options.logger;
  const limit = new ConcurrencyLimit(options.concurrency ?? DEFAULT_TRANSFORM_CONCURRENCY);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TRANSFORM_TIMEOUT_MS;
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_TRANSFORM_MAX_OUTPUT_BYTES;
  for (const operator of template.shellOperators) {
    log.warning("transform_context contains a shell operator, but no shell is run", {
      operator,
      hint: "wrap the pipeline in sh -c '...'",
    });
  }
  const encoder = new TextEncoder();

  const run = async (args: readonly string[], input: Uint8Array, signal: AbortSignal) => {
    const [program = "", ...rest] = args;
    const lines: string[] = [];
    let bytes = 0;
    const tooLarge = () => new OutputTooLarge(`printed more than ${maxOutputBytes} bytes`);
    try {
      const result = await runLines(program, {
        args: rest,
        input,
        signal,
        timeoutMs,
        maxLineBytes: maxOutputBytes,
        onOversize: () => {
          throw tooLarge();
        },
        onLine: (line) => {
          bytes += line.length + 1;
          if (bytes > maxOutputBytes) throw tooLarge();
          lines.push(line);
        },
        clock: options.clock,
      });
      return judge(result, lines);
    } catch (error) {
      if (error instanceof OutputTooLarge) return { ok: false, reason: error.message } as const;
      throw error;
    }
  };

  return {
    template,
    async transform(context, { ioc, matchType, signal }) {
      const fields = { command: template.words[0], ioc, match_type: matchType };
      let input: Uint8Array;
      try {
        input = encoder.encode(JSON.stringify(context) + "\n");
      } catch (error) {
        log.error("Cannot transform context; delivering the original", {
          ...fields,
          reason: `not serialisable: ${(error as Error).message}`,
        });
        return context;
      }
      const args = expandCommand(template, { ioc, matchType });
      const stop = signal ?? new AbortController().signal;
      let outcome: Outcome;
      try {
        outcome = await limit.run(() => run(args, input, stop), stop);
      } catch (error) {
        log.warning("Transform interrupted; delivering the original context", {
          ...fields,
          reason: error instanceof Error ? error.message : String(error),
        });
        return context;
      }
      if (outcome.ok) return outcome.context;
      log.error("Cannot transform context; delivering the original", {
        ...fields,
        reason: outcome.reason,
      });
      return context;
    },
  };
}

function judge(result: Awaited<ReturnType<typeof runLines>>, lines: readonly string[]): Outcome {
  if (result.kind === "spawn_failed") {
    return { ok: false, reason: `cannot start: ${result.error.message}` };
  }
  if (result.kind === "timeout" || result.code !== 0 || result.signal !== null) {
    return { ok: false, reason: describeExit(result) };
  }
  const output = lines.join("\n");
  const tail = result.stderr.trim().slice(-MAX_REPORTED_STDERR_CHARS);
  const stderr = tail === "" ? "" : ` (stderr: ${tail})`;
  if (output.trim() === "") return { ok: false, reason: `printed nothing${stderr}` };
  // Any JSON layout is fine (`jq` pretty-prints), but a context is an object.
  const parsed = parseEventLine(output);
  if (!parsed.ok) return { ok: false, reason: `printed ${parsed.reason}${stderr}` };
  return { ok: true, context: parsed.event };
}

/**
 * The sighting with its context replaced by `transformer`'s output; `%ioc`
 * and `%matchtype` come from the sighting itself.
 */
export async function transformSighting(
  transformer: ContextTransformer,
  sighting: Sighting,
  signal?: AbortSignal,
): Promise<Sighting> {
  const { ioc, matchType } = placeholderValues(sighting);
  const before = sighting.x_threatbus_sighting_context;
  const after = await transformer.transform(before, {
    ioc,
    matchType,
    signal,
  });
  return after === before ? sighting : { ...sighting, x_threatbus_sighting_context: after };
}
