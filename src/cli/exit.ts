/** Exit codes: 0 clean, 1 failure, 2 usage or config error. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** What `main.ts` hands a long-running subcommand: its shutdown signal and SIGHUP. */
export interface ShutdownSignals {
  /** Aborts on SIGINT, SIGTERM, or SIGHUP when nothing is registered to reopen. */
  readonly signal: AbortSignal;
  /** Registers a listener for SIGHUP (reopen files); returns its removal. */
  readonly onHangup: (listener: () => void) => () => void;
}
