/**
 * The query subset of the `vast` emulator: the forms the bridge produces
 * (PROTOCOL.md section 3 and `src/core/vast_query.ts`), parsed strictly, and
 * evaluated against nested events as VAST 2.x evaluates them.
 *
 * Grammar (anything else is a parse error, as in VAST):
 *
 *     query      := term ("||" term)*
 *     term       := ADDRESS | ":addr" "==" ADDRESS | ":addr" "in" SUBNET
 *                 | STRING "==" CONCEPT | connection | "(" connection ")"
 *     connection := endpoint ("&&" endpoint)*
 *     endpoint   := END_CONCEPT "==" (ADDRESS | COUNT) | END_CONCEPT "in" SUBNET
 *
 * STRING is double-quoted with the escapes `\\` and `\"` only; CONCEPT is a key
 * of {@link CONCEPTS}, END_CONCEPT one of {@link END_CONCEPTS}. `&&` joins only
 * the predicates on one connection, the one form the bridge writes it in.
 * Addresses and subnets are read as `vast_emulator_values.ts` says.
 */

import {
  canonicalAddress,
  containsAddress,
  containsAddressIn,
  inSubnet,
  parseSubnet,
  type Subnet,
} from "./vast_emulator_values.ts";

/** VAST string concepts: which fields, per schema, a concept stands for. The one place to extend. */
export const CONCEPTS: Readonly<Record<string, readonly string[]>> = {
  "net.domain": [
    "zeek.dns.query",
    "zeek.dns.answers",
    "zeek.http.host",
    "zeek.ssl.server_name",
    "suricata.dns.dns.rrname",
    "suricata.tls.tls.sni",
    "suricata.http.http.hostname",
  ],
  "net.hostname": ["zeek.http.host", "suricata.http.http.hostname"],
  "net.uri": ["zeek.http.uri", "suricata.http.http.url"],
  // VAST 2.x maps Suricata's fileinfo hashes; Zeek's files log holds them at
  // the top level, where TENZIR.md looks for them too.
  "file.hash.md5": ["suricata.fileinfo.fileinfo.md5", "zeek.files.md5"],
  "file.hash.sha1": ["suricata.fileinfo.fileinfo.sha1", "zeek.files.sha1"],
  "file.hash.sha256": ["suricata.fileinfo.fileinfo.sha256", "zeek.files.sha256"],
};

/**
 * VAST's connection concepts: the field of each end of a connection, for the
 * Zeek logs that carry `id` and for every Suricata event type.
 */
export const END_CONCEPTS: Readonly<
  Record<string, { readonly zeek: string; readonly suricata: string; readonly kind: "ip" | "port" }>
> = {
  "net.src.ip": { zeek: "id.orig_h", suricata: "src_ip", kind: "ip" },
  "net.dst.ip": { zeek: "id.resp_h", suricata: "dest_ip", kind: "ip" },
  "net.src.port": { zeek: "id.orig_p", suricata: "src_port", kind: "port" },
  "net.dst.port": { zeek: "id.resp_p", suricata: "dest_port", kind: "port" },
};

/** The Zeek logs whose `id` record VAST's connection concepts name (not `files`, which has none). */
const ZEEK_CONNECTION_LOGS = new Set([
  "conn",
  "dce_rpc",
  "dnp3",
  "dns",
  "dpd",
  "ftp",
  "http",
  "intel",
  "irc",
  "notice",
  "ntlm",
  "pe",
  "radius",
  "rdp",
  "sip",
  "smb",
  "smb_mapping",
  "smtp",
  "snmp",
  "ssh",
  "ssl",
  "tunnel",
  "weird",
  "x509",
]);

/** One predicate on one end of a connection. */
export type EndPredicate =
  | { readonly concept: string; readonly op: "==" | "in"; readonly subnet: Subnet }
  | { readonly concept: string; readonly op: "=="; readonly address: string }
  | { readonly concept: string; readonly op: "=="; readonly port: number };

/** One alternative of a query. */
export type QueryTerm =
  | { readonly kind: "address"; readonly address: string }
  | { readonly kind: "subnet"; readonly subnet: Subnet }
  | { readonly kind: "concept"; readonly concept: string; readonly value: string }
  | { readonly kind: "connection"; readonly predicates: readonly EndPredicate[] };

/** A parsed query: an event matches when any term does. */
export interface Query {
  readonly terms: readonly QueryTerm[];
}

type Token =
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "word"; readonly value: string }
  | { readonly kind: "op"; readonly value: "==" | "||" | "&&" | "(" | ")" };

class Tokens {
  #at = 0;
  constructor(readonly tokens: readonly Token[]) {}
  next(): Token | undefined {
    return this.tokens[this.#at++];
  }
  peek(): Token | undefined {
    return this.tokens[this.#at];
  }
}

/** Parses a query; throws an Error whose message reads like VAST's parse error. */
export function parseQuery(text: string): Query {
  const tokens = new Tokens(tokenize(text));
  const terms: QueryTerm[] = [];
  for (;;) {
    terms.push(parseTerm(tokens));
    const separator = tokens.next();
    if (separator === undefined) break;
    if (separator.kind !== "op" || separator.value !== "||") {
      throw new Error(`Cannot parse query: unexpected ${describe(separator)}`);
    }
  }
  return { terms };
}

function parseTerm(tokens: Tokens): QueryTerm {
  const first = tokens.peek();
  if (first === undefined) throw new Error("Cannot parse query: expected an expression");
  if (first.kind === "op" && first.value === "(") {
    tokens.next();
    const connection = parseConnection(tokens);
    expectOp(tokens.next(), ")");
    return connection;
  }
  if (first.kind === "word" && END_CONCEPTS[first.value] !== undefined) {
    return parseConnection(tokens);
  }
  tokens.next();
  if (first.kind === "word" && first.value === ":addr") {
    const op = tokens.next();
    if (op?.kind === "word" && op.value === "in") {
      return { kind: "subnet", subnet: subnetOf(tokens.next()) };
    }
    expectOp(op, "==");
    return { kind: "address", address: addressOf(tokens.next(), ":addr ==") };
  }
  if (first.kind === "word") {
    const address = canonicalAddress(first.value);
    const following = tokens.peek();
    if (address !== undefined && (following === undefined || following.value === "||")) {
      return { kind: "address", address };
    }
    throw new Error(`Cannot parse query: unsupported expression starting with "${first.value}"`);
  }
  if (first.kind === "string") {
    expectOp(tokens.next(), "==");
    const concept = tokens.next();
    if (concept?.kind !== "word" || CONCEPTS[concept.value] === undefined) {
      throw new Error(`Cannot parse query: unknown concept ${describe(concept)}`);
    }
    return { kind: "concept", concept: concept.value, value: first.value };
  }
  throw new Error(`Cannot parse query: unexpected ${describe(first)}`);
}

function parseConnection(tokens: Tokens): QueryTerm {
  const predicates: EndPredicate[] = [parseEndPredicate(tokens)];
  while (tokens.peek()?.value === "&&") {
    tokens.next();
    predicates.push(parseEndPredicate(tokens));
  }
  return { kind: "connection", predicates };
}

function parseEndPredicate(tokens: Tokens): EndPredicate {
  const concept = tokens.next();
  const end = concept?.kind === "word" ? END_CONCEPTS[concept.value] : undefined;
  if (concept === undefined || end === undefined) {
    throw new Error(`Cannot parse query: expected a connection concept, got ${describe(concept)}`);
  }
  const op = tokens.next();
  if (end.kind === "ip" && op?.kind === "word" && op.value === "in") {
    return { concept: concept.value, op: "in", subnet: subnetOf(tokens.next()) };
  }
  expectOp(op, "==");
  const operand = tokens.next();
  if (end.kind === "port") {
    if (operand?.kind !== "word" || !/^(0|[1-9]\d{0,4})$/.test(operand.value)) {
      throw new Error(`Cannot parse query: expected a count after "==", got ${describe(operand)}`);
    }
    return { concept: concept.value, op: "==", port: Number(operand.value) };
  }
  return { concept: concept.value, op: "==", address: addressOf(operand, `${concept.value} ==`) };
}

function addressOf(token: Token | undefined, after: string): string {
  const address = token?.kind === "word" ? canonicalAddress(token.value) : undefined;
  if (address === undefined) {
    throw new Error(
      `Cannot parse query: expected an address after "${after}", got ${describe(token)}`,
    );
  }
  return address;
}

function subnetOf(token: Token | undefined): Subnet {
  const subnet = token?.kind === "word" ? parseSubnet(token.value) : undefined;
  if (subnet === undefined) {
    throw new Error(`Cannot parse query: expected a subnet after "in", got ${describe(token)}`);
  }
  return subnet;
}

function expectOp(token: Token | undefined, op: string): void {
  if (token?.kind !== "op" || token.value !== op) {
    throw new Error(`Cannot parse query: expected "${op}", got ${describe(token)}`);
  }
}

function describe(token: Token | undefined): string {
  if (token === undefined) return "end of query";
  return token.kind === "string" ? `string ${JSON.stringify(token.value)}` : `"${token.value}"`;
}

const WORD = /[A-Za-z0-9_.:/]/;
const OPERATORS = ["==", "||", "&&", "(", ")"] as const;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    const op = OPERATORS.find((candidate) => text.startsWith(candidate, i));
    if (c === " " || c === "\t" || c === "\n") {
      i += 1;
    } else if (c === '"') {
      let value = "";
      i += 1;
      for (;;) {
        const d = text[i];
        if (d === undefined) throw new Error("Cannot parse query: unterminated string");
        if (d === '"') break;
        if (d === "\\") {
          const escaped = text[i + 1];
          if (escaped !== "\\" && escaped !== '"') {
            throw new Error(`Cannot parse query: unknown escape sequence "\\${escaped ?? ""}"`);
          }
          value += escaped;
          i += 2;
        } else {
          value += d;
          i += 1;
        }
      }
      i += 1;
      tokens.push({ kind: "string", value });
    } else if (op !== undefined) {
      tokens.push({ kind: "op", value: op });
      i += op.length;
    } else if (WORD.test(c)) {
      let j = i;
      while (j < text.length && WORD.test(text[j] as string)) j += 1;
      tokens.push({ kind: "word", value: text.slice(i, j) });
      i = j;
    } else {
      throw new Error(`Cannot parse query: unexpected character "${c}" at offset ${i}`);
    }
  }
  return tokens;
}

/** Whether an event of `schema` matches `query`. */
export function matchesQuery(query: Query, schema: string, event: unknown): boolean {
  return query.terms.some((term) => {
    switch (term.kind) {
      case "address":
        return containsAddress(event, term.address);
      case "subnet":
        return containsAddressIn(event, term.subnet);
      case "concept":
        return (CONCEPTS[term.concept] ?? []).some((field) =>
          fieldEquals(schema, event, field, term.value)
        );
      case "connection":
        return term.predicates.every((predicate) => endMatches(schema, event, predicate));
    }
  });
}

function endMatches(schema: string, event: unknown, predicate: EndPredicate): boolean {
  const [vendor = "", log = ""] = schema.split(".");
  const end = END_CONCEPTS[predicate.concept];
  const field = end === undefined
    ? undefined
    : vendor === "suricata"
    ? end.suricata
    : vendor === "zeek" && ZEEK_CONNECTION_LOGS.has(log)
    ? end.zeek
    : undefined;
  if (field === undefined) return false;
  const value = valueAt(event, field);
  if ("port" in predicate) return value === predicate.port;
  if (typeof value !== "string") return false;
  const address = canonicalAddress(value);
  if (address === undefined) return false;
  return "subnet" in predicate
    ? inSubnet(address, predicate.subnet)
    : address === predicate.address;
}

function valueAt(event: unknown, path: string): unknown {
  let node: unknown = event;
  for (const key of path.split(".")) {
    if (typeof node !== "object" || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function fieldEquals(schema: string, event: unknown, field: string, value: string): boolean {
  if (!field.startsWith(`${schema}.`)) return false;
  const node = valueAt(event, field.slice(schema.length + 1));
  return Array.isArray(node) ? node.includes(value) : node === value;
}
