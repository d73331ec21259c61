import { deepEqual, equal } from "node:assert/strict";
import { type RetroJob, retroJob } from "../../../src/app/retro/job.ts";
import { PackedLane } from "../../../src/app/retro/packed_lane.ts";
import type { Indicator } from "../../../src/core/indicator.ts";
import type { IocQuery } from "../../../src/core/ioc.ts";

const INDICATOR: Indicator = {
  type: "indicator",
  id: "indicator--8d0a4c5e-9b1f-4c2e-8f7a-2d3b4c5d6e7f",
  pattern: "[ipv4-addr:value = '10.0.0.1'] OR [domain-name:value = 'bücher.example']",
  pattern_type: "stix",
  valid_until: "2030-01-01T00:00:00Z",
  name: 'quotes " and \\ backslashes, a line\nbreak, 😀 and a lone \ud800 surrogate',
  labels: ["a", "b"],
  external_references: [{ source_name: "x", nested: { deep: [1, 2.5, null, true] } }],
};
const QUERY: IocQuery = [
  { type: "ip", value: "10.0.0.1" },
  { type: "flow", src: { address: { type: "ip", value: "10.0.0.2" } }, dst: { port: 443 } },
];

function only(lane: PackedLane): RetroJob {
  const entries = [...lane.entries()];
  equal(entries.length, 1);
  return (entries[0] as NonNullable<typeof entries[0]>).job();
}

Deno.test("a packed job reads back exactly as it was added: indicator, query, key, shape, expiry", () => {
  const lane = new PackedLane();
  const added = retroJob(INDICATOR, QUERY);
  lane.add(added);
  const read = only(lane);
  deepEqual(read, added);
  deepEqual(Object.keys(read.indicator), Object.keys(INDICATOR), "property order kept");
  equal(read.validUntilMs, Date.UTC(2030, 0, 1));
});

Deno.test("a solo job stays solo; its family is known without reading its text", () => {
  const lane = new PackedLane();
  lane.add({ ...retroJob(INDICATOR, [{ type: "domain", value: "a.example" }]), solo: true });
  const [entry] = [...lane.entries()];
  equal(entry?.solo, true);
  equal(entry?.family, "domain");
  equal(entry?.job().solo, true);
  deepEqual(entry?.shape()?.keys, ["domain a.example"]);
});

Deno.test("a job that cannot be batched has no family and no shape", () => {
  const lane = new PackedLane();
  lane.add(retroJob(INDICATOR, [{ type: "subnet", value: "10.0.0.0/8" }]));
  const [entry] = [...lane.entries()];
  equal(entry?.family, undefined);
  equal(entry?.shape(), undefined);
});

Deno.test("every hash colliding, jobs are still told apart by their text", () => {
  const lane = new PackedLane({ hash: () => 1 });
  const a = retroJob({ ...INDICATOR, id: "indicator--a" }, [{ type: "ip", value: "10.0.0.1" }]);
  const b = retroJob({ ...INDICATOR, id: "indicator--b" }, [{ type: "ip", value: "10.0.0.1" }]);
  const a2 = retroJob({ ...INDICATOR, id: "indicator--a" }, [{ type: "ip", value: "10.0.0.2" }]);
  lane.add(a);
  lane.add(b);
  equal(lane.has(a), true);
  equal(lane.has(a2), false);
  lane.add(a2);
  equal(lane.cancel("indicator--b"), 1);
  equal(lane.has(b), false);
  equal(lane.has(a) && lane.has(a2), true);
  deepEqual(lane.take([...lane.entries()]).map((job) => job.key), [a.key, a2.key]);
  equal(lane.size, 0);
});

Deno.test("text buffers go as the lane empties, first in, first out", () => {
  const lane = new PackedLane({ chunkBytes: 4096 });
  for (let n = 0; n < 200; n++) {
    lane.add(
      retroJob({ ...INDICATOR, id: `indicator--${n}` }, [{ type: "ip", value: "10.0.0.1" }]),
    );
  }
  const full = lane.chunks;
  equal(full > 10, true, `${full} buffers for 200 jobs of about 400 bytes`);
  for (let n = 0; n < 100; n++) lane.take([[...lane.entries()][0]!]);
  equal(lane.chunks <= full / 2 + 1, true, `${lane.chunks} of ${full} buffers left at half`);
  lane.take([...lane.entries()]);
  equal(lane.chunks <= 1, true, "at most one buffer of the smallest size stays");
  equal(lane.size, 0);
});

Deno.test("a slot taken and used again shows its new job's batch shape, not the one read before", () => {
  const lane = new PackedLane();
  const ip = (value: string) => retroJob(INDICATOR, [{ type: "ip", value }]);
  lane.add(ip("10.0.0.1"));
  lane.add(ip("10.0.0.2"));
  const [first] = [...lane.entries()];
  deepEqual(first?.shape()?.keys, ["address 10.0.0.1"]);
  deepEqual([...lane.entries()].map((entry) => entry.shape()?.keys), [
    ["address 10.0.0.1"],
    ["address 10.0.0.2"],
  ]);
  lane.take([first!]);
  lane.add(retroJob(INDICATOR, [{ type: "domain", value: "host.example" }]));
  deepEqual([...lane.entries()].map((entry) => [entry.family, entry.shape()?.keys]), [
    ["address", ["address 10.0.0.2"]],
    ["domain", ["domain host.example"]],
  ]);
});
