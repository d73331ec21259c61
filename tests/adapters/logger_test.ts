import assert from "node:assert/strict";
import {
  createLogger,
  createLoggerFromConfig,
  formatFieldValue,
  formatJsonLogLine,
  formatLogLine,
  type LoggerOptions,
  type SyncWriter,
} from "../../src/adapters/logger.ts";
import { memoryLogger, nullLogger } from "../fakes.ts";
import { DEFAULT_CONFIG } from "../../src/core/config_schema.ts";
import type { LogLevel } from "../../src/ports.ts";

const NOW = Date.UTC(2026, 10, 28, 4, 0, 0, 123);
const clock = { now: () => NOW };

function capture(): SyncWriter & { text(): string } {
  const decoder = new TextDecoder();
  let text = "";
  return {
    writeSync(p) {
      text += decoder.decode(p);
      return p.length;
    },
    text: () => text,
  };
}

function options(overrides: Partial<LoggerOptions> & { stderr: SyncWriter }): LoggerOptions {
  return {
    console: { enabled: true, level: "INFO" },
    file: { enabled: false, level: "INFO", path: "unused.log" },
    clock,
    ...overrides,
  };
}

Deno.test("line format: UTC time, padded level, component, message, fields", () => {
  const stderr = capture();
  const logger = createLogger(options({ stderr, component: "bridge" }));
  logger.info("subscribed", { topic: "stix2/indicator", snapshot: 30, note: "two words" });
  logger.critical("gone");
  assert.equal(
    stderr.text(),
    '2026-11-28T04:00:00.123Z INFO     [bridge] subscribed topic=stix2/indicator snapshot=30 note="two words"\n' +
      "2026-11-28T04:00:00.123Z CRITICAL [bridge] gone\n",
  );
});

Deno.test("field values: bare when safe, quoted or JSON otherwise", () => {
  assert.equal(formatFieldValue("plain"), "plain");
  assert.equal(formatFieldValue(""), '""');
  assert.equal(formatFieldValue('say "hi"'), '"say \\"hi\\""');
  assert.equal(formatFieldValue("a=b"), '"a=b"');
  assert.equal(formatFieldValue("line\nbreak"), '"line\\nbreak"');
  assert.equal(formatFieldValue("bell\x07"), '"bell\\u0007"');
  assert.equal(formatFieldValue(1.5), "1.5");
  assert.equal(formatFieldValue(true), "true");
  assert.equal(formatFieldValue(null), "null");
  assert.equal(formatFieldValue(10n), "10");
  assert.equal(formatFieldValue({ a: [1, "x"] }), '{"a":[1,"x"]}');
  assert.equal(
    formatFieldValue(new Error("outer", { cause: new TypeError("inner") })),
    '"Error: outer (cause: TypeError: inner)"',
  );
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(formatFieldValue(cyclic), '"[object Object]"');
});

Deno.test("undefined fields are left out and messages stay on one line", () => {
  const line = formatLogLine({
    time: NOW,
    level: "WARNING",
    component: "vast",
    message: "first\nsecond",
    fields: { gone: undefined, kept: 1 },
  });
  assert.equal(line, "2026-11-28T04:00:00.123Z WARNING  [vast] first\\nsecond kept=1");
});

Deno.test("the default component and child components", () => {
  const stderr = capture();
  const logger = createLogger(options({ stderr }));
  logger.info("root");
  logger.child("vast").child("retro").info("nested");
  assert.match(stderr.text(), /INFO {5}\[vast-threatbus\] root\n/);
  assert.match(stderr.text(), /INFO {5}\[retro\] nested\n/);
});

Deno.test("levels below the console level are dropped", () => {
  const stderr = capture();
  const logger = createLogger(options({ stderr, console: { enabled: true, level: "WARNING" } }));
  logger.debug("d");
  logger.info("i");
  logger.warning("w");
  logger.error("e");
  logger.child("x").debug("child d");
  const levels = stderr.text().trim().split("\n").map((l) => l.split(/\s+/)[1]);
  assert.deepEqual(levels, ["WARNING", "ERROR"]);
});

Deno.test("a disabled console writes nothing to stderr", () => {
  const stderr = capture();
  const logger = createLogger(options({ stderr, console: { enabled: false, level: "DEBUG" } }));
  logger.critical("nobody hears this");
  assert.equal(stderr.text(), "");
});

Deno.test("the file destination appends, creates the file and has its own level", async () => {
  const dir = await Deno.makeTempDir({ prefix: "logger_test_" });
  try {
    const path = `${dir}/sub.log`;
    await Deno.writeTextFile(path, "existing line\n");
    const stderr = capture();
    const logger = createLogger(options({
      stderr,
      console: { enabled: true, level: "ERROR" },
      file: { enabled: true, level: "DEBUG", path },
    }));
    logger.debug("to file only");
    logger.error("to both");
    logger.close();
    logger.error("after close, console only");
    const file = await Deno.readTextFile(path);
    assert.equal(
      file,
      "existing line\n" +
        "2026-11-28T04:00:00.123Z DEBUG    [vast-threatbus] to file only\n" +
        "2026-11-28T04:00:00.123Z ERROR    [vast-threatbus] to both\n",
    );
    assert.equal(stderr.text().split("\n").filter((l) => l !== "").length, 2);

    const fresh = `${dir}/fresh.log`;
    const second = createLogger(
      options({ stderr, file: { enabled: true, level: "INFO", path: fresh } }),
    );
    second.info("created");
    second.close();
    second.close();
    assert.match(await Deno.readTextFile(fresh), /created\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unopenable log file fails at creation with the path", () => {
  assert.throws(
    () =>
      createLogger(options({
        stderr: capture(),
        file: { enabled: true, level: "INFO", path: "/nonexistent-dir/x/y.log" },
      })),
    /^Error: Cannot open log file "\/nonexistent-dir\/x\/y.log": /,
  );
});

Deno.test("log calls never throw, even when stderr is broken", () => {
  const broken: SyncWriter = {
    writeSync() {
      throw new Deno.errors.BrokenPipe("EPIPE");
    },
  };
  const logger = createLogger(options({ stderr: broken }));
  logger.error("lost");
  const badClock = createLogger(options({ stderr: capture(), clock: { now: () => NaN } }));
  badClock.info("no time");
});

Deno.test("partial writes are completed", () => {
  const chunks: number[] = [];
  let text = "";
  const slow: SyncWriter = {
    writeSync(p) {
      const n = Math.min(7, p.length);
      chunks.push(n);
      text += new TextDecoder().decode(p.subarray(0, n));
      return n;
    },
  };
  createLogger(options({ stderr: slow })).info("a message longer than seven bytes");
  assert.ok(chunks.length > 1);
  assert.match(text, /a message longer than seven bytes\n$/);
});

Deno.test("console lines never reach stdout", async () => {
  const code = `
    import { createLogger } from ${
    JSON.stringify(new URL("../../src/adapters/logger.ts", import.meta.url).href)
  };
    const logger = createLogger({ console: { enabled: true, level: "DEBUG" },
      file: { enabled: false, level: "INFO", path: "x" }, clock: { now: () => 0 } });
    logger.debug("hello", { n: 1 });`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  assert.equal(new TextDecoder().decode(output.stdout), "");
  assert.equal(
    new TextDecoder().decode(output.stderr),
    "1970-01-01T00:00:00.000Z DEBUG    [vast-threatbus] hello n=1\n",
  );
});

Deno.test("createLoggerFromConfig follows the logging section", () => {
  const stderr = capture();
  const logging = { ...DEFAULT_CONFIG.logging, console_verbosity: "ERROR" as LogLevel };
  const logger = createLoggerFromConfig({ logging }, clock, { stderr });
  logger.warning("dropped");
  logger.error("kept");
  logger.close();
  assert.match(stderr.text(), /^\S+ ERROR {4}\[vast-threatbus\] kept\n$/);
});

Deno.test("memoryLogger keeps every record, children included; nullLogger drops them", () => {
  const { logger, records } = memoryLogger("app");
  logger.debug("one", { a: 1 });
  logger.child("vast").error("two");
  assert.deepEqual(records, [
    { level: "DEBUG", component: "app", message: "one", fields: { a: 1 } },
    { level: "ERROR", component: "vast", message: "two", fields: {} },
  ]);
  const silent = nullLogger();
  silent.critical("nothing");
  silent.child("x").info("nothing");
});

Deno.test("json format: one object per line with time, level, component, message, fields", () => {
  const stderr = capture();
  const logger = createLogger(options({ stderr, component: "bridge", format: "json" }));
  logger.info("subscribed", { topic: "stix2/indicator", snapshot: 30, gone: undefined });
  logger.child("vast").warning("multi\nline", { error: new Error("outer", { cause: "why" }) });
  const lines = stderr.text().split("\n");
  assert.equal(lines.pop(), "");
  assert.equal(lines.length, 2);
  assert.deepEqual(JSON.parse(lines[0] as string), {
    time: "2026-11-28T04:00:00.123Z",
    level: "INFO",
    component: "bridge",
    message: "subscribed",
    topic: "stix2/indicator",
    snapshot: 30,
  });
  assert.deepEqual(JSON.parse(lines[1] as string), {
    time: "2026-11-28T04:00:00.123Z",
    level: "WARNING",
    component: "vast",
    message: "multi\nline",
    error: "Error: outer (cause: why)",
  });
});

Deno.test("json format: reserved names, bigints, nested and cyclic values", () => {
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const line = formatJsonLogLine({
    time: NOW,
    level: "DEBUG",
    component: "x",
    message: "m",
    fields: {
      message: "shadowed",
      level: 1,
      count: 10n,
      nested: { list: [1, "two", 3n] },
      cyclic,
      ratio: NaN,
    },
  });
  assert.deepEqual(JSON.parse(line), {
    time: "2026-11-28T04:00:00.123Z",
    level: "DEBUG",
    component: "x",
    message: "m",
    field_message: "shadowed",
    field_level: 1,
    count: "10",
    nested: { list: [1, "two", "3"] },
    cyclic: "[object Object]",
    ratio: null,
  });
});

Deno.test("json format goes to the log file too, and a bad clock still yields JSON", async () => {
  const dir = await Deno.makeTempDir({ prefix: "logger_test_" });
  try {
    const path = `${dir}/json.log`;
    const stderr = capture();
    const logger = createLogger(options({
      stderr,
      format: "json",
      file: { enabled: true, level: "INFO", path },
    }));
    logger.info("to both", { n: 1 });
    logger.close();
    const record = JSON.parse(await Deno.readTextFile(path));
    assert.equal(record.message, "to both");
    assert.equal(record.n, 1);
    const broken = capture();
    createLogger(options({ stderr: broken, format: "json", clock: { now: () => NaN } }))
      .error("no time");
    assert.match(JSON.parse(broken.text()).message, /^unloggable record: RangeError/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createLoggerFromConfig follows logging.format", () => {
  const stderr = capture();
  const logging = { ...DEFAULT_CONFIG.logging, format: "json" as const };
  createLoggerFromConfig({ logging }, clock, { stderr }).info("structured");
  assert.equal(JSON.parse(stderr.text()).message, "structured");
});
