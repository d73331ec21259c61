/**
 * The batching strategy: one backend query for several jobs of one family,
 * each certain result line reported for the jobs it belongs to. Jobs whose
 * lines it cannot tell apart, and all of them when the query fails, go back
 * to the matcher to be queried alone; the sightings are those of one query per
 * job (`core/retro_batch.ts` says why). A reader may skip this file: without
 * it the matcher runs the same jobs one query each.
 */

import { iocQueryText } from "../../core/ioc.ts";
import { attemptBatch } from "./batch_attempt.ts";
import {
  type FinishedJob,
  type RetroJob,
  retroReports,
  type RetroRun,
  type StartedQuery,
  startQuery,
} from "./job.ts";

/** How a batch ended: every job finished, some handed back, or stopped at shutdown. */
export type BatchOutcome =
  | { readonly kind: "done"; readonly finished: readonly FinishedJob[] }
  | {
    readonly kind: "requeue";
    readonly finished: readonly FinishedJob[];
    /** To be queried alone: the batch could not tell their results apart. */
    readonly alone: readonly RetroJob[];
    /** May share a query again: a fallback singled out the others. */
    readonly again: readonly RetroJob[];
    readonly seconds: number;
  }
  | { readonly kind: "stopped"; readonly seconds: number };

/**
 * Runs one query for `jobs` (all with a batch shape). Never rejects unless
 * reporting throws.
 */
export function startBatchQuery(
  jobs: readonly RetroJob[],
  run: RetroRun,
): StartedQuery<BatchOutcome> {
  return startQuery((onStarted) => runBatch(jobs, run, onStarted));
}

async function runBatch(
  jobs: readonly RetroJob[],
  run: RetroRun,
  onStarted: () => void,
): Promise<BatchOutcome> {
  const { metrics, log } = run;
  const tried = await attemptBatch(jobs.map((job) => job.query), run, onStarted);
  if (tried.status === "stopped") {
    log.warning("Batched retro query stopped at shutdown", { iocs: jobs.length });
    return { kind: "stopped", seconds: tried.seconds };
  }
  if (tried.status === "failed" && await run.verifyBackend() === "down") {
    // Not the query's fault: all of them wait, as they were, for the node to be back.
    log.debug("Batched retro query failed while the node is down; it waits for the node", {
      iocs: jobs.length,
      detail: tried.detail,
    });
    return { kind: "requeue", finished: [], alone: [], again: jobs, seconds: tried.seconds };
  }
  const attempt = tried.status === "failed"
    ? {
      status: "fallback" as const,
      reason: `the query failed: ${tried.detail}`,
      seconds: tried.seconds,
    }
    : tried;
  const finished: FinishedJob[] = [];
  if (attempt.status === "fallback") {
    const { heavy, tainted } = attempt;
    // After a fallback that singled out the heavy jobs, the others may share a query again.
    const single = (index: number) =>
      heavy === undefined || heavy.has(index) || tainted?.has(index) === true;
    const alone = jobs.filter((_, index) => single(index));
    log.info(
      heavy === undefined
        ? "Batched retro query falls back to one query per IoC"
        : "Batched retro query falls back to one query per heavy IoC",
      {
        iocs: jobs.length,
        ...(heavy === undefined ? {} : { heavy: alone.length }),
        reason: attempt.reason,
      },
    );
    const again = jobs.filter((_, index) => !single(index));
    return { kind: "requeue", finished, alone, again, seconds: attempt.seconds };
  }
  for (const [index, job] of jobs.entries()) {
    if (attempt.tainted.has(index)) continue;
    const lines = attempt.lines.get(index) ?? [];
    const reports = retroReports(job, run);
    for (const { line, event } of lines) await reports.line(event, line);
    await reports.end();
    metrics.observe("retro_matches_per_ioc", lines.length);
    metrics.observe("retro_query_time_per_ioc", attempt.seconds);
    log.debug("Retro query finished", {
      indicator: job.indicator.id,
      ioc: iocQueryText(job.query),
      sightings: lines.length,
      seconds: Number(attempt.seconds.toFixed(3)),
      batch: jobs.length,
    });
    finished.push({
      job,
      end: { status: "ok", sightings: lines.length, seconds: attempt.seconds },
    });
  }
  const alone = jobs.filter((_, index) => attempt.tainted.has(index));
  if (alone.length === 0) return { kind: "done", finished };
  return { kind: "requeue", finished, alone, again: [], seconds: attempt.seconds };
}
