import { z } from "zod";

/**
 * The fields of a STIX-2.1 indicator this bridge relies on. Other properties
 * are kept (`loose`) because retro sightings carry the whole indicator.
 */
export const IndicatorSchema = z.looseObject({
  type: z.literal("indicator"),
  id: z.string().regex(
    /^indicator--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
    "must be indicator--<uuid>",
  ),
  pattern: z.string(),
  pattern_type: z.string().optional(),
  x_threatbus_update: z.string().optional(),
});

/** A validated STIX-2.1 indicator. */
export type Indicator = z.infer<typeof IndicatorSchema>;

/** True when the broker withdrew the indicator. */
export function isRemoval(indicator: Indicator): boolean {
  return indicator.x_threatbus_update?.toUpperCase() === "REMOVE";
}
