/**
 * What the emulated broker saw and said: every frame on its sub socket, the
 * legacy sightings it accepted or refused, the intel it dropped, and its log
 * lines. Kept across restarts, so a test can look back over all of them.
 */

import {
  decodeLegacySighting,
  type LegacySighting,
  type RejectedSighting,
} from "./legacy/legacy_sighting.ts";
import { waitUntil } from "./wait_until.ts";
import type { WireFormat } from "./wire_format.ts";

/** One frame received on the sub socket, split at the first space. */
export interface ReceivedFrame {
  readonly topic: string;
  readonly body: string;
  readonly raw: string;
}

/** Intel the broker refused to publish, and why. */
export interface DroppedIntel {
  readonly input: unknown;
  readonly reason: string;
}

/** What a {@link BrokerJournal} reports to. */
export interface BrokerJournalOptions {
  readonly format: WireFormat;
  readonly onReceive?: ((frame: ReceivedFrame) => void) | undefined;
  readonly onLog?: ((line: string) => void) | undefined;
}

/** The broker's records; see the module doc. */
export class BrokerJournal {
  readonly #options: BrokerJournalOptions;
  readonly #received: ReceivedFrame[] = [];
  readonly #sightings: LegacySighting[] = [];
  readonly #rejectedSightings: RejectedSighting[] = [];
  readonly #droppedIntel: DroppedIntel[] = [];
  readonly #log: string[] = [];

  constructor(options: BrokerJournalOptions) {
    this.#options = options;
  }

  get received(): readonly ReceivedFrame[] {
    return this.#received;
  }

  get sightings(): readonly LegacySighting[] {
    return this.#sightings;
  }

  get rejectedSightings(): readonly RejectedSighting[] {
    return this.#rejectedSightings;
  }

  get droppedIntel(): readonly DroppedIntel[] {
    return this.#droppedIntel;
  }

  get log(): readonly string[] {
    return this.#log;
  }

  /** Resolves once `count` frames have arrived in total. */
  async waitForFrames(count: number, timeoutMs: number): Promise<readonly ReceivedFrame[]> {
    const received = this.#received;
    await waitUntil(
      () => received.length >= count,
      timeoutMs,
      () => `${count} frames (got ${received.length})`,
    );
    return received;
  }

  /** Resolves once `count` sightings were accepted or refused in total. */
  async waitForSightings(count: number, timeoutMs: number): Promise<readonly LegacySighting[]> {
    const seen = () => this.#sightings.length + this.#rejectedSightings.length;
    await waitUntil(() => seen() >= count, timeoutMs, () => `${count} sightings (got ${seen()})`);
    return this.#sightings;
  }

  /** Records a frame from the sub socket; in legacy mode, decodes a `threatbus/sighting` one. */
  record(raw: string): void {
    const space = raw.indexOf(" ");
    const frame = space < 0
      ? { topic: raw, body: "", raw }
      : { topic: raw.slice(0, space), body: raw.slice(space + 1), raw };
    this.#received.push(frame);
    this.#options.onReceive?.(frame);
    if (this.#options.format !== "legacy" || frame.topic !== "threatbus/sighting") return;
    const outcome = decodeLegacySighting(frame.body);
    if (outcome.ok) {
      this.#sightings.push(outcome.sighting);
    } else {
      this.#rejectedSightings.push(outcome.rejected);
      this.note(`Error decoding sighting: ${outcome.rejected.reason}`);
    }
  }

  dropIntel(input: unknown, reason: string): void {
    this.#droppedIntel.push({ input, reason });
    this.note(`Dropping intel: ${reason}`);
  }

  note(line: string): void {
    this.#log.push(line);
    this.#options.onLog?.(line);
  }
}
