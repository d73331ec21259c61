import { deepEqual, equal, match } from "node:assert/strict";
import { liveLookupMatches } from "../../src/core/tenzir_live_line.ts";

const ID = "indicator--46b3f973-5c03-41fc-9efe-49598a267a35";
const ID2 = "indicator--0f4a3c3e-7c0e-4f6b-9a57-3f4c8f1b2d10";

Deno.test("one match per stored id, the event without tb", () => {
  const event = { ts: "2021-03-01T10:00:00Z", query: "evil.com", answers: ["1.2.3.4"] };
  const line = JSON.stringify({ ...event, tb: { ids: [ID, ID2] } });
  deepEqual(liveLookupMatches(line), [
    { ok: true, match: { value: undefined, ref: ID, type: undefined, event } },
    { ok: true, match: { value: undefined, ref: ID2, type: undefined, event } },
  ]);
});

Deno.test("the value nested per key field (tb.<field>) is read too, each id once", () => {
  const line = JSON.stringify({
    id: { orig_h: "6.6.6.6", resp_h: "7.7.7.7" },
    tb: { id: { orig_h: { ids: [ID] }, resp_h: { ids: [ID2, ID] } } },
  });
  deepEqual(liveLookupMatches(line).map((m) => m.ok && m.match.ref), [ID, ID2]);
});

Deno.test("unusable lines and ids are reported with the reason", () => {
  const reasons = (line: string) => liveLookupMatches(line).map((m) => (m.ok ? "ok" : m.reason));
  match(reasons("not json")[0] as string, /^not JSON/);
  match(reasons("[1]")[0] as string, /^not a JSON object/);
  match(reasons('{"query":"x"}')[0] as string, /no "tb" field/);
  match(reasons('{"tb":{"ids":[1]}}')[0] as string, /holds no "ids" list of strings/);
  match(reasons('{"tb":null}')[0] as string, /holds no "ids"/);
  const mixed = reasons(JSON.stringify({ tb: { ids: [ID, "indicator--nope"] } }));
  equal(mixed[0], "ok");
  match(mixed[1] as string, /"indicator--nope" does not name an indicator--<uuid>/);
  const long = reasons(`{"x":"${"a".repeat(500)}"}`)[0] as string;
  equal(long.length < 250, true, "the line is cut short in the reason");
});
