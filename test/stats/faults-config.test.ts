// Fault knobs (seeded, reproducible) and the service's start-up configuration (flags > env > defaults).
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../server/stats/config.ts";
import { checkFaults, FaultInjector } from "../../server/stats/faults.ts";

describe("FaultInjector", () => {
  it("jitter and failures are reproducible from the seed and stay in range", () => {
    const draw = (seed: number) => {
      const f = new FaultInjector();
      f.set({ latencyMs: 100, jitterMs: 20, failRate: 0.3, seed });
      return Array.from({ length: 200 }, () => [f.delayMs(), f.shouldFail()] as const);
    };
    const a = draw(7);
    expect(draw(7)).toEqual(a);
    expect(draw(8)).not.toEqual(a);
    for (const [ms] of a) expect(ms >= 100 && ms <= 120).toBe(true);
    expect(new Set(a.map(([ms]) => ms)).size).toBeGreaterThan(10);
    const fails = a.filter(([, f]) => f).length;
    expect(fails).toBeGreaterThan(30);
    expect(fails).toBeLessThan(90);
  });

  it("off by default; stall is a plain switch", () => {
    const f = new FaultInjector();
    expect(f.faults).toEqual({ latencyMs: 0, jitterMs: 0, failRate: 0, stall: false, seed: 1 });
    expect(f.delayMs()).toBe(0);
    expect(f.shouldFail()).toBe(false);
    f.set({ stall: true });
    expect(f.stall).toBe(true);
  });

  it("rejects bad values, naming the field", () => {
    const field = (x: unknown) => {
      const r = checkFaults(x);
      return r.ok ? "ok" : r.field;
    };
    expect(field({ latencyMs: -1 })).toBe("latencyMs");
    expect(field({ jitterMs: 1.5 })).toBe("jitterMs");
    expect(field({ failRate: 1.01 })).toBe("failRate");
    expect(field({ failRate: Number.NaN })).toBe("failRate");
    expect(field({ stall: "yes" })).toBe("stall");
    expect(field({ seed: -3 })).toBe("seed");
    expect(field({ speed: 1 })).toBe("speed");
    expect(field({ latencyMs: 5, stall: false })).toBe("ok");
    expect(() => new FaultInjector().set({ failRate: 2 })).toThrow(RangeError);
  });
});

describe("loadConfig", () => {
  it("defaults, env, then flags", () => {
    expect(loadConfig([], {})).toMatchObject({
      host: "127.0.0.1",
      port: 2580,
      db: "data/stats.db",
      token: "dev-stats-token",
      help: false,
    });
    const env = {
      STATS_PORT: "3000",
      STATS_LATENCY_MS: "40",
      STATS_STALL: "1",
      STATS_FAIL_RATE: "0.25",
      STATS_TOKEN: "e",
    };
    expect(loadConfig([], env)).toMatchObject({
      port: 3000,
      token: "e",
      faults: { latencyMs: 40, stall: true, failRate: 0.25 },
    });
    expect(loadConfig(["--port", "0", "--latency-ms", "5", "--stall", "false"], env)).toMatchObject({
      port: 0,
      faults: { latencyMs: 5, stall: false },
    });
    expect(loadConfig(["--help"], {}).help).toBe(true);
  });

  it("refuses bad values", () => {
    expect(() => loadConfig(["--port", "70000"], {})).toThrow(/port/);
    expect(() => loadConfig(["--port", "abc"], {})).toThrow(/port/);
    expect(() => loadConfig([], { STATS_LATENCY_MS: "" })).toThrow(/latency/);
    expect(() => loadConfig(["--stall", "maybe"], {})).toThrow(/stall/);
    expect(() => loadConfig(["--token", ""], {})).toThrow(/token/);
    expect(() => loadConfig(["--bogus"], {})).toThrow();
  });
});
