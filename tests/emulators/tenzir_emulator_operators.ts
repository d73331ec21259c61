/**
 * The operators of the `tenzir` emulator: each checks its arguments (before
 * anything runs, as Tenzir does) and becomes a stage of the pipeline. See
 * TENZIR.md for the shapes the bridge uses; messages for missing and existing
 * contexts are the emulator's own: `context "NAME" does not exist` and
 * `context "NAME" already exists`.
 */

import { readLines } from "../../src/adapters/line_reader.ts";
import {
  createTable,
  type Entry,
  eraseFromTable,
  readTables,
  updateTable,
} from "./tenzir_emulator_context.ts";
import { checkExpression, evaluate, type EventData, truth } from "./tenzir_emulator_eval.ts";
import { TqlError } from "./tenzir_emulator_lexer.ts";
import { compileLiveLookup } from "./tenzir_emulator_live.ts";
import {
  contextName,
  expectArgs,
  intLiteral,
  named,
  required,
} from "./tenzir_emulator_arguments.ts";
import {
  hang,
  PipelineError,
  readEventLine,
  type Runtime,
  sleep,
} from "./tenzir_emulator_runtime.ts";
import type { Expr, NamedArg, Operator } from "./tenzir_emulator_ast.ts";
import { Duration, type RecordValue, toJson, type Value } from "./tenzir_emulator_value.ts";

/** A pipeline stage: a source, a transformation, a sink, or a command that stands alone. */
export type Stage =
  | { readonly role: "source"; readonly run: () => AsyncIterable<EventData> }
  | {
    readonly role: "transform";
    readonly run: (input: AsyncIterable<EventData>) => AsyncIterable<EventData>;
  }
  | { readonly role: "sink"; readonly run: (input: AsyncIterable<EventData>) => Promise<void> }
  | { readonly role: "command"; readonly run: () => Promise<void> };

/** What compiling an operator may need besides the operator itself. */
export interface CompileContext {
  readonly runtime: Runtime;
  /** Whether the pipeline reads stored events, so result delays and hangs apply. */
  readonly exports: boolean;
  /** Compiles the block of `remote { … }` into one source. */
  readonly block: (operator: Operator) => () => AsyncIterable<EventData>;
}

/** Operators that talk to the node (the others run in the client). */
export const NODE_OPERATORS: ReadonlySet<string> = new Set([
  "remote",
  "export",
  "context::list",
  "context::create_lookup_table",
  "context::update",
  "context::erase",
  "context::inspect",
  "context::lookup",
]);

/** Compiles one operator; throws {@link TqlError} for arguments Tenzir would refuse. */
export function compileOperator(op: Operator, context: CompileContext): Stage {
  const { runtime } = context;
  const { diagnostics: diag, settings } = runtime;
  switch (op.name) {
    case "remote":
      return { role: "source", run: context.block(op) };
    case "version":
      expectArgs(op, { positional: [0, 0], named: [] });
      return {
        role: "source",
        run: () => records([{ version: settings.version }], "tenzir.version"),
      };
    case "export":
      expectArgs(op, { positional: [0, 0], named: ["parallel"] });
      if (named(op, "parallel") !== undefined) intLiteral(named(op, "parallel") as NamedArg);
      return { role: "source", run: () => exportEvents(runtime) };
    case "from": {
      expectArgs(op, { positional: [1, Infinity], named: [] });
      const values = op.positional.map((expr) => {
        checkExpression(expr);
        const value = evaluate(expr, { diagnostics: diag });
        if (!(value instanceof Map)) throw new TqlError("`from` expects records", expr.at);
        return value;
      });
      return { role: "source", run: () => typedRecords(values, "tenzir.from") };
    }
    case "where": {
      expectArgs(op, { positional: [1, 1], named: [] });
      const predicate = op.positional[0] as Expr;
      checkExpression(predicate);
      return {
        role: "transform",
        run: async function* (input) {
          const verdict = { what: "where", diagnostics: diag };
          for await (const event of input) {
            if (truth(evaluate(predicate, { event, diagnostics: diag }), verdict)) yield event;
          }
        },
      };
    }
    case "head": {
      expectArgs(op, { positional: [0, 1], named: [] });
      const limitExpr = op.positional[0];
      const limit = limitExpr === undefined
        ? 10
        : intLiteral({ name: "head", value: limitExpr, at: op.at });
      return {
        role: "transform",
        run: async function* (input) {
          if (limit === 0) return;
          let taken = 0;
          for await (const event of input) {
            yield event;
            if (++taken >= limit) return;
          }
        },
      };
    }
    case "write_ndjson":
      expectArgs(op, { positional: [0, 0], named: [] });
      return { role: "sink", run: (input) => writeNdjson(input, context) };
    case "context::list":
      expectArgs(op, { positional: [0, 0], named: [] });
      return {
        role: "source",
        run: async function* () {
          for (const table of (await readTables(stateFile(runtime))).values()) {
            yield* records([{
              num_entries: table.entries.size,
              name: table.name,
              configured: false,
            }], "tenzir.context");
          }
        },
      };
    case "context::create_lookup_table": {
      const name = contextName(op, []);
      return {
        role: "command",
        run: async () => {
          if (!(await createTable(stateFile(runtime), name))) {
            throw new PipelineError(`context "${name}" already exists`);
          }
        },
      };
    }
    case "context::update": {
      const name = contextName(op, [
        "key",
        "value",
        "create_timeout",
        "write_timeout",
        "read_timeout",
      ]);
      const key = required(op, "key");
      const value = named(op, "value");
      for (const timeout of ["create_timeout", "write_timeout", "read_timeout"]) {
        const arg = named(op, timeout);
        if (
          arg !== undefined &&
          !(arg.value.kind === "literal" && arg.value.value instanceof Duration)
        ) {
          throw new TqlError(`\`${timeout}\` expects a duration`, arg.at);
        }
      }
      [key.value, value?.value].forEach((expr) => expr === undefined || checkExpression(expr));
      return {
        role: "sink",
        run: async (input) => {
          const entries: Entry[] = [];
          for await (const event of input) {
            const keyValue = evaluate(key.value, { event, diagnostics: diag });
            const stored = value === undefined
              ? event.fields
              : evaluate(value.value, { event, diagnostics: diag });
            entries.push({ key: keyValue, value: stored });
          }
          if (!(await updateTable(stateFile(runtime), { name, entries }))) {
            throw new PipelineError(`context "${name}" does not exist`);
          }
        },
      };
    }
    case "context::erase": {
      const name = contextName(op, ["key"]);
      const key = required(op, "key");
      checkExpression(key.value);
      return {
        role: "sink",
        run: async (input) => {
          const keys: Value[] = [];
          for await (const event of input) {
            keys.push(evaluate(key.value, { event, diagnostics: diag }));
          }
          if (!(await eraseFromTable(stateFile(runtime), { name, keys }))) {
            throw new PipelineError(`context "${name}" does not exist`);
          }
        },
      };
    }
    case "context::inspect": {
      const name = contextName(op, []);
      return {
        role: "source",
        run: async function* () {
          const table = (await readTables(stateFile(runtime))).get(name);
          if (table === undefined) throw new PipelineError(`context "${name}" does not exist`);
          const rows = [...table.entries.values()].map(({ key, value }) =>
            new Map<string, Value>([["key", key], ["value", value]])
          );
          yield* typedRecords(rows, "tenzir.inspect");
        },
      };
    }
    case "context::lookup":
      return { role: "source", run: compileLiveLookup(op, runtime) };
    default:
      throw new TqlError(`unknown operator \`${op.name}\``, op.at);
  }
}

function stateFile(runtime: Runtime): string {
  const state = runtime.settings.state;
  if (state === undefined) throw new PipelineError("the emulator needs TENZIR_EMU_STATE");
  return state;
}

async function* records(
  objects: readonly Record<string, Value>[],
  schema: string,
): AsyncGenerator<EventData> {
  yield* typedRecords(objects.map((object) => new Map(Object.entries(object))), schema);
}

async function* typedRecords(
  values: readonly RecordValue[],
  schema: string,
): AsyncGenerator<EventData> {
  for (const fields of values) yield { schema, fields };
}

/** The stored events: every line of the data file, typed. */
async function* exportEvents(runtime: Runtime): AsyncGenerator<EventData> {
  const path = runtime.settings.data;
  // The stream closes the file when it ends.
  const file = await Deno.open(path, { read: true }).catch((error) => {
    throw new PipelineError(`cannot read the data file "${path}": ${error.message}`);
  });
  let line = 0;
  for await (const text of readLines(file.readable, { maxLineBytes: 64 * 1024 * 1024 })) {
    line += 1;
    if (text.trim() !== "") yield readEventLine(text, `${path}:${line}`);
  }
}

async function writeNdjson(
  input: AsyncIterable<EventData>,
  context: CompileContext,
): Promise<void> {
  const { settings } = context.runtime;
  let results = 0;
  for await (const event of input) {
    if (context.exports && results > 0 && settings.delayMs > 0) await sleep(settings.delayMs);
    await context.runtime.write(JSON.stringify(toJson(event.fields)));
    results += 1;
    if (context.exports && settings.hang) await hang(settings);
  }
}
