/**
 * FNV-1a, 64-bit, over bytes, as 16 lowercase hex digits. Computed on two 32-bit halves so it
 * needs neither BigInt nor Node's crypto (shared/ runs in browsers too). Not cryptographic: it
 * proves that two resolutions produced the same bytes, not that nobody forged them.
 */
export function fnv1a64Hex(bytes: Uint8Array): string {
  // offset basis 0xcbf29ce484222325
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (let i = 0; i < bytes.length; i++) {
    lo ^= bytes[i];
    // multiply by the FNV prime 2^40 + 0x1b3, modulo 2^64: h * 0x1b3 + (h << 40)
    const loMul = (lo >>> 0) * 0x1b3;
    const hiMul = (hi >>> 0) * 0x1b3 + Math.floor(loMul / 0x1_0000_0000) + ((lo << 8) >>> 0);
    lo = loMul >>> 0;
    hi = hiMul >>> 0;
  }
  return (hi >>> 0).toString(16).padStart(8, "0") + (lo >>> 0).toString(16).padStart(8, "0");
}

/**
 * FNV-1a, 32-bit, over a string's UTF-16 code units (for ASCII ids this equals the byte hash):
 * a cheap, stable integer seed per id (stats derivation, NPC brains).
 */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const utf8 = new TextEncoder();

/** FNV-1a 64 of a string's UTF-8 bytes. */
export function fnv1a64HexOfString(text: string): string {
  return fnv1a64Hex(utf8.encode(text));
}
