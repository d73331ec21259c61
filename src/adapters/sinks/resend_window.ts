/**
 * The lines a `ResilientLineWriter` wrote last, kept so that they can be sent
 * again after the target died. A pipe acknowledges nothing: what sat in it,
 * or in the dead reader's own buffers, when the reader died is gone without
 * a word. Keeping the newest lines that cover at least the window (which
 * should be at least the pipe's capacity) and sending them again makes the
 * delivery at-least-once: a reader may see a few lines twice, never none.
 */

import type { Logger } from "../../ports.ts";

/** Options of {@linkcode ResendWindow}. */
export interface ResendWindowOptions {
  /** Names the target in log lines, e.g. `sink command "logger"`. */
  readonly name: string;
  readonly logger: Logger;
  /** 0 keeps nothing. */
  readonly windowBytes: number;
  /** Told of every line handed out again, for the metrics. */
  readonly onResent?: ((lines: number) => void) | undefined;
}

/** The newest written lines covering at least `windowBytes`; see the module doc. */
export class ResendWindow {
  readonly #name: string;
  readonly #log: Logger;
  readonly #windowBytes: number;
  readonly #onResent: (lines: number) => void;
  #due = false;
  #resent = 0;
  /** Oldest first, with a moving head, since Array#shift is O(n). */
  #lines: (string | undefined)[] = [];
  #head = 0;
  #bytes = 0;

  constructor(options: ResendWindowOptions) {
    const { windowBytes } = options;
    if (!Number.isInteger(windowBytes) || windowBytes < 0) {
      throw new RangeError(
        `Cannot keep ${windowBytes} bytes to resend: expected a whole number ≥ 0`,
      );
    }
    this.#name = options.name;
    this.#log = options.logger;
    this.#windowBytes = windowBytes;
    this.#onResent = options.onResent ?? (() => {});
  }

  /** Lines handed out again so far. */
  get resent(): number {
    return this.#resent;
  }

  /** Lines kept. */
  get length(): number {
    return this.#lines.length - this.#head;
  }

  /** Their bytes, newlines included (UTF-16 units: never more than their UTF-8 bytes). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Notes lines just written; the oldest go once the rest still cover the window. */
  add(lines: readonly string[]): void {
    if (this.#windowBytes === 0) return;
    for (const line of lines) {
      this.#lines.push(line);
      this.#bytes += line.length + 1;
    }
    for (;;) {
      const oldest = this.#lines[this.#head];
      if (oldest === undefined || this.#bytes - (oldest.length + 1) < this.#windowBytes) break;
      this.#bytes -= oldest.length + 1;
      this.#lines[this.#head++] = undefined;
    }
    if (this.#head >= 1024 && this.#head * 2 >= this.#lines.length) {
      this.#lines = this.#lines.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The target broke: what it was given last may be lost, so it goes to the next one. */
  broke(): void {
    this.#due = true;
  }

  /**
   * For a target that just opened: after one broke, the lines kept (oldest
   * first), counted and logged, then forgotten; else none.
   */
  due(): string[] {
    if (!this.#due) return [];
    this.#due = false;
    const bytes = this.#bytes;
    const lines = this.#lines.slice(this.#head) as string[];
    this.clear();
    if (lines.length === 0) return lines;
    this.#resent += lines.length;
    this.#onResent(lines.length);
    this.#log.warning(
      `Re-sending the last lines to ${this.#name}: the one before may have died without reading them, so a reader may see them twice`,
      { lines: lines.length, bytes, resent_total: this.#resent },
    );
    return lines;
  }

  /** Forgets every line: the target took them for sure (it was closed cleanly). */
  clear(): void {
    this.#lines = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}
