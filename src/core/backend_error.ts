/**
 * A backend that answers but cannot be used, such as a Tenzir node older than
 * the oldest supported version: waiting for it will not help, so the bridge
 * stops instead of retrying.
 */
export class UnsupportedBackendError extends Error {
  override name = "UnsupportedBackendError";
}
