/**
 * Turns a parsed pipeline into something to run: a source, transformations
 * and a sink, checked for their order as Tenzir checks operator input and
 * output types. A pipeline that ends in events without a printer prints them
 * as TQL text, as the `tenzir` command line does: not NDJSON, so a bridge that
 * forgets `write_ndjson` fails loudly.
 */

import type { EventData } from "./tenzir_emulator_eval.ts";
import { TqlError } from "./tenzir_emulator_lexer.ts";
import { compileOperator, NODE_OPERATORS, type Stage } from "./tenzir_emulator_operators.ts";
import type { Runtime } from "./tenzir_emulator_runtime.ts";
import type { Operator, Pipeline } from "./tenzir_emulator_ast.ts";
import { formatTql } from "./tenzir_emulator_value.ts";

/** A checked pipeline, ready to run. */
export interface Program {
  /** Every operator name, those inside `remote { … }` included. */
  readonly operators: ReadonlySet<string>;
  /** Whether any operator talks to the node. */
  readonly needsNode: boolean;
  /** Runs the pipeline to its end; rejects with the error that stopped it. */
  run(): Promise<void>;
}

/** Checks `pipeline` and prepares it; throws {@link TqlError} for what Tenzir would refuse. */
export function compileProgram(pipeline: Pipeline, runtime: Runtime): Program {
  const operators = new Set(names(pipeline));
  const exports = operators.has("export");
  const compile = (inner: Pipeline): Stage[] =>
    inner.operators.map((op) => compileOperator(op, { runtime, exports, block }));
  const block = (op: Operator): () => AsyncIterable<EventData> => {
    const inner = op.block as Pipeline;
    const stages = compile(inner);
    const last = stages.length - 1;
    stages.forEach((stage, index) =>
      checkPlace(stage, { index, last, op: inner.operators[index] as Operator, topLevel: false })
    );
    return () => chain(stages);
  };
  const stages = compile(pipeline);
  const last = stages.length - 1;
  stages.forEach((stage, index) =>
    checkPlace(stage, { index, last, op: pipeline.operators[index] as Operator, topLevel: true })
  );
  const final = stages[last] as Stage;
  const run = async (): Promise<void> => {
    if (final.role === "command") return await final.run();
    if (final.role === "sink") return await final.run(chain(stages.slice(0, -1)));
    for await (const event of chain(stages)) await runtime.write(formatTql(event.fields));
  };
  return { operators, needsNode: [...operators].some((name) => NODE_OPERATORS.has(name)), run };
}

function names(pipeline: Pipeline): string[] {
  return pipeline.operators.flatMap((op) => [op.name, ...(op.block ? names(op.block) : [])]);
}

/** Where a stage stands: its index, the last index, its operator, and whether it is nested. */
interface Place {
  readonly index: number;
  readonly last: number;
  readonly op: Operator;
  readonly topLevel: boolean;
}

/** Whether a stage may stand at its place; a nested pipeline must end in events. */
function checkPlace(stage: Stage, place: Place): void {
  const { index, last, op, topLevel } = place;
  if (stage.role === "command") {
    if (last > 0) throw new TqlError(`\`${op.name}\` must be the only operator`, op.at);
    if (!topLevel) throw new TqlError(`\`${op.name}\` produces no events`, op.at);
  } else if (stage.role === "source") {
    if (index > 0) throw new TqlError(`\`${op.name}\` must be the first operator`, op.at);
  } else if (index === 0) {
    throw new TqlError(`\`${op.name}\` expects events, but nothing comes before it`, op.at);
  } else if (stage.role === "sink" && (index < last || !topLevel)) {
    throw new TqlError(`\`${op.name}\` must be the last operator`, op.at);
  }
}

/** Connects a source and transformations into one stream of events. */
function chain(stages: readonly Stage[]): AsyncIterable<EventData> {
  const [source, ...transforms] = stages;
  if (source?.role !== "source") throw new Error("Cannot chain stages: no source first");
  let stream = source.run();
  for (const stage of transforms) {
    if (stage.role !== "transform") throw new Error("Cannot chain stages: not a transformation");
    stream = stage.run(stream);
  }
  return stream;
}
