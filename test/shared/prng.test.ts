import { describe, expect, it } from "vitest";
import { Sfc32 } from "../../shared/prng.ts";

/** sfc32 written a second, independent way (BigInt modulo 2^32) to check the fast one against. */
function referenceSfc32(seed: number, count: number): number[] {
  const M = 0xffff_ffffn;
  let a = 0n,
    b = BigInt(seed >>> 0),
    c = 0n,
    d = 1n;
  const out: number[] = [];
  for (let i = 0; i < 12 + count; i++) {
    const t = (a + b + d) & M;
    d = (d + 1n) & M;
    a = b ^ (b >> 9n);
    b = (c + (c << 3n)) & M;
    c = ((c << 21n) | (c >> 11n)) & M;
    c = (c + t) & M;
    if (i >= 12) out.push(Number(t));
  }
  return out;
}

describe("sfc32", () => {
  it("matches the golden vector for seed 42", () => {
    const r = new Sfc32(42);
    expect([0, 1, 2, 3, 4].map(() => r.nextU32())).toEqual([1264412219, 1947509147, 3919439299, 1251167922, 656401615]);
  });

  it("agrees with an independent BigInt implementation for many seeds", () => {
    for (const seed of [0, 1, 42, 0x7fffffff, 0x80000000, 0xffffffff, 123456789]) {
      const r = new Sfc32(seed);
      const fast = Array.from({ length: 64 }, () => r.nextU32());
      expect(fast).toEqual(referenceSfc32(seed, 64));
    }
  });

  it("nextInt stays in range and covers it", () => {
    const r = new Sfc32(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const x = r.nextInt(21);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(21);
      seen.add(x);
    }
    expect(seen.size).toBe(21);
  });

  it("nextInt refuses a bad bound", () => {
    const r = new Sfc32(1);
    expect(() => r.nextInt(0)).toThrow(RangeError);
    expect(() => r.nextInt(1.5)).toThrow(/integer/);
  });
});
