import assert from "node:assert/strict";
import {
  expandCommand,
  parseCommandTemplate,
  placeholderValues,
} from "../../src/core/command_template.ts";
import { liveSighting, retroSighting } from "../../src/core/sighting.ts";

const EXAMPLE = "fever alertify --alert-prefix 'MY PREFIX' --extra-key my-ioc --ioc %ioc";

Deno.test("a template with %ioc or %matchtype runs per sighting; one without streams", () => {
  assert.equal(parseCommandTemplate(EXAMPLE).perSighting, true);
  assert.equal(parseCommandTemplate("tag --type=%matchtype").perSighting, true);
  assert.equal(parseCommandTemplate("logger -t vast-threatbus").perSighting, false);
  assert.deepEqual(parseCommandTemplate("logger -t vast-threatbus").words, [
    "logger",
    "-t",
    "vast-threatbus",
  ]);
});

Deno.test("placeholders are filled in per word, after splitting", () => {
  const template = parseCommandTemplate(EXAMPLE + " --kind=%matchtype:%ioc");
  assert.deepEqual(expandCommand(template, { ioc: "evil.com", matchType: "RETRO" }), [
    "fever",
    "alertify",
    "--alert-prefix",
    "MY PREFIX",
    "--extra-key",
    "my-ioc",
    "--ioc",
    "evil.com",
    "--kind=RETRO:evil.com",
  ]);
});

Deno.test("values with blanks, quotes or $() stay one argument and are not re-expanded", () => {
  const template = parseCommandTemplate("tool --ioc %ioc '%ioc' \"x %ioc\"");
  for (
    const ioc of [
      "a b",
      "x' --evil 'y",
      'x" --evil "y',
      "$(touch /tmp/pwned)",
      "`id`; rm -rf /",
      "%matchtype",
      "",
      "back\\slash",
    ]
  ) {
    assert.deepEqual(expandCommand(template, { ioc, matchType: "LIVE" }), [
      "tool",
      "--ioc",
      ioc,
      ioc,
      `x ${ioc}`,
    ]);
  }
});

Deno.test("a template without words, or with an unbalanced quote, is refused", () => {
  assert.throws(() => parseCommandTemplate("   "), {
    message: 'Cannot use command line "   ": it has no words',
  });
  assert.throws(() => parseCommandTemplate("fever --prefix 'MY"), /unterminated single quote/);
});

Deno.test("unquoted shell operators are reported, quoted ones are not", () => {
  assert.deepEqual(
    parseCommandTemplate("jq -c . | logger > out 2>&1 ; x && y '|' \\>").shellOperators,
    ["|", ">", "2>&1", ";", "&&"],
  );
  assert.deepEqual(parseCommandTemplate("sh -c 'jq -c . | logger'").shellOperators, []);
});

Deno.test("placeholder values come from the sighting", () => {
  const stamp = { uuid: "0f4a3c3e-7c0e-4f6b-9a57-3f4c8f1b2d10", createdMs: 0, source: "VAST" };
  const indicator = {
    type: "indicator" as const,
    id: "indicator--46b3f973-5c03-41fc-9efe-49598a267a35",
    pattern: "[url:value = 'http://evil.com/a?b=c&d=e']",
  };
  assert.deepEqual(placeholderValues(retroSighting(indicator, { n: 1 }, stamp)), {
    ioc: "http://evil.com/a?b=c&d=e",
    matchType: "RETRO",
  });
  const live = liveSighting({ ref: undefined, value: "6.6.6.6" }, { n: 1 }, stamp);
  assert.deepEqual(placeholderValues(live), { ioc: "6.6.6.6", matchType: "LIVE" });
  const odd = retroSighting({ ...indicator, pattern: "[x:y > 3]" }, { n: 1 }, stamp);
  assert.deepEqual(placeholderValues(odd), { ioc: "", matchType: "RETRO" });
});

Deno.test("the %ioc of a compound indicator's retro sighting is the value its event shows", () => {
  const stamp = { uuid: "0f4a3c3e-7c0e-4f6b-9a57-3f4c8f1b2d10", createdMs: 0, source: "VAST" };
  const indicator = {
    type: "indicator" as const,
    id: "indicator--46b3f973-5c03-41fc-9efe-49598a267a35",
    pattern:
      "[domain-name:value = 'a.com' OR domain-name:value = 'b.com'] OR [ipv4-addr:value = '6.6.6.6']",
  };
  const ioc = (event: Record<string, unknown>) =>
    placeholderValues(retroSighting(indicator, event, stamp)).ioc;
  assert.equal(ioc({ query: "b.com" }), "b.com");
  assert.equal(ioc({ id: { resp_h: "6.6.6.6" } }), "6.6.6.6");
  assert.equal(ioc({ other: "nothing" }), "a.com", "shows none: the first value");
  const flow = { ...indicator, pattern: "[network-traffic:dst_port = 22]" };
  assert.equal(
    placeholderValues(retroSighting(flow, { n: 1 }, stamp)).ioc,
    "network-traffic dst port 22",
  );
});
