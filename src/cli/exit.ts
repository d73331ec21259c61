/**
 * The exit statuses of every subcommand, one table: 0 all went well, 1 the
 * work failed (a check, a query, the bridge), 2 the command line or the
 * config cannot be used.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** What `main.ts` hands a long-running subcommand: its shutdown signal and SIGHUP. */
export interface ShutdownSignals {
  /** Aborts on SIGINT, SIGTERM, or SIGHUP when nothing is registered to reopen. */
  readonly signal: AbortSignal;
  /** Registers a listener for SIGHUP (reopen files); returns its removal. */
  readonly onHangup: (listener: () => void) => () => void;
}
