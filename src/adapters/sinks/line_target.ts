/** What a `ResilientLineWriter` writes to, so each sink supplies only how to open one. */

/** Something lines are written to; made by `ResilientLineWriterOptions.connect`. */
export interface LineTarget {
  /** Writes all of `bytes`; a rejection means the target broke. */
  write(bytes: Uint8Array): Promise<void>;
  /** Resolves with a description when the target ends by itself (a process exits). */
  readonly ended?: Promise<string> | undefined;
  /** Ends the target once it has taken everything written; resolves with how it ended. */
  close(): Promise<string | undefined>;
  /** Ends the target at once and releases it; resolves with how it ended. Never rejects. */
  destroy(): Promise<string | undefined>;
}
