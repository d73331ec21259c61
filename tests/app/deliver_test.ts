import { deepEqual, equal, rejects } from "node:assert/strict";
import { deliverSighting } from "../../src/app/deliver.ts";
import { describeError } from "../../src/core/error_text.ts";
import { retroSighting } from "../../src/core/sighting.ts";
import type { ContextTransformer, Sighting } from "../../src/ports.ts";
import { MemorySink } from "../fakes.ts";

const sighting = retroSighting(
  {
    type: "indicator",
    id: "indicator--46b3f973-5c03-41fc-9efe-49598a267a35",
    pattern: "[ipv4-addr:value = '6.6.6.6']",
  },
  { ts: "2021-03-01T10:00:00Z", resp_h: "6.6.6.6" },
  { uuid: "0f4a3c3e-7c0e-4f6b-9a57-3f4c8f1b2d10", createdMs: 0, source: "VAST" },
);

Deno.test("without a transformer the sighting goes to the sink as it is", async () => {
  const sink = new MemorySink();
  await deliverSighting(sighting, { sink });
  equal(sink.sightings[0], sighting);
});

Deno.test("the transformer sees the IoC and match type and replaces the context", async () => {
  const seen: unknown[] = [];
  const transformer: ContextTransformer = {
    transform: (context, options) => {
      seen.push(options);
      return Promise.resolve({ wrapped: context });
    },
  };
  const sink = new MemorySink();
  await deliverSighting(sighting, { sink, transformer });
  deepEqual(seen, [{ ioc: "6.6.6.6", matchType: "RETRO" }]);
  deepEqual(sink.sightings[0]?.x_threatbus_sighting_context, {
    wrapped: sighting.x_threatbus_sighting_context,
  });
  equal(sink.sightings[0]?.id, sighting.id);
});

Deno.test("a refusing sink rejects, with the cause in the description", async () => {
  const sink = {
    write: (_: Sighting) =>
      Promise.reject(new Error("Cannot write", { cause: new Error("EPIPE") })),
    close: () => Promise.resolve(),
  };
  await rejects(deliverSighting(sighting, { sink }), (error) => {
    equal(describeError(error), "Cannot write (cause: EPIPE)");
    return true;
  });
});
