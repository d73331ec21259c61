import { equal } from "node:assert/strict";
import { jsonAbbreviation } from "../../src/core/json_abbreviation.ts";

const INDICATOR = {
  type: "indicator",
  id: "indicator--00000000-3039-4000-8000-000000003039",
  pattern: "[domain-name:value = 'host.example'] OR [ipv4-addr:value = '10.0.0.1']",
  pattern_type: "stix",
  modified: "2021-04-01T00:00:00.000Z",
  spec_version: "2.1",
  created: "2021-04-01T10:00:00.000Z",
  name: 'control \u0001 and line\nfeed, \'"]}, fragments as values: ","value":" T00:00:00',
  labels: ["malicious-activity"],
};

Deno.test("abbreviated JSON expands to exactly the text it was made from", () => {
  const abbreviation = jsonAbbreviation();
  const texts = [
    JSON.stringify(INDICATOR),
    JSON.stringify([{ type: "domain", value: "host.example" }]),
    `${JSON.stringify([{ type: "ip", value: "10.0.0.1" }])}\n${JSON.stringify(INDICATOR)}`,
    "",
    "{}",
  ];
  for (const text of texts) equal(abbreviation.expand(abbreviation.abbreviate(text)), text);
});

Deno.test("an indicator's common fragments shrink it by more than a third; line feeds stay", () => {
  const abbreviation = jsonAbbreviation();
  const json = JSON.stringify({ ...INDICATOR, name: "n" });
  const short = abbreviation.abbreviate(`[]\n${json}`);
  equal(short.length < json.length * 2 / 3, true, `${short.length} of ${json.length}`);
  equal(short.split("\n").length, 2);
});
