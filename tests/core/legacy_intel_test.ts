import { deepEqual, equal, match, ok } from "node:assert/strict";
import { isRemoval } from "../../src/core/indicator.ts";
import { decodeLegacyIntel, intelOf, LEGACY_INTEL_NAMESPACE } from "../../src/core/legacy_intel.ts";
import {
  INTEL_TYPE_NAMES,
  intelTypeName,
  intelTypeValue,
} from "../../src/core/legacy_intel_type.ts";
import { NAMESPACE_URL, uuidV5 } from "../../src/core/uuid_v5.ts";

function body(
  intelType: number | string,
  indicator: unknown[],
  patch: Record<string, unknown> = {},
): string {
  const type = typeof intelType === "number" ? intelType : intelTypeValue(intelType);
  return JSON.stringify({
    ts: "2020-09-04 11:21:13.663164",
    id: "86",
    data: { source: "MISP", indicator, intel_type: type },
    operation: "ADD",
    ...patch,
  });
}

function patternOf(intelType: string, indicator: string[]): string {
  const outcome = decodeLegacyIntel(body(intelType, indicator));
  if (outcome.kind !== "indicator") throw new Error(`${intelType}: ${outcome.reason}`);
  return outcome.indicator.pattern;
}

Deno.test("the namespace of intel ids is the documented uuid v5", () => {
  equal(uuidV5(NAMESPACE_URL, "urn:vast-threatbus:legacy-intel"), LEGACY_INTEL_NAMESPACE);
});

Deno.test("an intel becomes a STIX-2.1 indicator with an id from the intel's id", () => {
  const outcome = decodeLegacyIntel(body("DOMAIN", ["evil.com"]));
  equal(outcome.kind, "indicator");
  if (outcome.kind !== "indicator") return;
  deepEqual(outcome.indicator, {
    type: "indicator",
    spec_version: "2.1",
    id: `indicator--${uuidV5(LEGACY_INTEL_NAMESPACE, "86")}`,
    created: "2020-09-04T11:21:13.663Z",
    modified: "2020-09-04T11:21:13.663Z",
    pattern: "[domain-name:value = 'evil.com']",
    pattern_type: "stix",
    valid_from: "2020-09-04T11:21:13.663Z",
    x_threatbus_intel: { id: "86", indicator: ["evil.com"], intel_type: "DOMAIN" },
  });
  deepEqual(outcome.intel, { id: "86", indicator: ["evil.com"] });
  deepEqual(intelOf(outcome.indicator), outcome.intel);
  equal(isRemoval(outcome.indicator), false);
});

Deno.test("REMOVE names the same indicator, withdrawn", () => {
  const added = decodeLegacyIntel(body("IPSRC", ["6.6.6.6"]));
  const removed = decodeLegacyIntel(body("IPSRC", ["6.6.6.6"], { operation: "REMOVE" }));
  ok(added.kind === "indicator" && removed.kind === "indicator");
  equal(removed.indicator.id, added.indicator.id);
  equal(removed.indicator.pattern, added.indicator.pattern);
  equal(isRemoval(removed.indicator), true);
  equal(isRemoval(added.indicator), false);
});

Deno.test("each matchable type becomes its pattern", () => {
  const md5 = "44d88612fea8a8f36de82e1278abb02f";
  const sha1 = "3395856ce81f2b7382dee72602f798b642f14140";
  const sha256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";
  const cases: [string, string[], string][] = [
    ["IPSRC", ["6.6.6.6"], "[ipv4-addr:value = '6.6.6.6']"],
    ["IPDST", ["2001:db8::1"], "[ipv6-addr:value = '2001:db8::1']"],
    ["HOSTNAME", ["www.evil.com"], "[domain-name:value = 'www.evil.com']"],
    ["DOMAIN", ["it's.evil"], "[domain-name:value = 'it\\'s.evil']"],
    [
      "DOMAIN_IP",
      ["evil.com", "6.6.6.6"],
      "[domain-name:value = 'evil.com'] OR [ipv4-addr:value = '6.6.6.6']",
    ],
    ["DOMAIN_IP", ["evil.com"], "[domain-name:value = 'evil.com']"],
    ["URL", ["http://evil.com/a"], "[url:value = 'http://evil.com/a']"],
    ["URI", ["/a\\b"], "[url:value = '/a\\\\b']"],
    ["MD5", [md5], `[file:hashes.MD5 = '${md5}']`],
    ["SHA1", [sha1], `[file:hashes.'SHA-1' = '${sha1}']`],
    ["SHA256", [sha256], `[file:hashes.'SHA-256' = '${sha256}']`],
    ["FILENAME_MD5", ["evil.exe", md5], `[file:hashes.MD5 = '${md5}']`],
    ["FILENAME_SHA1", ["evil.exe", sha1], `[file:hashes.'SHA-1' = '${sha1}']`],
    ["FILENAME_SHA256", ["evil.exe", sha256], `[file:hashes.'SHA-256' = '${sha256}']`],
  ];
  for (const [type, indicator, pattern] of cases) {
    equal(patternOf(type, indicator), pattern, `${type} ${indicator}`);
  }
});

Deno.test("every other type is unsupported, naming the type", () => {
  const matchable = new Set([1, 2, 10, 11, 12, 13, 14, 16, 18, 19, 20, 21, 22]);
  for (let value = 1; value <= INTEL_TYPE_NAMES.length; value++) {
    const outcome = decodeLegacyIntel(body(value, ["x"]));
    if (matchable.has(value)) {
      ok(outcome.kind !== "unsupported", `${intelTypeName(value)}`);
      continue;
    }
    equal(outcome.kind, "unsupported", `${intelTypeName(value)}`);
    if (outcome.kind === "unsupported") {
      ok(outcome.reason.includes(`of type ${intelTypeName(value)} (${value})`), outcome.reason);
    }
  }
});

Deno.test("what Threat Bus 2020.x would drop is invalid, with a reason", () => {
  const reason = (text: string) => {
    const outcome = decodeLegacyIntel(text);
    equal(outcome.kind, "invalid", text);
    return outcome.kind === "invalid" ? outcome.reason : "";
  };
  match(reason("not json"), /^intel is not JSON/);
  match(reason("[]"), /^intel is not a JSON object/);
  match(reason("null"), /^intel is not a JSON object/);
  match(reason(body("DOMAIN", [])), /data\.indicator must not be empty/);
  match(reason(body("DOMAIN", [1])), /data\.indicator\.0 must be a string/);
  match(reason(body("DOMAIN", ["x"], { data: { indicator: "x", intel_type: 11 } })), /list/);
  match(reason(body(0, ["x"])), /unknown intel_type 0/);
  match(reason(body(48, ["x"])), /unknown intel_type 48/);
  match(reason(body(11.5, ["x"])), /data\.intel_type must be a whole number/);
  match(reason(body("DOMAIN", ["x"], { data: { indicator: ["x"] } })), /data\.intel_type/);
  match(
    reason(body("DOMAIN", ["x"], { operation: "EDIT" })),
    /operation must be "ADD" or "REMOVE"/,
  );
  match(reason(body("DOMAIN", ["x"], { ts: "yesterday" })), /a ts that is no time/);
  match(reason(body("DOMAIN", ["x"], { ts: 1600000000 })), /ts must be a time string/);
  match(reason(body("DOMAIN", ["x"], { id: null })), /id must be a string/);
  match(reason(body("FILENAME_MD5", ["evil.exe"])), /lacks the element that is matched/);
  ok(reason("x".repeat(10_000)).length < 400, "a bounded reason");
});

Deno.test("a numeric id is the id Python's str() writes; extra keys are no problem", () => {
  const outcome = decodeLegacyIntel(body("DOMAIN", ["evil.com"], { id: 117614, extra: [1] }));
  equal(outcome.kind === "indicator" && outcome.intel.id, "117614");
});

Deno.test("intelOf reads only what decodeLegacyIntel wrote", () => {
  equal(intelOf(undefined), undefined);
  const base = { type: "indicator", id: "indicator--x", pattern: "" } as const;
  equal(intelOf(base), undefined);
  equal(intelOf({ ...base, x_threatbus_intel: "86" }), undefined);
  equal(intelOf({ ...base, x_threatbus_intel: { id: 86, indicator: [] } }), undefined);
  equal(intelOf({ ...base, x_threatbus_intel: { id: "86", indicator: [1] } }), undefined);
  deepEqual(intelOf({ ...base, x_threatbus_intel: { id: "86", indicator: ["a"] } }), {
    id: "86",
    indicator: ["a"],
  });
});
