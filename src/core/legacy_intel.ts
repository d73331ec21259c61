/**
 * Threat Bus 2020.x intel (PROTOCOL.md section 8) turned into what the rest
 * of the bridge works on: a STIX-2.1 indicator whose pattern says what to
 * match, `[domain-name:value = 'evil.com']`, with an id derived from the
 * intel's id, so that a withdrawal (`"operation": "REMOVE"`) names the same
 * indicator as the intel it withdraws. The indicator keeps the intel's id and
 * indicator list (`x_threatbus_intel`), which a sighting of it reports back.
 */

import { z } from "zod";
import type { Indicator } from "./indicator.ts";
import { isIpv6Address } from "./ip_address.ts";
import {
  type IntelElement,
  intelTypeName,
  matchableIntelTypes,
  matchedElements,
} from "./legacy_intel_type.ts";
import { type PlainValueType, stixPattern } from "./plain_indicator.ts";
import { parsePythonTime, pythonTimeEpochMs } from "./python_time.ts";
import { formatStixTime } from "./timestamp.ts";
import { uuidV5 } from "./uuid_v5.ts";

/**
 * The namespace of indicator ids made from intel ids: `uuidV5(NAMESPACE_URL,
 * "urn:vast-threatbus:legacy-intel")`. Intel `86` becomes
 * `indicator--<uuidV5(LEGACY_INTEL_NAMESPACE, "86")>`.
 */
export const LEGACY_INTEL_NAMESPACE = "a36da6de-5489-5523-a43f-cf54ab7292fd";

/** The indicator property that keeps the intel a sighting must name. */
export const INTEL_PROPERTY = "x_threatbus_intel";

/** What a legacy sighting names of its intel: the id and the indicator list. */
export interface IntelReference {
  readonly id: string;
  readonly indicator: readonly string[];
}

/** What one intel body meant. */
export type LegacyIntelOutcome =
  | {
    readonly kind: "indicator";
    readonly indicator: Indicator;
    readonly intel: IntelReference;
  }
  /** Well-formed intel of a type this bridge cannot match. */
  | { readonly kind: "unsupported"; readonly reason: string }
  /** Intel that Threat Bus 2020.x itself would have refused. */
  | { readonly kind: "invalid"; readonly reason: string };

// Enough of a bad body to recognise it in a log line without flooding the log.
const EXCERPT_CHARS = 120;

const IntelSchema = z.looseObject({
  ts: z.string({ error: "must be a time string" }),
  // The broker writes str(id); a number from elsewhere means the same.
  id: z.union([z.string(), z.number().int()], { error: "must be a string" }).transform(String),
  data: z.looseObject({
    indicator: z.array(z.string({ error: "must be a string" }), {
      error: "must be a list of strings",
    })
      .min(1, { error: "must not be empty" }),
    intel_type: z.number({ error: "must be a number" }).int({ error: "must be a whole number" }),
  }, { error: "must be an object with indicator and intel_type" }),
  operation: z.enum(["ADD", "REMOVE"], { error: 'must be "ADD" or "REMOVE"' }),
});

/** Decodes the body of a `<p2p>intel` message; never throws. */
export function decodeLegacyIntel(body: string): LegacyIntelOutcome {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return invalid(`intel is not JSON (${(error as Error).message}): ${excerpt(body)}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return invalid(`intel is not a JSON object: ${excerpt(body)}`);
  }
  const parsed = IntelSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      `${issue.path.join(".") || "(root)"} ${issue.message}`
    );
    return invalid(`intel is malformed: ${problems.join("; ")}: ${excerpt(body)}`);
  }
  const { id, ts, data, operation } = parsed.data;
  const typeName = intelTypeName(data.intel_type);
  if (typeName === undefined) {
    return invalid(
      `intel ${JSON.stringify(id)} has an unknown intel_type ${data.intel_type} (known: 1 to 47)`,
    );
  }
  const time = parsePythonTime(ts);
  if (time === undefined) {
    return invalid(`intel ${JSON.stringify(id)} has a ts that is no time: ${excerpt(ts)}`);
  }
  const elements = matchedElements(typeName);
  if (elements === undefined) {
    return {
      kind: "unsupported",
      reason: `intel ${
        JSON.stringify(id)
      } is of type ${typeName} (${data.intel_type}), which this bridge does not match; matched types: ${
        matchableIntelTypes().join(", ")
      }`,
    };
  }
  const patterns = elements.flatMap((element, position) => {
    const item = data.indicator[position];
    return element === undefined || item === undefined ? [] : [pattern(element, item)];
  });
  if (patterns.length === 0) {
    return invalid(
      `intel ${JSON.stringify(id)} of type ${typeName} lacks the element that is matched: ${
        excerpt(JSON.stringify(data.indicator))
      }`,
    );
  }
  const intel: IntelReference = { id, indicator: [...data.indicator] };
  const created = formatStixTime(pythonTimeEpochMs(time));
  const indicator: Indicator = {
    type: "indicator",
    spec_version: "2.1",
    id: `indicator--${uuidV5(LEGACY_INTEL_NAMESPACE, id)}`,
    created,
    modified: created,
    pattern: patterns.join(" OR "),
    pattern_type: "stix",
    valid_from: created,
    ...(operation === "REMOVE" ? { x_threatbus_update: "REMOVE" } : {}),
    [INTEL_PROPERTY]: { ...intel, intel_type: typeName },
  };
  return { kind: "indicator", indicator, intel };
}

/** The intel an indicator made by {@linkcode decodeLegacyIntel} came from. */
export function intelOf(indicator: Indicator | undefined): IntelReference | undefined {
  const kept = indicator?.[INTEL_PROPERTY];
  if (typeof kept !== "object" || kept === null) return undefined;
  const { id, indicator: list } = kept as Record<string, unknown>;
  if (typeof id !== "string" || !Array.isArray(list)) return undefined;
  if (!list.every((item) => typeof item === "string")) return undefined;
  return { id, indicator: list };
}

function pattern(element: IntelElement, value: string): string {
  const type: PlainValueType = element !== "address"
    ? element
    : isIpv6Address(value)
    ? "ipv6"
    : "ip";
  return stixPattern(type, value);
}

function invalid(reason: string): LegacyIntelOutcome {
  return { kind: "invalid", reason };
}

function excerpt(text: string): string {
  return JSON.stringify(text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text);
}
