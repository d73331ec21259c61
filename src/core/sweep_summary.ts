/**
 * The score of a sweep: what was read, skipped, queried and found, the exit
 * status that follows from it, and how it is shown (progress line, periodic
 * log fields, final summary). Pure: time arrives as numbers.
 */

/** Why an indicator was not queried, in the order the summary lists them. */
export const SKIP_REASONS = [
  "unreadable",
  "invalid-pattern",
  "unsupported-pattern",
  "invalid-value",
  "withdrawn",
  "duplicate",
  "expired",
] as const;
export type SkipReason = typeof SKIP_REASONS[number];

const SKIP_LABELS: Readonly<Record<SkipReason, string>> = {
  unreadable: "unreadable",
  "invalid-pattern": "invalid pattern",
  "unsupported-pattern": "unsupported pattern",
  "invalid-value": "invalid value",
  withdrawn: "withdrawn",
  duplicate: "duplicate IoC",
  expired: "expired",
};

/** How one query ended; "stopped" means killed because the sweep was interrupted. */
export type QueryStatus = "ok" | "timeout" | "failed" | "stopped";

/** A snapshot of a sweep's counters. */
export interface SweepFigures {
  /** Indicators and unusable items read from the source (not other STIX objects). */
  readonly indicatorsRead: number;
  /** STIX objects that are not indicators (identities in a bundle, for example). */
  readonly otherObjects: number;
  readonly skipped: Readonly<Record<SkipReason, number>>;
  /** Distinct IoCs to query: queued, less those withdrawn before they ran. */
  readonly queries: number;
  readonly ok: number;
  readonly failed: number;
  readonly timedOut: number;
  readonly stopped: number;
  readonly sightings: number;
  /** Sightings the sink refused. */
  readonly undelivered: number;
  /** True once the source has nothing more to give. */
  readonly sourceDone: boolean;
  readonly interrupted: boolean;
}

/** Counts a sweep as it runs; `figures()` gives a consistent snapshot. */
export class SweepTally {
  #read = 0;
  #other = 0;
  readonly #skipped = Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<
    SkipReason,
    number
  >;
  #queries = 0;
  readonly #ended: Record<QueryStatus, number> = { ok: 0, timeout: 0, failed: 0, stopped: 0 };
  #sightings = 0;
  #undelivered = 0;
  #sourceDone = false;
  #interrupted = false;

  /** One indicator (or unusable item) read. */
  read(): void {
    this.#read++;
  }

  /** One STIX object that is not an indicator. */
  otherObject(): void {
    this.#other++;
  }

  skip(reason: SkipReason): void {
    this.#skipped[reason]++;
  }

  /** One distinct IoC queued for a query. */
  queue(): void {
    this.#queries++;
  }

  /** Queued queries dropped before they ran (their indicator was withdrawn). */
  cancel(count: number): void {
    this.#queries -= count;
  }

  finish(status: QueryStatus): void {
    this.#ended[status]++;
  }

  /** One sighting produced; `delivered` false when the sink refused it. */
  sighting(delivered: boolean): void {
    this.#sightings++;
    if (!delivered) this.#undelivered++;
  }

  /** Sightings accepted earlier that the sink dropped later (its buffer overflowed). */
  lost(count: number): void {
    this.#undelivered += count;
  }

  sourceFinished(): void {
    this.#sourceDone = true;
  }

  interrupt(): void {
    this.#interrupted = true;
  }

  figures(): SweepFigures {
    return {
      indicatorsRead: this.#read,
      otherObjects: this.#other,
      skipped: { ...this.#skipped },
      queries: this.#queries,
      ok: this.#ended.ok,
      failed: this.#ended.failed,
      timedOut: this.#ended.timeout,
      stopped: this.#ended.stopped,
      sightings: this.#sightings,
      undelivered: this.#undelivered,
      sourceDone: this.#sourceDone,
      interrupted: this.#interrupted,
    };
  }
}

/** Queries that ended, however they ended. */
export function queriesFinished(figures: SweepFigures): number {
  return figures.ok + figures.failed + figures.timedOut + figures.stopped;
}

/** Total of every skip reason. */
export function totalSkipped(figures: SweepFigures): number {
  return SKIP_REASONS.reduce((sum, reason) => sum + figures.skipped[reason], 0);
}

/**
 * 0 when every query succeeded and every sighting was delivered; 1 when a
 * query failed or timed out, a sighting was lost, or the sweep was cut short.
 */
export function sweepExitCode(figures: SweepFigures): 0 | 1 {
  const incomplete = figures.interrupted || figures.stopped > 0 ||
    queriesFinished(figures) < figures.queries;
  return figures.failed + figures.timedOut + figures.undelivered > 0 || incomplete ? 1 : 0;
}

/** Throughput so far and the time still needed, when it can be known. */
export interface SweepPace {
  /** Finished queries per second since the start. */
  readonly perSecond: number;
  /** Seconds until every known query is done; undefined while unknown. */
  readonly etaSeconds: number | undefined;
}

/**
 * The pace after `elapsedMs`: the average rate since the start, and the
 * remaining queries at that rate. No ETA before the first query ends or while
 * the source is still delivering, since the total is not known yet.
 */
export function sweepPace(figures: SweepFigures, elapsedMs: number): SweepPace {
  const done = queriesFinished(figures);
  const seconds = elapsedMs / 1000;
  const perSecond = seconds > 0 ? done / seconds : 0;
  const remaining = Math.max(0, figures.queries - done);
  const etaSeconds = !figures.sourceDone
    ? undefined
    : remaining === 0
    ? 0
    : perSecond > 0
    ? remaining / perSecond
    : undefined;
  return { perSecond, etaSeconds };
}

/** `0.4 s` and `12.3 s` below a minute, then `1:05`, then `1:02:03`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/**
 * The one-line progress shown on a terminal, e.g.
 * `sweep: 120/500 queries, 12.3/s, ETA 0:32, 45 sightings, 2 failed`.
 * While the source still delivers, the total carries a `+`.
 */
export function formatProgressLine(figures: SweepFigures, elapsedMs: number): string {
  const done = queriesFinished(figures);
  const pace = sweepPace(figures, elapsedMs);
  const total = `${figures.queries}${figures.sourceDone ? "" : "+"}`;
  const parts = [
    `sweep: ${done}/${total} queries`,
    `${pace.perSecond.toFixed(1)}/s`,
    pace.etaSeconds === undefined ? "ETA ?" : `ETA ${formatDuration(pace.etaSeconds)}`,
    `${figures.sightings} sightings`,
  ];
  if (figures.failed > 0) parts.push(`${figures.failed} failed`);
  if (figures.timedOut > 0) parts.push(`${figures.timedOut} timed out`);
  return parts.join(", ");
}

/** The fields of a periodic progress log line (when stderr is not a terminal). */
export function progressFields(figures: SweepFigures, elapsedMs: number): Record<string, number> {
  const pace = sweepPace(figures, elapsedMs);
  return {
    done: queriesFinished(figures),
    queries: figures.queries,
    per_second: Number(pace.perSecond.toFixed(2)),
    ...(pace.etaSeconds === undefined ? {} : { eta_s: Math.round(pace.etaSeconds) }),
    sightings: figures.sightings,
    failed: figures.failed,
    timed_out: figures.timedOut,
    indicators_read: figures.indicatorsRead,
  };
}

/** Context of the final summary. */
export interface SummaryOptions {
  readonly durationMs: number;
  /** Where the indicators came from, e.g. `"bundle.json"` or `Threat Bus at host:port`. */
  readonly source: string;
  /** True for `--dry-run`: queries were printed, not run. */
  readonly dryRun?: boolean;
}

/** The multi-line summary printed on stderr at the end of a sweep. */
export function formatSweepSummary(figures: SweepFigures, options: SummaryOptions): string {
  const skipped = totalSkipped(figures);
  const reasons = SKIP_REASONS.filter((r) => figures.skipped[r] > 0)
    .map((r) => `${SKIP_LABELS[r]} ${figures.skipped[r]}`);
  const finished = queriesFinished(figures);
  const other = figures.otherObjects > 0
    ? ` (and ${figures.otherObjects} other STIX objects, ignored)`
    : "";
  const queries = options.dryRun === true
    ? `0 (dry run: ${figures.queries} printed)`
    : `${finished} (failed ${figures.failed}, timed out ${figures.timedOut})`;
  const sightings = figures.undelivered > 0
    ? `${figures.sightings} (undelivered ${figures.undelivered})`
    : `${figures.sightings}`;
  const rows: [string, string][] = [
    ["indicators read", `${figures.indicatorsRead} from ${options.source}${other}`],
    ["skipped", skipped === 0 ? "0" : `${skipped} (${reasons.join(", ")})`],
    ["queries run", queries],
    ["sightings", sightings],
    ["duration", formatDuration(options.durationMs / 1000)],
    ["result", verdict(figures, options.dryRun === true)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 1;
  return [
    "sweep summary:",
    ...rows.map(([label, value]) => `  ${`${label}:`.padEnd(width)} ${value}`),
  ].join("\n");
}

function verdict(figures: SweepFigures, dryRun: boolean): string {
  if (dryRun) return figures.interrupted ? "interrupted" : "dry run, nothing queried";
  const finished = queriesFinished(figures);
  const notRun = Math.max(0, figures.queries - finished) + figures.stopped;
  const problems: string[] = [];
  if (figures.interrupted) problems.push(`interrupted, ${notRun} of ${figures.queries} not run`);
  const bad = figures.failed + figures.timedOut;
  if (bad > 0) problems.push(`${bad} of ${figures.queries} queries failed or timed out`);
  if (figures.undelivered > 0) problems.push(`${figures.undelivered} sightings undelivered`);
  return problems.length === 0 ? "all queries succeeded" : problems.join("; ");
}
