/**
 * Errors as text for log fields, reports and messages: the two ways this
 * program shows an error and its causes, so every place says it the same way.
 */

/** How deep a chain of causes is followed; deeper ones add nothing a reader can use. */
const MAX_CAUSES = 3;

/** Options of {@linkcode describeError}. */
export interface DescribeErrorOptions {
  /** Prefix each message with the error's class name (`TypeError: …`), for logs. Default false. */
  readonly names?: boolean;
}

/**
 * The whole story in one line: the message, then each cause in parentheses,
 * `Cannot write (cause: EPIPE)`.
 */
export function describeError(error: unknown, options: DescribeErrorOptions = {}): string {
  const text = (value: unknown) =>
    value instanceof Error
      ? (options.names === true ? `${value.name}: ${value.message}` : value.message)
      : String(value);
  let description = text(error);
  let cause = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; depth < MAX_CAUSES && cause !== undefined; depth++) {
    description += ` (cause: ${text(cause)})`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return description;
}

/**
 * A short reason: the message, followed by `: ` and the direct cause's
 * message when the message does not already say it.
 */
export function errorReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (!(cause instanceof Error) || error.message.includes(cause.message)) return error.message;
  return `${error.message}: ${cause.message}`;
}
