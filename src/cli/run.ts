/** The default subcommand: run the bridge as a daemon. */
import { onAbort } from "../async/abort.ts";
import { describeError } from "../core/error_text.ts";
import { ConfigError, loadConfig } from "../adapters/config_loader.ts";
import type { ClosableLogger } from "../adapters/logger.ts";
import { commandLogger, processClock } from "../compose/adapters.ts";
import { runConfiguredBridge } from "../compose/run_bridge.ts";
import { VERSION } from "../version.ts";
import type { WireFormat } from "../core/wire_codec.ts";
import { EXIT, type ShutdownSignals } from "./exit.ts";
import { formatOverrides } from "./format_option.ts";

/** What `run` is asked for on the command line. */
export interface RunRequest {
  readonly configPath?: string | undefined;
  /** `--threatbus-format`, over the config's `threatbus_format`. */
  readonly threatbusFormat?: WireFormat | undefined;
}

/** Runs the bridge until `signal` aborts; resolves to the exit code. */
export async function runBridgeCommand(
  request: RunRequest,
  signals: ShutdownSignals,
): Promise<number> {
  const clock = processClock();
  let loaded;
  try {
    loaded = await loadConfig({
      configPath: request.configPath,
      cwd: Deno.cwd(),
      env: Deno.env.toObject(),
      overrides: formatOverrides(request.threatbusFormat),
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const warning of error.warnings) console.error(`vast-threatbus: warning: ${warning}`);
    for (const problem of error.errors) console.error(`vast-threatbus: ${problem}`);
    return EXIT.usage;
  }
  let logger: ClosableLogger;
  try {
    logger = commandLogger(loaded.config, { purpose: "run", clock });
  } catch (error) {
    console.error(`vast-threatbus: ${(error as Error).message}`);
    return EXIT.usage;
  }
  const log = logger.child("main");
  for (const warning of loaded.warnings) log.warning(warning);
  log.info(`vast-threatbus ${VERSION} starting`, { config: loaded.source });

  using _announceShutdown = onAbort(
    signals.signal,
    () => log.info(`${describeError(signals.signal.reason)}; shutting down`),
  );
  // A second signal ends the program with Deno.exit, which runs no finally
  // blocks but does dispatch "unload".
  globalThis.addEventListener("unload", killChildProcessGroups);
  const onHangup = (listener: () => void) =>
    signals.onHangup(() => {
      log.info("Received SIGHUP; reopening files");
      listener();
    });
  try {
    await runConfiguredBridge(
      loaded.config,
      { logger, clock, stdout: Deno.stdout.writable, onHangup },
      signals.signal,
    );
    log.info("Stopped");
    return EXIT.ok;
  } catch (error) {
    log.critical("Stopped by an error", { error: describeError(error) });
    return EXIT.failed;
  } finally {
    globalThis.removeEventListener("unload", killChildProcessGroups);
    logger.close();
  }
}

/**
 * Kills what this process started that still runs, when it exits at once: each
 * `vast` query runs in a process group of its own and would otherwise outlive
 * it. Synchronous, as "unload" listeners must be. Deno lets only --allow-all
 * read /proc, so the POSIX `ps` lists the children; without it nothing is killed.
 */
function killChildProcessGroups(): void {
  let listing: string;
  try {
    const output = new Deno.Command("ps", {
      args: ["-A", "-o", "pid=", "-o", "ppid=", "-o", "pgid="],
      stdin: "null",
      stderr: "null",
    }).outputSync();
    if (!output.success) return;
    listing = new TextDecoder().decode(output.stdout);
  } catch {
    return;
  }
  for (const line of listing.split("\n")) {
    const [pid, parent, group] = line.trim().split(/\s+/).map(Number);
    if (pid === undefined || !(pid > 0) || parent !== Deno.pid) continue;
    try {
      Deno.kill(group === pid ? -pid : pid, "SIGKILL");
    } catch {
      // Already gone, like `ps` itself.
    }
  }
}
