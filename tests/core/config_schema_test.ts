import assert from "node:assert/strict";
import { parse } from "yaml";
import { sightingSource } from "../../src/core/backend_identity.ts";
import { configKeyPaths, ConfigSchema, DEFAULT_CONFIG } from "../../src/core/config_schema.ts";
import { validateConfig } from "../../src/core/config_validate.ts";

function errorsOf(raw: unknown): string[] {
  const result = validateConfig(raw);
  assert.equal(result.ok, false, "expected the config to be rejected");
  return result.ok ? [] : result.errors;
}

function configOf(raw: unknown) {
  const result = validateConfig(raw);
  if (!result.ok) assert.fail(`unexpected errors: ${result.errors.join("; ")}`);
  return result;
}

Deno.test("defaults match the original's documented defaults", () => {
  assert.deepEqual(DEFAULT_CONFIG, {
    logging: {
      console: true,
      console_verbosity: "INFO",
      file: false,
      file_verbosity: "INFO",
      filename: "vast-threatbus.log",
      format: "text",
    },
    metrics: { interval: 10, filename: "metrics.log" },
    backend: "vast",
    vast: "localhost:42000",
    vast_binary: "vast",
    tenzir_endpoint: "localhost:5158",
    tenzir_binary: "tenzir",
    tenzir_context: "threatbus",
    tenzir_connect_timeout: 5,
    threatbus: "localhost:13370",
    threatbus_format: "stix2",
    snapshot: 30,
    live_match: false,
    retro_match: true,
    retro_match_max_events: 0,
    retro_match_timeout: 3600,
    max_background_tasks: 500,
    sink_format: "context",
    // Keys of this program's own, not the original's:
    sink_resend_bytes: 256 * 1024,
    retro_match_retries: 3,
    retro_match_batch_size: 32,
    shutdown_timeout: 10,
    max_message_bytes: 16 * 1024 * 1024,
    max_result_line_bytes: 16 * 1024 * 1024,
    zmtp_heartbeat_interval: 2,
    zmtp_heartbeat_timeout: 6,
    sighting_aggregation: "none",
    live_sightings_per_ioc_per_minute: 0,
    indicator_dedup_window: 86_400,
    indicator_dedup_max_ids: 100_000,
  });
  assert.ok(Object.isFrozen(DEFAULT_CONFIG.logging));
});

Deno.test("ZMTP heartbeats: seconds, the timeout longer than the interval, 0 turns either off", () => {
  const { config } = configOf({ zmtp_heartbeat_interval: 0.5, zmtp_heartbeat_timeout: 1.5 });
  assert.deepEqual([config.zmtp_heartbeat_interval, config.zmtp_heartbeat_timeout], [0.5, 1.5]);
  configOf({ zmtp_heartbeat_interval: 0, zmtp_heartbeat_timeout: 0 });
  configOf({ zmtp_heartbeat_interval: 5, zmtp_heartbeat_timeout: 0 });
  assert.match(
    errorsOf({ zmtp_heartbeat_interval: 5, zmtp_heartbeat_timeout: 5 }).join("\n"),
    /"zmtp_heartbeat_timeout".*longer than zmtp_heartbeat_interval \(5\)/,
  );
  assert.match(errorsOf({ zmtp_heartbeat_interval: -1 }).join("\n"), /zmtp_heartbeat_interval/);
  assert.match(errorsOf({ sink_resend_bytes: 1.5 }).join("\n"), /sink_resend_bytes/);
});

Deno.test("sink_format accepts context or sighting in any case, nothing else", () => {
  assert.equal(configOf({ sink_format: " Sighting " }).config.sink_format, "sighting");
  assert.equal(configOf({ sink_format: "CONTEXT" }).config.sink_format, "context");
  assert.match(errorsOf({ sink_format: "whole" }).join("\n"), /sink_format.*context, sighting/);
});

Deno.test("logging.format accepts text or json in any case, nothing else", () => {
  assert.equal(configOf({ logging: { format: " JSON " } }).config.logging.format, "json");
  assert.equal(configOf({ logging: { format: "text" } }).config.logging.format, "text");
  assert.match(
    errorsOf({ logging: { format: "xml" } }).join("\n"),
    /"logging\.format": got "xml", expected one of text, json/,
  );
});

Deno.test("metrics.listen is an optional host:port", () => {
  assert.equal(configOf({}).config.metrics.listen, undefined);
  assert.equal(configOf({ metrics: { listen: null } }).config.metrics.listen, undefined);
  assert.equal(configOf({ metrics: { listen: "" } }).config.metrics.listen, undefined);
  assert.equal(
    configOf({ metrics: { listen: "127.0.0.1:9090" } }).config.metrics.listen,
    "127.0.0.1:9090",
  );
  assert.equal(configOf({ metrics: { listen: "[::1]:9090" } }).config.metrics.listen, "[::1]:9090");
  for (const listen of ["9090", ":9090", "host:0", 9090]) {
    assert.match(
      errorsOf({ metrics: { listen } }).join("\n"),
      /"metrics\.listen": got .*, expected an endpoint "host:port"/,
    );
  }
});

Deno.test("empty input, null and an empty section all mean defaults", () => {
  assert.deepEqual(configOf(undefined).config, DEFAULT_CONFIG);
  assert.deepEqual(configOf(null).config, DEFAULT_CONFIG);
  assert.deepEqual(configOf({ logging: null, metrics: {} }).config, DEFAULT_CONFIG);
});

Deno.test("a partial section keeps the defaults of its other keys", () => {
  const { config } = configOf({ logging: { file: true } });
  assert.deepEqual(config.logging, { ...DEFAULT_CONFIG.logging, file: true });
});

Deno.test("the original's example config is accepted unchanged", async () => {
  const text = await Deno.readTextFile(
    new URL("../fixtures/original_config.yaml", import.meta.url),
  );
  const result = configOf(parse(text));
  assert.deepEqual(result.warnings, []);
  assert.equal(result.config.retro_match_timeout, 5);
  assert.equal(result.config.matcher_name, "my-matcher");
  assert.equal(result.config.sink, "STDOUT");
  assert.equal(
    result.config.transform_context,
    "fever alertify --alert-prefix 'MY PREFIX' --extra-key my-ioc --ioc %ioc",
  );
  assert.equal(result.config.max_background_tasks, 100);
});

Deno.test("log levels accept any case and normalise to upper case", () => {
  const { config } = configOf({
    logging: { console_verbosity: "debug", file_verbosity: " Warning " },
  });
  assert.equal(config.logging.console_verbosity, "DEBUG");
  assert.equal(config.logging.file_verbosity, "WARNING");
  assert.deepEqual(errorsOf({ logging: { console_verbosity: "verbose" } }), [
    'Cannot use config key "logging.console_verbosity": got "verbose", expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL (any case)',
  ]);
});

Deno.test("bad values name the key, the value and the expectation", () => {
  assert.deepEqual(errorsOf({ retro_match_timeout: "soon" }), [
    'Cannot use config key "retro_match_timeout": got "soon", expected a number ≥ 0 (seconds, 0 = none)',
  ]);
  assert.deepEqual(errorsOf({ snapshot: 1.5 }), [
    'Cannot use config key "snapshot": got 1.5, expected a whole number of days ≥ 0',
  ]);
  assert.deepEqual(errorsOf({ max_background_tasks: 0 }), [
    'Cannot use config key "max_background_tasks": got 0, expected a whole number ≥ 1',
  ]);
  assert.deepEqual(errorsOf({ retro_match: "yes" }), [
    'Cannot use config key "retro_match": got "yes", expected true or false',
  ]);
  assert.deepEqual(errorsOf({ metrics: 5 }), [
    'Cannot use config key "metrics": got 5, expected a mapping of "metrics.*" keys',
  ]);
  assert.deepEqual(errorsOf([1, 2]), [
    "Cannot use configuration: got [1,2], expected a mapping of config keys",
  ]);
});

Deno.test("every problem is reported at once", () => {
  const errors = errorsOf({ snapshot: -1, retro_match_max_events: -2, live_match: true });
  assert.equal(errors.length, 3);
  assert.match(errors[0] ?? "", /"snapshot": got -1/);
  assert.match(errors[1] ?? "", /"retro_match_max_events": got -2/);
  assert.match(errors[2] ?? "", /"matcher_name"/);
});

Deno.test("long offending values are truncated", () => {
  const [error = ""] = errorsOf({ snapshot: "x".repeat(500) });
  assert.ok(error.length < 200, error);
  assert.match(error, /…, expected/);
});

Deno.test("numbers: whole numbers where needed, floats for the timeout", () => {
  assert.equal(configOf({ retro_match_timeout: 0.5 }).config.retro_match_timeout, 0.5);
  assert.equal(configOf({ retro_match_timeout: 0 }).config.retro_match_timeout, 0);
  assert.equal(configOf({ metrics: { interval: 0 } }).config.metrics.interval, 0);
  assert.equal(errorsOf({ retro_match_timeout: -1 }).length, 1);
  assert.equal(errorsOf({ retro_match_max_events: 2.5 }).length, 1);
  assert.equal(errorsOf({ metrics: { interval: -0.1 } }).length, 1);
  assert.equal(configOf(parse("retro_match_timeout: 5.")).config.retro_match_timeout, 5);
});

Deno.test("endpoints must be host:port", () => {
  for (const good of ["localhost:42000", "10.0.0.1:1", "[::1]:13370", "vast.example.org:65535"]) {
    assert.equal(configOf({ vast: good, threatbus: good }).config.vast, good);
  }
  for (
    const bad of ["localhost", "localhost:0", "localhost:70000", "::1:13370", "300.1.1.1:5", ""]
  ) {
    const [error = ""] = errorsOf({ threatbus: bad });
    assert.match(
      error,
      /^Cannot use config key "threatbus": got ".*", expected an endpoint "host:port"/,
    );
  }
});

Deno.test("live_match without matcher_name is an error naming matcher_name", () => {
  assert.deepEqual(errorsOf({ live_match: true }), [
    'Cannot use config key "matcher_name": missing, expected a non-empty matcher name (required when "live_match" is true)',
  ]);
  assert.equal(errorsOf({ live_match: true, matcher_name: "" }).length, 1);
  assert.equal(configOf({ live_match: true, matcher_name: "m" }).config.matcher_name, "m");
});

Deno.test("optional text keys treat null and empty as unset and accept numbers", () => {
  const { config } = configOf({ sink: null, transform_context: "", matcher_name: 42 });
  assert.equal(config.sink, undefined);
  assert.equal(config.transform_context, undefined);
  assert.equal(config.matcher_name, "42");
  assert.equal(errorsOf({ sink: { a: 1 } }).length, 1);
});

Deno.test("unknown keys warn with did-you-mean, nested too", () => {
  const result = configOf({
    retro_match_max_event: 3,
    logging: { consol_verbosity: "DEBUG", colour: true },
    console_verbosity: "DEBUG",
    totally_unrelated: 1,
  });
  assert.deepEqual(result.warnings, [
    'unknown config key "retro_match_max_event" (did you mean "retro_match_max_events"?)',
    'unknown config key "logging.consol_verbosity" (did you mean "logging.console_verbosity"?)',
    'unknown config key "logging.colour"',
    'unknown config key "console_verbosity" (did you mean "logging.console_verbosity"?)',
    'unknown config key "totally_unrelated"',
  ]);
  assert.deepEqual(result.config, DEFAULT_CONFIG);
});

Deno.test("warnings are reported alongside errors", () => {
  const result = validateConfig({ snapshott: 3, snapshot: "x" });
  assert.equal(result.ok, false);
  assert.deepEqual(result.warnings, [
    'unknown config key "snapshott" (did you mean "snapshot"?)',
  ]);
});

Deno.test("the deprecated unflatten key is accepted with a warning", () => {
  const result = configOf({ unflatten: true });
  assert.deepEqual(result.warnings, [
    'config key "unflatten" is deprecated: it has had no effect since 2021.02; remove it',
  ]);
  assert.ok(!configKeyPaths().includes("unflatten"));
});

Deno.test("key paths are derived from the schema, sections included", () => {
  const paths = configKeyPaths();
  assert.ok(paths.includes("logging"));
  assert.ok(paths.includes("logging.console_verbosity"));
  assert.ok(paths.includes("metrics.interval"));
  assert.ok(paths.includes("sink"));
  assert.equal(paths.length, new Set(paths).size);
  // Every top-level schema key except the deprecated one is listed.
  for (const key of Object.keys(ConfigSchema.shape)) {
    if (key !== "unflatten") assert.ok(paths.includes(key), key);
  }
});

Deno.test("backend is vast or tenzir in any case; the tenzir keys have their defaults", () => {
  assert.equal(configOf({ backend: " Tenzir " }).config.backend, "tenzir");
  assert.match(errorsOf({ backend: "splunk" }).join("\n"), /"backend": got "splunk".*vast, tenzir/);
  const tenzir = configOf({
    backend: "tenzir",
    tenzir_endpoint: "[::1]:5158",
    tenzir_binary: "/opt/tenzir/bin/tenzir",
    tenzir_context: 42,
    tenzir_connect_timeout: 2,
  }).config;
  assert.deepEqual(
    [tenzir.tenzir_endpoint, tenzir.tenzir_binary, tenzir.tenzir_context],
    ["[::1]:5158", "/opt/tenzir/bin/tenzir", "42"],
  );
  assert.equal(tenzir.tenzir_connect_timeout, 2);
  for (const timeout of [0, 1.5, "soon"]) {
    assert.match(
      errorsOf({ tenzir_connect_timeout: timeout }).join("\n"),
      /"tenzir_connect_timeout": got .*, expected a whole number of seconds ≥ 1/,
    );
  }
  assert.match(errorsOf({ tenzir_endpoint: "5158" }).join("\n"), /"tenzir_endpoint"/);
  assert.match(errorsOf({ tenzir_context: "" }).join("\n"), /"tenzir_context"/);
});

Deno.test("live matching with tenzir needs no matcher_name: the context has a default", () => {
  assert.equal(
    configOf({ backend: "tenzir", live_match: true }).config.tenzir_context,
    "threatbus",
  );
  assert.match(
    errorsOf({ backend: "vast", live_match: true }).join("\n"),
    /"matcher_name".*required when "live_match" is true/,
  );
});

Deno.test("keys of the backend not chosen get one warning when set to non-defaults", () => {
  const tenzir = configOf({
    backend: "tenzir",
    vast: "vast.example:42000",
    vast_binary: "vast",
    matcher_name: "m",
  });
  assert.deepEqual(tenzir.warnings, [
    'config keys "vast", "matcher_name" have no effect with "backend: tenzir"; remove them',
  ]);
  assert.deepEqual(configOf({ backend: "tenzir", vast: "localhost:42000" }).warnings, []);
  assert.deepEqual(configOf({ tenzir_context: "other" }).warnings, [
    'config key "tenzir_context" has no effect with "backend: vast"; remove it',
  ]);
  assert.deepEqual(configOf({ vast: "vast.example:42000", matcher_name: "m" }).warnings, []);
});

Deno.test("lifecycle durations take units or seconds; bad ones name the key", () => {
  const config = configOf({ indicator_max_age: "30d", indicator_dedup_window: "12h" }).config;
  assert.equal(config.indicator_max_age, 30 * 86_400);
  assert.equal(config.indicator_dedup_window, 12 * 3600);
  assert.equal(configOf({ indicator_dedup_window: 0 }).config.indicator_dedup_window, 0);
  assert.equal(configOf({ indicator_max_age: null }).config.indicator_max_age, undefined);
  assert.equal(DEFAULT_CONFIG.indicator_max_age, undefined, "off by default");
  assert.match(
    errorsOf({ indicator_max_age: "a month" }).join("\n"),
    /"indicator_max_age": got "a month", expected a duration such as 30d/,
  );
  assert.match(errorsOf({ indicator_dedup_window: -1 }).join("\n"), /"indicator_dedup_window"/);
});

Deno.test("sighting_aggregation, the live cap and the dedup memory take only what they mean", () => {
  const config = configOf({
    sighting_aggregation: "PER_QUERY",
    live_sightings_per_ioc_per_minute: 10,
    indicator_dedup_max_ids: 0,
  }).config;
  assert.equal(config.sighting_aggregation, "per_query");
  assert.equal(config.live_sightings_per_ioc_per_minute, 10);
  assert.equal(config.indicator_dedup_max_ids, 0);
  assert.match(errorsOf({ sighting_aggregation: "per_event" }).join("\n"), /none, per_query/);
  assert.match(errorsOf({ live_sightings_per_ioc_per_minute: 1.5 }).join("\n"), /whole number/);
  assert.match(errorsOf({ indicator_dedup_max_ids: -1 }).join("\n"), /indicator_dedup_max_ids/);
});

Deno.test("the sightings' source is the backend's product unless the config names one", () => {
  assert.equal(sightingSource(DEFAULT_CONFIG), "VAST");
  assert.equal(sightingSource(configOf({ backend: "tenzir" }).config), "Tenzir");
  assert.equal(sightingSource(configOf({ backend: "tenzir", source: "mine" }).config), "mine");
  assert.equal(sightingSource(configOf({ source: "vast-bridge-dc1" }).config), "vast-bridge-dc1");
  assert.equal(sightingSource(configOf({ source: "" }).config), "VAST");
  assert.match(errorsOf({ source: [] }).join("\n"), /"source"/);
});
