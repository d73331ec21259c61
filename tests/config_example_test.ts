import assert from "node:assert/strict";
import { parse } from "yaml";
import { configKeyPaths, DEFAULT_CONFIG } from "../src/core/config_schema.ts";
import { validateConfig } from "../src/core/config_validate.ts";

const exampleUrl = new URL("../config.yaml.example", import.meta.url);

Deno.test("config.yaml.example parses to exactly the defaults, without warnings", async () => {
  const raw = parse(await Deno.readTextFile(exampleUrl));
  const result = validateConfig(raw);
  if (!result.ok) assert.fail(result.errors.join("\n"));
  assert.deepEqual(result.warnings, []);
  assert.deepEqual(result.config, DEFAULT_CONFIG);
  // The file spells out every default rather than relying on the schema.
  assert.deepEqual(raw, JSON.parse(JSON.stringify(DEFAULT_CONFIG)));
});

Deno.test("config.yaml.example mentions every key, keys without default commented out", async () => {
  const text = await Deno.readTextFile(exampleUrl);
  for (const path of configKeyPaths()) {
    const key = path.split(".").at(-1) ?? path;
    assert.match(text, new RegExp(`^\\s*(# )?${key}:`, "m"), `missing key "${path}"`);
  }
  for (const key of ["matcher_name", "transform_context", "sink"]) {
    assert.match(text, new RegExp(`^# ${key}: `, "m"), key);
  }
});

Deno.test("config.yaml.example has one comment line per key", async () => {
  const lines = (await Deno.readTextFile(exampleUrl)).split("\n");
  for (const [index, line] of lines.entries()) {
    if (!/^\s*[a-z_]+:/.test(line)) continue;
    const previous = lines[index - 1] ?? "";
    const commentedKey = /^\s*# [a-z_]+: /.test(previous);
    assert.ok(previous.trim().startsWith("#") && !commentedKey, `no comment above "${line}"`);
  }
});
