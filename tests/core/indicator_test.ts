import { deepEqual, equal, ok } from "node:assert/strict";
import { decodeStix2Frame } from "../../src/core/codec_stix2.ts";
import {
  hasExpired,
  type Indicator,
  IndicatorSchema,
  modifiedMs,
  validUntilMs,
  withdrawalOf,
} from "../../src/core/indicator.ts";

const BASE: Indicator = {
  type: "indicator",
  id: "indicator--46b3f973-5c03-41fc-9efe-49598a267a35",
  pattern: "[domain-name:value = 'evil.com']",
};
const AT = Date.UTC(2021, 3, 1, 10);

Deno.test("a broker REMOVE and a producer's revoked: true both withdraw; revoked: false does not", () => {
  equal(withdrawalOf(BASE), undefined);
  equal(withdrawalOf({ ...BASE, x_threatbus_update: "remove" }), "removed");
  equal(withdrawalOf({ ...BASE, x_threatbus_update: "EDIT" }), undefined);
  equal(withdrawalOf({ ...BASE, revoked: true }), "revoked");
  equal(withdrawalOf({ ...BASE, revoked: false }), undefined);
  equal(withdrawalOf({ ...BASE, revoked: true, x_threatbus_update: "REMOVE" }), "removed");
});

Deno.test("valid_until has passed at its own instant, not before; without it nothing expires", () => {
  const until = { ...BASE, valid_until: "2021-04-01T10:00:00Z" };
  equal(hasExpired(until, AT - 1), false);
  equal(hasExpired(until, AT), true);
  equal(hasExpired(until, AT + 1), true);
  equal(hasExpired(BASE, Number.MAX_SAFE_INTEGER), false);
  equal(validUntilMs(until), AT);
  // Read leniently, as VAST and brokers write times: no zone means UTC, an offset is applied.
  equal(validUntilMs({ ...BASE, valid_until: "2021-04-01 10:00:00" }), AT);
  equal(validUntilMs({ ...BASE, valid_until: "2021-04-01T12:00:00+02:00" }), AT);
  equal(modifiedMs({ ...BASE, modified: "2021-04-01T10:00:00.250Z" }), AT + 250);
  equal(modifiedMs(BASE), undefined);
});

Deno.test("a timestamp that is no time, or a revoked that is no boolean, makes the indicator malformed", () => {
  for (
    const [field, value] of [
      ["valid_until", "next tuesday"],
      ["valid_until", "2021-13-01T00:00:00Z"],
      ["modified", "yesterday"],
      ["modified", 1617271200],
      ["revoked", "true"],
    ] as const
  ) {
    const parsed = IndicatorSchema.safeParse({ ...BASE, [field]: value });
    ok(!parsed.success, `${field}: ${value}`);
    deepEqual(parsed.error.issues.map((issue) => issue.path), [[field]]);
  }
  const decoded = decodeStix2Frame({
    type: "indicator",
    body: JSON.stringify({ ...BASE, valid_until: "soon" }),
  });
  equal(decoded.kind, "invalid");
  ok(
    decoded.kind === "invalid" &&
      decoded.reason.includes("valid_until: must be a timestamp such as 2021-04-01T10:00:00Z"),
    JSON.stringify(decoded),
  );
});
