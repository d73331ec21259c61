/**
 * Smoke test of the program as shipped: `--version`, `check`, and a full
 * retro round trip against the project's Threat Bus and `vast` emulators.
 *
 *   deno task smoke dist/vast-threatbus-x86_64-unknown-linux-gnu
 *   deno task smoke --deno-run
 *
 * `--deno-run` runs `src/main.ts` through `deno run` with exactly the
 * permission flags `deno compile` bakes in (RUNTIME_PERMISSIONS), so a
 * missing permission shows up even where no binary can be built.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { fullyQualifiedHostName } from "../src/adapters/metrics_file.ts";
import { escapeTag, MEASUREMENT } from "../src/core/metrics_format.ts";
import { VERSION } from "../src/version.ts";
import { ThreatBusEmulator } from "../tests/emulators/threatbus_emulator.ts";
import { makeVastBinary } from "../tests/emulators/vast_wrapper.ts";
import { EVENTS_FACTS } from "../tests/fixtures/events_facts.ts";
import { RUNTIME_PERMISSIONS, versionProblem } from "./compile_plan.ts";

/** What the smoke script is asked to test. */
export type SmokeArgs =
  | { readonly kind: "binary"; readonly path: string }
  | { readonly kind: "deno-run" }
  | { readonly kind: "help" }
  | { readonly kind: "usage-error"; readonly message: string };

/** Usage of the smoke script, printed for `--help`. */
export const SMOKE_USAGE = `\
Usage: deno task smoke BINARY
       deno task smoke --deno-run

Runs BINARY (or src/main.ts through deno run with the compiled binary's
permission flags) through --version, check and a retro round trip against the
Threat Bus and vast emulators. Exit status 0 when every step passed.`;

/** Parses the smoke script's arguments; never throws. */
export function parseSmokeArgs(args: readonly string[]): SmokeArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        "deno-run": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      kind: "usage-error",
      message: `Cannot parse the arguments: ${(message.split("\n")[0] ?? "").replace(/\.$/, "")}`,
    };
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: "help" };
  if (values["deno-run"]) {
    return positionals.length === 0 ? { kind: "deno-run" } : {
      kind: "usage-error",
      message: `Cannot test both --deno-run and "${positionals[0]}": name one`,
    };
  }
  const [path, ...rest] = positionals;
  if (path === undefined || path === "") {
    return { kind: "usage-error", message: "Cannot smoke-test: name a BINARY or --deno-run" };
  }
  if (rest.length > 0) {
    return { kind: "usage-error", message: `Cannot test more than one binary: "${rest[0]}"` };
  }
  return { kind: "binary", path };
}

/** Where the `deno` executable and the entry point are, for `--deno-run`. */
export interface ProgramPaths {
  readonly deno: string;
  readonly main: string;
}

/**
 * The command line that starts the program under test, before its own
 * arguments. `--no-prompt` makes `deno run` refuse what it was not granted,
 * as a compiled binary does, instead of asking on a terminal.
 */
export function programCommand(
  target: { readonly kind: "binary"; readonly path: string } | { readonly kind: "deno-run" },
  paths: ProgramPaths,
): string[] {
  if (target.kind === "binary") return [target.path];
  return [paths.deno, "run", "--quiet", "--no-prompt", ...RUNTIME_PERMISSIONS, paths.main];
}

/** Settings of a smoke run; every field has a default. */
export interface SmokeOptions {
  /** Receives one line per step; default: stderr. */
  readonly report?: (line: string) => void;
  /** Longest wait for any one step; default 60000. */
  readonly stepTimeoutMs?: number;
}

/** Signs in a log that a permission was missing, whatever the program made of the error. */
const PERMISSION_TRACES =
  /NotCapable|PermissionDenied|Requires \w+ access|run again with the --allow-/;

/** How long the round trip waits for a metrics line (the interval is 1 s). */
const METRICS_WAIT_MS = 5000;

/** The indicator of the round trip, and how many sightings the sample events hold for it. */
const ROUND_TRIP = {
  pattern: "[domain-name:value = 'evil.com']",
  sightings: EVENTS_FACTS.domain.events,
} as const;

/**
 * Runs every step against the program started by `command`; resolves when all
 * passed, rejects with the first failure.
 */
export async function smoke(command: readonly string[], options: SmokeOptions = {}): Promise<void> {
  const report = options.report ?? ((line: string) => console.error(`smoke: ${line}`));
  const timeoutMs = options.stepTimeoutMs ?? 60_000;
  const [program, ...prefix] = command;
  if (program === undefined) throw new TypeError("Cannot smoke-test: empty command");
  const run = (args: readonly string[], extra: { cwd?: string; env?: Record<string, string> }) =>
    runToEnd(program, [...prefix, ...args], { ...extra, timeoutMs });

  const version = await run(["--version"], {});
  const wrong = version.code === 0
    ? versionProblem(version.stdout, VERSION)
    : `it exited with ${version.code}`;
  if (wrong !== undefined) throw stepError("--version", wrong, version.stderr);
  report(`ok --version (${version.stdout.trim()})`);

  const dir = await Deno.makeTempDir({ prefix: "vast-threatbus-smoke-" });
  try {
    await using emulator = await ThreatBusEmulator.start();
    const paths = await writeSetup(dir, emulator);

    const check = await run(["check", "-c", paths.config], { cwd: dir });
    if (check.code !== 0 || PERMISSION_TRACES.test(check.stderr)) {
      throw stepError("check", `it exited with ${check.code}`, check.stdout + check.stderr);
    }
    // ExecStartPre relies on this: a failing check must stop the service from starting.
    const down = await run(["check", "-c", paths.config], {
      cwd: dir,
      env: { VAST_THREATBUS_VAST_BINARY: paths.vastDown },
    });
    if (down.code === 0) {
      throw stepError("check", "it exited with 0 while vast was down", down.stdout + down.stderr);
    }
    report(`ok check (exit 0; exit ${down.code} with vast down)`);

    await roundTrip(program, [...prefix, "-c", paths.config], {
      dir,
      emulator,
      timeoutMs,
      metrics: paths.metrics,
    });
    const logged = await Deno.readTextFile(paths.log).catch(() => "");
    if (logged.trim() === "") {
      throw stepError("retro round trip", `nothing was logged to ${paths.log}`, "");
    }
    report(`ok retro round trip (${ROUND_TRIP.sightings} sightings at the emulator)`);

    report(await checkMetricsHost(paths.metrics));
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Writes the config and the `vast` emulators into `dir`; returns their paths. */
async function writeSetup(dir: string, emulator: ThreatBusEmulator) {
  const vast = await makeVastBinary({ dir });
  await Deno.mkdir(`${dir}/down`);
  const vastDown = await makeVastBinary({ dir: `${dir}/down`, env: { VAST_EMU_DOWN: "1" } });
  const paths = {
    config: `${dir}/config.yaml`,
    log: `${dir}/bridge.log`,
    metrics: `${dir}/metrics.log`,
    vastDown,
  };
  const config = {
    // File logging and metrics make the program write files and read the host name.
    logging: {
      console: true,
      console_verbosity: "DEBUG",
      file: true,
      file_verbosity: "INFO",
      filename: paths.log,
    },
    // The Prometheus endpoint is the one thing that needs --allow-net (ZeroMQ is native).
    metrics: { interval: 1, filename: paths.metrics, listen: `127.0.0.1:${freePort()}` },
    threatbus: emulator.manageEndpoint,
    vast: "127.0.0.1:42000",
    vast_binary: vast,
    snapshot: 0,
    retro_match: true,
    retro_match_timeout: 30,
  };
  await Deno.writeTextFile(paths.config, stringify(config));
  return paths;
}

/**
 * A denied host name does not fail the program: the metrics line then says
 * `host=localhost`. So the tag is compared with what this process, allowed to
 * read the host name, makes of it.
 */
async function checkMetricsHost(path: string): Promise<string> {
  const text = await Deno.readTextFile(path).catch(() => "");
  const line = text.split("\n").find((l) => l.startsWith(`${MEASUREMENT},`));
  if (line === undefined) {
    throw stepError("metrics host tag", `no metrics line within ${METRICS_WAIT_MS} ms`, "");
  }
  const expected = `${MEASUREMENT},host=${escapeTag(fullyQualifiedHostName())} `;
  if (!line.startsWith(expected)) {
    throw stepError("metrics host tag", `expected "${expected}..." in "${line.slice(0, 80)}"`, "");
  }
  return "ok metrics host tag";
}

/** Waits until the metrics file has a line, for at most METRICS_WAIT_MS. */
async function waitForMetrics(path: string): Promise<void> {
  const deadline = Date.now() + METRICS_WAIT_MS;
  while (Date.now() < deadline) {
    const text = await Deno.readTextFile(path).catch(() => "");
    if (text.includes("\n")) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function stepError(step: string, what: string, output: string): Error {
  return new Error(`Cannot pass step "${step}": ${what}${output === "" ? "" : `\n${output}`}`);
}

/** Starts the bridge, publishes one indicator, waits for its sightings, stops it with SIGTERM. */
async function roundTrip(
  program: string,
  args: readonly string[],
  context: { dir: string; emulator: ThreatBusEmulator; timeoutMs: number; metrics: string },
): Promise<void> {
  const { dir, emulator, timeoutMs } = context;
  const child = new Deno.Command(program, {
    args: [...args],
    cwd: dir,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = collect(child);
  let stopped = false;
  const fail = async (what: string, cause?: unknown): Promise<never> => {
    if (!stopped) signal(child, "SIGKILL");
    const { stderr } = await output;
    throw new Error(`Cannot pass step "retro round trip": ${what}\n${stderr}`, { cause });
  };
  let exited = false;
  child.status.then(() => exited = true);
  // Short waits in a loop, so a bridge that died at start fails the step at once.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await emulator.waitForSubscriber({ timeoutMs: 200 });
      break;
    } catch (error) {
      if (exited) return await fail("the bridge exited before it subscribed");
      if (Date.now() > deadline) return await fail("the bridge never subscribed", error);
    }
  }
  const id = `indicator--${crypto.randomUUID()}`;
  await emulator.publishIndicator({
    type: "indicator",
    spec_version: "2.1",
    id,
    created: "2021-04-01T10:00:00.000Z",
    modified: "2021-04-01T10:00:00.000Z",
    pattern: ROUND_TRIP.pattern,
    pattern_type: "stix",
    valid_from: "2021-04-01T10:00:00Z",
  });
  let frames;
  try {
    frames = await emulator.waitForReceived(ROUND_TRIP.sightings, timeoutMs);
  } catch (error) {
    return await fail(`fewer than ${ROUND_TRIP.sightings} sightings arrived`, error);
  }
  for (const frame of frames) {
    const sighting = parseObject(frame.body);
    const fits = frame.topic === "stix2/sighting" && sighting?.type === "sighting" &&
      sighting.sighting_of_ref === id && sighting.x_threatbus_match_type === "RETRO";
    if (!fits) await fail(`unexpected frame ${JSON.stringify(frame.raw.slice(0, 300))}`);
  }
  await waitForMetrics(context.metrics);
  signal(child, "SIGTERM");
  stopped = true;
  const { status, stderr } = await output;
  if (status.code !== 0) await fail(`it exited with ${status.code} after SIGTERM`);
  if (PERMISSION_TRACES.test(stderr)) await fail("its log shows a missing permission");
}

function signal(child: Deno.ChildProcess, name: Deno.Signal): void {
  try {
    child.kill(name);
  } catch {
    // It has exited already; its status tells why.
  }
}

async function collect(
  child: Deno.ChildProcess,
): Promise<{ status: Deno.CommandStatus; stdout: string; stderr: string }> {
  const [status, stdout, stderr] = await Promise.all([
    child.status,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  return { status, stdout, stderr };
}

async function runToEnd(
  program: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs: number },
): Promise<{ code: number; stdout: string; stderr: string }> {
  let output;
  try {
    output = await new Deno.Command(program, {
      args: [...args],
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      env: { NO_COLOR: "1", ...options.env },
      stdin: "null",
      signal: AbortSignal.timeout(options.timeoutMs),
    }).output();
  } catch (error) {
    throw new Error(`Cannot run "${program}" with ${JSON.stringify(args)}: ${error}`, {
      cause: error,
    });
  }
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null
      ? value as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the script with `args`; resolves to the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  const parsed = parseSmokeArgs(args);
  switch (parsed.kind) {
    case "help":
      console.log(SMOKE_USAGE);
      return 0;
    case "usage-error":
      console.error(`smoke: ${parsed.message}`);
      return 2;
  }
  // `deno task` runs in the repository root; INIT_CWD is where the user typed the path.
  const cwd = Deno.env.get("INIT_CWD") ?? Deno.cwd();
  const target = parsed.kind === "binary" ? { ...parsed, path: resolve(cwd, parsed.path) } : parsed;
  const command = programCommand(target, {
    deno: Deno.execPath(),
    main: new URL("../src/main.ts", import.meta.url).pathname,
  });
  try {
    await smoke(command);
  } catch (error) {
    console.error(`smoke: ${(error as Error).message}`);
    return 1;
  }
  console.error(`smoke: passed for ${target.kind === "binary" ? target.path : "deno run"}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
