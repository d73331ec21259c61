import assert from "node:assert/strict";
import { deepMerge, envOverrides, typeEnvValue } from "../../src/core/config_env.ts";

Deno.test("prefixed variables become nested, lowercased keys", () => {
  assert.deepEqual(
    envOverrides({
      VAST_THREATBUS_LOGGING__CONSOLE_VERBOSITY: "DEBUG",
      VAST_THREATBUS_SNAPSHOT: "7",
      VAST_THREATBUS_SINK: "STDOUT",
      HOME: "/root",
      VAST_OTHER: "x",
    }),
    { logging: { console_verbosity: "DEBUG" }, snapshot: 7, sink: "STDOUT" },
  );
});

Deno.test("several variables fill the same section", () => {
  assert.deepEqual(
    envOverrides({
      VAST_THREATBUS_LOGGING__FILE: "TRUE",
      VAST_THREATBUS_LOGGING__FILENAME: "/var/log/x.log",
      VAST_THREATBUS_METRICS__INTERVAL: "2.5",
    }),
    { logging: { file: true, filename: "/var/log/x.log" }, metrics: { interval: 2.5 } },
  );
});

Deno.test("names with empty segments are ignored", () => {
  assert.deepEqual(
    envOverrides({ VAST_THREATBUS_: "1", VAST_THREATBUS_A____B: "1", VAST_THREATBUS___X: "1" }),
    {},
  );
});

Deno.test("a nested override replaces a scalar given for its parent", () => {
  assert.deepEqual(
    envOverrides({ VAST_THREATBUS_LOGGING__FILE: "true", VAST_THREATBUS_LOGGING: "x" }),
    { logging: { file: true } },
  );
});

Deno.test("a __proto__ key in merged input cannot touch prototypes", () => {
  const hostile = JSON.parse('{"__proto__": {"polluted": true}}');
  const merged = deepMerge({}, hostile);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(merged), Object.prototype);
  assert.deepEqual(Object.keys(merged), ["__proto__"]);
});

Deno.test("values are typed by how they look", () => {
  assert.equal(typeEnvValue("true"), true);
  assert.equal(typeEnvValue("FALSE"), false);
  assert.equal(typeEnvValue("True"), true);
  assert.equal(typeEnvValue("42"), 42);
  assert.equal(typeEnvValue("-3"), -3);
  assert.equal(typeEnvValue("0"), 0);
  assert.equal(typeEnvValue("5."), 5);
  assert.equal(typeEnvValue(".5"), 0.5);
  assert.equal(typeEnvValue("3600.0"), 3600);
  assert.equal(typeEnvValue("1e3"), 1000);
  for (
    const text of ["007", "yes", "", "localhost:42000", "1.2.3", "e5", ".", "-", "NaN", "Infinity"]
  ) {
    assert.equal(typeEnvValue(text), text, text);
  }
  assert.equal(typeEnvValue("123456789012345678901234"), "123456789012345678901234");
});

Deno.test("deepMerge lays overrides over nested sections without changing its inputs", () => {
  const base = { logging: { console: true, file: false }, snapshot: 30, list: [1, 2] };
  const override = { logging: { file: true }, snapshot: 0, list: [3] };
  assert.deepEqual(deepMerge(base, override), {
    logging: { console: true, file: true },
    snapshot: 0,
    list: [3],
  });
  assert.deepEqual(base, { logging: { console: true, file: false }, snapshot: 30, list: [1, 2] });
  assert.deepEqual(deepMerge({ logging: 5 }, { logging: { file: true } }), {
    logging: { file: true },
  });
  assert.deepEqual(deepMerge({ logging: { file: true } }, { logging: "x" }), { logging: "x" });
});
