/**
 * Outages behind the bridge (`outage_drivers.ts` runs each against the real
 * program): VAST going down in the middle of a stream of indicators, and a
 * long-lived sink command killed while sightings stream into it.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { sinkKilled, vastDownMidStream } from "./outage_drivers.ts";

Deno.test("VAST down for seconds mid-stream: queries wait for it, none spends a retry, every sighting arrives", async () => {
  const f = await vastDownMidStream();
  ok(f.downMs >= 5000, `down ${Math.round(f.downMs)} ms`);
  deepEqual(new Set(f.endings), new Set(["Retro query finished"]));
  equal(f.endings.length, f.published, "each indicator queried once");
  equal(f.queriedIndicators, f.published);
  equal(f.retries, 0, "no retry was spent on the outage");
  deepEqual(f.stateLines, [
    ["WARNING", "VAST at 127.0.0.1:42000 is not answering; retro queries wait for it"],
    ["INFO", "VAST at 127.0.0.1:42000 is up again; retro queries resume"],
  ], "one line per state change");
  equal(f.made, f.expected);
  equal(f.receivedIds.length, f.expected, "every sighting arrived");
  equal(new Set(f.receivedIds).size, f.expected, "none twice");
});

Deno.test("a sink command killed mid-stream is restarted and gets the last lines again: none lost", async () => {
  const f = await sinkKilled();
  equal(f.made, 3000);
  equal(f.restarts, 1);
  equal(new Set(f.outIds).size, f.made, "every sighting reached the sink");
  equal(f.resent.length, 1, "one restart, one resend");
  const twice = f.outIds.length - new Set(f.outIds).size;
  ok(
    (f.resent[0] ?? 0) > 0 && twice <= (f.resent[0] ?? 0),
    `${twice} twice, ${f.resent[0]} re-sent`,
  );
  equal(f.exitCode, 0);
});
