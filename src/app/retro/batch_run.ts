import { attemptBatch, type BatchAttemptOptions } from "./batch_attempt.ts";
import { reportRetroLine, type RetroJob, type RetroRunContext } from "./job.ts";

/** Jobs of a batch that go back to the queue. */
export interface RetroBatchRequeue {
  /** To be queried alone: the batch could not tell their results apart. */
  readonly alone: readonly RetroJob[];
  /** May share a query again: a fallback singled out the others. */
  readonly again: readonly RetroJob[];
}

/** What {@linkcode runRetroBatch} needs; the callbacks belong to the caller's queue. */
export interface RetroBatchContext extends RetroRunContext {
  readonly backend: BatchAttemptOptions["backend"];
  /** Result text the batch holds until it ends. */
  readonly maxBufferBytes: number;
  /** Aborted once jobs may no longer go back to the queue; they then end "stopped". */
  readonly requeueSignal: AbortSignal;
  /**
   * Told which jobs go back to the queue, when any do. Called in the same
   * step as the check of `requeueSignal`, so no drain can come in between.
   */
  readonly requeue: (requeue: RetroBatchRequeue) => void;
}

/**
 * Runs one query for several jobs (all with a printed value) and reports each
 * certain result line for its IoC's indicators; jobs whose lines it cannot
 * tell apart, and all of them when it fails, go back to the queue to be
 * queried alone. Rejects only when a callback throws.
 */
export async function runRetroBatch(
  jobs: readonly RetroJob[],
  ctx: RetroBatchContext,
): Promise<void> {
  const { clock, metrics, log } = ctx;
  // Keyed by printed value: IoCs written differently for one address share results.
  const byValue = new Map<string, RetroJob[]>();
  const printed = (job: RetroJob) => job.printed as string;
  for (const job of jobs) {
    const same = byValue.get(printed(job));
    if (same === undefined) byValue.set(printed(job), [job]);
    else same.push(job);
  }
  const iocs = [...byValue.values()].map((same) => (same[0] as RetroJob).ioc);
  const attempt = await attemptBatch(iocs, {
    backend: ctx.backend,
    clock,
    log,
    timeoutSeconds: ctx.timeoutSeconds,
    onStarted: ctx.onStarted,
    maxBufferBytes: ctx.maxBufferBytes,
    signal: ctx.signal,
  });
  if (attempt.status === "stopped") {
    log.warning("Batched retro query stopped at shutdown", { iocs: iocs.length });
    for (const job of jobs) {
      ctx.finish(job, { status: "stopped", sightings: 0, seconds: attempt.seconds });
    }
    return;
  }
  // After a fallback that singled out the heavy values, the others may share a query again.
  const again: RetroJob[] = [];
  let alone: RetroJob[];
  if (attempt.status === "fallback" && attempt.heavy !== undefined) {
    const { heavy, tainted } = attempt;
    const single = (job: RetroJob) =>
      heavy.has(printed(job)) || tainted?.has(printed(job)) === true;
    alone = jobs.filter(single);
    again.push(...jobs.filter((job) => !single(job)));
    log.info("Batched retro query falls back to one query per heavy IoC", {
      iocs: iocs.length,
      heavy: alone.length,
      reason: attempt.reason,
    });
  } else if (attempt.status === "fallback") {
    alone = [...jobs];
    log.info("Batched retro query falls back to one query per IoC", {
      iocs: iocs.length,
      reason: attempt.reason,
    });
  } else {
    alone = jobs.filter((job) => attempt.tainted.has(printed(job)));
    for (const [value, same] of byValue) {
      if (attempt.tainted.has(value)) continue;
      const lines = attempt.lines.get(value) ?? [];
      for (const job of same) {
        let sightings = 0;
        for (const { line, event } of lines) {
          sightings++;
          await reportRetroLine(job, event, line, ctx);
        }
        metrics.observe("retro_matches_per_ioc", sightings);
        metrics.observe("retro_query_time_per_ioc", attempt.seconds);
        log.debug("Retro query finished", {
          indicator: job.indicator.id,
          ioc: job.ioc.value,
          sightings,
          seconds: Number(attempt.seconds.toFixed(3)),
          batch: iocs.length,
        });
        ctx.finish(job, { status: "ok", sightings, seconds: attempt.seconds });
      }
    }
  }
  if (alone.length === 0 && again.length === 0) return;
  if (ctx.requeueSignal.aborted) {
    for (const job of [...alone, ...again]) {
      ctx.finish(job, { status: "stopped", sightings: 0, seconds: attempt.seconds });
    }
    return;
  }
  ctx.requeue({ alone, again });
}
