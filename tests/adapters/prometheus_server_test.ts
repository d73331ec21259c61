import { equal, match, ok, rejects, throws } from "node:assert/strict";
import { memoryLogger } from "../fakes.ts";
import { metricsHandler, startPrometheusServer } from "../../src/adapters/prometheus_server.ts";
import { MetricsRegistry } from "../../src/core/metrics.ts";
import { FakeClock } from "../fake_clock.ts";

Deno.test("the handler serves /metrics, 404 elsewhere, 405 for other methods", async () => {
  const clock = new FakeClock();
  const registry = new MetricsRegistry();
  registry.count("added_iocs", 2);
  const handler = metricsHandler({
    registry,
    clock,
    startedMonotonic: clock.monotonic(),
    version: "9.9.9",
  });
  await clock.advance(1_500);
  const response = handler(new Request("http://x/metrics"));
  equal(response.status, 200);
  equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await response.text();
  match(text, /^vast_threatbus_added_iocs_total 2$/m);
  match(text, /^vast_threatbus_uptime_seconds 1\.5$/m);
  match(text, /^vast_threatbus_build_info\{version="9\.9\.9"\} 1$/m);

  const head = handler(new Request("http://x/metrics", { method: "HEAD" }));
  equal(head.status, 200);
  equal(await head.text(), "");
  for (const path of ["/", "/metrics/", "/other"]) {
    const missing = handler(new Request(`http://x${path}`));
    equal(missing.status, 404, path);
    await missing.body?.cancel();
  }
  const post = handler(new Request("http://x/metrics", { method: "POST", body: "x" }));
  equal(post.status, 405);
  equal(post.headers.get("allow"), "GET, HEAD");
  await post.body?.cancel();
});

Deno.test("the server answers scrapes over HTTP and stops on abort", async () => {
  const registry = new MetricsRegistry();
  const { logger, records } = memoryLogger();
  const controller = new AbortController();
  const server = startPrometheusServer({
    registry,
    listen: "127.0.0.1:0",
    clock: new FakeClock(),
    logger,
    version: "1.2.3",
    signal: controller.signal,
  });
  try {
    ok(server.port > 0);
    equal(server.hostname, "127.0.0.1");
    equal(records[0]?.message, "Serving Prometheus metrics");
    equal(records[0]?.fields.url, `http://127.0.0.1:${server.port}/metrics`);
    registry.count("sightings_sent", 5);
    registry.observe("retro_query_time_per_ioc", 0.25);
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    equal(response.status, 200);
    const text = await response.text();
    match(text, /^# TYPE vast_threatbus_sightings_sent_total counter$/m);
    match(text, /^vast_threatbus_sightings_sent_total 5$/m);
    match(text, /^vast_threatbus_retro_query_time_per_ioc_seconds_sum 0\.25$/m);
    const missing = await fetch(`http://127.0.0.1:${server.port}/`);
    equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    controller.abort();
    await server.finished;
  }
  await rejects(fetch(`http://127.0.0.1:${server.port}/metrics`));
});

Deno.test("a bad or busy address fails at start", () => {
  const base = {
    registry: new MetricsRegistry(),
    clock: new FakeClock(),
    logger: memoryLogger().logger,
    version: "1",
    signal: new AbortController().signal,
  };
  throws(
    () => startPrometheusServer({ ...base, listen: "9090" }),
    /^TypeError: Cannot serve metrics on "9090": expected "host:port"$/,
  );
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  throws(
    () => startPrometheusServer({ ...base, listen: `127.0.0.1:${listener.addr.port}` }),
    /^Error: Cannot serve metrics on "127\.0\.0\.1:\d+": /,
  );
});

Deno.test("serving prints nothing outside the logger", async () => {
  const code = `
    import { startPrometheusServer } from ${
    JSON.stringify(new URL("../../src/adapters/prometheus_server.ts", import.meta.url).href)
  };
    import { MetricsRegistry } from ${
    JSON.stringify(new URL("../../src/core/metrics.ts", import.meta.url).href)
  };
    const controller = new AbortController();
    const logger = { info() {}, debug() {}, warning() {}, error() {}, critical() {},
      child() { return logger; } };
    const server = startPrometheusServer({ registry: new MetricsRegistry(),
      listen: "127.0.0.1:0", clock: { now: () => 0, monotonic: () => 0,
      sleep: () => Promise.resolve() }, logger, version: "1", signal: controller.signal });
    controller.abort();
    await server.finished;`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  equal(output.code, 0, new TextDecoder().decode(output.stderr));
  equal(new TextDecoder().decode(output.stdout), "");
  equal(new TextDecoder().decode(output.stderr), "");
});
