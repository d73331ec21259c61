import type { PointIoc } from "./ioc.ts";

/** Escapes a value for a double-quoted VAST string literal. */
export function quoteVastString(value: string): string {
  return `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/**
 * Translates a validated point IoC into the VAST query the original ran for it
 * (PROTOCOL.md section 3). Values must already have passed type validation.
 */
export function vastQuery(ioc: PointIoc): string {
  switch (ioc.type) {
    case "ip":
    case "ipv6":
      return ioc.value;
    case "domain": {
      const quoted = quoteVastString(ioc.value);
      return `${quoted} == net.domain || ${quoted} == net.hostname`;
    }
    case "url":
      return `${quoteVastString(ioc.value)} == net.uri`;
  }
}

/** One query for the events that match any of `iocs` (a flat disjunction of their queries). */
export function vastQueryAny(iocs: readonly PointIoc[]): string {
  return iocs.map(vastQuery).join(" || ");
}
