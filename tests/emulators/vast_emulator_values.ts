/**
 * Addresses, subnets and values in events as the `vast` emulator compares
 * them: an address matches any field that holds it (lists included), whatever
 * its spelling; any other value any string field equal to it.
 */

/** An IPv4 or IPv6 block as eight groups and a prefix length over all 128 bits. */
export interface Subnet {
  readonly groups: readonly number[];
  readonly bits: number;
}

/** Whether any field of `node` holds the address (canonical, see {@linkcode canonicalAddress}). */
export function containsAddress(node: unknown, address: string): boolean {
  return someAddress(node, (found) => found === address);
}

/** Whether any field of `node` holds an address inside `subnet`. */
export function containsAddressIn(node: unknown, subnet: Subnet): boolean {
  return someAddress(node, (found) => inSubnet(found, subnet));
}

function someAddress(node: unknown, test: (address: string) => boolean): boolean {
  if (typeof node === "string") {
    if (node.length > 45) return false;
    const address = canonicalAddress(node);
    return address !== undefined && test(address);
  }
  if (typeof node !== "object" || node === null) return false;
  const children = Array.isArray(node) ? node : Object.values(node);
  return children.some((child) => someAddress(child, test));
}

/** Whether the canonical `address` lies in `subnet`. */
export function inSubnet(address: string, subnet: Subnet): boolean {
  const groups = address.split(":").map((group) => parseInt(group, 16));
  let bits = subnet.bits;
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if (((groups[i] ?? 0) & mask) !== ((subnet.groups[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** A subnet literal (`10.0.0.0/8`, `2001:db8::/32`), or undefined. */
export function parseSubnet(text: string): Subnet | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (match === null) return undefined;
  const address = canonicalAddress(match[1] as string);
  if (address === undefined) return undefined;
  const ipv4 = parseIpv4(match[1] as string) !== undefined;
  const bits = Number(match[2]) + (ipv4 ? 96 : 0);
  if (bits > 128 || (ipv4 && bits < 96)) return undefined;
  return { groups: address.split(":").map((group) => parseInt(group, 16)), bits };
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
