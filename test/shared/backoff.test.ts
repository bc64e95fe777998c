import { describe, expect, it } from "vitest";
import { Backoff } from "../../shared/backoff.ts";

describe("Backoff (exponential, full jitter)", () => {
  it("draws below a ceiling that doubles per failure up to maxMs; reset() starts over", () => {
    const top = new Backoff({ minMs: 50, maxMs: 1000, random: () => 0.999999 });
    expect(Array.from({ length: 7 }, () => top.next())).toEqual([50, 100, 200, 400, 800, 1000, 1000]);
    expect(top.attempts).toBe(7);
    top.reset();
    expect([top.attempts, top.next()]).toEqual([0, 50]);
    const bottom = new Backoff({ minMs: 50, maxMs: 1000, random: () => 0 });
    expect(Array.from({ length: 4 }, () => bottom.next())).toEqual([0, 0, 0, 0]);
  });

  it("clients that failed together spread their retries over the whole window (no lockstep)", () => {
    const delays = Array.from({ length: 1000 }, () => {
      const b = new Backoff({ minMs: 250, maxMs: 4000 });
      b.next();
      b.next();
      return b.next(); // the third retry: window [0, 1000]
    });
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1000);
    expect(Math.min(...delays)).toBeLessThan(100);
    expect(Math.max(...delays)).toBeGreaterThan(900);
    expect(new Set(delays).size).toBeGreaterThan(500);
  });

  it("refuses bounds that make no window", () => {
    for (const [minMs, maxMs] of [
      [0, 10],
      [20, 10],
      [Number.NaN, 10],
      [5, Infinity],
    ]) {
      expect(() => new Backoff({ minMs, maxMs })).toThrow(TypeError);
    }
  });
});
