import { deepEqual, equal, ok } from "node:assert/strict";
import {
  DEFAULT_IDLE_SECONDS,
  parseSweepArgs,
  SWEEP_OPTIONS_HELP,
  SWEEP_USAGE,
} from "../../src/cli/sweep_args.ts";

function usageError(args: string[]): string {
  const command = parseSweepArgs(args);
  if (command.kind !== "usage-error") {
    throw new Error(`expected a usage error, got ${command.kind}`);
  }
  return command.message;
}

Deno.test("without options a sweep reads Threat Bus with the defaults", () => {
  deepEqual(parseSweepArgs([]), {
    kind: "sweep",
    options: { idleSeconds: DEFAULT_IDLE_SECONDS, dryRun: false },
  });
});

Deno.test("every option is read", () => {
  deepEqual(parseSweepArgs(["-c", "my.yaml", "--snapshot", "7", "--idle", "2.5", "--dry-run"]), {
    kind: "sweep",
    options: { configPath: "my.yaml", snapshotDays: 7, idleSeconds: 2.5, dryRun: true },
  });
  deepEqual(parseSweepArgs(["--config=x.yml", "--indicators", "-"]), {
    kind: "sweep",
    options: { configPath: "x.yml", idleSeconds: 10, indicators: "-", dryRun: false },
  });
  deepEqual(parseSweepArgs(["--indicators=feed.json"]), {
    kind: "sweep",
    options: { idleSeconds: 10, indicators: "feed.json", dryRun: false },
  });
  deepEqual(parseSweepArgs(["--snapshot", "0"]), {
    kind: "sweep",
    options: { snapshotDays: 0, idleSeconds: 10, dryRun: false },
  });
});

Deno.test("help and version win over everything else", () => {
  deepEqual(parseSweepArgs(["--dry-run", "-h"]), { kind: "help" });
  deepEqual(parseSweepArgs(["--help"]), { kind: "help" });
  deepEqual(parseSweepArgs(["-V"]), { kind: "version" });
});

Deno.test("bad values and unknown options are usage errors that name the problem", () => {
  const cases: [string[], RegExp][] = [
    [["--snapshot", "-1"], /--snapshot/],
    [["--snapshot", "1.5"], /--snapshot "1.5" is not a whole number of days/],
    [["--snapshot", "days"], /not a whole number/],
    [["--idle", "0"], /--idle "0"/],
    [["--idle", "abc"], /--idle "abc"/],
    [["--idle", "1e3"], /--idle "1e3"/],
    [["--idle", "100000"], /at most 86400/],
    [["--indicators", ""], /--indicators needs a file name/],
    [["--indicators", "f.json", "--snapshot", "3"], /--snapshot applies to Threat Bus/],
    [["--indicators", "f.json", "--idle", "3"], /--idle applies to Threat Bus/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["--dry-run=yes"], /dry-run/],
    [["extra"], /unexpected argument "extra"/],
    [["--indicators"], /argument missing/],
  ];
  for (const [args, pattern] of cases) {
    const message = usageError(args);
    ok(message.startsWith("Cannot parse the sweep command line: "), message);
    ok(pattern.test(message), `${args.join(" ")}: ${message}`);
  }
});

Deno.test("the help texts mention every option", () => {
  for (const option of ["--snapshot", "--idle", "--indicators", "--dry-run", "-c FILE"]) {
    ok(`${SWEEP_USAGE}\n${SWEEP_OPTIONS_HELP}`.includes(option), option);
  }
  for (const line of `${SWEEP_USAGE}\n${SWEEP_OPTIONS_HELP}`.split("\n")) {
    ok(line.length <= 80, `help lines fit 80 columns: ${line}`);
  }
  equal(SWEEP_USAGE.split("\n").length, 2);
});

Deno.test("--threatbus-format applies to sweeps from Threat Bus and from files", () => {
  deepEqual(parseSweepArgs(["--threatbus-format", "legacy"]), {
    kind: "sweep",
    options: { idleSeconds: 10, dryRun: false, threatbusFormat: "legacy" },
  });
  deepEqual(parseSweepArgs(["--indicators", "-", "--threatbus-format", "STIX2"]), {
    kind: "sweep",
    options: { idleSeconds: 10, indicators: "-", dryRun: false, threatbusFormat: "stix2" },
  });
  ok(
    usageError(["--threatbus-format", "2020"]).includes(
      "--threatbus-format expects stix2 or legacy",
    ),
  );
  ok(SWEEP_OPTIONS_HELP.includes("--threatbus-format"));
});
