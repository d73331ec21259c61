/**
 * `vast-threatbus check`: validates the configuration, asks the backend
 * whether it answers (`vast status`, or Tenzir's `remote { version }`) and
 * proves that the Threat Bus manage endpoint answers, without side effects.
 *
 * The report (one line per check) is this command's output, so it goes to
 * stdout where deploy scripts capture it; config warnings go to stderr, and
 * so do the details a person wants (the ZMTP version and heartbeat setting
 * the broker announced), so that scripts still see one line per check.
 */

import { errorReason } from "../core/error_text.ts";
import { ConfigError, loadConfig, type LoadedConfig } from "../adapters/config_loader.ts";
import { commandLogger, composeAdapters, processClock } from "../compose/adapters.ts";
import { EXIT } from "./exit.ts";
import { formatOverrides } from "./format_option.ts";
import { withDeadline } from "../async/deadline.ts";
import { backendIdentity } from "../core/backend_identity.ts";
import type { Config } from "../core/config_schema.ts";
import type { WireFormat } from "../core/wire_codec.ts";
import type { Clock } from "../ports.ts";
import type { ThreatBusLink } from "../adapters/threatbus/probe.ts";
import { describeThreatBusLink } from "./check_link.ts";

/** Seconds the backend and Threat Bus get to answer unless `--timeout` says otherwise. */
export const DEFAULT_CHECK_TIMEOUT_SECONDS = 10;

/** The outside world as `check` sees it. */
export interface CheckDeps {
  /** Finds, reads and validates the config; throws `ConfigError` when unusable. */
  readonly loadConfig: () => Promise<LoadedConfig>;
  /**
   * Resolves when the config's backend answers, to its version where it tells
   * one; rejects with the reason otherwise.
   */
  readonly backendStatus: (config: Config, signal: AbortSignal) => Promise<string | undefined>;
  /**
   * Resolves when the manage endpoint answers the side-effect-free probe,
   * with what it saw of the ZMTP link when it can tell.
   */
  readonly probeThreatBus: (
    config: Config,
    options: { readonly timeoutMs: number; readonly signal: AbortSignal },
  ) => Promise<ThreatBusLink | void>;
  readonly clock: Clock;
  /** Prints one report line. */
  readonly report: (line: string) => void;
  /** Prints one warning about the config. */
  readonly warn: (line: string) => void;
  /** Prints one detail of a check for a person to read (not a verdict). */
  readonly note: (line: string) => void;
}

/** Options for {@link runCheck}. */
export interface CheckOptions {
  /** How long each outside system may take to answer; default 10. */
  readonly timeoutSeconds?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** Runs every check, prints one line each, and resolves to the exit code. */
export async function runCheck(deps: CheckDeps, options: CheckOptions = {}): Promise<number> {
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_CHECK_TIMEOUT_SECONDS;
  const timeoutMs = timeoutSeconds * 1000;
  const parent = options.signal ?? new AbortController().signal;

  let loaded: LoadedConfig;
  try {
    loaded = await deps.loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const warning of error.warnings) deps.warn(warning);
    }
    const reason = error instanceof ConfigError ? error.errors.join("; ") : errorReason(error);
    deps.report(`config: FAILED: ${oneLine(reason)}`);
    // Which backend an unusable config meant is unknown; the default one is named.
    deps.report("vast: SKIPPED: the config is unusable");
    deps.report("threatbus: SKIPPED: the config is unusable");
    return EXIT.usage;
  }
  for (const warning of loaded.warnings) deps.warn(warning);
  deps.report(`config: OK (${loaded.source === "defaults" ? "built-in defaults" : loaded.source})`);

  const { config } = loaded;
  const { kind, product, endpoint } = backendIdentity(config);
  let version: string | undefined;
  // Both run at once so a deploy script waits for the slower one, not the sum.
  let link: ThreatBusLink | void = undefined;
  const [backend, threatBus] = await Promise.all([
    outcome(async () => {
      version = await checkBackend(deps, config, { timeoutSeconds, signal: parent });
    }),
    outcome(async () => {
      link = await deps.probeThreatBus(config, { timeoutMs, signal: parent });
    }),
  ]);
  const which = version === undefined ? product : `${product} ${version}`;
  deps.report(
    backend === undefined
      ? `${kind}: OK (${which} at "${endpoint}" answers)`
      : `${kind}: FAILED: ${backend}`,
  );
  // The probe is the same in both formats; the line says which one the bridge will speak.
  const format = config.threatbus_format === "stix2" ? "" : `; format ${config.threatbus_format}`;
  deps.report(
    threatBus === undefined
      ? `threatbus: OK (Threat Bus at "${config.threatbus}" answers${format})`
      : `threatbus: FAILED: ${threatBus}`,
  );
  if (link !== undefined) deps.note(`threatbus: ${describeThreatBusLink(link, config)}`);
  return backend === undefined && threatBus === undefined ? EXIT.ok : EXIT.failed;
}

/** The backend's status, cut short after the timeout with a reason that says so. */
function checkBackend(
  deps: CheckDeps,
  config: Config,
  options: { readonly timeoutSeconds: number; readonly signal: AbortSignal },
): Promise<string | undefined> {
  const { timeoutSeconds, signal: parent } = options;
  return withDeadline(
    deps.clock,
    { ms: timeoutSeconds * 1000, signal: parent },
    async (signal) => {
      try {
        return await deps.backendStatus(config, signal);
      } catch (error) {
        if (!signal.aborted || parent.aborted) throw error;
        const { product, endpoint } = backendIdentity(config);
        // No cause: it is only our own deadline, which the message already states.
        throw new Error(`no answer from ${product} at "${endpoint}" within ${timeoutSeconds} s`);
      }
    },
  );
}

/** The production adapters, from the composition root; the config is found in the working directory. */
export function systemCheckDeps(
  options: {
    readonly configPath?: string | undefined;
    readonly threatbusFormat?: WireFormat | undefined;
  } = {},
): CheckDeps {
  const clock = processClock();
  const adaptersOf = (config: Config) =>
    composeAdapters(config, {
      clock,
      logger: commandLogger(config, { purpose: "check", clock }),
      stdout: Deno.stdout.writable,
    });
  return {
    loadConfig: () =>
      loadConfig({
        configPath: options.configPath,
        cwd: Deno.cwd(),
        env: Deno.env.toObject(),
        overrides: formatOverrides(options.threatbusFormat),
      }),
    backendStatus: (config, signal) => adaptersOf(config).backendStatus(signal),
    probeThreatBus: (config, { timeoutMs, signal }) =>
      adaptersOf(config).probeThreatBus({ timeoutMs, signal }),
    clock,
    report: (line) => console.log(line),
    warn: (line) => console.error(`vast-threatbus: warning: ${line}`),
    note: (line) => console.error(`vast-threatbus: ${line}`),
  };
}

/** Undefined when `run` succeeds, else the one-line reason. */
async function outcome(run: () => Promise<void>): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (error) {
    return oneLine(errorReason(error));
  }
}

// Subprocess stderr spans lines; the report keeps one line per check.
function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, "; ");
}
