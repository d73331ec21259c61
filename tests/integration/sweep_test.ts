/**
 * `vast-threatbus sweep` end to end: the program as a subprocess against the
 * Threat Bus and `vast` or `tenzir` emulators.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { stringify } from "yaml";
import { ThreatBusEmulator } from "../emulators/threatbus_emulator.ts";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import { queriedValues } from "../query_values.ts";
import { retroProgram } from "../../src/core/tenzir_query.ts";
import type { IocQuery } from "../../src/core/ioc.ts";
import {
  type EmulatedBackend,
  emulatedBackend,
  type Faults,
  type TestBackend,
} from "./backends.ts";
import { indicator, RUN_PERMISSIONS, testBothBackends } from "./harness.ts";

const SWEEP_COMMAND = [new URL("../../src/main.ts", import.meta.url).pathname, "sweep"];
const FIXTURES = new URL("../fixtures/", import.meta.url);
const DOMAIN_QUERY = '"evil.com" == net.domain || "evil.com" == net.hostname';

interface SweepRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The argv of every `vast` call. */
  readonly calls: string[][];
}

interface Workspace extends AsyncDisposable {
  readonly dir: string;
  readonly backend: EmulatedBackend;
  readonly vastBinary: string;
  sweep(args: string[], options?: { stdin?: string }): Promise<SweepRun>;
}

/** A temporary directory with `config.yaml` and a backend emulator (optionally wrapped). */
async function workspace(
  options: {
    backend?: TestBackend;
    config?: Record<string, unknown>;
    faults?: Faults;
    /** Lines of a POSIX sh `case "$*"` pattern whose calls fail instead. */
    failQueriesMatching?: string;
  } = {},
): Promise<Workspace> {
  const dir = await Deno.makeTempDir({ prefix: "vast-threatbus-sweep-it-" });
  await Deno.mkdir(`${dir}/emulator`);
  const backend = await emulatedBackend(options.backend ?? "vast", {
    dir: `${dir}/emulator`,
    faults: options.faults,
    matcherName: "threatbus",
  });
  let vastBinary = backend.binary;
  if (options.failQueriesMatching !== undefined) {
    // Some queries fail, the rest reach the emulator: a partial failure.
    const wrapper = `${dir}/vast`;
    await Deno.writeTextFile(
      wrapper,
      [
        "#!/bin/sh",
        `case "$*" in *${options.failQueriesMatching}*)`,
        "  echo 'error: export: query failed: system_error' >&2; exit 1;;",
        "esac",
        `exec '${vastBinary}' "$@"`,
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    await Deno.chmod(wrapper, 0o755);
    vastBinary = wrapper;
  }
  const { matcher_name: _matcher, tenzir_context: _context, ...backendKeys } = backend.config;
  const binaryKey = backend.kind === "vast" ? "vast_binary" : "tenzir_binary";
  await Deno.writeTextFile(
    `${dir}/config.yaml`,
    stringify({
      logging: { console: true, console_verbosity: "DEBUG" },
      ...backendKeys,
      [binaryKey]: vastBinary,
      snapshot: 0,
      ...options.config,
    }),
  );
  return {
    dir,
    backend,
    vastBinary,
    async sweep(args, runOptions = {}) {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          ...RUN_PERMISSIONS,
          ...SWEEP_COMMAND,
          "-c",
          "config.yaml",
          ...args,
        ],
        cwd: dir,
        env: { NO_COLOR: "1" },
        stdin: runOptions.stdin === undefined ? "null" : "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      if (runOptions.stdin !== undefined) {
        const writer = child.stdin.getWriter();
        await writer.write(new TextEncoder().encode(runOptions.stdin));
        await writer.close();
      }
      const output = await child.output();
      const calls = await backend.calls();
      return {
        code: output.code,
        stdout: new TextDecoder().decode(output.stdout),
        stderr: new TextDecoder().decode(output.stderr),
        calls,
      };
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

function exportQueries(calls: string[][]): string[] {
  return calls.filter((argv) => argv.includes("json")).map((argv) => argv.at(-1) as string);
}

/** The retro program of each IoC query, as the Tenzir backend runs it. */
function tenzirPrograms(queries: readonly IocQuery[], maxEvents = 0): string[] {
  return queries.map((query) => {
    const program = retroProgram(query, { maxEvents });
    if (!program.ok) throw new Error(program.reason);
    return program.text;
  });
}

const DOMAIN_AND_IP: readonly IocQuery[] = [
  [{ type: "domain", value: EVENTS_FACTS.domain.value }],
  [{ type: "ip", value: EVENTS_FACTS.ipv4.value }],
];

/** The distinct IoC queries of `sweep_indicators.ndjson`. */
const NDJSON_IOCS: readonly IocQuery[] = [
  ...DOMAIN_AND_IP,
  [{ type: "url", value: "/download/malware.exe" }],
  [{ type: "ip", value: EVENTS_FACTS.absentIp }],
  [{ type: "ip", value: EVENTS_FACTS.ipv4.value }, { type: "ip", value: "7.7.7.7" }],
];

/** The distinct IoC queries of `sweep_plain.txt`, in its order. */
const PLAIN_IOCS: readonly IocQuery[] = [
  [{ type: "domain", value: EVENTS_FACTS.domain.value }],
  [{ type: "ip", value: EVENTS_FACTS.ipv4.value }],
  [{ type: "ipv6", value: EVENTS_FACTS.ipv6.value }],
  [{ type: "url", value: "/download/malware.exe" }],
  [{ type: "sha256", value: "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f" }],
  [{ type: "ip", value: EVENTS_FACTS.absentIp }],
];

function jsonLines(text: string): Record<string, unknown>[] {
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

testBothBackends(
  "sweep from a bundle file: sightings go to Threat Bus, each IoC queried once",
  async (backend) => {
    await using emulator = await ThreatBusEmulator.start();
    await using w = await workspace({ backend, config: { threatbus: emulator.manageEndpoint } });
    const run = await w.sweep(["--indicators", new URL("sweep_bundle.json", FIXTURES).pathname]);
    equal(run.code, 0, run.stderr);
    equal(run.stdout, "", "with Threat Bus as the sink stdout stays empty");
    const expected = EVENTS_FACTS.domain.events + EVENTS_FACTS.ipv4.events +
      EVENTS_FACTS.ipv6.events + EVENTS_FACTS.url.events + EVENTS_FACTS.escapedUrl.events;
    const frames = await emulator.waitForReceived(expected);
    equal(frames.length, expected);
    const sightings = frames.map((frame) => {
      equal(frame.topic, "stix2/sighting");
      return JSON.parse(frame.body);
    });
    const refs = Object.groupBy(sightings, (s: { sighting_of_ref: string }) => s.sighting_of_ref);
    equal(
      refs["indicator--0b6c8a1e-2f3d-4c5b-8a9e-1f2a3b4c5d01"]?.length,
      EVENTS_FACTS.domain.events,
    );
    equal(
      refs["indicator--0b6c8a1e-2f3d-4c5b-8a9e-1f2a3b4c5d02"]?.length,
      EVENTS_FACTS.ipv4.events,
    );
    equal(refs["indicator--0b6c8a1e-2f3d-4c5b-8a9e-1f2a3b4c5d07"], undefined, "duplicate IoC");
    for (const s of sightings) equal(s.x_threatbus_match_type, "RETRO");
    deepEqual(
      backend === "vast"
        ? queriedValues(exportQueries(run.calls))
        : await w.backend.queriedValues(),
      [
        "/download/malware.exe",
        EVENTS_FACTS.escapedUrl.value,
        EVENTS_FACTS.domain.value,
        EVENTS_FACTS.ipv6.value,
        EVENTS_FACTS.absentIp,
        EVENTS_FACTS.ipv4.value,
        // The bundle's SHA-256 indicator, a query since file hashes are translated (issue 15).
        "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f",
      ].sort(),
    );
    ok(run.stderr.includes("(and 2 other STIX objects, ignored)"), run.stderr);
    ok(run.stderr.includes("skipped:         1 (duplicate IoC 1)"), run.stderr);
    ok(run.stderr.includes(`sightings:       ${expected}`));
  },
);

testBothBackends(
  "sweep from NDJSON: contexts on stdout with a STDOUT sink, bad lines by number",
  async (backend) => {
    await using w = await workspace({
      backend,
      config: { sink: "STDOUT", retro_match_max_events: 5 },
    });
    const run = await w.sweep([
      "--indicators",
      new URL("sweep_indicators.ndjson", FIXTURES).pathname,
    ]);
    equal(run.code, 0, run.stderr);
    // evil.com, 6.6.6.6 and line 4's `6.6.6.6 OR 7.7.7.7` (translated since issue 15) are
    // capped at 5 events each; the URL has 4.
    equal(jsonLines(run.stdout).length, 5 + 5 + 5 + EVENTS_FACTS.url.events);
    if (backend === "tenzir") {
      const programs = await w.backend.retroQueries();
      deepEqual(programs.sort(), tenzirPrograms(NDJSON_IOCS, 5).sort());
    } else {
      deepEqual(
        exportQueries(run.calls).sort(),
        [
          '"/download/malware.exe" == net.uri',
          DOMAIN_QUERY,
          EVENTS_FACTS.absentIp,
          EVENTS_FACTS.ipv4.value,
          `${EVENTS_FACTS.ipv4.value} || 7.7.7.7`,
        ].sort(),
      );
      for (const argv of run.calls.filter((a) => a.includes("json"))) {
        ok(argv.includes("--max-events=5"));
      }
    }
    ok(/Skipping line 3 reason=.*must be indicator--<uuid>/.test(run.stderr), run.stderr);
    ok(/Skipping line 5 reason="not valid JSON/.test(run.stderr));
    ok(!/Skipping indicator .*at="line 4"/.test(run.stderr), "an OR of values is queried");
  },
);

testBothBackends("sweep from plain lines on stdin, duplicates queried once", async (backend) => {
  await using w = await workspace({ backend, config: { sink: "STDOUT" } });
  const run = await w.sweep(["--indicators", "-"], {
    stdin: "evil.com\ndomain:evil.com\n6.6.6.6\nip:6.6.6.6\n[ipv4-addr:value = '6.6.6.6']\n",
  });
  equal(run.code, 0, run.stderr);
  // Queries run concurrently, so their order in the calls file is not fixed.
  if (backend === "tenzir") {
    deepEqual((await w.backend.retroQueries()).sort(), tenzirPrograms(DOMAIN_AND_IP).sort());
  } else {
    deepEqual(exportQueries(run.calls).sort(), [DOMAIN_QUERY, EVENTS_FACTS.ipv4.value].sort());
  }
  equal(jsonLines(run.stdout).length, EVENTS_FACTS.domain.events + EVENTS_FACTS.ipv4.events);
  ok(run.stderr.includes("skipped:         3 (duplicate IoC 3)"), run.stderr);
});

testBothBackends(
  "sweep from a Threat Bus snapshot: subscribe with the snapshot, stop when idle, unsubscribe",
  async (backend) => {
    const domain = indicator("[domain-name:value = 'evil.com']");
    const ip = indicator("[ipv4-addr:value = '6.6.6.6']");
    await using emulator = await ThreatBusEmulator.start({
      snapshot: [domain, ip, indicator("[ipv4-addr:value = '6.6.6.6']"), "not json"],
    });
    await using w = await workspace({
      backend,
      config: { threatbus: emulator.manageEndpoint, snapshot: 0 },
    });
    const started = Date.now();
    const run = await w.sweep(["--snapshot", "30", "--idle", "1"]);
    equal(run.code, 0, run.stderr);
    ok(Date.now() - started < 20_000);
    const actions = emulator.requests.map((r) => (r.request as { action: string }).action);
    deepEqual(actions, ["subscribe", "unsubscribe"]);
    equal((emulator.requests[0]?.request as { snapshot: number }).snapshot, 30);
    const total = EVENTS_FACTS.domain.events + EVENTS_FACTS.ipv4.events;
    const frames = await emulator.waitForReceived(total);
    equal(frames.length, total);
    const refs = new Set(frames.map((f) => JSON.parse(f.body).sighting_of_ref));
    deepEqual(refs, new Set([domain.id, ip.id]));
    if (backend === "tenzir") {
      deepEqual((await w.backend.retroQueries()).sort(), tenzirPrograms(DOMAIN_AND_IP).sort());
    } else {
      deepEqual(exportQueries(run.calls).sort(), [DOMAIN_QUERY, EVENTS_FACTS.ipv4.value].sort());
    }
    ok(run.stderr.includes("skipped:         2 (unreadable 1, duplicate IoC 1)"), run.stderr);
  },
);

testBothBackends(
  "partial failure: the other queries still report, and the exit status is 1",
  async (backend) => {
    await using w = await workspace({
      backend,
      config: { sink: "STDOUT" },
      failQueriesMatching: "evil.com",
    });
    const run = await w.sweep(["--indicators", "-"], { stdin: "evil.com\n6.6.6.6\n" });
    equal(run.code, 1, run.stderr);
    equal(jsonLines(run.stdout).length, EVENTS_FACTS.ipv4.events);
    ok(run.stderr.includes("queries run:     2 (failed 1, timed out 0)"), run.stderr);
    ok(run.stderr.includes("result:          1 of 2 queries failed or timed out"));
  },
);

testBothBackends("a timed-out query makes the exit status 1", async (backend) => {
  await using w = await workspace({
    backend,
    config: { sink: "STDOUT", retro_match_timeout: 1 },
    faults: { hang: true },
  });
  const run = await w.sweep(["--indicators", "-"], { stdin: "6.6.6.6\n" });
  equal(run.code, 1, run.stderr);
  ok(run.stderr.includes("(failed 0, timed out 1)"), run.stderr);
});

testBothBackends("bad usage exits 2 and runs nothing", async (backend) => {
  await using w = await workspace({ backend });
  for (const args of [["--snapshot", "soon"], ["--indicators", "x.txt", "--idle", "3"], ["what"]]) {
    const run = await w.sweep(args);
    equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    ok(run.stderr.includes("Cannot parse the sweep command line"), run.stderr);
    equal(run.stdout, "");
    deepEqual(run.calls, []);
  }
});

testBothBackends(
  "--dry-run prints the queries it would run, one per line, and exits 0",
  async (backend) => {
    await using w = await workspace({ backend, config: { sink: "STDOUT" } });
    const run = await w.sweep([
      "--dry-run",
      "--indicators",
      new URL("sweep_plain.txt", FIXTURES).pathname,
    ]);
    equal(run.code, 0, run.stderr);
    if (backend === "tenzir") {
      // The TQL programs, in the order of the file.
      deepEqual(run.stdout.split("\n"), [...tenzirPrograms(PLAIN_IOCS), ""]);
      deepEqual(run.calls, [], "no tenzir call at all");
      return;
    }
    deepEqual(run.stdout.split("\n"), [
      DOMAIN_QUERY,
      EVENTS_FACTS.ipv4.value,
      EVENTS_FACTS.ipv6.value,
      '"/download/malware.exe" == net.uri',
      // Line 10, a bare SHA-256, is a query since file hashes are translated (issue 15).
      '"aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f" == file.hash.sha256',
      EVENTS_FACTS.absentIp,
      "",
    ]);
    deepEqual(run.calls, [], "no vast call at all");
  },
);

Deno.test("--dry-run prints the translated query of each compound pattern; skipped ones none", async () => {
  await using w = await workspace({ config: { sink: "STDOUT" } });
  const { file, subnet, connection } = EVENTS_FACTS;
  const run = await w.sweep(["--dry-run", "--indicators", "-"], {
    stdin: [
      "[ipv4-addr:value = '6.6.6.6'] OR [domain-name:value IN ('evil.com', 'a.example')]",
      `[file:hashes.'SHA-1' = '${file.sha1.toUpperCase()}' OR file:hashes.md5 = '${file.md5}']`,
      `[ipv4-addr:value ISSUBSET '${subnet.value}']`,
      `[network-traffic:dst_ref.value = '${connection.address}' AND network-traffic:dst_port IN (80, 443)]`,
      "[ipv4-addr:value = '6.6.6.6'] FOLLOWEDBY [ipv4-addr:value = '7.7.7.7']",
      // The first again, its values in another order: one query.
      "[domain-name:value IN ('a.example', 'evil.com')] OR [ipv4-addr:value = '6.6.6.6']",
    ].join("\n"),
  });
  equal(run.code, 0, run.stderr);
  deepEqual(run.stdout.split("\n"), [
    `6.6.6.6 || ${DOMAIN_QUERY} || "a.example" == net.domain || "a.example" == net.hostname`,
    `"${file.sha1}" == file.hash.sha1 || "${file.md5}" == file.hash.md5`,
    `:addr in ${subnet.value}`,
    `(net.dst.ip == ${connection.address} && net.dst.port == 80) || ` +
    `(net.dst.ip == ${connection.address} && net.dst.port == 443)`,
    "",
  ]);
  ok(
    /Skipping indicator .*at="line 5".*observation operator FOLLOWEDBY/.test(run.stderr),
    run.stderr,
  );
  ok(
    run.stderr.includes("skipped:         2 (unsupported pattern 1, duplicate IoC 1)"),
    run.stderr,
  );
  deepEqual(run.calls, [], "no vast call at all");
});
