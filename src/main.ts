/**
 * The program entry point: the only place that reads `Deno.args`, owns the
 * shutdown controller, wires OS signals to it and turns errors into exit codes.
 */
import { systemClock } from "./adapters/clock.ts";
import { ConfigError, loadConfig } from "./adapters/config_loader.ts";
import { type ClosableLogger, createLoggerFromConfig } from "./adapters/logger.ts";
import { startBridge } from "./app/wiring.ts";
import { runCheck, systemCheckDeps } from "./cli/check.ts";
import { HELP_TEXT, USAGE_HINT } from "./cli/help.ts";
import { parseCommandLine } from "./cli/parse_args.ts";
import type { Logger } from "./ports.ts";
import { VERSION } from "./version.ts";

/** Exit codes: 0 clean, 1 fatal error, 2 usage or config error. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const SHUTDOWN_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** Runs the command line `args`; resolves to the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  const command = parseCommandLine(args);
  switch (command.kind) {
    case "help":
      console.log(HELP_TEXT);
      return EXIT_OK;
    case "version":
      console.log(`vast-threatbus ${VERSION}`);
      return EXIT_OK;
    case "usage-error":
      console.error(`vast-threatbus: ${command.message}\n${USAGE_HINT}`);
      return EXIT_USAGE;
    case "run":
      return await run(command.configPath);
    case "check":
      return await runCheck(systemCheckDeps(command), command);
  }
}

async function run(configPath: string | undefined): Promise<number> {
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
    return EXIT_USAGE;
  }
  let logger: ClosableLogger;
  try {
    logger = createLoggerFromConfig(loaded.config, clock);
  } catch (error) {
    console.error(`vast-threatbus: ${(error as Error).message}`);
    return EXIT_USAGE;
  }
  const log = logger.child("main");
  for (const warning of loaded.warnings) log.warning(warning);
  log.info(`vast-threatbus ${VERSION} starting`, { config: loaded.source });

  try {
    await withShutdownSignals(
      log,
      (signal, onHangup) =>
        startBridge(
          loaded.config,
          { logger, clock, stdout: Deno.stdout.writable, onHangup },
          signal,
        ),
    );
    log.info("Stopped");
    return EXIT_OK;
  } catch (error) {
    log.critical("Stopped by an error", { error: describe(error) });
    return EXIT_FAILURE;
  } finally {
    logger.close();
  }
}

/**
 * Runs `work` with SIGINT and SIGTERM wired to one abort signal; a second
 * signal exits at once. SIGHUP reopens files (log rotation) when the work
 * registered something to reopen, and otherwise shuts down like SIGTERM.
 */
async function withShutdownSignals<T>(
  log: Logger,
  work: (signal: AbortSignal, onHangup: (listener: () => void) => () => void) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const hangupListeners = new Set<() => void>();
  const shutdown = (name: string) => {
    if (controller.signal.aborted) {
      log.warning(`Received ${name} again; exiting at once`);
      Deno.exit(EXIT_FAILURE);
    }
    log.info(`Received ${name}; shutting down`);
    controller.abort(new Error(`received ${name}`));
  };
  const handlers: [Deno.Signal, () => void][] = [
    ...SHUTDOWN_SIGNALS.map((name) => [name, () => shutdown(name)] as [Deno.Signal, () => void]),
    ["SIGHUP", () => {
      if (hangupListeners.size === 0 || controller.signal.aborted) return shutdown("SIGHUP");
      log.info("Received SIGHUP; reopening files");
      for (const listener of hangupListeners) listener();
    }],
  ];
  for (const [name, handler] of handlers) Deno.addSignalListener(name, handler);
  try {
    return await work(controller.signal, (listener) => {
      hangupListeners.add(listener);
      return () => hangupListeners.delete(listener);
    });
  } finally {
    for (const [name, handler] of handlers) Deno.removeSignalListener(name, handler);
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause === undefined ? "" : ` (cause: ${describe(error.cause)})`;
  return `${error.message}${cause}`;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
