// PlayerStats' positional forms (the RPC tuple, the SQL row) come from PLAYER_STATS_KEYS, which
// comes from STAT_FIELDS: every field is carried, in one order, and survives the round trip.
import { describe, expect, it } from "vitest";
import { deriveStats, PLAYER_STATS_KEYS, STAT_FIELDS, type PlayerStats } from "../../shared/stats.ts";
import { fromTuple, isTuple, toTuple } from "../../server/stats/rpc-protocol.ts";
import { COLUMN_NAMES, COLUMNS, fromRow, rowValues, STAT_COLUMNS } from "../../server/stats/store/stats-row.ts";

const samples: PlayerStats[] = ["p_ann", "npc_dragon_1", "p_x"].map((id, i) => ({
  ...deriveStats(id),
  version: i + 1,
}));

describe("PlayerStats forms", () => {
  it("keys: id, every stat field in STAT_FIELDS order, version; exactly the keys of a PlayerStats", () => {
    expect(PLAYER_STATS_KEYS).toEqual(["id", ...STAT_FIELDS, "version"]);
    for (const s of samples) expect(Object.keys(s).sort()).toEqual([...PLAYER_STATS_KEYS].sort());
  });

  it("RPC tuple: one position per key, round trip, malformed tuples refused", () => {
    for (const s of samples) {
      const t = toTuple(s);
      expect(t).toEqual(PLAYER_STATS_KEYS.map((k) => s[k]));
      expect(isTuple(t)).toBe(true);
      expect(fromTuple(t)).toEqual(s);
    }
    const t = toTuple(samples[0]);
    expect(isTuple(t.slice(0, -1))).toBe(false);
    expect(isTuple([...t, 1])).toBe(false);
    expect(isTuple([1, ...t.slice(1)])).toBe(false);
    expect(isTuple([t[0], 1.5, ...t.slice(2)])).toBe(false);
  });

  it("SQL row: snake_case columns in key order, round trip", () => {
    expect(COLUMNS).toBe("id, level, max_hp, attack, defense, crit_chance, crit_multiplier, speed, version");
    expect(STAT_COLUMNS).toEqual(COLUMN_NAMES.slice(1, -1));
    for (const s of samples) {
      const values = rowValues(s);
      const row = Object.fromEntries(COLUMN_NAMES.map((c, i) => [c, values[i]]));
      expect(fromRow(row)).toEqual(s);
    }
  });
});
