/**
 * IoC queries (`core/ioc.ts`) in VAST's query language: the original's forms
 * (PROTOCOL.md section 3) for addresses, domains and URLs, and for what it did
 * not know: `:addr in 10.0.0.0/8` for subnets, `"<hash>" == file.hash.md5` (and
 * `sha1`, `sha256`) for file hashes, and the connection concepts
 * (`net.src.ip`, `net.src.port`, `net.dst.ip`, `net.dst.port`) joined with
 * `&&` for one connection.
 */

import type { AddressIoc, FlowIoc, IocTerm } from "./ioc.ts";

/** Escapes a value for a double-quoted VAST string literal. */
export function quoteVastString(value: string): string {
  return `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/**
 * The VAST query for one validated term. A connection of two or more
 * constraints is a conjunction; {@linkcode vastQueryAny} puts it in parentheses.
 */
export function vastQuery(term: IocTerm): string {
  switch (term.type) {
    case "ip":
    case "ipv6":
      return term.value;
    case "subnet":
      return `:addr in ${term.value}`;
    case "domain": {
      const quoted = quoteVastString(term.value);
      return `${quoted} == net.domain || ${quoted} == net.hostname`;
    }
    case "url":
      return `${quoteVastString(term.value)} == net.uri`;
    case "md5":
    case "sha1":
    case "sha256":
      return `${quoteVastString(term.value)} == file.hash.${term.type}`;
    case "flow":
      return flowPredicates(term).join(" && ");
  }
}

/**
 * One query for the events that match any of `terms` (a whole IoC query, or
 * the terms of several): a flat disjunction, conjunctions in parentheses.
 */
export function vastQueryAny(terms: readonly IocTerm[]): string {
  return terms.map((term) => {
    const query = vastQuery(term);
    return term.type === "flow" && flowPredicates(term).length > 1 && terms.length > 1
      ? `(${query})`
      : query;
  }).join(" || ");
}

function flowPredicates(term: FlowIoc): string[] {
  const ends = [["src", term.src], ["dst", term.dst]] as const;
  return ends.flatMap(([name, end]) => {
    const predicates: string[] = [];
    if (end?.address !== undefined) {
      predicates.push(addressPredicate(`net.${name}.ip`, end.address));
    }
    if (end?.port !== undefined) predicates.push(`net.${name}.port == ${end.port}`);
    return predicates;
  });
}

function addressPredicate(concept: string, address: AddressIoc): string {
  return address.type === "subnet"
    ? `${concept} in ${address.value}`
    : `${concept} == ${address.value}`;
}
