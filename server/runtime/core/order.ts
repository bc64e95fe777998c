/**
 * Compares two strings by Unicode code point (not UTF-16 code unit, which is what `<` does and
 * which orders astral characters before U+E000..U+FFFF). Returns <0, 0 or >0.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // Below the surrogate range code units and code points order the same.
      if (x < 0xd800 && y < 0xd800) return x - y;
      return (a.codePointAt(i) as number) - (b.codePointAt(i) as number);
    }
  }
  return a.length - b.length;
}
