/** Test doubles for the ports, shared by the unit tests of src/app. */
import type { IocQuery, IocTerm, PointIoc } from "../src/core/ioc.ts";
import { parseLiveMatchLine } from "../src/core/live_match.ts";
import type {
  Backend,
  BrokerFrame,
  LiveAttachOutcome,
  LiveBackend,
  LogFields,
  Logger,
  LogLevel,
  MatcherUpdateOutcome,
  OutboundFrame,
  ParsedLiveMatch,
  RetroQueryOptions,
  RetroQueryOutcome,
  Sighting,
  SightingSink,
  ThreatBus,
} from "../src/ports.ts";

/** An unbounded async queue that a test pushes into and a consumer iterates. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #waiters: ((r: IteratorResult<T>) => void)[] = [];
  #ended = false;

  push(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter({ value: item, done: false });
    else this.#items.push(item);
  }

  end(): void {
    this.#ended = true;
    for (const waiter of this.#waiters.splice(0)) waiter({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.#items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiters.push(resolve));
      },
    };
  }
}

/** A log record kept by {@linkcode recordingLogger}. */
export interface LogRecord {
  level: LogLevel;
  component: string;
  message: string;
  fields: LogFields;
}

/** A logger that keeps every line in memory. */
export function recordingLogger(records: LogRecord[] = [], component = "test"): Logger & {
  records: LogRecord[];
} {
  const at = (level: LogLevel) => (message: string, fields: LogFields = {}) => {
    records.push({ level, component, message, fields });
  };
  return {
    records,
    debug: at("DEBUG"),
    info: at("INFO"),
    warning: at("WARNING"),
    error: at("ERROR"),
    critical: at("CRITICAL"),
    child: (name: string) => recordingLogger(records, name),
  };
}

/** A logger (children included) that keeps every record, at any level, in `records`. */
export function memoryLogger(component = "test"): { logger: Logger; records: LogRecord[] } {
  const logger = recordingLogger([], component);
  return { logger, records: logger.records };
}

/** A logger that discards every record. */
export function nullLogger(): Logger {
  const drop = () => {};
  const logger: Logger = {
    debug: drop,
    info: drop,
    warning: drop,
    error: drop,
    critical: drop,
    child: () => logger,
  };
  return logger;
}

/** A Threat Bus whose frames come from a queue; published frames are kept. */
export class FakeThreatBus implements ThreatBus {
  readonly inbound = new AsyncQueue<BrokerFrame>();
  readonly published: OutboundFrame[] = [];
  closed = 0;

  async *frames(signal: AbortSignal): AsyncIterable<BrokerFrame> {
    const iterator = this.inbound[Symbol.asyncIterator]();
    const aborted = new Promise<IteratorResult<BrokerFrame>>((resolve) => {
      if (signal.aborted) resolve({ value: undefined, done: true });
      signal.addEventListener("abort", () => resolve({ value: undefined, done: true }), {
        once: true,
      });
    });
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) return;
      yield next.value;
    }
  }

  publish(frame: OutboundFrame): Promise<void> {
    this.published.push(frame);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed++;
    return Promise.resolve();
  }
}

/** What the fake live matcher does next: print a line, end the attachment, or throw. */
export type FakeLiveEvent =
  | { readonly line: string }
  | { readonly match: ParsedLiveMatch }
  | { readonly end: LiveAttachOutcome }
  | { readonly error: Error };

/** One add/remove call the fake backend received. */
export interface FakeMatcherCall {
  readonly op: "add" | "remove";
  readonly matcher: string;
  readonly value: string;
  readonly ref?: string;
}

/**
 * A backend answering retro queries from a table of IoC value → result lines
 * (a query gets the lines of each of its values, each line once), and live
 * matching from a queue of scripted events shared by all attachments. Its
 * matcher holds what VAST's holds: no subnets, no connections.
 */
export class FakeBackend implements Backend, LiveBackend {
  /** Each retro query, `ioc` its first term (a value, in the tests that read it). */
  readonly queries: { query: IocQuery; ioc: PointIoc; options: RetroQueryOptions }[] = [];
  /** Pushed by tests; each attachment reads from it until an `end`. */
  readonly liveEvents = new AsyncQueue<FakeLiveEvent>();
  /** The matcher name of each attachment, in order. */
  readonly attachments: string[] = [];
  readonly matcherCalls: FakeMatcherCall[] = [];
  /** Whether the live matcher must tell every value again after an attachment started. */
  resendAfterAttach = false;
  /** Values whose add/remove fails with a stderr-like detail. */
  readonly failingValues = new Set<string>();
  /** When set, retro queries wait for it before answering. */
  retroGate: Promise<void> | undefined;
  /** When set, add/remove calls wait for it, so tests can hold them in flight. */
  updateGate: Promise<void> | undefined;
  updatesInFlight = 0;
  maxUpdatesInFlight = 0;
  /** Values that got a second update while one was still in flight. */
  readonly overlappingValues: string[] = [];
  readonly #valuesInFlight = new Set<string>();
  statusFailures: number;
  constructor(
    readonly results: Record<string, string[]> = {},
    options: { statusFailures?: number } = {},
  ) {
    this.statusFailures = options.statusFailures ?? 0;
  }

  status(): Promise<void> {
    if (this.statusFailures > 0) {
      this.statusFailures--;
      return Promise.reject(new Error("connection refused"));
    }
    return Promise.resolve();
  }

  async retro(
    query: IocQuery,
    options: RetroQueryOptions & {
      onLine: (line: string) => void | Promise<void>;
      signal: AbortSignal;
    },
  ): Promise<RetroQueryOutcome> {
    this.queries.push({
      query,
      ioc: query[0] as PointIoc,
      options: { maxEvents: options.maxEvents, timeoutSeconds: options.timeoutSeconds },
    });
    await this.retroGate;
    const lines = new Set(
      query.flatMap((term) => term.type === "flow" ? [] : this.results[term.value] ?? []),
    );
    for (const line of lines) await options.onLine(line);
    return { status: "ok" };
  }

  canMatchLive(term: IocTerm): boolean {
    return term.type !== "flow" && term.type !== "subnet";
  }

  async attachMatcher(
    matcher: string,
    options: {
      onMatch: (match: ParsedLiveMatch) => void | Promise<void>;
      onStarted?: (() => void) | undefined;
      signal: AbortSignal;
    },
  ): Promise<LiveAttachOutcome> {
    const { signal } = options;
    signal.throwIfAborted();
    this.attachments.push(matcher);
    options.onStarted?.();
    const iterator = this.liveEvents[Symbol.asyncIterator]();
    const aborted = new Promise<never>((_, reject) => {
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) return { status: "ended", detail: "the fake's events ended" };
      const event = next.value;
      if ("end" in event) return event.end;
      if ("error" in event) throw event.error;
      await options.onMatch("match" in event ? event.match : parseLiveMatchLine(event.line));
    }
  }

  addToMatcher(
    matcher: string,
    options: { ioc: PointIoc; ref: string; signal: AbortSignal },
  ): Promise<MatcherUpdateOutcome> {
    return this.#update({ op: "add", matcher, value: options.ioc.value, ref: options.ref });
  }

  removeFromMatcher(
    matcher: string,
    options: { ioc: PointIoc; signal: AbortSignal },
  ): Promise<MatcherUpdateOutcome> {
    return this.#update({ op: "remove", matcher, value: options.ioc.value });
  }

  async #update(call: FakeMatcherCall): Promise<MatcherUpdateOutcome> {
    this.matcherCalls.push(call);
    if (this.#valuesInFlight.has(call.value)) this.overlappingValues.push(call.value);
    this.#valuesInFlight.add(call.value);
    this.updatesInFlight++;
    this.maxUpdatesInFlight = Math.max(this.maxUpdatesInFlight, this.updatesInFlight);
    try {
      await this.updateGate;
    } finally {
      this.updatesInFlight--;
      this.#valuesInFlight.delete(call.value);
    }
    if (this.failingValues.has(call.value)) {
      return { status: "failed", detail: `exit code 1: vast: error: matcher ${call.op} failed` };
    }
    return { status: "ok" };
  }
}

/** A sink that keeps sightings in memory. */
export class MemorySink implements SightingSink {
  readonly sightings: Sighting[] = [];
  closed = 0;
  write(sighting: Sighting): Promise<void> {
    this.sightings.push(sighting);
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.closed++;
    return Promise.resolve();
  }
}

/** Resolves once `condition` holds, polling the event loop; fails after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("Cannot wait any longer: condition not met");
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Runs `body` with a signal that aborts after `ms`, so a bug fails instead of hanging. */
export async function withDeadline<T>(
  ms: number,
  body: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`Test deadline of ${ms} ms`)), ms);
  try {
    return await body(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}
