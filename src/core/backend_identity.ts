/** Which backend the config chooses, named for log lines and the `check` report. */

import type { BackendKind, Config } from "./config_schema.ts";

/** The chosen backend: its config word, product name and endpoint. */
export interface BackendIdentity {
  /** `vast` or `tenzir`, the label of its `check` line. */
  readonly kind: BackendKind;
  readonly product: "VAST" | "Tenzir";
  readonly endpoint: string;
}

/** The backend `config` chooses. */
export function backendIdentity(config: Config): BackendIdentity {
  return config.backend === "tenzir"
    ? { kind: "tenzir", product: "Tenzir", endpoint: config.tenzir_endpoint }
    : { kind: "vast", product: "VAST", endpoint: config.vast };
}

/** The backend in log lines, e.g. `VAST at localhost:42000`. */
export function backendName(identity: BackendIdentity): string {
  return `${identity.product} at ${identity.endpoint}`;
}

/** The live matcher's name: Tenzir's lookup table, or VAST's matcher (unset when not configured). */
export function liveMatcherName(config: Config): string | undefined {
  return config.backend === "tenzir" ? config.tenzir_context : config.matcher_name;
}

/**
 * The `x_threatbus_source` of every sighting: the `source` key, else the
 * product of the backend that found the matches (`VAST` or `Tenzir`).
 */
export function sightingSource(config: Config): string {
  return config.source ?? backendIdentity(config).product;
}
