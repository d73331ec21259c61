/**
 * The query subset of the `vast` emulator: the forms the bridge produces
 * (PROTOCOL.md section 3), parsed strictly, and evaluated against nested events.
 *
 * Grammar (anything else is a parse error, as in VAST):
 *
 *     query := term ("||" term)*
 *     term  := ADDRESS | ":addr" "==" ADDRESS | STRING "==" CONCEPT
 *
 * STRING is double-quoted with the escapes `\\` and `\"` only; CONCEPT is a key
 * of {@link CONCEPTS}.
 */

/** VAST concepts: which fields, per schema, a concept stands for. The one place to extend. */
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
};

/** One alternative of a query. */
export type QueryTerm =
  | { readonly kind: "address"; readonly address: string }
  | { readonly kind: "concept"; readonly concept: string; readonly value: string };

/** A parsed query: an event matches when any term does. */
export interface Query {
  readonly terms: readonly QueryTerm[];
}

type Token =
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "word"; readonly value: string }
  | { readonly kind: "op"; readonly value: "==" | "||" };

/** Parses a query; throws an Error whose message reads like VAST's parse error. */
export function parseQuery(text: string): Query {
  const tokens = tokenize(text);
  const terms: QueryTerm[] = [];
  let at = 0;
  const next = (): Token | undefined => tokens[at++];
  for (;;) {
    terms.push(parseTerm(next, () => tokens[at]));
    const separator = next();
    if (separator === undefined) break;
    if (separator.kind !== "op" || separator.value !== "||") {
      throw new Error(`Cannot parse query: unexpected ${describe(separator)}`);
    }
  }
  return { terms };
}

function parseTerm(next: () => Token | undefined, peek: () => Token | undefined): QueryTerm {
  const first = next();
  if (first === undefined) throw new Error("Cannot parse query: expected an expression");
  if (first.kind === "word" && first.value === ":addr") {
    expectEquals(next());
    const operand = next();
    const address = operand?.kind === "word" ? canonicalAddress(operand.value) : undefined;
    if (address === undefined) {
      throw new Error(
        `Cannot parse query: expected an address after ":addr ==", got ${describe(operand)}`,
      );
    }
    return { kind: "address", address };
  }
  if (first.kind === "word") {
    const address = canonicalAddress(first.value);
    const following = peek();
    if (address !== undefined && (following === undefined || following.value === "||")) {
      return { kind: "address", address };
    }
    throw new Error(`Cannot parse query: unsupported expression starting with "${first.value}"`);
  }
  if (first.kind === "string") {
    expectEquals(next());
    const concept = next();
    if (concept?.kind !== "word" || CONCEPTS[concept.value] === undefined) {
      throw new Error(`Cannot parse query: unknown concept ${describe(concept)}`);
    }
    return { kind: "concept", concept: concept.value, value: first.value };
  }
  throw new Error(`Cannot parse query: unexpected ${describe(first)}`);
}

function expectEquals(token: Token | undefined): void {
  if (token?.kind !== "op" || token.value !== "==") {
    throw new Error(`Cannot parse query: expected "==", got ${describe(token)}`);
  }
}

function describe(token: Token | undefined): string {
  if (token === undefined) return "end of query";
  return token.kind === "string" ? `string ${JSON.stringify(token.value)}` : `"${token.value}"`;
}

const WORD = /[A-Za-z0-9_.:]/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
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
    } else if (text.startsWith("==", i) || text.startsWith("||", i)) {
      tokens.push({ kind: "op", value: text.slice(i, i + 2) as "==" | "||" });
      i += 2;
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
  return query.terms.some((term) =>
    term.kind === "address"
      ? containsAddress(event, term.address)
      : (CONCEPTS[term.concept] ?? []).some((field) =>
        fieldEquals(schema, event, field, term.value)
      )
  );
}

function fieldEquals(schema: string, event: unknown, field: string, value: string): boolean {
  if (!field.startsWith(`${schema}.`)) return false;
  let node: unknown = event;
  for (const key of field.slice(schema.length + 1).split(".")) {
    if (typeof node !== "object" || node === null || Array.isArray(node)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return Array.isArray(node) ? node.includes(value) : node === value;
}

function containsAddress(node: unknown, address: string): boolean {
  if (typeof node === "string") {
    return node.length <= 45 && canonicalAddress(node) === address;
  }
  if (typeof node !== "object" || node === null) return false;
  const children = Array.isArray(node) ? node : Object.values(node);
  return children.some((child) => containsAddress(child, address));
}

/**
 * The address as eight lowercase hextets, or undefined when `text` is not an
 * IPv4 or IPv6 literal. IPv4 maps into `::ffff:0:0/96`, as VAST stores it.
 */
export function canonicalAddress(text: string): string | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return hextets([0, 0, 0, 0, 0, 0xffff, ...v4]);
  const v6 = parseIpv6(text);
  return v6 === undefined ? undefined : hextets(v6);
}

function hextets(groups: readonly number[]): string {
  return groups.map((group) => group.toString(16)).join(":");
}

/** Two 16-bit groups, or undefined. */
function parseIpv4(text: string): [number, number] | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (match === null) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((octet) => octet > 255)) return undefined;
  const [a = 0, b = 0, c = 0, d = 0] = octets;
  return [(a << 8) | b, (c << 8) | d];
}

function parseIpv6(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string, last: boolean): number[] | undefined => {
    if (part === "") return [];
    const groups: number[] = [];
    const pieces = part.split(":");
    for (const [index, piece] of pieces.entries()) {
      if (last && index === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIpv4(piece);
        if (v4 === undefined) return undefined;
        groups.push(...v4);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(piece)) {
        groups.push(parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return groups;
  };
  if (halves.length === 1) {
    const groups = parse(text, true);
    return groups?.length === 8 ? groups : undefined;
  }
  const head = parse(halves[0] ?? "", false);
  const tail = parse(halves[1] ?? "", true);
  if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/**
 * Whether a live-matcher IoC matches an event: an address IoC matches any
 * address field (lists included), any other IoC any string field equal to it.
 */
export function matchesValue(event: unknown, value: string): boolean {
  const address = canonicalAddress(value);
  return address === undefined ? containsString(event, value) : containsAddress(event, address);
}

function containsString(node: unknown, value: string): boolean {
  if (typeof node === "string") return node === value;
  if (typeof node !== "object" || node === null) return false;
  const children = Array.isArray(node) ? node : Object.values(node);
  return children.some((child) => containsString(child, value));
}
