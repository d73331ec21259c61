import { batchValues, candidateValues } from "../../core/retro_batch.ts";
import type { PointIoc } from "../../core/ioc.ts";
import { parseEventLine } from "../../core/sighting.ts";
import type { RetroRun } from "./job.ts";

/** A result line held for its value, with the event parsed from it (parsed once, used twice). */
export interface HeldLine {
  readonly line: string;
  readonly event: Record<string, unknown>;
}

/** How one batched query ended. */
export type BatchAttempt =
  | {
    readonly status: "ok";
    /** Result lines that certainly belong to one value, per value. */
    readonly lines: ReadonlyMap<string, readonly HeldLine[]>;
    /** Values that met a line shared with another value: each must be queried alone. */
    readonly tainted: ReadonlySet<string>;
    readonly skipped: number;
    readonly seconds: number;
  }
  | {
    /**
     * Nothing can be reported from it. Without `heavy`, every IoC is to be
     * queried alone; with it (the results outgrew the buffer), only the values
     * in `heavy` and `tainted` are, and the others may share a query again.
     */
    readonly status: "fallback";
    readonly reason: string;
    readonly heavy?: ReadonlySet<string> | undefined;
    readonly tainted?: ReadonlySet<string> | undefined;
    readonly seconds: number;
  }
  | { readonly status: "stopped"; readonly seconds: number };

/**
 * Runs one query for `iocs` (distinct values) and sorts its result lines by
 * the value each certainly belongs to. Lines are held, not reported, until the
 * query ends, because a later line may show that a value's lines cannot be
 * told apart; a value's held lines are then dropped and it is queried alone.
 * Never rejects.
 */
export async function attemptBatch(
  iocs: readonly PointIoc[],
  run: RetroRun,
  onStarted: () => void,
): Promise<BatchAttempt> {
  const { backend, clock, log, signal } = run;
  // Result text is held (as raw lines; their parsed events come on top) up to this, then the batch gives up.
  const maxBufferBytes = run.limits.batchBufferBytes;
  if (backend.retroAny === undefined) {
    throw new TypeError("Cannot batch retro queries: the backend offers no retroAny");
  }
  const batch = batchValues(iocs);
  const values = batch.values;
  const lines = new Map<string, HeldLine[]>();
  const tainted = new Set<string>();
  const giveUp = new AbortController();
  let reason: string | undefined;
  let held = 0;
  const heldBy = new Map<string, number>();
  let heavy: Set<string> | undefined;
  let skipped = 0;
  const stop = (why: string) => {
    reason ??= why;
    giveUp.abort(new Error(why));
  };
  const started = clock.monotonic();
  const seconds = () => (clock.monotonic() - started) / 1000;
  const fallback = (why: string): BatchAttempt =>
    heavy === undefined
      ? { status: "fallback", reason: why, seconds: seconds() }
      : { status: "fallback", reason: why, heavy, tainted, seconds: seconds() };
  try {
    const outcome = await backend.retroAny(iocs, {
      maxEvents: 0,
      timeoutSeconds: run.limits.timeoutSeconds,
      onStarted,
      signal: AbortSignal.any([signal, giveUp.signal]),
      onLine: (line) => {
        if (line.trim() === "" || giveUp.signal.aborted) return;
        const parsed = parseEventLine(line);
        if (!parsed.ok) {
          skipped++;
          log.warning("Skipping a result line", { iocs: iocs.length, reason: parsed.reason });
          return;
        }
        const found = candidateValues(parsed.event, batch);
        if (found.length === 0) return stop("a result line shows none of the batch's values");
        if (found.length > 1) {
          for (const value of found) tainted.add(value);
          if (tainted.size === values.size) stop("every value shares result lines with another");
          return;
        }
        const value = found[0] as string;
        held += line.length;
        heldBy.set(value, (heldBy.get(value) ?? 0) + line.length);
        if (held > maxBufferBytes) {
          heavy = heavyValues(heldBy, maxBufferBytes);
          return stop(`more than ${maxBufferBytes} bytes of results`);
        }
        const entry = { line, event: parsed.event };
        const kept = lines.get(value);
        if (kept === undefined) lines.set(value, [entry]);
        else kept.push(entry);
      },
    });
    if (reason !== undefined) return fallback(reason);
    if (outcome.status !== "ok") {
      return {
        status: "fallback",
        reason: `the query ${outcome.status === "timeout" ? "timed out" : "failed"}: ${
          outcome.detail ?? "no detail"
        }`,
        seconds: seconds(),
      };
    }
    return { status: "ok", lines, tainted, skipped, seconds: seconds() };
  } catch (error) {
    if (signal.aborted) return { status: "stopped", seconds: seconds() };
    if (reason !== undefined) return fallback(reason);
    return { status: "fallback", reason: `unexpected error: ${error}`, seconds: seconds() };
  }
}

/**
 * The values that hold a large share of a full buffer (hot IoCs), or
 * undefined when none does, in which case no value can be singled out.
 */
function heavyValues(
  heldBy: ReadonlyMap<string, number>,
  maxBytes: number,
): Set<string> | undefined {
  const heavy = new Set<string>();
  for (const [value, bytes] of heldBy) if (bytes * HEAVY_SHARE >= maxBytes) heavy.add(value);
  return heavy.size > 0 ? heavy : undefined;
}

/** A value is heavy when it holds at least 1/HEAVY_SHARE of a full buffer. */
const HEAVY_SHARE = 32;
