/**
 * Extracts the one matchable value from a point-equality STIX pattern such as
 * `[ipv4-addr:value = '6.6.6.6']` (PROTOCOL.md section 3).
 *
 * Built on folds over the parsed tree so that later translations (OR chains,
 * IN sets, subnets, file hashes) add a folder or a path entry instead of
 * another special case.
 */

import type { IocType, PointIoc } from "./ioc.ts";
import { validateIocValue } from "./ioc_validate.ts";
import {
  type Comparison,
  type ComparisonFolder,
  foldComparison,
  foldObservation,
  formatObjectPath,
  type ObjectPath,
  type ObservationFolder,
  type Qualifier,
} from "./stix_pattern/ast.ts";
import { parsePattern } from "./stix_pattern/parser.ts";

/** Object paths with a point-IoC translation, written as `formatObjectPath` writes them. */
export const POINT_IOC_PATHS: Readonly<Record<string, IocType>> = {
  "ipv4-addr:value": "ip",
  "ipv6-addr:value": "ipv6",
  "domain-name:value": "domain",
  "url:value": "url",
};

/** Why a pattern yields no point IoC; lets callers log syntax errors and bad values apart. */
export type PointIocRefusal = "syntax" | "unsupported" | "invalid-value";

/** The result of {@link pointIocFromPattern} and {@link pointIocFromComparison}. */
export type PointIocResult =
  | { readonly ok: true; readonly ioc: PointIoc }
  | { readonly ok: false; readonly kind: PointIocRefusal; readonly reason: string };

const SUPPORTED = `only single '=' comparisons on ${
  Object.keys(POINT_IOC_PATHS).join(", ")
} with a string value are translated`;

function unsupported(what: string): PointIocResult {
  return { ok: false, kind: "unsupported", reason: `unsupported pattern: ${what} (${SUPPORTED})` };
}

/** The IoC type a path translates to, if any; `ipv4-addr:'value'` counts as `ipv4-addr:value`. */
export function iocTypeOfPath(path: ObjectPath): IocType | undefined {
  return POINT_IOC_PATHS[formatObjectPath(path)];
}

/**
 * Translates one comparison into a point IoC, or says why it cannot be. The
 * building block for translations of larger expressions.
 */
export function pointIocFromComparison(comparison: Comparison): PointIocResult {
  if (comparison.negated) return unsupported(`negated comparison 'NOT ${comparison.operator}'`);
  if (comparison.operator !== "=") return unsupported(`operator '${comparison.operator}'`);
  const type = iocTypeOfPath(comparison.path);
  if (type === undefined) {
    return unsupported(`object path '${formatObjectPath(comparison.path)}'`);
  }
  if (comparison.value.kind !== "string") {
    return unsupported(
      `${comparison.value.kind} literal compared with '${formatObjectPath(comparison.path)}'`,
    );
  }
  const value = comparison.value.value;
  const validation = validateIocValue(type, value);
  if (!validation.ok) {
    return { ok: false, kind: "invalid-value", reason: `invalid value: ${validation.reason}` };
  }
  return { ok: true, ioc: { type, value } };
}

const QUALIFIER_NAMES: Readonly<Record<Qualifier["kind"], string>> = {
  within: "WITHIN",
  repeats: "REPEATS",
  "start-stop": "START/STOP",
};

// Folders see children already translated; for a point IoC any junction or
// qualifier disqualifies the whole pattern, so they only name the construct.
const POINT_COMPARISON: ComparisonFolder<PointIocResult> = {
  comparison: pointIocFromComparison,
  exists: () => unsupported("EXISTS test"),
  junction: (node) => unsupported(`${node.operands.length} comparisons joined by ${node.operator}`),
};

const POINT_OBSERVATION: ObservationFolder<PointIocResult> = {
  observation: (node) => foldComparison(node.comparison, POINT_COMPARISON),
  junction: (node) => unsupported(`observation operator ${node.operator}`),
  qualified: (node) =>
    unsupported(`qualifier ${node.qualifiers.map((q) => QUALIFIER_NAMES[q.kind]).join(", ")}`),
};

/**
 * Turns a point-equality pattern into its IoC. Refusal reasons start with
 * "not a valid STIX pattern:", "unsupported pattern:" or "invalid value:".
 */
export function pointIocFromPattern(pattern: string): PointIocResult {
  const parsed = parsePattern(pattern);
  if (!parsed.ok) {
    return {
      ok: false,
      kind: "syntax",
      reason: `not a valid STIX pattern: ${parsed.error.message}`,
    };
  }
  return foldObservation(parsed.pattern.expression, POINT_OBSERVATION);
}
