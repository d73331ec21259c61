/**
 * Generates deterministic benchmark data: N realistic Zeek and Suricata events
 * (as `vast export json` prints them), STIX indicators of which K are "hot", the
 * result lines each indicator's VAST query returns, and a fast `vast` stand-in
 * that serves those results.
 *
 *   deno run --allow-read --allow-write scripts/bench_data.ts --events 100000 \
 *     --indicators 60 --hot 10 --hits 15241 [--hot-share 0.9] [--hit-indicators M] \
 *     [--seed 1] [--repeat 1] [--delay-seconds 0] [--no-events] [--dir DIR]
 *
 * Every hit event matches exactly one indicator, so the expected sighting count
 * of each indicator is known. The events file can be served by the project's
 * `vast` emulator (`VAST_EMU_DATA`); the stand-in `vast` script (POSIX sh and
 * `cat`) answers each query from its pre-filtered result file instead, because
 * the Deno emulator costs about 0.15 s of CPU and 37 MB per call and would
 * dominate a benchmark of the bridge.
 */
import { parseArgs } from "node:util";
import type { PointIoc } from "../src/core/ioc.ts";
import { printedValue } from "../src/core/retro_batch.ts";
import { translatePattern } from "../src/core/translate_pattern.ts";
import { vastQueryAny } from "../src/core/vast_query.ts";

/** The kinds of value the benchmarks plant: the original's four. */
type BenchIoc = PointIoc & { readonly type: "ip" | "ipv6" | "domain" | "url" };

/** What to generate; every optional field has a default. */
export interface BenchDataOptions {
  /** Events in the events file (N). */
  readonly events: number;
  /** Indicators (I). */
  readonly indicators: number;
  /** Indicators that get `hotShare` of all hits (K); default 0. */
  readonly hot?: number;
  /** Events that match some indicator; default 0. */
  readonly hits?: number;
  /** Share of the hits that go to the hot indicators; default 0.9 with hot ones, else 0. */
  readonly hotShare?: number;
  /** Non-hot indicators sharing the remaining hits; default all of them. */
  readonly hitIndicators?: number;
  /** PRNG seed; default 1. */
  readonly seed?: number;
  /** The stand-in prints each result file this many times; default 1. */
  readonly repeat?: number;
  /** The stand-in sleeps this long before answering a query; default 0. */
  readonly delaySeconds?: number;
  /** Write the full events file (for the project's emulator); default true. */
  readonly writeEvents?: boolean;
}

/** One generated indicator with the query the bridge will run for it. */
export interface BenchIndicator {
  readonly stix: Readonly<Record<string, unknown>>;
  readonly ioc: BenchIoc;
  readonly query: string;
  readonly hot: boolean;
  /** Result lines of its query, times `repeat`. */
  readonly expected: number;
}

/** The in-memory plan: indicators and, per event position, the indicator it hits (-1: none). */
export interface BenchPlan {
  readonly options: Required<BenchDataOptions>;
  readonly indicators: readonly BenchIndicator[];
  readonly hitAt: Int32Array;
}

/** Generated files. */
export interface BenchData {
  readonly dir: string;
  /** The `vast` stand-in (executable). */
  readonly vastBinary: string;
  /** `{"schema":...,"event":...}` lines, or undefined with `writeEvents: false`. */
  readonly eventsFile: string | undefined;
  /** One STIX indicator per line. */
  readonly indicatorsFile: string;
  readonly indicators: readonly BenchIndicator[];
  /** Sum of `expected` over all indicators. */
  readonly expectedSightings: number;
}

/** One event as the project's emulator reads it. */
export interface BenchEvent {
  readonly schema: string;
  readonly event: Record<string, unknown>;
}

// domain 40 %, ip 30 %, url 20 %, ipv6 10 %: roughly the mix of public feeds.
const TYPE_CYCLE = [
  "domain",
  "ip",
  "domain",
  "url",
  "ip",
  "domain",
  "ipv6",
  "domain",
  "ip",
  "url",
] as const;
// IoC addresses come from ranges no benign event uses, so only hit events match.
const MAX_IPV4_IOCS = 2 * 65536 - 1;

/** Checks the options and fills in defaults; throws a RangeError naming the bad one. */
export function resolveOptions(options: BenchDataOptions): Required<BenchDataOptions> {
  const hot = options.hot ?? 0;
  const resolved = {
    events: options.events,
    indicators: options.indicators,
    hot,
    hits: options.hits ?? 0,
    hotShare: options.hotShare ?? (hot > 0 ? 0.9 : 0),
    hitIndicators: options.hitIndicators ?? options.indicators - hot,
    seed: options.seed ?? 1,
    repeat: options.repeat ?? 1,
    delaySeconds: options.delaySeconds ?? 0,
    writeEvents: options.writeEvents ?? true,
  };
  const whole = (name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(
        `Cannot generate bench data: ${name} ${value} is not a whole number from ${min} to ${max}`,
      );
    }
  };
  whole("events", resolved.events, 0);
  whole("indicators", resolved.indicators, 1, MAX_IPV4_IOCS);
  whole("hot", hot, 0, resolved.indicators);
  whole("hits", resolved.hits, 0, resolved.events);
  whole("hitIndicators", resolved.hitIndicators, 0, resolved.indicators - hot);
  whole("seed", resolved.seed, 0, 2 ** 32 - 1);
  whole("repeat", resolved.repeat, 1);
  if (!(resolved.hotShare >= 0 && resolved.hotShare <= 1)) {
    throw new RangeError(`Cannot generate bench data: hotShare ${resolved.hotShare} is not 0–1`);
  }
  if (!(resolved.delaySeconds >= 0 && resolved.delaySeconds <= 3600)) {
    throw new RangeError(
      `Cannot generate bench data: delaySeconds ${resolved.delaySeconds} is not 0–3600`,
    );
  }
  const hotHits = Math.round(resolved.hits * resolved.hotShare);
  if (hotHits > 0 && hot === 0) {
    throw new RangeError("Cannot generate bench data: hotShare > 0 needs hot indicators");
  }
  if (resolved.hits - hotHits > 0 && resolved.hitIndicators === 0) {
    throw new RangeError(
      "Cannot generate bench data: the hits outside the hot share need hitIndicators > 0",
    );
  }
  return resolved;
}

/** A small fast PRNG (mulberry32), so the same seed gives the same files everywhere. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function iocValue(type: BenchIoc["type"], index: number): string {
  // From 1, so no address ends in a zero group.
  const k = index + 1;
  switch (type) {
    case "ip":
      return `198.${18 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;
    case "ipv6":
      return `2001:db8:bad:${(k >> 16).toString(16)}::${(k & 0xffff).toString(16)}`;
    case "domain":
      return `c2-${k}.malware-${k % 97}.example`;
    case "url":
      return `/gate/${(k * 2654435761 >>> 0).toString(16)}/payload-${k}.php`;
  }
}

function stixPath(type: BenchIoc["type"]): string {
  return type === "ip"
    ? "ipv4-addr:value"
    : type === "ipv6"
    ? "ipv6-addr:value"
    : type === "domain"
    ? "domain-name:value"
    : "url:value";
}

/** A deterministic UUID-shaped id from the seed and an index. */
function indicatorId(seed: number, index: number): string {
  const random = prng((seed * 7919 + index * 104729) >>> 0);
  const hex = (digits: number) => {
    let out = "";
    for (let i = 0; i < digits; i++) out += Math.floor(random() * 16).toString(16);
    return out;
  };
  return `indicator--${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`;
}

/** Builds the indicators and decides which event positions hit which indicator. */
export function planBenchData(options: BenchDataOptions): BenchPlan {
  const o = resolveOptions(options);
  const perType = { ip: 0, ipv6: 0, domain: 0, url: 0 };
  const drafts = Array.from({ length: o.indicators }, (_, index) => {
    const type = TYPE_CYCLE[index % TYPE_CYCLE.length] as BenchIoc["type"];
    const value = iocValue(type, perType[type]++);
    const pattern = `[${stixPath(type)} = '${value}']`;
    const translated = translatePattern(pattern);
    if (!translated.ok) {
      throw new Error(`Cannot generate indicator ${pattern}: ${translated.reason}`);
    }
    const ioc: BenchIoc = { type, value };
    return {
      stix: {
        type: "indicator",
        spec_version: "2.1",
        id: indicatorId(o.seed, index),
        created: "2021-04-01T10:00:00.000Z",
        modified: "2021-04-01T10:00:00.000Z",
        pattern,
        pattern_type: "stix",
        valid_from: "2021-04-01T10:00:00Z",
      },
      ioc,
      query: vastQueryAny(translated.query),
      hot: index < o.hot,
      hits: 0,
    };
  });
  // Hit i goes round-robin to the hot indicators first, then to the cold hit takers.
  const hotHits = Math.round(o.hits * o.hotShare);
  const owners = new Int32Array(o.hits);
  for (let i = 0; i < o.hits; i++) {
    owners[i] = i < hotHits ? i % o.hot : o.hot + ((i - hotHits) % o.hitIndicators);
  }
  // Positions: a partial Fisher–Yates shuffle picks `hits` distinct events.
  const random = prng(o.seed ^ 0x5eed);
  const positions = new Int32Array(o.events);
  for (let i = 0; i < o.events; i++) positions[i] = i;
  const hitAt = new Int32Array(o.events).fill(-1);
  for (let i = 0; i < o.hits; i++) {
    const j = i + Math.floor(random() * (o.events - i));
    const picked = positions[j] as number;
    positions[j] = positions[i] as number;
    positions[i] = picked;
    const owner = owners[i] as number;
    hitAt[picked] = owner;
    (drafts[owner] as { hits: number }).hits++;
  }
  const indicators = drafts.map(({ hits, ...rest }) => ({ ...rest, expected: hits * o.repeat }));
  return { options: o, indicators, hitAt };
}

// Benign values: nothing here lies in an IoC range or under `.example`.
const POPULAR_DOMAINS = [
  "fonts.gstatic.com",
  "api.github.com",
  "cdn.jsdelivr.net",
  "deno.land",
  "www.google.com",
  "update.googleapis.com",
  "example.com",
  "outlook.office365.com",
  "static.xx.fbcdn.net",
  "registry.npmjs.org",
  "pypi.org",
  "en.wikipedia.org",
];
const PUBLIC_IPS = [
  "8.8.8.8",
  "151.101.1.69",
  "140.82.121.6",
  "104.16.132.229",
  "142.250.74.46",
  "93.184.216.34",
  "13.107.42.14",
];
const URIS = [
  "/",
  "/index.html",
  "/images/logo.png",
  "/static/app.js",
  "/api/v1/items?page=2",
  "/favicon.ico",
  "/css/site.css",
];
const AGENTS = [
  "Mozilla/5.0 (X11; Linux x86_64; rv:86.0) Gecko/20100101 Firefox/86.0",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/89.0",
  "curl/7.68.0",
];
const SIGNATURES = [
  [2029330, "ET POLICY Curl User-Agent Outbound", "Potentially Bad Traffic"],
  [2013028, "ET POLICY curl User-Agent Outbound", "Attempted Information Leak"],
  [2210054, "SURICATA STREAM excessive retransmissions", "Generic Protocol Command Decode"],
] as const;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE_MS = Date.UTC(2021, 2, 1, 0, 0, 0);

/** Builds events one at a time from a plan; the same plan always yields the same events. */
export class EventFactory {
  readonly #random: () => number;

  constructor(seed: number) {
    this.#random = prng(seed ^ 0xe7e47);
  }

  /** The event at `position`, hitting `ioc` when given. */
  event(position: number, ioc: BenchIoc | undefined): BenchEvent {
    const schema = this.#schema(ioc);
    const event = this.#benign(schema, position);
    if (ioc !== undefined) plant(schema, event, ioc);
    return { schema, event };
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)] as T;
  }

  #int(min: number, max: number): number {
    return min + Math.floor(this.#random() * (max - min + 1));
  }

  #schema(ioc: BenchIoc | undefined): string {
    switch (ioc?.type) {
      case undefined:
        return this.#pick([
          "zeek.conn",
          "zeek.conn",
          "zeek.dns",
          "zeek.dns",
          "zeek.http",
          "zeek.ssl",
          "suricata.dns",
          "suricata.http",
          "suricata.tls",
          "suricata.alert",
        ]);
      case "ip":
        return this.#pick(["zeek.conn", "zeek.http", "suricata.alert", "suricata.http"]);
      case "ipv6":
        return this.#pick(["zeek.conn", "suricata.tls"]);
      case "domain":
        return this.#pick([
          "zeek.dns",
          "zeek.http",
          "zeek.ssl",
          "suricata.dns",
          "suricata.tls",
          "suricata.http",
        ]);
      case "url":
        return this.#pick(["zeek.http", "suricata.http"]);
    }
  }

  #domain(): string {
    return this.#random() < 0.6
      ? this.#pick(POPULAR_DOMAINS)
      : `srv-${this.#int(1, 500)}.cdn-${this.#int(1, 40)}.net`;
  }

  #internal(): string {
    return this.#random() < 0.5
      ? `10.0.${this.#int(0, 3)}.${this.#int(2, 254)}`
      : `192.168.1.${this.#int(2, 254)}`;
  }

  #external(): string {
    return this.#random() < 0.5
      ? this.#pick(PUBLIC_IPS)
      : `93.${this.#int(100, 199)}.${this.#int(0, 255)}.${this.#int(1, 254)}`;
  }

  #chars(length: number, alphabet = BASE62): string {
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.#random() * alphabet.length)];
    return out;
  }

  #timestamp(position: number, zeek: boolean): string {
    const ms = BASE_MS + position * 500 + this.#int(0, 499);
    const micros = String(this.#int(0, 999)).padStart(3, "0");
    const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
    const plain = `${iso.slice(0, 23)}${micros}`;
    // The forms of PROTOCOL.md section 2, Zeek mostly zone-less, Suricata mostly +0000.
    const form = this.#pick(zeek ? [0, 0, 0, 1, 3, 4] : [2, 2, 2, 0, 4]);
    switch (form) {
      case 0:
        return plain;
      case 1:
        return `${iso.slice(0, 19)}Z`;
      case 2:
        return `${plain}+0000`;
      case 3:
        return `${plain.replace("T", " ")}+00:00`;
      default: {
        const local = new Date(ms - 5 * 3600_000).toISOString();
        return `${local.slice(0, 23)}${micros}${this.#chars(3, "0123456789")}-05:00`;
      }
    }
  }

  #zeekId(): Record<string, unknown> {
    return {
      orig_h: this.#internal(),
      orig_p: this.#int(1024, 65535),
      resp_h: this.#external(),
      resp_p: this.#pick([53, 80, 443, 8080]),
    };
  }

  #suricataHead(position: number, eventType: string, proto: string) {
    return {
      timestamp: this.#timestamp(position, false),
      flow_id: this.#int(1e13, 9e14),
      pcap_cnt: this.#int(1, 200000),
      src_ip: this.#internal(),
      src_port: this.#int(1024, 65535),
      dest_ip: this.#external(),
      dest_port: this.#pick([53, 80, 443]),
      proto,
      event_type: eventType,
      community_id: `1:${this.#chars(27)}=`,
    };
  }

  #benign(schema: string, position: number): Record<string, unknown> {
    const zeek = () => ({
      ts: this.#timestamp(position, true),
      uid: `C${this.#chars(17)}`,
      id: this.#zeekId(),
    });
    switch (schema) {
      case "zeek.conn": {
        const origBytes = this.#int(0, 5000), respBytes = this.#int(0, 200000);
        return {
          ...zeek(),
          proto: this.#pick(["tcp", "udp"]),
          service: this.#pick(["http", "ssl", "dns", null]),
          duration: `${(this.#random() * 5000).toFixed(3)}ms`,
          orig_bytes: origBytes,
          resp_bytes: respBytes,
          conn_state: this.#pick(["SF", "S0", "RSTO", "SH"]),
          local_orig: null,
          local_resp: null,
          missed_bytes: 0,
          history: this.#pick(["ShADadFf", "Dd", "S", "ShADadfR"]),
          orig_pkts: this.#int(1, 40),
          orig_ip_bytes: origBytes + 40,
          resp_pkts: this.#int(1, 150),
          resp_ip_bytes: respBytes + 40,
          tunnel_parents: [],
          community_id: this.#random() < 0.5 ? null : `1:${this.#chars(27)}=`,
        };
      }
      case "zeek.dns":
        return {
          ...zeek(),
          proto: "udp",
          trans_id: this.#int(0, 65535),
          rtt: `${(this.#random() * 50).toFixed(3)}ms`,
          query: this.#domain(),
          qclass: 1,
          qclass_name: "C_INTERNET",
          qtype: 1,
          qtype_name: "A",
          rcode: 0,
          rcode_name: "NOERROR",
          AA: false,
          TC: false,
          RD: true,
          RA: true,
          Z: 0,
          answers: [this.#external()],
          TTLs: [this.#int(30, 86400)],
          rejected: false,
        };
      case "zeek.http":
        return {
          ...zeek(),
          trans_depth: 1,
          method: this.#pick(["GET", "GET", "POST"]),
          host: this.#domain(),
          uri: this.#pick(URIS),
          referrer: null,
          version: "1.1",
          user_agent: this.#pick(AGENTS),
          origin: null,
          request_body_len: 0,
          response_body_len: this.#int(0, 300000),
          status_code: this.#pick([200, 200, 304, 404]),
          status_msg: "OK",
          info_code: null,
          info_msg: null,
          tags: [],
          username: null,
          password: null,
          proxied: null,
          orig_fuids: null,
          orig_filenames: null,
          orig_mime_types: null,
          resp_fuids: [`F${this.#chars(17)}`],
          resp_filenames: null,
          resp_mime_types: [this.#pick(["text/html", "image/png", "application/javascript"])],
        };
      case "zeek.ssl": {
        const name = this.#domain();
        return {
          ...zeek(),
          version: this.#pick(["TLSv12", "TLSv13"]),
          cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
          curve: "x25519",
          server_name: name,
          resumed: this.#random() < 0.3,
          last_alert: null,
          next_protocol: null,
          established: true,
          cert_chain_fuids: [`F${this.#chars(17)}`],
          client_cert_chain_fuids: [],
          subject: `CN=${name}`,
          issuer: "CN=R3,O=Let's Encrypt,C=US",
          client_subject: null,
          client_issuer: null,
          validation_status: "ok",
        };
      }
      case "suricata.dns":
        return {
          ...this.#suricataHead(position, "dns", "UDP"),
          dns: {
            type: "answer",
            id: this.#int(0, 65535),
            flags: "8180",
            qr: true,
            rd: true,
            ra: true,
            rrname: this.#domain(),
            rrtype: "A",
            rcode: "NOERROR",
            ttl: this.#int(30, 86400),
            rdata: this.#external(),
            tx_id: this.#int(0, 20),
          },
        };
      case "suricata.http":
        return {
          ...this.#suricataHead(position, "http", "TCP"),
          tx_id: 0,
          http: {
            hostname: this.#domain(),
            url: this.#pick(URIS),
            http_user_agent: this.#pick(AGENTS),
            http_content_type: "text/html",
            http_method: "GET",
            protocol: "HTTP/1.1",
            status: 200,
            length: this.#int(0, 300000),
          },
        };
      case "suricata.tls": {
        const sni = this.#domain();
        return {
          ...this.#suricataHead(position, "tls", "TCP"),
          tls: {
            subject: `CN=${sni}`,
            issuerdn: "C=US, O=Let's Encrypt, CN=R3",
            serial: this.#chars(8, "0123456789ABCDEF"),
            fingerprint: Array.from({ length: 20 }, () => this.#chars(2, "0123456789abcdef"))
              .join(":"),
            sni,
            version: "TLS 1.2",
            notbefore: "2021-01-10T08:00:00",
            notafter: "2021-04-10T08:00:00",
            ja3: {
              hash: this.#chars(32, "0123456789abcdef"),
              string: "771,49195-49199,0-23-65281,29-23-24,0",
            },
            ja3s: { hash: this.#chars(32, "0123456789abcdef"), string: "771,49199,65281-0-11" },
          },
        };
      }
      default: {
        const [id, signature, category] = this.#pick(SIGNATURES);
        return {
          ...this.#suricataHead(position, "alert", "TCP"),
          alert: {
            action: "allowed",
            gid: 1,
            signature_id: id,
            rev: this.#int(1, 9),
            signature,
            category,
            severity: this.#int(1, 3),
          },
          app_proto: "http",
          flow: {
            pkts_toserver: this.#int(1, 50),
            pkts_toclient: this.#int(1, 50),
            bytes_toserver: this.#int(100, 9000),
            bytes_toclient: this.#int(100, 90000),
            start: "2021-03-01T10:00:00.000000+0000",
          },
        };
      }
    }
  }
}

/** Puts the IoC into the field of `schema` that its VAST query looks at. */
function plant(schema: string, event: Record<string, unknown>, ioc: BenchIoc): void {
  const nested = (key: string) => event[key] as Record<string, unknown>;
  if (ioc.type === "ip" || ioc.type === "ipv6") {
    // VAST prints addresses in canonical form, whatever the indicator's spelling.
    const printed = printedValue(ioc) ?? ioc.value;
    if (schema.startsWith("zeek.")) nested("id")["resp_h"] = printed;
    else event["dest_ip"] = printed;
    return;
  }
  const field: Record<string, [string | undefined, string]> = ioc.type === "domain"
    ? {
      "zeek.dns": [undefined, "query"],
      "zeek.http": [undefined, "host"],
      "zeek.ssl": [undefined, "server_name"],
      "suricata.dns": ["dns", "rrname"],
      "suricata.tls": ["tls", "sni"],
      "suricata.http": ["http", "hostname"],
    }
    : { "zeek.http": [undefined, "uri"], "suricata.http": ["http", "url"] };
  const [parent, key] = field[schema] as [string | undefined, string];
  (parent === undefined ? event : nested(parent))[key] = ioc.value;
}

/** Yields the plan's events in order. */
export function* benchEvents(plan: BenchPlan): Generator<BenchEvent> {
  const factory = new EventFactory(plan.options.seed);
  for (let position = 0; position < plan.hitAt.length; position++) {
    const owner = plan.hitAt[position] as number;
    yield factory.event(position, owner < 0 ? undefined : plan.indicators[owner]?.ioc);
  }
}

/** Quotes a word for a POSIX shell. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The `vast` stand-in: answers `status`, `export --help` (mentioning
 * `--low-priority`) and `export ... json <query>` by printing, for each term
 * of the query (`a || b || ...`, as the bridge batches them) that is the first
 * term of an indicator's query, that indicator's result file `repeat` times;
 * other terms print nothing.
 */
export function fastVastScript(
  plan: BenchPlan,
  resultFile: (index: number) => string,
): string {
  const { repeat, delaySeconds } = plan.options;
  const cases = plan.indicators.flatMap((indicator, index) =>
    indicator.expected > 0
      ? [`    ${shellQuote(indicator.query.split(" || ")[0] as string)}) f=${resultFile(index)} ;;`]
      : []
  );
  const print = repeat === 1
    ? "exec cat $files"
    : `i=0; while [ $i -lt ${repeat} ]; do cat $files || exit 1; i=$((i + 1)); done`;
  return [
    "#!/bin/sh",
    "# vast stand-in generated by scripts/bench_data.ts",
    'while [ $# -gt 0 ]; do case "$1" in -e) shift 2 ;; --endpoint=*) shift ;; *) break ;; esac; done',
    'case "$1" in',
    `  status) echo '{"version":"bench-stand-in"}'; exit 0 ;;`,
    "  export) shift ;;",
    '  *) echo "vast: error: unsupported command $1" >&2; exit 1 ;;',
    "esac",
    'for a in "$@"; do case "$a" in --help)',
    "  echo 'usage: export [<parameters>] <format> <expr>'",
    "  echo '  --low-priority          : respond to other queries first'",
    "  exit 0 ;; esac; done",
    'for q in "$@"; do :; done',
    ...(delaySeconds > 0 ? [`sleep ${delaySeconds}`] : []),
    'rest="$q"; files=""',
    'while [ -n "$rest" ]; do',
    '  case "$rest" in',
    '    *" || "*) term="${rest%%" || "*}"; rest="${rest#*" || "}" ;;',
    '    *) term="$rest"; rest="" ;;',
    "  esac",
    '  f=""',
    '  case "$term" in',
    ...cases,
    "  esac",
    '  [ -n "$f" ] && files="$files $f"',
    "done",
    // One `cat` for the whole batch: the files' paths hold no spaces (generated below).
    '[ -z "$files" ] && exit 0',
    print,
    "",
  ].join("\n");
}

/** Buffers text and writes it in large chunks. */
class ChunkedFile {
  readonly #file: Deno.FsFile;
  readonly #encoder = new TextEncoder();
  #parts: string[] = [];
  #size = 0;

  constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  async line(text: string): Promise<void> {
    this.#parts.push(text, "\n");
    this.#size += text.length + 1;
    if (this.#size >= 1 << 20) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#size === 0) return;
    let bytes = this.#encoder.encode(this.#parts.join(""));
    this.#parts = [];
    this.#size = 0;
    while (bytes.length > 0) bytes = bytes.subarray(await this.#file.write(bytes));
  }

  async close(): Promise<void> {
    await this.flush();
    this.#file.close();
  }
}

/** Generates the files into `dir` (a new temporary directory when absent). */
export async function generateBenchData(
  options: BenchDataOptions,
  dir?: string,
): Promise<BenchData> {
  const plan = planBenchData(options);
  const root = dir ?? await Deno.makeTempDir({ prefix: "vast-threatbus-bench-" });
  await Deno.mkdir(`${root}/results`, { recursive: true });
  const resultFile = (index: number) => `${root}/results/${index}.ndjson`;
  const create = async (path: string) =>
    new ChunkedFile(await Deno.open(path, { write: true, create: true, truncate: true }));

  const indicatorsFile = `${root}/indicators.ndjson`;
  const indicatorsOut = await create(indicatorsFile);
  for (const indicator of plan.indicators) await indicatorsOut.line(JSON.stringify(indicator.stix));
  await indicatorsOut.close();

  const eventsFile = plan.options.writeEvents ? `${root}/events.ndjson` : undefined;
  const eventsOut = eventsFile === undefined ? undefined : await create(eventsFile);
  const results = new Map<number, ChunkedFile>();
  try {
    let position = 0;
    for (const { schema, event } of benchEvents(plan)) {
      const line = JSON.stringify(event);
      await eventsOut?.line(`{"schema":${JSON.stringify(schema)},"event":${line}}`);
      const owner = plan.hitAt[position++] as number;
      if (owner >= 0) {
        let out = results.get(owner);
        if (out === undefined) {
          out = await create(resultFile(owner));
          results.set(owner, out);
        }
        await out.line(line);
      }
    }
  } finally {
    await eventsOut?.close();
    for (const out of results.values()) await out.close();
  }

  const vastBinary = `${root}/vast`;
  await Deno.writeTextFile(vastBinary, fastVastScript(plan, (i) => shellQuote(resultFile(i))));
  await Deno.chmod(vastBinary, 0o755);
  const expectedSightings = plan.indicators.reduce((sum, i) => sum + i.expected, 0);
  await Deno.writeTextFile(
    `${root}/manifest.json`,
    JSON.stringify({ options: plan.options, expectedSightings }, null, 2),
  );
  return {
    dir: root,
    vastBinary,
    eventsFile,
    indicatorsFile,
    indicators: plan.indicators,
    expectedSightings,
  };
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      events: { type: "string", default: "20000" },
      indicators: { type: "string", default: "200" },
      hot: { type: "string", default: "0" },
      hits: { type: "string", default: "0" },
      "hot-share": { type: "string" },
      "hit-indicators": { type: "string" },
      seed: { type: "string", default: "1" },
      repeat: { type: "string", default: "1" },
      "delay-seconds": { type: "string", default: "0" },
      "no-events": { type: "boolean", default: false },
      dir: { type: "string" },
    },
  });
  const optional = (text: string | undefined) => text === undefined ? undefined : Number(text);
  const hotShare = optional(values["hot-share"]);
  const hitIndicators = optional(values["hit-indicators"]);
  const data = await generateBenchData({
    events: Number(values.events),
    indicators: Number(values.indicators),
    hot: Number(values.hot),
    hits: Number(values.hits),
    seed: Number(values.seed),
    repeat: Number(values.repeat),
    delaySeconds: Number(values["delay-seconds"]),
    writeEvents: !values["no-events"],
    ...(hotShare === undefined ? {} : { hotShare }),
    ...(hitIndicators === undefined ? {} : { hitIndicators }),
  }, values.dir);
  console.log(JSON.stringify({
    dir: data.dir,
    vastBinary: data.vastBinary,
    eventsFile: data.eventsFile ?? null,
    indicatorsFile: data.indicatorsFile,
    indicators: data.indicators.length,
    expectedSightings: data.expectedSightings,
  }));
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exitCode = await main(Deno.args);
  } catch (error) {
    console.error(`bench_data: ${(error as Error).message}`);
    Deno.exitCode = 2;
  }
}
