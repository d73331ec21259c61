import assert from "node:assert/strict";
import { HELP_TEXT } from "../../src/cli/help.ts";
import { parseCommandLine, subcommandNames } from "../../src/cli/parse_args.ts";

Deno.test("no arguments runs with config discovery", () => {
  assert.deepEqual(parseCommandLine([]), { kind: "run" });
  assert.deepEqual(parseCommandLine(["run"]), { kind: "run" });
});

Deno.test("-c/--config names the config file, with or without the subcommand", () => {
  const expected = { kind: "run", configPath: "my.yaml" };
  assert.deepEqual(parseCommandLine(["-c", "my.yaml"]), expected);
  assert.deepEqual(parseCommandLine(["--config", "my.yaml"]), expected);
  assert.deepEqual(parseCommandLine(["--config=my.yaml"]), expected);
  assert.deepEqual(parseCommandLine(["-cmy.yaml"]), expected);
  assert.deepEqual(parseCommandLine(["run", "-c", "my.yaml"]), expected);
});

Deno.test("help and version", () => {
  for (const flag of ["-h", "--help"]) {
    assert.deepEqual(parseCommandLine([flag]), { kind: "help" });
    assert.deepEqual(parseCommandLine(["run", flag]), { kind: "help" });
  }
  for (const flag of ["-V", "--version"]) {
    assert.deepEqual(parseCommandLine([flag]), { kind: "version" });
  }
  assert.deepEqual(parseCommandLine(["-c", "x.yaml", "-h"]), { kind: "help" });
  assert.deepEqual(parseCommandLine(["-h", "-V"]), { kind: "help" });
});

Deno.test("unknown flags are usage errors", () => {
  assert.deepEqual(parseCommandLine(["--verbose"]), {
    kind: "usage-error",
    message: "Cannot parse the command line: Unknown option '--verbose'",
  });
  const short = parseCommandLine(["-x"]);
  assert.equal(short.kind, "usage-error");
});

Deno.test("unknown subcommands are usage errors", () => {
  assert.deepEqual(parseCommandLine(["serve"]), {
    kind: "usage-error",
    message:
      'Cannot parse the command line: unknown subcommand "serve" (expected one of "run", "check", "sweep")',
  });
  assert.equal(parseCommandLine(["constructor"]).kind, "usage-error");
});

Deno.test("a missing option value and stray arguments are usage errors", () => {
  for (const args of [["-c"], ["--config"], ["-c", "--help"], ["run", "extra"], ["--help=yes"]]) {
    const command = parseCommandLine(args);
    assert.equal(command.kind, "usage-error", JSON.stringify(args));
    if (command.kind === "usage-error") {
      assert.match(command.message, /^Cannot parse the command line: /);
    }
  }
  assert.deepEqual(parseCommandLine(["-c", "a.yaml", "b.yaml"]), {
    kind: "usage-error",
    message: 'Cannot parse the command line: unexpected argument "b.yaml"',
  });
});

Deno.test("check takes -c and --timeout", () => {
  assert.deepEqual(parseCommandLine(["check"]), { kind: "check" });
  assert.deepEqual(parseCommandLine(["check", "-c", "my.yaml", "--timeout", "2.5"]), {
    kind: "check",
    configPath: "my.yaml",
    timeoutSeconds: 2.5,
  });
  assert.deepEqual(parseCommandLine(["check", "--timeout=1"]), {
    kind: "check",
    timeoutSeconds: 1,
  });
  assert.deepEqual(parseCommandLine(["check", "-h"]), { kind: "help" });
  for (const timeout of ["0", "-1", "soon", "", "Infinity"]) {
    assert.deepEqual(parseCommandLine(["check", `--timeout=${timeout}`]), {
      kind: "usage-error",
      message: `Cannot parse the command line: --timeout expects seconds > 0, got "${timeout}"`,
    });
  }
  assert.equal(parseCommandLine(["--timeout", "1"]).kind, "usage-error", "run has no --timeout");
  assert.equal(parseCommandLine(["check", "extra"]).kind, "usage-error");
});

Deno.test("the help text covers every subcommand and option", () => {
  for (const name of subcommandNames()) assert.ok(HELP_TEXT.includes(name), name);
  for (
    const text of [
      "--config",
      "--help",
      "--version",
      "--timeout",
      "config.yaml",
      "VAST_THREATBUS_",
      ".env",
      "stderr",
    ]
  ) {
    assert.ok(HELP_TEXT.includes(text), text);
  }
});

Deno.test("--threatbus-format picks the wire format for run and check, in any case", () => {
  assert.deepEqual(parseCommandLine(["--threatbus-format", "legacy"]), {
    kind: "run",
    threatbusFormat: "legacy",
  });
  assert.deepEqual(parseCommandLine(["run", "-c", "a.yaml", "--threatbus-format=STIX2"]), {
    kind: "run",
    configPath: "a.yaml",
    threatbusFormat: "stix2",
  });
  assert.deepEqual(parseCommandLine(["check", "--threatbus-format", " Legacy "]), {
    kind: "check",
    threatbusFormat: "legacy",
  });
  for (const args of [["--threatbus-format", "stix"], ["check", "--threatbus-format", ""]]) {
    const command = parseCommandLine(args);
    assert.equal(command.kind, "usage-error", args.join(" "));
    assert.match(
      command.kind === "usage-error" ? command.message : "",
      /^Cannot parse the command line: --threatbus-format expects stix2 or legacy, got "/,
    );
  }
  assert.ok(HELP_TEXT.includes("--threatbus-format stix2|legacy"));
});
