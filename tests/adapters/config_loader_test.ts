import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../../src/adapters/config_loader.ts";
import { DEFAULT_CONFIG } from "../../src/core/config_schema.ts";

async function withTempDir(
  files: Record<string, string>,
  body: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "config_loader_test_" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error;
  }
  assert.fail("expected loadConfig to throw");
}

Deno.test("no file and no environment means defaults", async () => {
  await withTempDir({}, async (cwd) => {
    const loaded = await loadConfig({ cwd, env: {} });
    assert.equal(loaded.source, "defaults");
    assert.deepEqual(loaded.config, DEFAULT_CONFIG);
    assert.deepEqual(loaded.warnings, []);
  });
});

Deno.test("environment variables apply on top of defaults", async () => {
  await withTempDir({}, async (cwd) => {
    const loaded = await loadConfig({
      cwd,
      env: { VAST_THREATBUS_SNAPSHOT: "3", VAST_THREATBUS_LOGGING__CONSOLE_VERBOSITY: "debug" },
    });
    assert.equal(loaded.source, "defaults");
    assert.equal(loaded.config.snapshot, 3);
    assert.equal(loaded.config.logging.console_verbosity, "DEBUG");
  });
});

Deno.test("config.yaml is preferred over config.yml, with a warning", async () => {
  await withTempDir(
    { "config.yaml": "snapshot: 1\n", "config.yml": "snapshot: 2\n" },
    async (cwd) => {
      const loaded = await loadConfig({ cwd, env: {} });
      assert.equal(loaded.source, `${cwd}/config.yaml`);
      assert.equal(loaded.config.snapshot, 1);
      assert.deepEqual(loaded.warnings, [
        `ignoring "${cwd}/config.yml" because "${cwd}/config.yaml" exists`,
      ]);
    },
  );
});

Deno.test("config.yml is found when there is no config.yaml", async () => {
  await withTempDir({ "config.yml": "snapshot: 2\n" }, async (cwd) => {
    const loaded = await loadConfig({ cwd, env: {} });
    assert.equal(loaded.source, `${cwd}/config.yml`);
    assert.equal(loaded.config.snapshot, 2);
  });
});

Deno.test("-c wins over discovery, relative to cwd", async () => {
  await withTempDir(
    { "config.yaml": "snapshot: 1\n", "other.YML": "snapshot: 5\n" },
    async (cwd) => {
      const loaded = await loadConfig({ cwd, env: {}, configPath: "other.YML" });
      assert.equal(loaded.source, `${cwd}/other.YML`);
      assert.equal(loaded.config.snapshot, 5);
      const absolute = await loadConfig({
        cwd: "/nonexistent",
        env: {},
        configPath: `${cwd}/other.YML`,
      });
      assert.equal(absolute.config.snapshot, 5);
    },
  );
});

Deno.test("-c with a wrong extension is an error", async () => {
  await withTempDir({ "config.json": "{}" }, async (cwd) => {
    const error = await configError(loadConfig({ cwd, env: {}, configPath: "config.json" }));
    assert.deepEqual(error.errors, [
      'Cannot use config file "config.json": the name must end in .yaml or .yml',
    ]);
  });
});

Deno.test("-c naming a missing file is an error", async () => {
  await withTempDir({}, async (cwd) => {
    const error = await configError(loadConfig({ cwd, env: {}, configPath: "missing.yaml" }));
    assert.deepEqual(error.errors, [`Cannot read config file "${cwd}/missing.yaml": no such file`]);
  });
});

Deno.test("an empty or comments-only file means defaults, environment still applies", async () => {
  for (const text of ["", "# nothing here\n"]) {
    await withTempDir({ "config.yaml": text }, async (cwd) => {
      const loaded = await loadConfig({ cwd, env: { VAST_THREATBUS_RETRO_MATCH: "false" } });
      assert.equal(loaded.source, `${cwd}/config.yaml`);
      assert.deepEqual(loaded.config, { ...DEFAULT_CONFIG, retro_match: false });
    });
  }
});

Deno.test("a YAML syntax error names the file and the line", async () => {
  await withTempDir(
    { "config.yaml": "snapshot: 1\nlogging: [unclosed\nvast: x\n" },
    async (cwd) => {
      const error = await configError(loadConfig({ cwd, env: {} }));
      assert.ok(error.errors.length >= 1);
      assert.match(error.errors[0] ?? "", /^Cannot parse config file ".*config\.yaml": .*line \d+/);
    },
  );
});

Deno.test("duplicate keys are a YAML error", async () => {
  await withTempDir({ "config.yaml": "snapshot: 1\nsnapshot: 2\n" }, async (cwd) => {
    const error = await configError(loadConfig({ cwd, env: {} }));
    assert.match(error.errors[0] ?? "", /at line 2/);
  });
});

Deno.test("invalid values become a ConfigError listing each problem, warnings kept", async () => {
  await withTempDir(
    { "config.yaml": "snapshot: -1\nsnapshott: 1\nlive_match: true\n" },
    async (cwd) => {
      const error = await configError(loadConfig({ cwd, env: {} }));
      assert.equal(error.errors.length, 2);
      assert.match(error.message, /"snapshot"/);
      assert.deepEqual(error.warnings, [
        'unknown config key "snapshott" (did you mean "snapshot"?)',
      ]);
    },
  );
});

Deno.test(".env is read and real environment variables win over it", async () => {
  const dotenv = [
    "VAST_THREATBUS_SNAPSHOT=11",
    "VAST_THREATBUS_VAST_BINARY='/opt/vast/bin/vast'",
    "UNRELATED=1",
    "broken line",
  ].join("\n");
  await withTempDir(
    { ".env": dotenv, "config.yaml": "snapshot: 1\nvast_binary: x\n" },
    async (cwd) => {
      const loaded = await loadConfig({ cwd, env: { VAST_THREATBUS_SNAPSHOT: "22" } });
      assert.equal(loaded.config.snapshot, 22);
      assert.equal(loaded.config.vast_binary, "/opt/vast/bin/vast");
      assert.deepEqual(loaded.warnings, [`ignoring line 4 of "${cwd}/.env": expected KEY=value`]);
    },
  );
});

Deno.test("the environment overrides keys in the file, nested ones too", async () => {
  const yaml = "logging:\n  console: false\n  file_verbosity: ERROR\nsink: STDOUT\n";
  await withTempDir({ "config.yaml": yaml }, async (cwd) => {
    const loaded = await loadConfig({
      cwd,
      env: { VAST_THREATBUS_LOGGING__FILE_VERBOSITY: "debug", VAST_THREATBUS_SINK: "" },
    });
    assert.equal(loaded.config.logging.console, false);
    assert.equal(loaded.config.logging.file_verbosity, "DEBUG");
    assert.equal(loaded.config.sink, undefined);
  });
});

Deno.test("an injected reader replaces the file system", async () => {
  const files: Record<string, string> = { "/etc/vt/config.yml": "snapshot: 9\n" };
  const loaded = await loadConfig({
    cwd: "/etc/vt",
    env: {},
    readTextFile: (path) => Promise.resolve(files[path]),
  });
  assert.equal(loaded.source, "/etc/vt/config.yml");
  assert.equal(loaded.config.snapshot, 9);
});

Deno.test("a failing read is a ConfigError with the cause", async () => {
  const failure = new Error("permission denied");
  const error = await configError(loadConfig({
    cwd: "/x",
    env: {},
    readTextFile: () => Promise.reject(failure),
  }));
  assert.deepEqual(error.errors, ['Cannot read config file "/x/config.yaml": permission denied']);
  assert.equal(error.cause, failure);
});

Deno.test("overrides from the command line win over the file and the environment", async () => {
  await withTempDir({ "config.yaml": "threatbus_format: stix2\nsnapshot: 3\n" }, async (cwd) => {
    const loaded = await loadConfig({
      cwd,
      env: { VAST_THREATBUS_THREATBUS_FORMAT: "stix2" },
      overrides: { threatbus_format: "legacy" },
    });
    assert.equal(loaded.config.threatbus_format, "legacy");
    assert.equal(loaded.config.snapshot, 3);
    const error = await configError(
      loadConfig({ cwd, env: {}, overrides: { threatbus_format: "2020" } }),
    );
    assert.match(
      error.errors.join("\n"),
      /"threatbus_format": got "2020", expected one of stix2, legacy/,
    );
  });
});
