import type { WireCodec } from "../core/wire_codec.ts";
import type { Sighting, SightingSink, ThreatBus } from "../ports.ts";

/** Reports sightings back to Threat Bus in the codec's wire format. */
export function threatBusSink(threatBus: ThreatBus, codec: WireCodec): SightingSink {
  return {
    write: (sighting: Sighting) => threatBus.publish(codec.encodeSighting(sighting)),
    // The bus itself is closed by its owner, after every sink has drained.
    close: () => Promise.resolve(),
  };
}
