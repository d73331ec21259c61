/**
 * The optional Prometheus endpoint (`metrics.listen`): `GET /metrics` answers
 * with the registry's figures in the Prometheus text format.
 */

import { formatHostAndPort, hostAndPort, parseEndpoint } from "../core/endpoint.ts";
import type { MetricsRegistry } from "../core/metrics.ts";
import { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from "../core/metrics_format.ts";
import type { Clock, Logger } from "../ports.ts";

/** What {@link metricsHandler} reports from. */
export interface MetricsHandlerOptions {
  readonly registry: MetricsRegistry;
  readonly clock: Pick<Clock, "monotonic">;
  /** `clock.monotonic()` when the bridge started; uptime counts from here. */
  readonly startedMonotonic: number;
  readonly version: string;
}

/** The request handler, usable without a socket: `/metrics` or 404. */
export function metricsHandler(options: MetricsHandlerOptions): (request: Request) => Response {
  return (request) => {
    if (new URL(request.url).pathname !== "/metrics") {
      return new Response("Not found; metrics are at /metrics\n", { status: 404 });
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    const { registry } = options;
    const body = formatPrometheus({
      totals: registry.totals(),
      summaries: registry.summaryTotals(),
      gauges: registry.gauges(),
      uptimeSeconds: Math.max(0, options.clock.monotonic() - options.startedMonotonic) / 1000,
      version: options.version,
    });
    return new Response(request.method === "HEAD" ? null : body, {
      headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
    });
  };
}

/** Options for {@link startPrometheusServer}. */
export interface PrometheusServerOptions {
  readonly registry: MetricsRegistry;
  /** `host:port` (`metrics.listen`); IPv6 hosts in brackets; port 0 picks a free port. */
  readonly listen: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly version: string;
  /** Stops the server; in-flight scrapes finish first. */
  readonly signal: AbortSignal;
}

/** A running endpoint. */
export interface PrometheusServer {
  /** The address actually bound (the port is real even when 0 was asked for). */
  readonly hostname: string;
  readonly port: number;
  /** Resolves once the server has stopped after `signal` aborted. */
  readonly finished: Promise<void>;
}

/**
 * Serves `/metrics` on `listen` until `signal` aborts. Throws at once when the
 * address cannot be bound, so a wrong `metrics.listen` fails at start.
 */
export function startPrometheusServer(options: PrometheusServerOptions): PrometheusServer {
  const endpoint = parseEndpoint(options.listen.trim(), { anyPort: true });
  if (endpoint === undefined) {
    throw new TypeError(`Cannot serve metrics on "${options.listen}": expected "host:port"`);
  }
  const { hostname, port } = hostAndPort(endpoint);
  const handler = metricsHandler({
    registry: options.registry,
    clock: options.clock,
    startedMonotonic: options.clock.monotonic(),
    version: options.version,
  });
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname,
      port,
      signal: options.signal,
      // The default prints "Listening on ..." past the logger (and its format and level).
      onListen: () => {},
      onError: (error) => {
        options.logger.error("Cannot answer a metrics request", { error: String(error) });
        return new Response("Internal server error\n", { status: 500 });
      },
    }, handler);
  } catch (error) {
    throw new Error(
      `Cannot serve metrics on "${options.listen}": ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  }
  const bound = server.addr;
  options.logger.info("Serving Prometheus metrics", {
    url: `http://${formatHostAndPort(bound)}/metrics`,
  });
  return { hostname: bound.hostname, port: bound.port, finished: server.finished };
}
