/**
 * Byte and text helpers shared by the ZMTP modules and the sockets that
 * match subscription prefixes against published text. Pure.
 */

const NON_ASCII = /[\u0080-\uffff]/;

/**
 * The UTF-8 length of `text` as `TextEncoder` writes it (a lone surrogate
 * becomes U+FFFD, 3 bytes), so a frame header can precede `encodeInto`.
 */
export function utf8Length(text: string): number {
  // Sightings are nearly always ASCII: one native regex scan instead of a loop per character.
  if (!NON_ASCII.test(text)) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit < 0xdc00 && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit < 0xe000;
}

/** Whether the UTF-8 encoding of `text` starts with `prefix`, without encoding all of it. */
export function textHasPrefix(text: string, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) {
    const unit = text.charCodeAt(i);
    if (!(unit < 0x80)) {
      // Past ASCII, bytes and characters part ways: encode just the head. Each
      // code unit is at least a byte, and the extra one keeps a surrogate pair whole.
      return hasPrefix(new TextEncoder().encode(text.slice(0, prefix.length + 1)), prefix);
    }
    if (unit !== prefix[i]) return false;
  }
  return true;
}

/** A string naming `bytes` exactly (one character per byte), to key a map of prefixes. */
export function bytesKey(bytes: Uint8Array): string {
  let key = "";
  for (const byte of bytes) key += String.fromCharCode(byte);
  return key;
}

/** Whether `bytes` starts with `prefix`. */
export function hasPrefix(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** The UTF-8 bytes of `text`; ZMTP names (mechanisms, commands, properties) are ASCII. */
export function ascii(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
