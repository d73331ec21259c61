/**
 * A STIX 2.1 pattern as an {@link IocQuery} (`core/ioc.ts`), or a refusal that
 * names the construct VAST cannot express exactly. The query is never broader
 * or narrower than the pattern: an event matches the query exactly when it
 * matches the pattern, reading each VAST event as one observation.
 *
 * - `OR`, inside an observation or between observations, and `IN` sets join
 *   their alternatives; the same term twice counts once.
 * - `AND` inside an observation is translated only where it constrains one
 *   connection: the addresses, ports and address families of the two ends of a
 *   `network-traffic` object. `AND` over alternatives distributes (`a AND (b OR
 *   c)` is `(a AND b) OR (a AND c)`), up to {@link MAX_QUERY_TERMS}.
 * - `AND` between observations, `FOLLOWEDBY` and qualifiers relate several
 *   events, which one VAST query cannot; they are refused, as are `NOT`, `!=`,
 *   ordering, `LIKE`, `MATCHES`, `ISSUPERSET`, `EXISTS` and paths VAST has no
 *   field for.
 */

import {
  type AddressIoc,
  type FlowEnd,
  type FlowIoc,
  type IocQuery,
  type IocTerm,
  iocTermKey,
  iocTermText,
} from "./ioc.ts";
import type { FlowEndName } from "./ioc_paths.ts";
import { type PatternRefusal, syntaxRefusal, unsupported } from "./pattern_refusal.ts";
import {
  type ComparisonFolder,
  foldComparison,
  foldObservation,
  type ObservationFolder,
  type Qualifier,
} from "./stix_pattern/ast.ts";
import { parsePattern } from "./stix_pattern/parser.ts";
import {
  type Alternative,
  type Alternatives,
  type EndConstraint,
  type EndObjectType,
  translateComparison,
} from "./translate_comparison.ts";

export type {
  PatternRefusal,
  PatternRefusalKind,
  UnsupportedConstruct,
} from "./pattern_refusal.ts";

/** Most terms one pattern may become: a query of more is refused rather than sent. */
export const MAX_QUERY_TERMS = 1000;

/** A pattern's query, or why it has none. */
export type PatternTranslation = { readonly ok: true; readonly query: IocQuery } | PatternRefusal;

type Terms = { readonly ok: true; readonly terms: readonly IocTerm[] } | PatternRefusal;

const QUALIFIER_NAMES: Readonly<Record<Qualifier["kind"], string>> = {
  within: "WITHIN",
  repeats: "REPEATS",
  "start-stop": "START/STOP",
};

const COMPARISONS: ComparisonFolder<Alternatives> = {
  comparison: translateComparison,
  exists: (node) =>
    unsupported("exists", `EXISTS test on ${node.path.objectType} (VAST cannot ask for a field)`),
  junction: (node, operands) => {
    const refused = operands.find((operand) => !operand.ok);
    if (refused !== undefined) return refused;
    const lists = operands.map((operand) => (operand.ok ? operand.alternatives : []));
    return node.operator === "OR" ? capped(lists.flat()) : conjunction(lists);
  },
};

const OBSERVATIONS: ObservationFolder<Terms> = {
  observation: (node) => {
    const folded = foldComparison(node.comparison, COMPARISONS);
    if (!folded.ok) return folded;
    const terms: IocTerm[] = [];
    for (const alternative of folded.alternatives) {
      const term = termOf(alternative);
      if (!term.ok) return term;
      terms.push(term.term);
    }
    return { ok: true, terms };
  },
  junction: (node, operands) => {
    switch (node.operator) {
      case "FOLLOWEDBY":
        return unsupported(
          "followedby",
          "observation operator FOLLOWEDBY (an order of events; a VAST query matches single events)",
        );
      case "AND":
        return unsupported(
          "observation-and",
          "observation operator AND (observations in separate events; a VAST query matches single events)",
        );
      case "OR": {
        const refused = operands.find((operand) => !operand.ok);
        if (refused !== undefined) return refused;
        const terms = operands.flatMap((operand) => (operand.ok ? operand.terms : []));
        return terms.length > MAX_QUERY_TERMS ? tooMany() : { ok: true, terms };
      }
    }
  },
  qualified: (node) =>
    unsupported(
      "qualifier",
      `qualifier ${
        node.qualifiers.map((q) => QUALIFIER_NAMES[q.kind]).join(", ")
      } (a condition on several events or their times; a VAST query matches single events)`,
    ),
};

/** Translates `pattern`; never throws. Reasons start as the refusals of `pattern_refusal.ts` say. */
export function translatePattern(pattern: string): PatternTranslation {
  const parsed = parsePattern(pattern);
  if (!parsed.ok) return syntaxRefusal(parsed.error.message);
  const folded = foldObservation(parsed.pattern.expression, OBSERVATIONS);
  if (!folded.ok) return folded;
  const seen = new Set<string>();
  const query = folded.terms.filter((term) => {
    const key = iocTermKey(term);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return query.length > MAX_QUERY_TERMS ? tooMany() : { ok: true, query };
}

function tooMany(): PatternRefusal {
  return unsupported("too-many", `more than ${MAX_QUERY_TERMS} alternatives in one pattern`);
}

function capped(alternatives: readonly Alternative[]): Alternatives {
  return alternatives.length > MAX_QUERY_TERMS ? tooMany() : { ok: true, alternatives };
}

/**
 * `AND` of operands, each a list of alternatives: every combination of one
 * alternative per operand, each merged into one connection.
 */
function conjunction(lists: readonly (readonly Alternative[])[]): Alternatives {
  let combined: Alternative[] = [{ kind: "flow", constraints: [] }];
  for (const list of lists) {
    if (combined.length * list.length > MAX_QUERY_TERMS) return tooMany();
    const next: Alternative[] = [];
    for (const left of combined) {
      for (const right of list) {
        if (left.kind !== "flow" || right.kind !== "flow") {
          const value = left.kind === "value" ? left : right;
          return unsupported(
            "conjunction",
            `AND of ${
              describe(value)
            } with another comparison in one observation (only the addresses and ports of one network-traffic object combine exactly)`,
          );
        }
        next.push({ kind: "flow", constraints: [...left.constraints, ...right.constraints] });
      }
    }
    combined = next;
  }
  return { ok: true, alternatives: combined };
}

function describe(alternative: Alternative): string {
  return alternative.kind === "value"
    ? `${alternative.ioc.type} ${JSON.stringify(alternative.ioc.value)}`
    : "a connection";
}

type Term = { readonly ok: true; readonly term: IocTerm } | PatternRefusal;

/** An alternative as a query term; a connection's constraints checked and merged per end. */
function termOf(alternative: Alternative): Term {
  if (alternative.kind === "value") return { ok: true, term: alternative.ioc };
  const ends: Partial<Record<FlowEndName, EndDraft>> = {};
  for (const { end, ...constraint } of alternative.constraints) {
    const draft = ends[end] ?? (ends[end] = {});
    const merged = mergeConstraint(draft, constraint, end);
    if (merged !== undefined) return merged;
  }
  const flow: { type: "flow"; src?: FlowEnd; dst?: FlowEnd } = { type: "flow" };
  for (const end of ["src", "dst"] as const) {
    const draft = ends[end];
    if (draft === undefined) continue;
    const done = finishEnd(draft, end);
    if (!done.ok) return done;
    if (done.end !== undefined) flow[end] = done.end;
  }
  return { ok: true, term: flow satisfies FlowIoc };
}

interface EndDraft {
  address?: AddressIoc;
  port?: number;
  objectType?: EndObjectType;
}

const PROPERTY_OF: Readonly<Record<EndConstraint["kind"], string>> = {
  address: "ref.value",
  port: "port",
  "object-type": "ref.type",
};

/** Adds one constraint to an end; a second, different one on the same property can never hold. */
function mergeConstraint(
  draft: EndDraft,
  constraint: EndConstraint,
  end: FlowEndName,
): PatternRefusal | undefined {
  const [current, next] = constraint.kind === "address"
    ? [
      draft.address === undefined ? undefined : iocTermKey(draft.address),
      iocTermKey(constraint.address),
    ]
    : constraint.kind === "port"
    ? [draft.port?.toString(), constraint.port.toString()]
    : [draft.objectType, constraint.objectType];
  if (current !== undefined && current !== next) {
    return unsupported(
      "contradiction",
      `network-traffic:${end}_${
        PROPERTY_OF[constraint.kind]
      } compared with two different values in one AND (it can never match)`,
    );
  }
  if (constraint.kind === "address") draft.address = constraint.address;
  else if (constraint.kind === "port") draft.port = constraint.port;
  else draft.objectType = constraint.objectType;
  return undefined;
}

type FinishedEnd = { readonly ok: true; readonly end: FlowEnd | undefined } | PatternRefusal;

/**
 * An end's constraints as a {@link FlowEnd}: an address family agreeing with
 * the address adds nothing, one that disagrees never holds, and one without an
 * address is nothing VAST can ask.
 */
function finishEnd(draft: EndDraft, end: FlowEndName): FinishedEnd {
  const { address, port, objectType } = draft;
  if (objectType !== undefined && address !== undefined && familyOf(address) !== objectType) {
    return unsupported(
      "contradiction",
      `network-traffic:${end}_ref.type '${objectType}' with the address ${
        iocTermText(address)
      } (it can never match)`,
    );
  }
  if (objectType !== undefined && address === undefined) {
    return unsupported(
      "object-path",
      `network-traffic:${end}_ref.type without an address (VAST has no field for the kind of a connection's end)`,
    );
  }
  if (address === undefined && port === undefined) return { ok: true, end: undefined };
  return {
    ok: true,
    end: {
      ...(address === undefined ? {} : { address }),
      ...(port === undefined ? {} : { port }),
    },
  };
}

function familyOf(address: AddressIoc): EndObjectType {
  if (address.type === "ip") return "ipv4-addr";
  if (address.type === "ipv6") return "ipv6-addr";
  return address.value.includes(":") ? "ipv6-addr" : "ipv4-addr";
}
