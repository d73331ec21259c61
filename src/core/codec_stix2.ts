import { IndicatorSchema } from "./indicator.ts";
import { type Sighting, sightingJson } from "./sighting.ts";
import type { BrokerFrame, DecodedFrame, OutboundFrame, WireCodec } from "./wire_codec.ts";

const SUBSCRIBE_TOPIC = "stix2/indicator";
const SIGHTING_TOPIC = "stix2/sighting";
// Enough of a bad body to recognise it in a log line without flooding the log.
const EXCERPT_CHARS = 120;

/** The STIX-2.1 wire format of current Threat Bus releases (PROTOCOL.md section 1). */
export function stix2Codec(): WireCodec {
  return {
    format: "stix2",
    subscribeTopic: SUBSCRIBE_TOPIC,
    decode: decodeStix2Frame,
    encodeSighting: encodeStix2Sighting,
  };
}

/** Decodes one broker frame; never throws. */
export function decodeStix2Frame(frame: BrokerFrame): DecodedFrame {
  if (frame.type !== "indicator") {
    return { kind: "ignored", reason: `message type "${frame.type}" is not used` };
  }
  let value: unknown;
  try {
    value = JSON.parse(frame.body);
  } catch (error) {
    return {
      kind: "invalid",
      reason: `body is not JSON (${(error as Error).message}): ${excerpt(frame.body)}`,
    };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { kind: "invalid", reason: `body is not a JSON object: ${excerpt(frame.body)}` };
  }
  const type = (value as Record<string, unknown>)["type"];
  if (type !== "indicator") {
    return {
      kind: "invalid",
      reason: `STIX object of type ${JSON.stringify(type ?? null)} where an indicator was expected`,
    };
  }
  const parsed = IndicatorSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      `${issue.path.join(".") || "(root)"}: ${issue.message}`
    );
    return { kind: "invalid", reason: `indicator is malformed: ${problems.join("; ")}` };
  }
  const patternType = parsed.data.pattern_type;
  if (patternType !== undefined && patternType.toLowerCase() !== "stix") {
    return {
      kind: "invalid",
      reason: `indicator ${parsed.data.id} has pattern_type "${patternType}"; only "stix" is read`,
    };
  }
  return { kind: "indicator", indicator: parsed.data };
}

/** Encodes a sighting as `stix2/sighting <json>`. */
export function encodeStix2Sighting(sighting: Sighting): OutboundFrame {
  return { topic: SIGHTING_TOPIC, body: sightingJson(sighting) };
}

function excerpt(text: string): string {
  const cut = text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text;
  return JSON.stringify(cut);
}
