/**
 * The IoC values a bridge query asks for, so that tests can check "each IoC
 * queried once" whether or not queries were batched (`a || b || ...`).
 */

/** The distinct values of one query, in order: bare addresses and `"v" == concept` strings. */
export function queryValues(query: string): string[] {
  const values: string[] = [];
  for (const term of splitTerms(query)) {
    const quoted = /^"((?:[^"\\]|\\.)*)" == [\w.]+$/.exec(term);
    const value = quoted === null ? term : (quoted[1] as string).replace(/\\(.)/g, "$1");
    if (!values.includes(value)) values.push(value);
  }
  return values;
}

/** Every value of every query, sorted; a value queried twice appears twice. */
export function queriedValues(queries: readonly string[]): string[] {
  return queries.flatMap(queryValues).sort();
}

function splitTerms(query: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < query.length; i++) {
    const c = query[i];
    if (c === "\\" && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && query.startsWith(" || ", i)) {
      terms.push(query.slice(start, i));
      start = i + 4;
      i += 3;
    }
  }
  terms.push(query.slice(start));
  return terms;
}
