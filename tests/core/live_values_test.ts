import { deepEqual, equal } from "node:assert/strict";
import { liveValueKey, LiveValues } from "../../src/core/live_values.ts";

const A = "indicator--00000000-0000-4000-8000-00000000000a";
const B = "indicator--00000000-0000-4000-8000-00000000000b";

Deno.test("a value is added for its first indicator and told the others as they join", () => {
  const values = new LiveValues();
  deepEqual(values.add(A, [{ type: "domain", value: "a.com" }, { type: "ip", value: "1.2.3.4" }]), [
    { op: "add", ioc: { type: "domain", value: "a.com" }, refs: [A] },
    { op: "add", ioc: { type: "ip", value: "1.2.3.4" }, refs: [A] },
  ]);
  deepEqual(values.add(B, [{ type: "ipv6", value: "::ffff:1.2.3.4" }]), [
    { op: "refs", ioc: { type: "ip", value: "1.2.3.4" }, refs: [A, B] },
  ], "the same address in another spelling is the same entry");
  deepEqual(values.add(A, [{ type: "domain", value: "a.com" }]), [], "held already");
  deepEqual(values.refsOf("1.2.3.4"), [A, B]);
  deepEqual(values.refsOf("a.com"), [A]);
  deepEqual(values.refsOf("b.com"), []);
  equal(values.size, 2);
});

Deno.test("a shared value stays until the last indicator holding it is gone", () => {
  const values = new LiveValues();
  values.add(A, [{ type: "domain", value: "a.com" }, { type: "domain", value: "shared.com" }]);
  values.add(B, [{ type: "domain", value: "shared.com" }]);
  deepEqual(values.remove(A), [
    { op: "remove", ioc: { type: "domain", value: "a.com" }, refs: [] },
    { op: "refs", ioc: { type: "domain", value: "shared.com" }, refs: [B] },
  ]);
  equal(values.holds(A), false);
  deepEqual(values.refsOf("shared.com"), [B]);
  deepEqual(values.remove(B), [
    { op: "remove", ioc: { type: "domain", value: "shared.com" }, refs: [] },
  ]);
  equal(values.size, 0);
  deepEqual(values.remove(B), [], "nothing left to remove");
});

Deno.test("a withdrawal removes values named by its pattern that nobody holds", () => {
  const values = new LiveValues();
  values.add(B, [{ type: "domain", value: "kept.com" }]);
  // Added before this table began (the matcher outlives the bridge): removed if nobody holds it.
  deepEqual(
    values.remove(A, [
      { type: "domain", value: "old.com" },
      { type: "domain", value: "kept.com" },
      { type: "domain", value: "old.com" },
    ]),
    [{ op: "remove", ioc: { type: "domain", value: "old.com" }, refs: [] }],
  );
  deepEqual(values.refsOf("kept.com"), [B]);
});

Deno.test("addresses are keyed by their canonical text, other values by their exact text", () => {
  equal(liveValueKey("2001:0DB8::1", "ipv6"), liveValueKey("2001:db8::1"));
  equal(liveValueKey("::ffff:6.6.6.6", "ipv6"), "a 6.6.6.6");
  equal(liveValueKey("EVIL.com", "domain"), "s EVIL.com");
  equal(
    liveValueKey("1.2.3.4", "url"),
    "s 1.2.3.4",
    "a URL that looks like an address is a string",
  );
});

Deno.test("all() tells every value afresh; valueOf finds what an indicator was matched for", () => {
  const [a, b] = ["indicator--a", "indicator--b"];
  const values = new LiveValues();
  values.add(a, [{ type: "domain", value: "a.com" }]);
  values.add(b, [{ type: "domain", value: "a.com" }, { type: "ip", value: "6.6.6.6" }]);
  deepEqual(values.all(), [
    { op: "refs", ioc: { type: "domain", value: "a.com" }, refs: [a, b] },
    { op: "refs", ioc: { type: "ip", value: "6.6.6.6" }, refs: [b] },
  ]);
  equal(values.valueOf(a, {}), "a.com");
  equal(values.valueOf(b, { id: { resp_h: "6.6.6.6" } }), "6.6.6.6", "the one the event shows");
  equal(values.valueOf(b, { query: "a.com" }), "a.com");
  equal(values.valueOf(b, {}), "a.com", "else the first");
  equal(values.valueOf("indicator--c", {}), undefined);
});

Deno.test("valueOf finds a subnet by an address in it", () => {
  const values = new LiveValues();
  values.add("indicator--a", [
    { type: "domain", value: "a.com" },
    { type: "subnet", value: "10.0.0.0/8" },
  ]);
  equal(values.valueOf("indicator--a", { id: { orig_h: "10.1.2.3" } }), "10.0.0.0/8");
  equal(values.valueOf("indicator--a", { answers: ["192.0.2.1"] }), "a.com");
});

Deno.test("replace gives an indicator exactly the new values: the ones it dropped leave or lose it", () => {
  const values = new LiveValues();
  values.add(A, [{ type: "domain", value: "old.com" }, { type: "domain", value: "kept.com" }]);
  values.add(B, [{ type: "domain", value: "shared.com" }]);
  values.replace(A, [{ type: "domain", value: "kept.com" }, {
    type: "domain",
    value: "shared.com",
  }]);
  deepEqual(values.refsOf("old.com"), []);
  deepEqual(values.refsOf("shared.com"), [B, A]);
  deepEqual(
    values.replace(A, [{ type: "domain", value: "new.com" }]),
    [
      { op: "remove", ioc: { type: "domain", value: "kept.com" }, refs: [] },
      { op: "refs", ioc: { type: "domain", value: "shared.com" }, refs: [B] },
      { op: "add", ioc: { type: "domain", value: "new.com" }, refs: [A] },
    ],
    "what it dropped first, then what it gained",
  );
  deepEqual(values.replace(A, [{ type: "domain", value: "new.com" }]), [], "unchanged");
  deepEqual(values.replace(A, []), [
    { op: "remove", ioc: { type: "domain", value: "new.com" }, refs: [] },
  ]);
  equal(values.holds(A), false);
  equal(values.size, 1);
});
