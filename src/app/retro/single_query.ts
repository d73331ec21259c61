/**
 * The single-query strategy: one backend query for one job, retried by the
 * matcher while the backend refuses it and nothing was reported yet.
 */

import { backoffDelay } from "../../async/backoff.ts";
import { iocQueryText } from "../../core/ioc.ts";
import { parseEventLine } from "../../core/sighting.ts";
import type { RetroQueryOutcome } from "../../ports.ts";
import {
  type RetroJob,
  type RetroJobEnd,
  retroReports,
  type RetroRun,
  type StartedQuery,
  startQuery,
} from "./job.ts";

/** Counts over every attempt of one job so far. */
export interface SingleQueryTally {
  readonly attempts: number;
  readonly sightings: number;
  readonly skipped: number;
  readonly querySeconds: number;
}

/**
 * How a run of {@linkcode startSingleQuery} ended: for good, to be retried
 * after a wait, or to be run again once the node is back (the attempt that
 * failed while it was down is not counted in `tally`).
 */
export type SingleQueryOutcome =
  | { readonly kind: "done"; readonly end: RetroJobEnd }
  | { readonly kind: "retry"; readonly waitMs: number; readonly tally: SingleQueryTally }
  | { readonly kind: "backend-down"; readonly tally: SingleQueryTally };

/** Why a wait before a retry (or for the node) ended early; the retry is then given up. */
export type RetryInterruption = "withdrawn" | "stopping";

const INTERRUPTIONS: Readonly<Record<RetryInterruption, string>> = {
  withdrawn: "the indicator was withdrawn",
  stopping: "shutting down",
};

/**
 * How one attempt ended: the backend's outcome (only "failed" is retried), an
 * unexpected error such as a bug (never retried), or stopped at shutdown.
 */
type AttemptEnd =
  | RetroQueryOutcome
  | { readonly status: "error"; readonly error: string }
  | { readonly status: "stopped" };

const FRESH: SingleQueryTally = { attempts: 0, sightings: 0, skipped: 0, querySeconds: 0 };

/**
 * Runs one attempt of `job`'s query (after `tally`'s earlier ones), turning
 * every result line into a RETRO sighting. A refused attempt that reported
 * nothing, with retries left, asks to be retried; everything else ends the
 * job, logged and counted. Never rejects unless reporting throws.
 */
export function startSingleQuery(
  job: RetroJob,
  run: RetroRun,
  tally: SingleQueryTally = FRESH,
): StartedQuery<SingleQueryOutcome> {
  return startQuery(async (onStarted) => {
    const counts = { ...tally, attempts: tally.attempts + 1 };
    const end = await attempt(job, run, { counts, onStarted });
    const { retries, retryBackoff } = run.limits;
    // A retry would report the same events again; half a result beats duplicates.
    const reportedNothing = counts.sightings === tally.sightings;
    if (end.status === "failed" && reportedNothing && await run.verifyBackend() === "down") {
      run.log.debug("Retro query failed while the node is down; it waits for the node", {
        indicator: job.indicator.id,
        attempts: tally.attempts,
        detail: end.detail,
      });
      return { kind: "backend-down", tally: { ...counts, attempts: tally.attempts } };
    }
    if (end.status === "failed" && counts.attempts <= retries && reportedNothing) {
      const waitMs = backoffDelay(counts.attempts - 1, retryBackoff);
      run.log.warning("Retro query failed; retrying", {
        indicator: job.indicator.id,
        ioc: iocQueryText(job.query),
        attempt: counts.attempts,
        retries,
        retry_in_s: waitMs / 1000,
        detail: end.detail,
      });
      return { kind: "retry", waitMs, tally: counts };
    }
    return { kind: "done", end: conclude(job, run, counts, end) };
  });
}

/** Ends a job whose wait for a retry was cut short; logs why. */
export function abandonSingleQuery(
  job: RetroJob,
  run: RetroRun,
  tally: SingleQueryTally,
  why: RetryInterruption,
): RetroJobEnd {
  run.log.warning(`Retro query not retried: ${INTERRUPTIONS[why]}`, {
    indicator: job.indicator.id,
    attempts: tally.attempts,
  });
  return conclude(job, run, tally, { status: "stopped" });
}

/** Logs and counts how the job ended. */
function conclude(
  job: RetroJob,
  run: RetroRun,
  tally: SingleQueryTally,
  end: AttemptEnd,
): RetroJobEnd {
  const { metrics, log } = run;
  const { retries } = run.limits;
  const { attempts } = tally;
  const fields = {
    indicator: job.indicator.id,
    ioc: iocQueryText(job.query),
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
  switch (end.status) {
    case "ok":
      log.debug("Retro query finished", fields);
      break;
    case "timeout":
      metrics.count("retro_queries_timed_out");
      log.warning("Retro query timed out; results so far were reported", {
        ...fields,
        detail: end.detail,
      });
      break;
    case "error":
      metrics.count("retro_queries_failed");
      log.error("Retro query failed", { ...fields, error: end.error });
      break;
    case "failed": {
      metrics.count("retro_queries_failed");
      const why = attempts <= retries
        ? "Retro query failed after reporting sightings; not retried, to report none twice"
        : retries === 0
        ? "Retro query failed"
        : `Retro query failed ${attempts} times; giving up`;
      log.error(why, { ...fields, attempts, detail: end.detail });
      break;
    }
    case "stopped":
      break;
  }
  return { status, sightings: tally.sightings, seconds: tally.querySeconds };
}

/** Runs the query once, counting into `counts`; never rejects unless reporting throws. */
async function attempt(
  job: RetroJob,
  run: RetroRun,
  options: {
    readonly counts: { sightings: number; skipped: number; querySeconds: number };
    readonly onStarted: () => void;
  },
): Promise<AttemptEnd> {
  const { backend, clock, log, signal } = run;
  const { counts } = options;
  const reports = retroReports(job, run);
  const started = clock.monotonic();
  let end: AttemptEnd;
  try {
    end = await backend.retro(job.query, {
      maxEvents: run.limits.maxEvents,
      timeoutSeconds: run.limits.timeoutSeconds,
      onStarted: options.onStarted,
      signal,
      onLine: async (line) => {
        if (line.trim() === "") return;
        const parsed = parseEventLine(line);
        if (!parsed.ok) {
          counts.skipped++;
          log.warning("Skipping a result line", {
            indicator: job.indicator.id,
            reason: parsed.reason,
          });
          return;
        }
        counts.sightings++;
        await reports.line(parsed.event, line);
      },
    });
  } catch (error) {
    if (!signal.aborted) {
      end = { status: "error", error: String(error) };
    } else {
      log.warning("Retro query stopped at shutdown", {
        indicator: job.indicator.id,
        sightings: counts.sightings,
      });
      end = { status: "stopped" };
    }
  } finally {
    counts.querySeconds += (clock.monotonic() - started) / 1000;
  }
  // Whatever ended it, the lines it printed count.
  await reports.end();
  return end;
}
