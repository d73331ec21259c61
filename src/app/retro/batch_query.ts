/**
 * The batching strategy: one backend query for several jobs of one family,
 * each certain result line reported for the jobs of its value. Jobs whose
 * lines it cannot tell apart, and all of them when the query fails, go back
 * to the matcher to be queried alone; the sightings are those of one query per
 * job (`core/retro_batch.ts` says why). A reader may skip this file: without
 * it the matcher runs the same jobs one query each.
 */

import { attemptBatch } from "./batch_attempt.ts";
import {
  type FinishedJob,
  reportRetroLine,
  type RetroJob,
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
 * Runs one query for `jobs` (all with a printed value). Never rejects unless
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
  // Keyed by printed value: IoCs written differently for one address share results.
  const byValue = new Map<string, RetroJob[]>();
  const printed = (job: RetroJob) => job.printed as string;
  for (const job of jobs) {
    const same = byValue.get(printed(job));
    if (same === undefined) byValue.set(printed(job), [job]);
    else same.push(job);
  }
  const iocs = [...byValue.values()].map((same) => (same[0] as RetroJob).ioc);
  const attempt = await attemptBatch(iocs, run, onStarted);
  if (attempt.status === "stopped") {
    log.warning("Batched retro query stopped at shutdown", { iocs: iocs.length });
    return { kind: "stopped", seconds: attempt.seconds };
  }
  const finished: FinishedJob[] = [];
  if (attempt.status === "fallback") {
    const { heavy, tainted } = attempt;
    // After a fallback that singled out the heavy values, the others may share a query again.
    const single = (job: RetroJob) =>
      heavy === undefined || heavy.has(printed(job)) || tainted?.has(printed(job)) === true;
    const alone = jobs.filter(single);
    log.info(
      heavy === undefined
        ? "Batched retro query falls back to one query per IoC"
        : "Batched retro query falls back to one query per heavy IoC",
      {
        iocs: iocs.length,
        ...(heavy === undefined ? {} : { heavy: alone.length }),
        reason: attempt.reason,
      },
    );
    const again = jobs.filter((job) => !single(job));
    return { kind: "requeue", finished, alone, again, seconds: attempt.seconds };
  }
  for (const [value, same] of byValue) {
    if (attempt.tainted.has(value)) continue;
    const lines = attempt.lines.get(value) ?? [];
    for (const job of same) {
      for (const { line, event } of lines) await reportRetroLine(job, event, line, run);
      metrics.observe("retro_matches_per_ioc", lines.length);
      metrics.observe("retro_query_time_per_ioc", attempt.seconds);
      log.debug("Retro query finished", {
        indicator: job.indicator.id,
        ioc: job.ioc.value,
        sightings: lines.length,
        seconds: Number(attempt.seconds.toFixed(3)),
        batch: iocs.length,
      });
      finished.push({
        job,
        end: { status: "ok", sightings: lines.length, seconds: attempt.seconds },
      });
    }
  }
  const alone = jobs.filter((job) => attempt.tainted.has(printed(job)));
  if (alone.length === 0) return { kind: "done", finished };
  return { kind: "requeue", finished, alone, again: [], seconds: attempt.seconds };
}
