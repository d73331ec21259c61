/**
 * Suggestions for mistyped config keys: the closest known key by edit
 * distance, or a known key with the same name in another section.
 */

/**
 * Edits (insert, delete, substitute, swap two neighbours) that turn `a` into
 * `b`; swaps count once because `retro_mathc` is one slip, not two.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  const at = (i: number, j: number) => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return at(a.length, b.length);
}

/** Options for `didYouMean`. */
export interface DidYouMeanOptions {
  /**
   * Largest distance still worth suggesting; defaults to a third of the
   * mistyped key's last segment, between 1 and 3, so short keys need close matches.
   */
  readonly maxDistance?: number;
}

/**
 * The known key path closest to `unknown` (both dotted paths, compared
 * case-insensitively), or `undefined` when nothing is close enough.
 */
export function didYouMean(
  unknown: string,
  known: readonly string[],
  options: DidYouMeanOptions = {},
): string | undefined {
  const wanted = unknown.toLowerCase();
  const leaf = lastSegment(wanted);
  const limit = options.maxDistance ?? Math.min(3, Math.max(1, Math.floor(leaf.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined && bestDistance <= limit) return best;
  // A right name in the wrong place, e.g. top-level `console_verbosity`.
  return known.find((candidate) => lastSegment(candidate.toLowerCase()) === leaf);
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf(".") + 1);
}
