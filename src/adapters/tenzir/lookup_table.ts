/**
 * Makes sure the node has the lookup table live matching uses: `context::list`
 * filtered by name, and `context::create_lookup_table` when it prints nothing.
 * A create that fails because another process created the table meanwhile is
 * success, found out by listing again rather than by reading the error text.
 */

import { createContextProgram, listContextProgram } from "../../core/tenzir_context.ts";
import type { TqlText } from "../../core/tql_literal.ts";
import type { Logger, MatcherUpdateOutcome } from "../../ports.ts";
import type { RunCollectResult } from "../subprocess.ts";

/** Runs one short program; the Tenzir adapter's way of calling the node. */
export type RunProgram = (program: string, signal: AbortSignal) => Promise<RunCollectResult>;

/** What {@linkcode LookupTables} needs. */
export interface LookupTablesDeps {
  readonly runProgram: RunProgram;
  /** A short program's result as an outcome. */
  readonly outcomeOf: (result: RunCollectResult) => MatcherUpdateOutcome;
  readonly logger: Logger;
}

/** Remembers which tables are known to exist; see the module doc. */
export class LookupTables {
  readonly #deps: LookupTablesDeps;
  readonly #known = new Set<string>();

  constructor(deps: LookupTablesDeps) {
    this.#deps = deps;
  }

  /**
   * Resolves "ok" once the table `name` exists. `fresh` asks the node even
   * when the table was seen before (a restarted node may have lost it).
   * Rejects only on abort.
   */
  async ensure(
    name: string,
    options: { readonly fresh: boolean; readonly signal: AbortSignal },
  ): Promise<MatcherUpdateOutcome> {
    const { fresh, signal } = options;
    if (!fresh && this.#known.has(name)) return { status: "ok" };
    this.#known.delete(name);
    let listed = await this.#list(name, signal);
    if (listed.status === "ok" && !listed.exists) {
      const created = await this.#run(createContextProgram(name), signal);
      if (created.status === "ok") {
        this.#deps.logger.info("Created the lookup table for live matching", { context: name });
        listed = { status: "ok", exists: true };
      } else {
        // Another process may have created it meanwhile; that is as good.
        listed = await this.#list(name, signal);
        if (listed.status === "ok" && !listed.exists) return created;
      }
    }
    if (listed.status !== "ok") return { status: "failed", detail: listed.detail };
    this.#known.add(name);
    return { status: "ok" };
  }

  async #list(name: string, signal: AbortSignal): Promise<Listed> {
    const program = listContextProgram(name);
    if (!program.ok) return { status: "failed", detail: program.reason };
    const result = await this.#deps.runProgram(program.text, signal);
    const outcome = this.#deps.outcomeOf(result);
    if (outcome.status !== "ok") return { status: "failed", detail: outcome.detail };
    return { status: "ok", exists: result.kind !== "spawn_failed" && result.stdout.trim() !== "" };
  }

  async #run(program: TqlText, signal: AbortSignal): Promise<MatcherUpdateOutcome> {
    if (!program.ok) return { status: "failed", detail: program.reason };
    return this.#deps.outcomeOf(await this.#deps.runProgram(program.text, signal));
  }
}

type Listed =
  | { readonly status: "ok"; readonly exists: boolean }
  | { readonly status: "failed"; readonly detail?: string | undefined };
