/**
 * The sweep command in-process: real adapters and the `vast` emulator, with
 * standard streams replaced by memory.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { stringify } from "yaml";
import { systemClock } from "../../src/adapters/clock.ts";
import { type SweepIo, sweepMain } from "../../src/cli/sweep.ts";
import type { TerminalWriter } from "../../src/cli/sweep_progress.ts";
import { makeVastBinary } from "../emulators/vast_wrapper.ts";
import { EVENTS_FACTS } from "../fixtures/events_facts.ts";
import { queriedValues } from "../query_values.ts";

const PLAIN = new URL("../fixtures/sweep_plain.txt", import.meta.url);

class MemoryStderr implements TerminalWriter {
  text = "";
  isTerminal(): boolean {
    return false;
  }
  writeSync(bytes: Uint8Array): number {
    this.text += new TextDecoder().decode(bytes);
    return bytes.length;
  }
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly calls: string[][];
}

/** A temporary directory with a config and a `vast` emulator; dispose to remove it. */
async function workspace(
  config: Record<string, unknown> = {},
  vastEnv: Record<string, string> = {},
) {
  const dir = await Deno.makeTempDir({ prefix: "vast-threatbus-sweep-cli-" });
  const callsFile = `${dir}/calls.ndjson`;
  const vastBinary = await makeVastBinary({ dir, env: { VAST_EMU_CALLS: callsFile, ...vastEnv } });
  await Deno.writeTextFile(
    `${dir}/config.yaml`,
    stringify({
      logging: { console: true, console_verbosity: "INFO" },
      vast_binary: vastBinary,
      vast: "127.0.0.1:42000",
      sink: "STDOUT",
      ...config,
    }),
  );
  return {
    dir,
    async run(
      args: string[],
      options: { stdin?: string; signal?: AbortSignal; onStderr?: (text: string) => void } = {},
    ): Promise<Run> {
      const chunks: Uint8Array[] = [];
      const stderr = new MemoryStderr();
      const original = stderr.writeSync.bind(stderr);
      stderr.writeSync = (bytes) => {
        const n = original(bytes);
        options.onStderr?.(stderr.text);
        return n;
      };
      const io: SweepIo = {
        stdin: () => ReadableStream.from([new TextEncoder().encode(options.stdin ?? "")]),
        stdout: new WritableStream({ write: (chunk) => void chunks.push(chunk) }),
        stderr,
        cwd: dir,
        env: {},
        clock: systemClock(),
        signal: options.signal ?? new AbortController().signal,
      };
      const code = await sweepMain(args, io);
      const calls = (await Deno.readTextFile(callsFile).catch(() => ""))
        .split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
      const stdout = new TextDecoder().decode(
        chunks.reduce((all, c) => new Uint8Array([...all, ...c]), new Uint8Array()),
      );
      return { code, stdout, stderr: stderr.text, calls };
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

function exportQueries(calls: string[][]): string[] {
  return calls.filter((argv) => argv.includes("json")).map((argv) => argv.at(-1) as string);
}

Deno.test("plain lines on stdin: each IoC queried once, contexts on stdout, summary on stderr", async () => {
  await using w = await workspace();
  const run = await w.run(["--indicators", "-"], { stdin: await Deno.readTextFile(PLAIN) });
  equal(run.code, 0, run.stderr);
  const contexts = run.stdout.trim().split("\n").map((line) => JSON.parse(line));
  equal(
    contexts.length,
    EVENTS_FACTS.domain.events + EVENTS_FACTS.ipv4.events + EVENTS_FACTS.ipv6.events +
      EVENTS_FACTS.url.events,
  );
  equal(typeof contexts[0], "object");
  deepEqual(queriedValues(exportQueries(run.calls)), [
    "/download/malware.exe",
    "2001:db8:bad:c0de::66",
    "203.0.113.99",
    "6.6.6.6",
    // The bare SHA-256 of line 10, a query since file hashes are translated (issue 15).
    "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f",
    "evil.com",
  ]);
  ok(run.stderr.includes("Skipping line 8"), "unusable lines are named by number");
  ok(run.stderr.includes("  indicators read: 10 from standard input"), run.stderr);
  ok(run.stderr.includes("  result:          all queries succeeded"));
});

Deno.test("a dry run prints the queries and runs none", async () => {
  await using w = await workspace();
  const run = await w.run(["--indicators", "-", "--dry-run"], {
    stdin: "evil.com\n6.6.6.6\n6.6.6.6\n",
  });
  equal(run.code, 0, run.stderr);
  equal(
    run.stdout,
    '"evil.com" == net.domain || "evil.com" == net.hostname\n6.6.6.6\n',
  );
  deepEqual(run.calls, []);
});

Deno.test("usage, config and input errors exit 2 with nothing on stdout", async () => {
  await using w = await workspace();
  await Deno.writeTextFile(`${w.dir}/bad.yaml`, "retro_match_timeout: soon\n");
  const cases: [string[], RegExp][] = [
    [["--idle", "soon"], /--idle "soon"/],
    [["--frobnicate"], /Unknown option/],
    [["-c", "bad.yaml", "--indicators", "-"], /retro_match_timeout/],
    [["-c", "missing.yaml"], /Cannot read config file/],
    [["--indicators", "no-such-file.txt"], /Cannot read indicators file "no-such-file.txt"/],
  ];
  for (const [args, pattern] of cases) {
    const run = await w.run(args);
    equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    ok(pattern.test(run.stderr), `${args.join(" ")}: ${run.stderr}`);
    equal(run.stdout, "");
  }
  await Deno.writeTextFile(`${w.dir}/sink.yaml`, stringify({ sink: "unclosed 'quote" }));
  const sink = await w.run(["-c", "sink.yaml", "--indicators", "-"]);
  equal(sink.code, 2);
  ok(/Cannot use sink/.test(sink.stderr), sink.stderr);
});

Deno.test("a query that times out makes the exit status 1", async () => {
  await using w = await workspace({ retro_match_timeout: 1 }, { VAST_EMU_HANG: "1" });
  const run = await w.run(["--indicators", "-"], { stdin: "evil.com\n" });
  equal(run.code, 1, run.stderr);
  // The emulator prints one result, then hangs; under load even that may come too late.
  ok(run.stdout.split("\n").filter((l) => l !== "").length <= 1);
  ok(run.stderr.includes("queries run:     1 (failed 0, timed out 1)"), run.stderr);
});

Deno.test("an interrupted sweep stops its queries, still summarises, and exits 1", async () => {
  await using w = await workspace({ retro_match_timeout: 0 }, { VAST_EMU_HANG: "1" });
  const controller = new AbortController();
  const run = await w.run(["--indicators", "-"], {
    stdin: "evil.com\n6.6.6.6\n",
    signal: controller.signal,
    onStderr: (text) => {
      if (text.includes("All indicators read")) {
        setTimeout(() => controller.abort(new Error("received SIGINT")), 500);
      }
    },
  });
  equal(run.code, 1, run.stderr);
  ok(run.stderr.includes("result:          interrupted"), run.stderr);
});

Deno.test("--help prints the sweep usage on stdout", async () => {
  await using w = await workspace();
  const run = await w.run(["--help"]);
  equal(run.code, 0);
  ok(run.stdout.includes("--indicators FILE"));
});

Deno.test("transform_context applies to sweep sightings as to the bridge's", async () => {
  await using w = await workspace();
  const script = `${w.dir}/transform.sh`;
  await Deno.writeTextFile(script, '#!/bin/sh\ncat > /dev/null\necho "{\\"ioc\\":\\"$1\\"}"\n', {
    mode: 0o755,
  });
  await Deno.chmod(script, 0o755);
  await Deno.writeTextFile(
    `${w.dir}/transform.yaml`,
    (await Deno.readTextFile(`${w.dir}/config.yaml`)) + `transform_context: ${script} %ioc\n`,
  );
  const run = await w.run(["-c", "transform.yaml", "--indicators", "-"], { stdin: "6.6.6.6\n" });
  equal(run.code, 0, run.stderr);
  const lines = run.stdout.trim().split("\n");
  equal(lines.length, EVENTS_FACTS.ipv4.events);
  for (const line of lines) deepEqual(JSON.parse(line), { ioc: "6.6.6.6" });
});
