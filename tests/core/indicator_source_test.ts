import { deepEqual, equal, ok } from "node:assert/strict";
import {
  IndicatorSourceParser,
  parseIndicatorText,
  type SourceEntry,
} from "../../src/core/indicator_source.ts";

const T = Date.UTC(2026, 10, 28, 4, 0, 0);
const OPTIONS = { timestampMs: T };
const FIXTURES = new URL("../fixtures/", import.meta.url);

function parse(text: string): SourceEntry[] {
  return parseIndicatorText(text, OPTIONS);
}

/** `line: pattern` for indicators, `line: !category: reason` for unusable items. */
function summary(entries: readonly SourceEntry[]): string[] {
  return entries.map((entry) => {
    const where = entry.at.object === undefined
      ? `${entry.at.line}`
      : `${entry.at.line}.${entry.at.object}`;
    switch (entry.kind) {
      case "indicator":
        return `${where}: ${entry.indicator.pattern}`;
      case "unusable":
        return `${where}: !${entry.category}`;
      case "other-object":
        return `${where}: (${entry.objectType})`;
    }
  });
}

Deno.test("a pretty-printed bundle yields its indicators and names the other objects", async () => {
  const text = await Deno.readTextFile(new URL("sweep_bundle.json", FIXTURES));
  const entries = parse(text);
  deepEqual(summary(entries), [
    "1.1: (identity)",
    "1.2: [domain-name:value = 'evil.com']",
    "1.3: [ipv4-addr:value = '6.6.6.6']",
    "1.4: [ipv6-addr:value = '2001:db8:bad:c0de::66']",
    "1.5: [url:value = '/download/malware.exe']",
    `1.6: [url:value = '/search?q="evil"&path=C:\\\\Temp']`,
    "1.7: [ipv4-addr:value = '203.0.113.99']",
    "1.8: [ipv4-addr:value = '6.6.6.6']",
    "1.9: [file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    "1.10: (relationship)",
  ]);
  const first = entries[1];
  ok(first?.kind === "indicator" && !first.synthetic);
  equal(first.indicator.id, "indicator--0b6c8a1e-2f3d-4c5b-8a9e-1f2a3b4c5d01");
  // Properties beyond the ones the bridge reads are kept for the sighting.
  equal(first.indicator["valid_from"], "2021-04-01T10:00:00Z");
});

Deno.test("a bundle on one line is read in line mode, like any JSON line", () => {
  const bundle = {
    type: "bundle",
    id: "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
    objects: [{
      type: "indicator",
      id: "indicator--46b3f973-5c03-41fc-9efe-49598a267a35",
      pattern: "[ipv4-addr:value = '6.6.6.6']",
    }, 42],
  };
  deepEqual(summary(parse(`${JSON.stringify(bundle)}\nevil.com\n`)), [
    "1.1: [ipv4-addr:value = '6.6.6.6']",
    "1.2: !unreadable",
    "2: [domain-name:value = 'evil.com']",
  ]);
});

Deno.test("line-delimited indicators are checked one by one, with line numbers", async () => {
  const text = await Deno.readTextFile(new URL("sweep_indicators.ndjson", FIXTURES));
  const entries = parse(text);
  deepEqual(summary(entries), [
    "1: [domain-name:value = 'evil.com']",
    "2: [ipv4-addr:value = '6.6.6.6']",
    "3: !unreadable",
    "4: [ipv4-addr:value = '6.6.6.6' OR ipv4-addr:value = '7.7.7.7']",
    "5: !unreadable",
    "6: [domain-name:value = 'evil.com']",
    "7: [url:value = '/download/malware.exe']",
    "9: [ipv4-addr:value = '203.0.113.99']",
  ]);
  const bad = entries[2];
  ok(bad?.kind === "unusable" && bad.reason.includes("must be indicator--<uuid>"), bad?.kind);
  const broken = entries[4];
  ok(broken?.kind === "unusable" && broken.reason.startsWith("not valid JSON"));
});

Deno.test("plain lines: typed and bare values, patterns, comments and blanks", async () => {
  const text = await Deno.readTextFile(new URL("sweep_plain.txt", FIXTURES));
  deepEqual(summary(parse(text)), [
    "2: [domain-name:value = 'evil.com']",
    "3: [ipv4-addr:value = '6.6.6.6']",
    "4: [ipv6-addr:value = '2001:db8:bad:c0de::66']",
    "5: [url:value = '/download/malware.exe']",
    "6: [domain-name:value = 'evil.com']",
    "7: [domain-name:value = 'evil.com']",
    "8: !unreadable",
    "9: !invalid-value",
    "10: [file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    "11: [ipv4-addr:value = '203.0.113.99']",
  ]);
});

Deno.test("a broken first JSON line does not swallow the lines after it", () => {
  const text = [
    '{"type":"indicator", broken',
    JSON.stringify({
      type: "indicator",
      id: "indicator--46b3f973-5c03-41fc-9efe-49598a267a35",
      pattern: "[ipv4-addr:value = '6.6.6.6']",
    }),
  ].join("\n");
  deepEqual(summary(parse(text)), ["1: !unreadable", "2: [ipv4-addr:value = '6.6.6.6']"]);
});

Deno.test("a broken multi-line document is one unusable item at its first line", () => {
  const entries = parse('\n# feed\n{\n  "type": "bundle",\n  "objects": [\n');
  deepEqual(summary(entries), ["3: !unreadable"]);
  const entry = entries[0];
  ok(entry?.kind === "unusable" && /not valid JSON/.test(entry.reason));
});

Deno.test("a JSON array of objects and a top-level single indicator are read", () => {
  const indicator = {
    type: "indicator",
    id: "indicator--46b3f973-5c03-41fc-9efe-49598a267a35",
    pattern: "[ipv4-addr:value = '6.6.6.6']",
  };
  deepEqual(summary(parse(JSON.stringify([indicator, indicator], null, 2))), [
    "1.1: [ipv4-addr:value = '6.6.6.6']",
    "1.2: [ipv4-addr:value = '6.6.6.6']",
  ]);
  deepEqual(summary(parse(JSON.stringify(indicator, null, 2))), [
    "1: [ipv4-addr:value = '6.6.6.6']",
  ]);
});

Deno.test("indicators with another pattern language or no STIX type are unusable", () => {
  const entries = parse([
    JSON.stringify({
      type: "indicator",
      id: "indicator--46b3f973-5c03-41fc-9efe-49598a267a35",
      pattern: "alert tcp any any",
      pattern_type: "snort",
    }),
    JSON.stringify({ value: "6.6.6.6" }),
    "[]",
  ].join("\n"));
  deepEqual(summary(entries), ["1: !unreadable", "2: !unreadable"]);
  ok(entries[0]?.kind === "unusable" && entries[0].reason.includes('pattern_type "snort"'));
});

Deno.test("a byte-order mark and CRLF line ends are tolerated", () => {
  deepEqual(summary(parse("\uFEFFevil.com\r\n6.6.6.6\r\n")), [
    "1: [domain-name:value = 'evil.com']",
    "2: [ipv4-addr:value = '6.6.6.6']",
  ]);
});

Deno.test("oversized lines are reported in place and documents stay bounded", () => {
  const parser = new IndicatorSourceParser(OPTIONS);
  const entries = [
    ...parser.push("evil.com"),
    ...parser.pushOversize(200_000_000),
    ...parser.push("6.6.6.6"),
    ...parser.end(),
  ];
  deepEqual(summary(entries), [
    "1: [domain-name:value = 'evil.com']",
    "2: !unreadable",
    "3: [ipv4-addr:value = '6.6.6.6']",
  ]);

  const small = new IndicatorSourceParser({ ...OPTIONS, maxDocumentChars: 20 });
  const document = [
    ...small.push("{"),
    ...small.push('  "type": "bundle",'),
    ...small.push('  "objects": []'),
    ...small.push("}"),
    ...small.end(),
  ];
  deepEqual(summary(document), ["1: !unreadable"]);
  ok(document[0]?.kind === "unusable" && /longer than 20 characters/.test(document[0].reason));
});
