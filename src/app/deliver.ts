import { placeholderValues } from "../core/command_template.ts";
import type { ContextTransformer, Sighting, SightingSink } from "../ports.ts";

/** Where a sighting goes, and what rewrites its context on the way. */
export interface Delivery {
  readonly sink: SightingSink;
  readonly transformer?: ContextTransformer | undefined;
}

/**
 * Runs the context transform (if any) and writes the sighting to the sink.
 * Rejects only when the sink refuses it; a failing transform already falls
 * back to the original context inside the transformer.
 */
export async function deliverSighting(sighting: Sighting, delivery: Delivery): Promise<void> {
  const { sink, transformer } = delivery;
  if (transformer === undefined) return await sink.write(sighting);
  const before = sighting.x_threatbus_sighting_context;
  const after = await transformer.transform(before, placeholderValues(sighting));
  await sink.write(
    after === before ? sighting : { ...sighting, x_threatbus_sighting_context: after },
  );
}
