// Player stats: the type shared by the stats service, the stats client and the combat rules,
// id validation, field validation, and the deterministic derivation of stats from an id.
// Pure and platform-free (no Node imports): integer arithmetic only, so the same id gives the
// same stats on every machine and every JavaScript engine.
import { fnv1a32 } from "./hash.ts";
import { Sfc32 } from "./prng.ts";

export interface PlayerStats {
  id: string;
  level: number;
  maxHp: number;
  attack: number;
  defense: number;
  /** chance of a critical hit, per mille (0..1000) */
  critChance: number;
  /** damage multiplier of a critical hit, percent (100..1000) */
  critMultiplier: number;
  speed: number;
  /** bumped by the stats service on every change; derived stats start at 1 */
  version: number;
}

/** The stat fields a writer sets (everything except id and version). */
export type StatFields = Omit<PlayerStats, "id" | "version">;

export const STAT_FIELDS = ["level", "maxHp", "attack", "defense", "critChance", "critMultiplier", "speed"] as const;
export type StatField = (typeof STAT_FIELDS)[number];

/**
 * Every PlayerStats key, in the one order of its positional forms (the RPC tuple, the SQL columns):
 * id, STAT_FIELDS, version. Those forms are derived from it, so a new stat is one edit here.
 */
export const PLAYER_STATS_KEYS = ["id", ...STAT_FIELDS, "version"] as const;

/** Inclusive bounds every stored value must respect. */
export const STAT_LIMITS: Readonly<Record<StatField, { min: number; max: number }>> = {
  level: { min: 1, max: 100 },
  maxHp: { min: 1, max: 100_000 },
  attack: { min: 0, max: 10_000 },
  defense: { min: 0, max: 10_000 },
  critChance: { min: 0, max: 1000 },
  critMultiplier: { min: 100, max: 1000 },
  speed: { min: 1, max: 1000 },
};

export const STATS_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const PLAYER_ID_PREFIX = "p_";
export const NPC_ID_PREFIX = "npc_";

export function isValidStatsId(id: unknown): id is string {
  return typeof id === "string" && id.length <= 64 && STATS_ID_PATTERN.test(id);
}

export type FieldCheck<T> = { ok: true; value: T } | { ok: false; field: string; message: string };

/**
 * Validates a writer's body: every stat field present, an integer within STAT_LIMITS, no unknown
 * keys. `id` may be present if it equals `id`; `version` may be present as the expected current
 * version (optimistic concurrency: the caller compares it). The first bad field is named.
 */
export function validateStatFields(body: unknown, id: string): FieldCheck<StatFields & { version?: number }> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, field: "body", message: "body must be a JSON object" };
  }
  const record = body as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== "id" && key !== "version" && !(STAT_FIELDS as readonly string[]).includes(key)) {
      return { ok: false, field: key, message: `unknown field "${key}"` };
    }
  }
  if ("id" in record && record.id !== id) {
    return { ok: false, field: "id", message: `field "id" must equal the id in the path ("${id}")` };
  }
  const out = {} as StatFields & { version?: number };
  for (const field of STAT_FIELDS) {
    const value = record[field];
    const { min, max } = STAT_LIMITS[field];
    if (value === undefined) return { ok: false, field, message: `field "${field}" is required` };
    if (typeof value !== "number" || !Number.isInteger(value)) {
      return { ok: false, field, message: `field "${field}" must be an integer` };
    }
    if (value < min || value > max) {
      return { ok: false, field, message: `field "${field}" must be between ${min} and ${max}` };
    }
    out[field] = value;
  }
  if ("version" in record) {
    const v = record.version;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
      return { ok: false, field: "version", message: `field "version" must be a positive integer` };
    }
    out.version = v;
  }
  return { ok: true, value: out };
}

/** NPC profiles: base stats of a kind of monster; each NPC id varies them a little. */
export const NPC_PROFILES: Readonly<Record<string, StatFields>> = {
  rat: { level: 1, maxHp: 30, attack: 5, defense: 1, critChance: 20, critMultiplier: 150, speed: 14 },
  goblin: { level: 2, maxHp: 60, attack: 9, defense: 3, critChance: 80, critMultiplier: 150, speed: 12 },
  wolf: { level: 3, maxHp: 80, attack: 12, defense: 4, critChance: 120, critMultiplier: 160, speed: 16 },
  orc: { level: 5, maxHp: 140, attack: 16, defense: 8, critChance: 60, critMultiplier: 175, speed: 8 },
  troll: { level: 8, maxHp: 260, attack: 22, defense: 12, critChance: 40, critMultiplier: 200, speed: 5 },
  dragon: { level: 20, maxHp: 900, attack: 45, defense: 30, critChance: 100, critMultiplier: 250, speed: 10 },
};

/** `npc_<profile>` or `npc_<profile>_<anything>` -> profile name, when the profile exists. */
export function npcProfileOf(id: string): string | undefined {
  if (!id.startsWith(NPC_ID_PREFIX)) return undefined;
  const rest = id.slice(NPC_ID_PREFIX.length);
  const cut = rest.indexOf("_");
  const name = cut === -1 ? rest : rest.slice(0, cut);
  return Object.hasOwn(NPC_PROFILES, name) ? name : undefined;
}

function clampField(field: StatField, value: number): number {
  const { min, max } = STAT_LIMITS[field];
  return value < min ? min : value > max ? max : value;
}

/**
 * Stats of an id the store has never seen, at version 1. NPC ids with a known profile get the
 * profile's stats varied by up to +-10% (from the id hash); every other id (players, NPCs of
 * unknown profiles) gets player-like stats drawn from an sfc32 stream seeded by the id hash.
 */
export function deriveStats(id: string): PlayerStats {
  const rng = new Sfc32(fnv1a32(id));
  const pick = (lo: number, hi: number) => lo + rng.nextInt(hi - lo + 1);
  const profile = npcProfileOf(id);
  let f: StatFields;
  if (profile !== undefined) {
    const base = NPC_PROFILES[profile];
    // +-10% in integer steps: base * (90..110) / 100, truncated.
    const vary = (v: number) => Math.trunc((v * pick(90, 110)) / 100);
    f = {
      level: base.level,
      maxHp: vary(base.maxHp),
      attack: vary(base.attack),
      defense: vary(base.defense),
      critChance: vary(base.critChance),
      critMultiplier: base.critMultiplier,
      speed: vary(base.speed),
    };
  } else {
    const level = pick(1, 10);
    f = {
      level,
      maxHp: 80 + level * 10 + pick(0, 20),
      attack: 10 + level * 2 + pick(0, 5),
      defense: 4 + level + pick(0, 4),
      critChance: pick(50, 200),
      critMultiplier: pick(150, 200),
      speed: pick(6, 14),
    };
  }
  const stats = { id, version: 1 } as PlayerStats;
  for (const field of STAT_FIELDS) stats[field] = clampField(field, f[field]);
  return stats;
}
