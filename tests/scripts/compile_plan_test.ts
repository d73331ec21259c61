import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  binaryName,
  type CompilePlan,
  DEFAULT_TARGETS,
  missingRuntimeMessage,
  planCompile,
  RUNTIME_FLAGS,
  RUNTIME_PERMISSIONS,
  TARGETS,
  versionProblem,
  zeromqExcludes,
} from "../../scripts/compile_plan.ts";

const X64 = "x86_64-unknown-linux-gnu";
const ARM = "aarch64-unknown-linux-gnu";

function jobs(plan: CompilePlan) {
  if (plan.kind !== "jobs") throw new Error(`expected jobs, got ${JSON.stringify(plan)}`);
  return plan.jobs;
}

function usageMessage(plan: CompilePlan): string {
  if (plan.kind !== "usage-error") throw new Error(`expected a usage error, got ${plan.kind}`);
  return plan.message;
}

Deno.test("without arguments both Linux targets are built into dist/", () => {
  const plan = planCompile([]);
  deepEqual(jobs(plan).map((job) => [job.target, job.output]), [
    [X64, `dist/vast-threatbus-${X64}`],
    [ARM, `dist/vast-threatbus-${ARM}`],
  ]);
  deepEqual([...DEFAULT_TARGETS], [X64, ARM]);
  equal(plan.kind === "jobs" && plan.check, false);
});

Deno.test("--target picks targets in order, once each; --out-dir loses a trailing slash", () => {
  const plan = planCompile([
    "--target",
    ARM,
    "--target=aarch64-apple-darwin",
    "--target",
    ARM,
    "--out-dir",
    "/tmp/out/",
    "--check",
  ]);
  deepEqual(jobs(plan).map((job) => job.output), [
    `/tmp/out/vast-threatbus-${ARM}`,
    "/tmp/out/vast-threatbus-aarch64-apple-darwin",
  ]);
  equal(plan.kind === "jobs" && plan.check, true);
  equal(binaryName(X64), `vast-threatbus-${X64}`);
  deepEqual(jobs(planCompile(["--out-dir", "/"]))[0]?.output, `/vast-threatbus-${X64}`);
});

Deno.test("each job compiles src/main.ts for its target with the runtime permissions, no -A", () => {
  for (const job of jobs(planCompile([]))) {
    const { args } = job;
    equal(args[0], "compile");
    deepEqual(args.slice(-5), ["--target", job.target, "--output", job.output, "src/main.ts"]);
    for (const flag of RUNTIME_PERMISSIONS) ok(args.includes(flag), flag);
    ok(args.includes("--exclude-unused-npm"));
    ok(!args.some((a) => a === "-A" || a === "--allow-all" || a === "--allow-sys"), args.join(" "));
  }
});

Deno.test("the runtime permissions are the six named ones, the host name the only sys API", () => {
  deepEqual(RUNTIME_PERMISSIONS.map((flag) => flag.split("=")[0]).sort(), [
    "--allow-env",
    "--allow-net",
    "--allow-read",
    "--allow-run",
    "--allow-sys",
    "--allow-write",
  ]);
  ok(RUNTIME_PERMISSIONS.includes("--allow-sys=hostname"));
});

Deno.test("an unknown target is a usage error that lists the known ones", () => {
  const message = usageMessage(planCompile(["--target", "x86_64-pc-windows-msvc"]));
  match(message, /^Cannot build for target "x86_64-pc-windows-msvc": expected one of /);
  for (const target of TARGETS) ok(message.includes(`"${target}"`), target);
});

Deno.test("unknown options, positionals and an empty --out-dir are usage errors", () => {
  match(usageMessage(planCompile(["--targets", X64])), /^Cannot parse the arguments: .*--targets/);
  match(usageMessage(planCompile(["src/main.ts"])), /^Cannot parse the arguments: /);
  match(usageMessage(planCompile(["--out-dir="])), /--out-dir ""/);
  equal(planCompile(["--help"]).kind, "help");
});

Deno.test("one DENORT_BIN cannot serve two targets; with one target it is fine", () => {
  const message = usageMessage(planCompile([], { denortBin: "/opt/denort" }));
  match(message, /DENORT_BIN="\/opt\/denort" for 2 targets/);
  match(message, /--target/);
  equal(jobs(planCompile(["--target", ARM], { denortBin: "/opt/denort" })).length, 1);
  equal(jobs(planCompile([], { denortBin: "" })).length, 2);
});

Deno.test("zeromq's addons, which only the tests load, are left out of every binary", () => {
  const context = { zeromqBuildDir: "/cache/zeromq/6.8.0/build/" };
  deepEqual(zeromqExcludes(context), ["/cache/zeromq/6.8.0/build"]);
  for (const target of [X64, ARM]) {
    const [job] = jobs(planCompile(["--target", target], context));
    const excluded = job?.args.flatMap((arg, i, all) => all[i - 1] === "--exclude" ? [arg] : []);
    deepEqual(excluded, ["/cache/zeromq/6.8.0/build"]);
  }
  deepEqual(zeromqExcludes({}), [], "not cached: nothing to leave out");
});

// What deno compile 2.9.6 printed on a machine without access to Deno's servers.
const NO_NETWORK = `Compile src/main.ts to dist/vast-threatbus-${X64}
Download https://dl.deno.land/release/v2.9.6/denort-${X64}.zip
error: Writing deno compile executable to temporary file 'dist/vast-threatbus-${X64}.tmp-6046'

Caused by:
    0: Setting up base binary.
    1: error sending request for url (https://dl.deno.land/release/v2.9.6/denort-${X64}.zip): client error (Connect): dns error: failed to lookup address information: Name or service not known
    2: client error (Connect)
`;

Deno.test("no network: the message names the runtime, the target and every way out", () => {
  const message = missingRuntimeMessage(NO_NETWORK, { target: X64, denoVersion: "2.9.6" });
  ok(message !== undefined);
  match(message, /^Cannot build for x86_64-unknown-linux-gnu: no Deno runtime \(denort 2\.9\.6\)/);
  match(message, /set DENORT_BIN to denort 2\.9\.6 for x86_64-unknown-linux-gnu/);
  match(message, /\$DENO_DIR\/dl\/release\/v2\.9\.6\//);
  match(message, /denort-x86_64-unknown-linux-gnu\.zip/);
  match(message, /deno binary on npm cannot stand in/);
});

Deno.test("a DENORT_BIN that does not exist is named", () => {
  const stderr = "error: Writing deno compile executable\n\nCaused by:\n" +
    "    0: Could not find denort at '/opt/denort'\n    1: No such file or directory (os error 2)\n";
  const message = missingRuntimeMessage(stderr, {
    target: ARM,
    denoVersion: "2.9.6",
    denortBin: "/opt/denort",
  });
  match(
    message ?? "",
    /^Cannot build for aarch64-unknown-linux-gnu: DENORT_BIN="\/opt\/denort" does not exist/,
  );
});

Deno.test("a broken cached runtime zip and an unusable DENORT_BIN are recognised", () => {
  const badZip = "unpacking via zip crate failed: invalid Zip archive: Could not find EOCD\n";
  match(
    missingRuntimeMessage(badZip, { target: ARM, denoVersion: "2.9.6" }) ?? "",
    /the cached denort-aarch64-unknown-linux-gnu\.zip is not a zip archive/,
  );
  const unusable =
    "Caused by:\n    0: Setting up base binary.\n    1: Permission denied (os error 13)\n";
  match(
    missingRuntimeMessage(unusable, { target: X64, denoVersion: "2.9.6", denortBin: "/x" }) ?? "",
    /DENORT_BIN="\/x" could not be used/,
  );
});

Deno.test("other compile failures are not blamed on the runtime", () => {
  for (
    const stderr of [
      'error: Module not found "file:///work/src/mian.ts".',
      'error: Relative import path "zeromq" not prefixed with / or ./ or ../',
      "TS2322 [ERROR]: Type 'string' is not assignable to type 'number'.",
      "",
    ]
  ) {
    equal(missingRuntimeMessage(stderr, { target: X64, denoVersion: "2.9.6" }), undefined, stderr);
  }
});

Deno.test("--version output: the right line passes, deno's own version names DENORT_BIN", () => {
  equal(versionProblem("vast-threatbus 1.2.3\n", "1.2.3"), undefined);
  const deno = versionProblem(
    "deno 2.9.6 (stable, release, x86_64-unknown-linux-gnu)\nv8 15.0\n",
    "1.2.3",
  );
  match(deno ?? "", /full deno CLI, not on denort \(check DENORT_BIN\)/);
  match(
    versionProblem("vast-threatbus 1.2.2\n", "1.2.3") ?? "",
    /printed "vast-threatbus 1\.2\.2"/,
  );
  match(versionProblem("", "1.2.3") ?? "", /instead of "vast-threatbus 1\.2\.3"/);
});

Deno.test("every binary is built with the runtime flags, in order", () => {
  for (const job of jobs(planCompile([]))) {
    const at = job.args.indexOf(RUNTIME_FLAGS[0] as string);
    ok(at > 0, job.args.join(" "));
    deepEqual(job.args.slice(at, at + RUNTIME_FLAGS.length), [...RUNTIME_FLAGS]);
  }
});
