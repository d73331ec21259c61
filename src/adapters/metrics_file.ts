/**
 * The metrics file (PROTOCOL.md section 7): every `metrics.interval` seconds,
 * if any metric was touched, one InfluxDB line appended to `metrics.filename`.
 */

import type { MetricsRegistry } from "../core/metrics.ts";
import { formatInfluxLine } from "../core/metrics_format.ts";
import type { Clock, Logger } from "../ports.ts";

/** Options for {@link runMetricsReporting}. */
export interface MetricsReportingOptions {
  readonly registry: MetricsRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Seconds between lines (`metrics.interval`); 0 disables reporting. */
  readonly intervalSeconds: number;
  /** The file lines are appended to (`metrics.filename`), created when missing. */
  readonly filename: string;
  /** The `host` tag, e.g. from {@link fullyQualifiedHostName}. */
  readonly host: string;
  /**
   * Ends reporting after one last line. Abort it once the bridge has stopped,
   * so the figures of the shutdown (drained queries) still reach the file.
   */
  readonly signal: AbortSignal;
  /** Appends text to a file; defaults to `Deno.writeTextFile` with `append`. */
  readonly appendText?: ((path: string, text: string) => Promise<void>) | undefined;
}

/**
 * Writes a metrics line every interval until `signal` aborts, then a final
 * one. Resolves at once when the interval is 0. Never rejects for write
 * failures: metrics must not stop the bridge, so they are logged and the
 * figures of that interval are lost.
 */
export async function runMetricsReporting(options: MetricsReportingOptions): Promise<void> {
  const { registry, clock, logger, filename, host, signal } = options;
  if (!(options.intervalSeconds > 0)) return;
  const intervalMs = options.intervalSeconds * 1000;
  const appendText = options.appendText ?? appendToFile;
  let failing = false;

  const report = async () => {
    if (!registry.touched) return;
    const line = formatInfluxLine(registry.takeSnapshot(), { host, timeMs: clock.now() });
    try {
      await appendText(filename, `${line}\n`);
      if (failing) logger.info("Writing metrics again", { file: filename });
      failing = false;
    } catch (error) {
      // Once per failure streak: a full disk would otherwise log every interval.
      if (!failing) {
        logger.warning("Cannot write metrics; lines are lost until writing works again", {
          file: filename,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      failing = true;
    }
  };

  // Deadlines on the monotonic clock keep lines on a fixed grid instead of drifting.
  let next = clock.monotonic() + intervalMs;
  while (!signal.aborted) {
    try {
      await clock.sleep(Math.max(0, next - clock.monotonic()), signal);
    } catch (error) {
      if (signal.aborted) break;
      throw error;
    }
    await report();
    const now = clock.monotonic();
    next += intervalMs;
    // After a stall (a slow disk, a suspended process) skip the missed ticks.
    if (next <= now) next = now + intervalMs;
  }
  await report();
}

// Opened per line, as the original did, so logrotate can move the file away.
function appendToFile(path: string, text: string): Promise<void> {
  return Deno.writeTextFile(path, text, { append: true, create: true });
}

/** Where {@link fullyQualifiedHostName} looks; each part defaults to the system's. */
export interface HostNameSources {
  readonly hostname?: (() => string) | undefined;
  /** The text of `/etc/hosts`, or undefined when it cannot be read. */
  readonly hostsFile?: (() => string | undefined) | undefined;
}

/**
 * The host tag the original wrote (Python's `socket.getfqdn()`): the system
 * host name, or, when that has no domain, the first dotted name `/etc/hosts`
 * lists for it. Falls back to `localhost` when the name cannot be read.
 */
export function fullyQualifiedHostName(sources: HostNameSources = {}): string {
  let name: string;
  try {
    name = (sources.hostname ?? Deno.hostname)();
  } catch {
    return "localhost";
  }
  if (name === "" || name.includes(".")) return name || "localhost";
  const hosts = (sources.hostsFile ?? readHostsFile)();
  return hosts === undefined ? name : fqdnFromHosts(name, hosts);
}

/** The first dotted name on the first `/etc/hosts` line that lists `name`, else `name`. */
export function fqdnFromHosts(name: string, hostsText: string): string {
  const wanted = name.toLowerCase();
  for (const line of hostsText.split("\n")) {
    const [, ...names] = line.replace(/#.*/, "").trim().split(/\s+/);
    if (!names.some((n) => n.toLowerCase() === wanted)) continue;
    return names.find((n) => n.includes(".")) ?? name;
  }
  return name;
}

function readHostsFile(): string | undefined {
  try {
    return Deno.readTextFileSync("/etc/hosts");
  } catch {
    return undefined;
  }
}
