/**
 * Benchmarks the pure core on one core: STIX patterns parsed and translated
 * to VAST queries per second, and sightings built and serialised per second
 * from realistic Zeek and Suricata result lines.
 *
 *   deno task bench:core [--seconds N]
 */
import { parseArgs } from "node:util";
import { encodeStix2Sighting } from "../src/core/codec_stix2.ts";
import type { Indicator } from "../src/core/indicator.ts";
import { translatePattern } from "../src/core/translate_pattern.ts";
import { parseEventLine, retroSighting } from "../src/core/sighting.ts";
import { vastQueryAny } from "../src/core/vast_query.ts";

const EVENTS = new URL("../tests/fixtures/events.ndjson", import.meta.url);

/** One measured figure. */
export interface BenchResult {
  readonly name: string;
  readonly operations: number;
  readonly seconds: number;
}

/** Runs `body` repeatedly for about `seconds` and counts how many items it handled. */
export function measure(name: string, seconds: number, body: () => number): BenchResult {
  for (let i = 0; i < 3; i++) body(); // warm-up, so the JIT has compiled the hot path
  let operations = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) operations += body();
  return { name, operations, seconds: (performance.now() - start) / 1000 };
}

function patterns(): string[] {
  const out: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const a = i % 256;
    out.push(
      `[ipv4-addr:value = '10.${a}.${(i * 7) % 256}.${(i * 13) % 256}']`,
      `[domain-name:value = 'host-${i}.evil-${a}.example.com']`,
      `[url:value = 'http://bad-${i}.example.net/path/to/payload-${a}.exe?x=1']`,
      `[ipv6-addr:value = '2001:db8:${a.toString(16)}::${i.toString(16)}']`,
    );
  }
  return out;
}

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { seconds: { type: "string", default: "2" } } });
  const seconds = Number(values.seconds);
  const sample = patterns();
  const lines = (await Deno.readTextFile(EVENTS)).split("\n").filter((l) => l !== "")
    .map((l) => JSON.stringify(JSON.parse(l).event));
  const indicator: Indicator = {
    type: "indicator",
    id: "indicator--46b3f973-5c03-41fc-9efe-49598a267a35",
    pattern: "[domain-name:value = 'evil.com']",
    pattern_type: "stix",
  };
  let sink = 0;
  const results = [
    measure("patterns parsed and translated", seconds, () => {
      for (const pattern of sample) {
        const translated = translatePattern(pattern);
        if (translated.ok) sink += vastQueryAny(translated.query).length;
      }
      return sample.length;
    }),
    measure("sightings built and serialised", seconds, () => {
      for (const line of lines) {
        const parsed = parseEventLine(line);
        if (!parsed.ok) continue;
        const sighting = retroSighting(indicator, parsed.event, {
          uuid: "0f4a3c3e-7c0e-4f6b-9a57-3f4c8f1b2d10",
          createdMs: 1617271200000,
          source: "VAST",
        });
        sink += encodeStix2Sighting(sighting).body.length;
      }
      return lines.length;
    }),
  ];
  console.log("| benchmark | per second | operations | seconds |");
  console.log("|---|---:|---:|---:|");
  for (const r of results) {
    const rate = Math.round(r.operations / r.seconds).toLocaleString("en-US");
    console.log(`| ${r.name} | ${rate} | ${r.operations} | ${r.seconds.toFixed(2)} |`);
  }
  console.log(`\ncommand: deno run --allow-read scripts/bench_core.ts --seconds ${seconds}`);
  if (sink < 0) console.log(sink); // keeps the work observable to the optimiser
}

if (import.meta.main) await main(Deno.args);
