import { z } from "zod";
import { parseTimestampMs } from "./timestamp.ts";

/**
 * A STIX timestamp, read leniently (any form VAST or a broker writes, with or
 * without a zone); one that is no time at all makes the indicator malformed,
 * so it is skipped with that reason instead of being matched with a lifetime
 * nobody can tell.
 */
const Timestamp = z.string().refine((text) => parseTimestampMs(text) !== undefined, {
  error: "must be a timestamp such as 2021-04-01T10:00:00Z",
});

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
  /** Which version this is: a later `modified` replaces an earlier one. */
  modified: Timestamp.optional(),
  /** After this the indicator is not to be matched any more. */
  valid_until: Timestamp.optional(),
  /** `true` withdraws the indicator for good. */
  revoked: z.boolean().optional(),
  x_threatbus_update: z.string().optional(),
});

/** A validated STIX-2.1 indicator. */
export type Indicator = z.infer<typeof IndicatorSchema>;

/** True when the broker withdrew the indicator. */
export function isRemoval(indicator: Indicator): boolean {
  return indicator.x_threatbus_update?.toUpperCase() === "REMOVE";
}

/**
 * How an indicator was withdrawn: by the broker (`x_threatbus_update:
 * REMOVE`) or by its producer (`revoked: true`); undefined when it was not.
 */
export type Withdrawal = "removed" | "revoked";

/** The property that says so, for log lines. */
export const WITHDRAWAL_FIELDS: Readonly<Record<Withdrawal, string>> = {
  removed: "x_threatbus_update",
  revoked: "revoked",
};

/** Whether and how `indicator` withdraws itself; see {@linkcode Withdrawal}. */
export function withdrawalOf(indicator: Indicator): Withdrawal | undefined {
  if (isRemoval(indicator)) return "removed";
  return indicator.revoked === true ? "revoked" : undefined;
}

/** When `indicator` stops being valid (`valid_until`), in epoch milliseconds; undefined when never. */
export function validUntilMs(indicator: Indicator): number | undefined {
  return parseTimestampMs(indicator.valid_until);
}

/** The indicator's `modified` in epoch milliseconds; undefined when it has none. */
export function modifiedMs(indicator: Indicator): number | undefined {
  return parseTimestampMs(indicator.modified);
}

/** True when `indicator`'s `valid_until` is at or before `nowMs`. */
export function hasExpired(indicator: Indicator, nowMs: number): boolean {
  const until = validUntilMs(indicator);
  return until !== undefined && until <= nowMs;
}
