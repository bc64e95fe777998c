/**
 * sfc32 — Chris Doty-Humphrey's Small Fast Counter generator (PractRand), 32-bit variant.
 * Chosen because it is tiny, passes PractRand/BigCrush, and needs only 32-bit integer ops,
 * so every JavaScript engine produces the same sequence bit for bit.
 *
 * Seeding follows PractRand's 32-bit scheme: a = 0, b = seed, c = 0, d = 1, then 12 outputs
 * are discarded to mix the state.
 */
export class Sfc32 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0;
    this.b = seed >>> 0;
    this.c = 0;
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** Next output as an unsigned 32-bit integer. */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /**
   * Uniform integer in [0, n) without modulo bias (rejection sampling), 1 <= n <= 2^32.
   * Rejection draws more than once only with probability < n / 2^32.
   */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0x1_0000_0000) {
      throw new RangeError(`Sfc32.nextInt: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }
}
