/**
 * The program entry point: the only place that reads `Deno.args`, owns the
 * shutdown controller, wires OS signals to it and turns errors into exit codes.
 * Subcommands are imported when they run, so `--version` and `--help` load
 * neither the Threat Bus client nor the config machinery.
 */
import { HELP_TEXT, USAGE_HINT } from "./cli/help.ts";
import { EXIT, type ShutdownSignals } from "./cli/exit.ts";
import { parseCommandLine } from "./cli/parse_args.ts";
import { VERSION } from "./version.ts";

const SHUTDOWN_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** Runs the command line `args`; resolves to the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  const command = parseCommandLine(args);
  switch (command.kind) {
    case "help":
      console.log(HELP_TEXT);
      return EXIT.ok;
    case "version":
      console.log(`vast-threatbus ${VERSION}`);
      return EXIT.ok;
    case "usage-error":
      console.error(`vast-threatbus: ${command.message}\n${USAGE_HINT}`);
      return EXIT.usage;
    case "run": {
      const { runBridgeCommand } = await import("./cli/run.ts");
      return await withShutdownSignals((signals) => runBridgeCommand(command, signals));
    }
    case "check": {
      const { runCheck, systemCheckDeps } = await import("./cli/check.ts");
      return await withShutdownSignals((signals) =>
        runCheck(systemCheckDeps(command), { ...command, signal: signals.signal })
      );
    }
    case "sweep": {
      const { processIo, runSweep } = await import("./cli/sweep.ts");
      return await withShutdownSignals((signals) =>
        runSweep(command.options, processIo(signals.signal))
      );
    }
  }
}

/**
 * Runs `work` with SIGINT and SIGTERM wired to one abort signal; a second
 * signal exits at once. SIGHUP reopens files (log rotation) when the work
 * registered something to reopen, and otherwise shuts down like SIGTERM.
 */
async function withShutdownSignals(work: (signals: ShutdownSignals) => Promise<number>) {
  const controller = new AbortController();
  const hangupListeners = new Set<() => void>();
  const say = (text: string) => console.error(`vast-threatbus: ${text}`);
  const shutdown = (name: string) => {
    if (controller.signal.aborted) {
      say(`received ${name} again; exiting at once`);
      Deno.exit(EXIT.failed);
    }
    controller.abort(new Error(`Received ${name}`));
  };
  const handlers: [Deno.Signal, () => void][] = [
    ...SHUTDOWN_SIGNALS.map((name) => [name, () => shutdown(name)] as [Deno.Signal, () => void]),
    ["SIGHUP", () => {
      if (hangupListeners.size === 0 || controller.signal.aborted) return shutdown("SIGHUP");
      for (const listener of hangupListeners) listener();
    }],
  ];
  for (const [name, handler] of handlers) Deno.addSignalListener(name, handler);
  try {
    return await work({
      signal: controller.signal,
      onHangup: (listener) => {
        hangupListeners.add(listener);
        return () => hangupListeners.delete(listener);
      },
    });
  } finally {
    for (const [name, handler] of handlers) Deno.removeSignalListener(name, handler);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
