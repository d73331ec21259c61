/** The default subcommand: run the bridge as a daemon. */
import { describeError } from "../core/error_text.ts";
import { systemClock } from "../adapters/clock.ts";
import { ConfigError, loadConfig } from "../adapters/config_loader.ts";
import { type ClosableLogger, createLoggerFromConfig } from "../adapters/logger.ts";
import { startBridge } from "../compose/adapters.ts";
import { VERSION } from "../version.ts";
import { EXIT, type ShutdownSignals } from "./exit.ts";

/** Runs the bridge until `signal` aborts; resolves to the exit code. */
export async function runBridgeCommand(
  configPath: string | undefined,
  signals: ShutdownSignals,
): Promise<number> {
  const clock = systemClock();
  let loaded;
  try {
    loaded = await loadConfig({
      ...(configPath === undefined ? {} : { configPath }),
      cwd: Deno.cwd(),
      env: Deno.env.toObject(),
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const warning of error.warnings) console.error(`vast-threatbus: warning: ${warning}`);
    for (const problem of error.errors) console.error(`vast-threatbus: ${problem}`);
    return EXIT.usage;
  }
  let logger: ClosableLogger;
  try {
    logger = createLoggerFromConfig(loaded.config, clock);
  } catch (error) {
    console.error(`vast-threatbus: ${(error as Error).message}`);
    return EXIT.usage;
  }
  const log = logger.child("main");
  for (const warning of loaded.warnings) log.warning(warning);
  log.info(`vast-threatbus ${VERSION} starting`, { config: loaded.source });

  const onAbort = () => log.info(`${describeError(signals.signal.reason)}; shutting down`);
  signals.signal.addEventListener("abort", onAbort, { once: true });
  // A second signal ends the program with Deno.exit, which runs no finally
  // blocks but does dispatch "unload".
  globalThis.addEventListener("unload", killChildProcessGroups);
  const onHangup = (listener: () => void) =>
    signals.onHangup(() => {
      log.info("Received SIGHUP; reopening files");
      listener();
    });
  try {
    await startBridge(
      loaded.config,
      { logger, clock, stdout: Deno.stdout.writable, onHangup },
      signals.signal,
    );
    log.info("Stopped");
    return EXIT.ok;
  } catch (error) {
    log.critical("Stopped by an error", { error: describeError(error) });
    return EXIT.failure;
  } finally {
    globalThis.removeEventListener("unload", killChildProcessGroups);
    signals.signal.removeEventListener("abort", onAbort);
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
