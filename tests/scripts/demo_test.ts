import { equal, ok } from "node:assert/strict";
import { RUN_PERMISSIONS } from "../integration/harness.ts";

const DEMO = new URL("../../scripts/demo.ts", import.meta.url).pathname;

Deno.test("the demo runs the bridge against the emulators, prints sightings and exits 0", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    // No --allow-ffi: the demo hosts the emulator on its native sockets, never loading npm:zeromq.
    args: ["run", "--quiet", ...RUN_PERMISSIONS, DEMO],
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  equal(output.code, 0, stderr);
  const sightings = new TextDecoder().decode(output.stdout).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  ok(sightings.length > 0);
  for (const sighting of sightings) equal(sighting.type, "sighting");
  ok(stderr.includes("Skipping indicator"), "the unsupported samples are skipped with a reason");
});
