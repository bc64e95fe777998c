// shared/stats.ts: id validation, field validation, and the deterministic derivation (golden vectors:
// a change to these numbers changes every unseen player's stats, so it must be made on purpose).
import { describe, expect, it } from "vitest";
import {
  deriveStats,
  isValidStatsId,
  NPC_PROFILES,
  npcProfileOf,
  STAT_FIELDS,
  STAT_LIMITS,
  validateStatFields,
} from "../../shared/stats.ts";

describe("deriveStats", () => {
  it("golden vectors: same id, same stats", () => {
    expect(deriveStats("p_alice")).toEqual({
      id: "p_alice",
      version: 1,
      level: 3,
      maxHp: 126,
      attack: 19,
      defense: 11,
      critChance: 158,
      critMultiplier: 167,
      speed: 13,
    });
    expect(deriveStats("p_bob")).toEqual({
      id: "p_bob",
      version: 1,
      level: 4,
      maxHp: 137,
      attack: 20,
      defense: 8,
      critChance: 162,
      critMultiplier: 178,
      speed: 13,
    });
    expect(deriveStats("npc_goblin_1")).toEqual({
      id: "npc_goblin_1",
      version: 1,
      level: 2,
      maxHp: 60,
      attack: 9,
      defense: 2,
      critChance: 84,
      critMultiplier: 150,
      speed: 11,
    });
    expect(deriveStats("npc_troll_7")).toEqual({
      id: "npc_troll_7",
      version: 1,
      level: 8,
      maxHp: 234,
      attack: 20,
      defense: 13,
      critChance: 41,
      critMultiplier: 200,
      speed: 4,
    });
  });

  it("NPCs stay within +-10% of their profile; unknown profiles are derived like players", () => {
    for (const [name, base] of Object.entries(NPC_PROFILES)) {
      for (let n = 0; n < 50; n++) {
        const s = deriveStats(`npc_${name}_${n}`);
        expect(s.level).toBe(base.level);
        expect(s.maxHp).toBeGreaterThanOrEqual(Math.trunc(base.maxHp * 0.9));
        expect(s.maxHp).toBeLessThanOrEqual(Math.trunc(base.maxHp * 1.1));
      }
    }
    expect(npcProfileOf("npc_orc_3")).toBe("orc");
    expect(npcProfileOf("npc_orc")).toBe("orc");
    expect(npcProfileOf("npc_toString_1")).toBeUndefined();
    expect(npcProfileOf("p_orc_1")).toBeUndefined();
  });

  it("every derived value is an integer within STAT_LIMITS", () => {
    for (let i = 0; i < 500; i++) {
      const s = deriveStats(`p_${i.toString(36)}`);
      for (const f of STAT_FIELDS) {
        expect(Number.isInteger(s[f])).toBe(true);
        expect(s[f]).toBeGreaterThanOrEqual(STAT_LIMITS[f].min);
        expect(s[f]).toBeLessThanOrEqual(STAT_LIMITS[f].max);
      }
    }
  });
});

describe("isValidStatsId", () => {
  it("accepts [A-Za-z0-9_-]{1,64} only", () => {
    for (const ok of ["p_1", "npc_goblin_1", "A-z_9", "x".repeat(64)]) expect(isValidStatsId(ok)).toBe(true);
    for (const bad of ["", "x".repeat(65), "p 1", "p/1", "p\n", "é", 1, null, undefined, ["p_1"]])
      expect(isValidStatsId(bad)).toBe(false);
  });
});

describe("validateStatFields", () => {
  const good = { level: 5, maxHp: 100, attack: 10, defense: 5, critChance: 100, critMultiplier: 150, speed: 10 };
  it("accepts a complete body, with optional matching id and version", () => {
    expect(validateStatFields(good, "p_1")).toEqual({ ok: true, value: good });
    expect(validateStatFields({ ...good, id: "p_1", version: 3 }, "p_1")).toEqual({
      ok: true,
      value: { ...good, version: 3 },
    });
  });
  it("names the offending field", () => {
    const field = (body: unknown) => {
      const r = validateStatFields(body, "p_1");
      return r.ok ? "ok" : r.field;
    };
    expect(field({ ...good, attack: "10" })).toBe("attack");
    expect(field({ ...good, critChance: 1001 })).toBe("critChance");
    expect(field({ ...good, speed: 1.5 })).toBe("speed");
    expect(field({ ...good, level: undefined })).toBe("level");
    expect(field({ ...good, colour: 1 })).toBe("colour");
    expect(field({ ...good, id: "p_2" })).toBe("id");
    expect(field({ ...good, version: 0 })).toBe("version");
    expect(field([1, 2])).toBe("body");
  });
});
