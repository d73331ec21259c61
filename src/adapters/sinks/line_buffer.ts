/**
 * The lines a `ResilientLineWriter` has accepted but not yet written: bounded,
 * so an outage costs the oldest lines rather than memory without end, and
 * handed out in batches, so a backlog drains in few writes.
 */

import type { Logger } from "../../ports.ts";

/** Options of {@linkcode LineBuffer}; complete, as the writer resolves its defaults. */
export interface LineBufferOptions {
  /** Names the target in log lines, e.g. `sink command "logger"`. */
  readonly name: string;
  readonly logger: Logger;
  /** Lines kept at most; beyond that the oldest are dropped. */
  readonly capacity: number;
  /** Most bytes in one batch, unless a single line is longer. */
  readonly batchBytes: number;
  /** Told of every line dropped, for the metrics. */
  readonly onDropped: (lines: number) => void;
}

/**
 * Accepted lines, oldest first. When full, a new line pushes out the oldest:
 * the first drop of an outage is logged as a warning at once, the whole
 * count once the target is back ({@linkcode LineBuffer.reportDrops}).
 */
export class LineBuffer {
  readonly #name: string;
  readonly #log: Logger;
  readonly #capacity: number;
  readonly #batchBytes: number;
  readonly #onDropped: (lines: number) => void;
  readonly #encoder = new TextEncoder();
  /** The head may be in flight: it leaves only once its write succeeded. */
  #lines: string[] = [];
  #dropped = 0;
  #droppedInOutage = 0;

  constructor(options: LineBufferOptions) {
    this.#name = options.name;
    this.#log = options.logger;
    this.#capacity = options.capacity;
    if (!Number.isInteger(this.#capacity) || this.#capacity < 1) {
      throw new RangeError(
        `Cannot buffer ${this.#capacity} lines for ${this.#name}: expected a whole number ≥ 1`,
      );
    }
    this.#batchBytes = options.batchBytes;
    this.#onDropped = options.onDropped;
  }

  /** Lines held. */
  get length(): number {
    return this.#lines.length;
  }

  /** Whether the next push would drop the oldest line. */
  get full(): boolean {
    return this.#lines.length >= this.#capacity;
  }

  /** Lines dropped since the buffer was made. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Appends `line`, dropping the oldest one if that overfills the buffer. */
  push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length <= this.#capacity) return;
    this.#lines.shift();
    this.#dropped++;
    this.#onDropped(1);
    if (this.#droppedInOutage++ === 0) {
      this.#log.warning(`Buffer of ${this.#name} is full; dropping the oldest lines`, {
        buffer_lines: this.#capacity,
      });
    }
  }

  /**
   * The first of at most `limit` lines that fit into `batchBytes`, encoded
   * newline-terminated as one write, and how many lines that is (at least one).
   * They stay in the buffer until {@linkcode LineBuffer.removeFirst}.
   */
  batch(limit: number): { readonly bytes: Uint8Array; readonly count: number } {
    let bytes = 0;
    let count = 0;
    while (count < limit) {
      bytes += (this.#lines[count] as string).length + 1;
      if (count > 0 && bytes > this.#batchBytes) break;
      count++;
    }
    return { bytes: this.#encoder.encode(this.#lines.slice(0, count).join("\n") + "\n"), count };
  }

  /** Forgets the first `count` lines, once they were written; returns them. */
  removeFirst(count: number): string[] {
    return this.#lines.splice(0, count);
  }

  /**
   * Puts `lines` back ahead of the rest, to be written first (lines sent
   * again after the target died). They may exceed the capacity for a while:
   * they are bounded by the resend window, and the next pushes drop them first.
   */
  prepend(lines: readonly string[]): void {
    this.#lines = [...lines, ...this.#lines];
  }

  /** Forgets every line; for the close deadline, which counts them as lost. */
  clear(): void {
    this.#lines = [];
  }

  /** Logs how many lines the outage that just ended dropped, if any, and starts a new count. */
  reportDrops(): void {
    if (this.#droppedInOutage === 0) return;
    this.#log.error(`Dropped lines while ${this.#name} was unavailable`, {
      lines: this.#droppedInOutage,
      dropped_total: this.#dropped,
    });
    this.#droppedInOutage = 0;
  }
}
