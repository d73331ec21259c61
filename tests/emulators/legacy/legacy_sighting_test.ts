import { deepEqual, equal, match } from "node:assert/strict";
import { decodeLegacySighting } from "./legacy_sighting.ts";

const SIGHTING = {
  ts: "2022-05-16 08:00:00.681368+00:00",
  intel: "117614",
  context: { ts: "2022-05-16T08:00:00.681368", source: "VAST" },
  ioc: ["198.51.100.39"],
};

function reason(body: string): string {
  const outcome = decodeLegacySighting(body);
  return outcome.ok ? "accepted" : outcome.rejected.reason;
}

Deno.test("a complete sighting is accepted and its ts read as dateutil would", () => {
  const body = JSON.stringify({ ...SIGHTING, ts: "2022-05-16T08:00:00.681368Z" });
  const outcome = decodeLegacySighting(body);
  equal(outcome.ok, true);
  if (!outcome.ok) return;
  deepEqual(outcome.sighting, {
    ts: "2022-05-16 08:00:00.681368+00:00",
    intel: "117614",
    ioc: ["198.51.100.39"],
    context: SIGHTING.context,
    body,
  });
});

Deno.test("each missing or mistyped field is refused with its reason", () => {
  const body = (patch: Record<string, unknown>) => JSON.stringify({ ...SIGHTING, ...patch });
  match(reason("{"), /^not JSON: /);
  equal(reason("[]"), "not a JSON object");
  equal(reason(body({ ts: "soon" })), 'ts is not a datetime: "soon"');
  equal(reason(body({ ts: undefined })), "ts is not a datetime: undefined");
  equal(reason(body({ intel: 117614 })), "intel is not a string: 117614");
  equal(reason(body({ ioc: "198.51.100.39" })), 'ioc is not a list: "198.51.100.39"');
  equal(reason(body({ ioc: undefined })), "ioc is not a list: undefined");
  equal(reason(body({ context: [] })), "context is not an object: []");
  equal(reason(body({ context: "{}" })), 'context is not an object: "{}"');
  equal(reason(body({})), "accepted");
});
