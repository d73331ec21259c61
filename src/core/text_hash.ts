/**
 * Non-cryptographic hashes of text (FNV-1a over UTF-16 code units), for
 * indexes that keep a few bytes per entry instead of the text itself. Equal
 * texts hash equally; a caller that must not confuse two texts confirms a
 * match against the text it kept elsewhere.
 */

const FNV_PRIME = 0x01000193;
const FNV_OFFSET = 0x811c9dc5;
/** A second offset, so that the second lane of {@linkcode textHash52} differs from the first. */
const FNV_OFFSET_HIGH = 0x050c5d1f;

/** A 32-bit hash of `text` as a signed integer, which V8 keeps without allocating. */
export function textHash32(text: string): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), FNV_PRIME);
  return hash | 0;
}

/**
 * A 52-bit hash of `text` (two 32-bit lanes with different offsets, 20 bits
 * of the second kept): two texts that differ collide with a chance of one in
 * 2^52, so a caller may take equal hashes for equal texts.
 */
export function textHash52(text: string): number {
  let low = FNV_OFFSET;
  let high = FNV_OFFSET_HIGH;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    low = Math.imul(low ^ unit, FNV_PRIME);
    high = Math.imul(high ^ unit, FNV_PRIME) ^ (low >>> 7);
  }
  return (high >>> 12) * 0x1_0000_0000 + (low >>> 0);
}
