import type { IocQuery } from "../../core/ioc.ts";
import { attributeLine, batchMembers } from "../../core/retro_batch.ts";
import { parseEventLine } from "../../core/sighting.ts";
import type { RetroRun } from "./job.ts";

/** A result line held for its jobs, with the event parsed from it (parsed once, used twice). */
export interface HeldLine {
  readonly line: string;
  readonly event: Record<string, unknown>;
}

/** How one batched query ended. */
export type BatchAttempt =
  | {
    readonly status: "ok";
    /** Result lines that certainly belong to a job, per job (index of the queries). */
    readonly lines: ReadonlyMap<number, readonly HeldLine[]>;
    /** Jobs that met a line they may or may not have matched: each must be queried alone. */
    readonly tainted: ReadonlySet<number>;
    readonly skipped: number;
    readonly seconds: number;
  }
  | {
    /**
     * Nothing can be reported from it. Without `heavy`, every job is to be
     * queried alone; with it (the results outgrew the buffer), only the jobs
     * in `heavy` and `tainted` are, and the others may share a query again.
     */
    readonly status: "fallback";
    readonly reason: string;
    readonly heavy?: ReadonlySet<number> | undefined;
    readonly tainted?: ReadonlySet<number> | undefined;
    readonly seconds: number;
  }
  /** The backend refused the query (it exited with an error): the node may be down. */
  | { readonly status: "failed"; readonly detail: string; readonly seconds: number }
  | { readonly status: "stopped"; readonly seconds: number };

/**
 * Runs one query for the jobs' `queries` and sorts its result lines by the
 * jobs each certainly belongs to (`core/retro_batch.ts`). Lines are held, not
 * reported, until the query ends, because a later line may show that a job's
 * lines cannot be told apart; its held lines are then dropped and it is
 * queried alone. Never rejects.
 */
export async function attemptBatch(
  queries: readonly IocQuery[],
  run: RetroRun,
  onStarted: () => void,
): Promise<BatchAttempt> {
  const { backend, clock, log, signal } = run;
  // Result text is held (as raw lines; their parsed events come on top) up to this, then the batch gives up.
  const maxBufferBytes = run.limits.batchBufferBytes;
  if (backend.retroAny === undefined) {
    throw new TypeError("Cannot batch retro queries: the backend offers no retroAny");
  }
  const members = batchMembers(queries);
  const lines = new Map<number, HeldLine[]>();
  const tainted = new Set<number>();
  const giveUp = new AbortController();
  let reason: string | undefined;
  let held = 0;
  const heldBy = new Map<number, number>();
  let heavy: Set<number> | undefined;
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
    const outcome = await backend.retroAny(members.query, {
      maxEvents: 0,
      timeoutSeconds: run.limits.timeoutSeconds,
      onStarted,
      signal: AbortSignal.any([signal, giveUp.signal]),
      onLine: (line) => {
        if (line.trim() === "" || giveUp.signal.aborted) return;
        const parsed = parseEventLine(line);
        if (!parsed.ok) {
          skipped++;
          log.warning("Skipping a result line", { iocs: queries.length, reason: parsed.reason });
          return;
        }
        const { certain, uncertain } = attributeLine(parsed.event, members);
        if (certain.length === 0 && uncertain.length === 0) {
          return stop("a result line shows none of the batch's values");
        }
        for (const index of uncertain) tainted.add(index);
        if (tainted.size === queries.length) {
          return stop("every value shares result lines with another");
        }
        const owners = certain.filter((index) => !tainted.has(index));
        if (owners.length === 0) return;
        held += line.length;
        for (const index of owners) heldBy.set(index, (heldBy.get(index) ?? 0) + line.length);
        if (held > maxBufferBytes) {
          heavy = heavyJobs(heldBy, maxBufferBytes);
          return stop(`more than ${maxBufferBytes} bytes of results`);
        }
        const entry = { line, event: parsed.event };
        for (const index of owners) {
          const kept = lines.get(index);
          if (kept === undefined) lines.set(index, [entry]);
          else kept.push(entry);
        }
      },
    });
    if (reason !== undefined) return fallback(reason);
    if (outcome.status === "failed") {
      return { status: "failed", detail: outcome.detail ?? "no detail", seconds: seconds() };
    }
    if (outcome.status !== "ok") {
      return {
        status: "fallback",
        reason: `the query timed out: ${outcome.detail ?? "no detail"}`,
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
 * The jobs that hold a large share of a full buffer (hot IoCs), or undefined
 * when none does, in which case no job can be singled out.
 */
function heavyJobs(
  heldBy: ReadonlyMap<number, number>,
  maxBytes: number,
): Set<number> | undefined {
  const heavy = new Set<number>();
  for (const [index, bytes] of heldBy) if (bytes * HEAVY_SHARE >= maxBytes) heavy.add(index);
  return heavy.size > 0 ? heavy : undefined;
}

/** A job is heavy when it holds at least 1/HEAVY_SHARE of a full buffer. */
const HEAVY_SHARE = 32;
