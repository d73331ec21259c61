import type { MetricsRegistry } from "../../core/metrics.ts";
import type { WireCodec } from "../../core/wire_codec.ts";
import type { Sighting, SightingSink, ThreatBus } from "../../ports.ts";

/** Reports sightings back to Threat Bus in the codec's wire format. */
export function threatBusSink(
  threatBus: ThreatBus,
  options: { readonly codec: WireCodec; readonly metrics?: MetricsRegistry },
): SightingSink {
  const { codec, metrics } = options;
  return {
    write: async (sighting: Sighting) => {
      await threatBus.publish(codec.encodeSighting(sighting));
      metrics?.count("sightings_sent");
    },
    // The bus itself is closed by its owner, after every sink has drained.
    close: () => Promise.resolve(),
  };
}
