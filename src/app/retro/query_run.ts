import { parseEventLine } from "../../core/sighting.ts";
import type { Backend, RetroQueryOutcome } from "../../ports.ts";
import { type Backoff, backoffDelay } from "../../async/backoff.ts";
import { reportRetroLine, type RetroJob, type RetroRunContext } from "./job.ts";

/** What {@linkcode runRetroQuery} needs; the callbacks belong to the caller's queue. */
export interface RetroQueryContext extends RetroRunContext {
  readonly backend: Backend;
  readonly maxEvents: number;
  /** Further attempts for a query the backend refused. */
  readonly retries: number;
  readonly retryBackoff: Backoff;
  /** Waits before a retry; resolves to why it was cut short, if it was. */
  readonly backOff: (waitMs: number) => Promise<string | undefined>;
}

/**
 * Runs the query of one job, retrying a refused one while it reported no
 * sighting, turns every result line into a RETRO sighting and logs and counts
 * how it ended. Rejects only when a callback throws.
 */
export async function runRetroQuery(job: RetroJob, ctx: RetroQueryContext): Promise<void> {
  const { metrics, log, retries } = ctx;
  const tally = { sightings: 0, skipped: 0, querySeconds: 0 };
  let attempts = 0;
  let end: AttemptEnd;
  for (;;) {
    attempts++;
    const before = tally.sightings;
    end = await attemptQuery(job, { ...ctx, tally });
    if (end.status !== "failed" || attempts > retries) break;
    // A retry would report the same events again; half a result beats duplicates.
    if (tally.sightings > before) break;
    const waitMs = backoffDelay(attempts - 1, ctx.retryBackoff);
    log.warning("Retro query failed; retrying", {
      indicator: job.indicator.id,
      ioc: job.ioc.value,
      attempt: attempts,
      retries,
      retry_in_s: waitMs / 1000,
      detail: end.detail,
    });
    const interrupted = await ctx.backOff(waitMs);
    if (interrupted !== undefined) {
      log.warning(`Retro query not retried: ${interrupted}`, {
        indicator: job.indicator.id,
        attempts,
      });
      end = { status: "stopped" };
      break;
    }
  }
  const fields = {
    indicator: job.indicator.id,
    ioc: job.ioc.value,
    sightings: tally.sightings,
    skipped: tally.skipped,
    seconds: Number(tally.querySeconds.toFixed(3)),
    ...(attempts > 1 ? { attempts } : {}),
  };
  const status = end.status === "error" ? "failed" : end.status;
  if (status !== "stopped") {
    metrics.observe("retro_matches_per_ioc", tally.sightings);
    metrics.observe("retro_query_time_per_ioc", tally.querySeconds);
  }
  if (end.status === "ok") log.debug("Retro query finished", fields);
  else if (end.status === "timeout") {
    metrics.count("retro_queries_timed_out");
    log.warning("Retro query timed out; results so far were reported", {
      ...fields,
      detail: end.detail,
    });
  } else if (end.status === "error") {
    metrics.count("retro_queries_failed");
    log.error("Retro query failed", { ...fields, error: end.error });
  } else if (end.status === "failed") {
    metrics.count("retro_queries_failed");
    const why = attempts <= retries
      ? "Retro query failed after reporting sightings; not retried, to report none twice"
      : retries === 0
      ? "Retro query failed"
      : `Retro query failed ${attempts} times; giving up`;
    log.error(why, { ...fields, attempts, detail: end.detail });
  }
  ctx.finish(job, { status, sightings: tally.sightings, seconds: tally.querySeconds });
}

/**
 * How one attempt ended: the backend's outcome (only "failed" is retried), an
 * unexpected error such as a bug (never retried), or stopped at shutdown.
 */
type AttemptEnd =
  | RetroQueryOutcome
  | { readonly status: "error"; readonly error: string }
  | { readonly status: "stopped" };

interface AttemptOptions extends RetroQueryContext {
  /** Counts of all attempts so far, added to as this one runs. */
  readonly tally: { sightings: number; skipped: number; querySeconds: number };
}

/** Runs the query once, counting into `tally`; never rejects. */
async function attemptQuery(job: RetroJob, options: AttemptOptions): Promise<AttemptEnd> {
  const { backend, clock, log, tally } = options;
  const started = clock.monotonic();
  try {
    return await backend.retro(job.ioc, {
      maxEvents: options.maxEvents,
      timeoutSeconds: options.timeoutSeconds,
      onStarted: options.onStarted,
      signal: options.signal,
      onLine: async (line) => {
        if (line.trim() === "") return;
        const parsed = parseEventLine(line);
        if (!parsed.ok) {
          tally.skipped++;
          log.warning("Skipping a result line", {
            indicator: job.indicator.id,
            reason: parsed.reason,
          });
          return;
        }
        tally.sightings++;
        await reportRetroLine(job, parsed.event, line, options);
      },
    });
  } catch (error) {
    if (!options.signal.aborted) return { status: "error", error: String(error) };
    log.warning("Retro query stopped at shutdown", {
      indicator: job.indicator.id,
      sightings: tally.sightings,
    });
    return { status: "stopped" };
  } finally {
    tally.querySeconds += (clock.monotonic() - started) / 1000;
  }
}
