/**
 * The combat rules: one pure function from a round's input to its events and next state.
 *
 * Determinism contract (docs/ARCHITECTURE.md): integer arithmetic only, one seeded PRNG per round
 * (sfc32 seeded with the round's seed, which the server derives with a keyed function of a
 * per-room secret: clients see a round's seed only once it is resolved, and cannot derive the
 * next), combatants sorted by id before anything else,
 * and a fixed number of PRNG draws per attack whatever its outcome. The same input therefore
 * gives the same bytes, whatever order the network delivered the stats in.
 */
import type { Intent, RoundEvent } from "./protocol.ts";
import type { PlayerStats } from "./stats.ts";
import { Sfc32 } from "./prng.ts";
import { fnv1a64HexOfString } from "./hash.ts";

/** Rounds a dead entity waits before it comes back at full hp. */
export const RESPAWN_ROUNDS = 3;
/** Focus charges an entity can hold; each adds FOCUS_BONUS_PERCENT to its next attack. */
export const MAX_CHARGE = 2;
export const FOCUS_BONUS_PERCENT = 50;
/** Damage rolls between 90% and 110% of the base. */
const VARIANCE_MIN_PERCENT = 90;
const VARIANCE_SPAN = 21;

/** An entity between rounds; `defending` holds for the round just resolved. */
export interface CombatantState {
  id: string;
  hp: number;
  maxHp: number;
  alive: boolean;
  respawnIn: number;
  charge: number;
  defending: boolean;
}

/** What an entity carries from one round into the next (all but its id and this round's `defending`). */
export type CarriedState = Pick<CombatantState, "hp" | "maxHp" | "alive" | "respawnIn" | "charge">;

/** The fields of CarriedState, in one place: copied between state, plan and journal, compared by replay's chain check. */
export const CARRIED_FIELDS = [
  "hp",
  "maxHp",
  "alive",
  "respawnIn",
  "charge",
] as const satisfies readonly (keyof CarriedState)[];

/** Just the carried fields of `s` (a schema entity, a planned entity, a round's output). */
export function carriedState(s: CarriedState): CarriedState {
  return { hp: s.hp, maxHp: s.maxHp, alive: s.alive, respawnIn: s.respawnIn, charge: s.charge };
}

/** An entity as a round receives it: its state, the stats fetched for it, and its intent. */
export interface Combatant extends Omit<CombatantState, "defending"> {
  /** null: the entity sits this round out (no stats could be had) */
  stats: PlayerStats | null;
  /** true: stats are last-known-good, not fresh (reported, does not change the rules) */
  stale: boolean;
  intent: Intent | null;
}

export interface RoundInput {
  /** the round's seed (u32): every roll of the round comes from sfc32 seeded with it */
  seed: number;
  round: number;
  combatants: Combatant[];
}

export interface RoundResult {
  seed: number;
  events: RoundEvent[];
  /** every combatant's state after the round, sorted by id */
  next: CombatantState[];
  /** fnv1a64 of the canonical JSON of [seed, events, next] */
  hash: string;
}

/** Codepoint order: independent of locale, the same on every machine. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) throw new TypeError(`resolveRound: ${what} must be an integer, got ${value}`);
}

interface Fighter {
  state: CombatantState;
  stats: PlayerStats | null;
  intent: Intent | null;
}

export function resolveRound(input: RoundInput): RoundResult {
  checkInteger(input.seed, "seed");
  if (input.seed < 0 || input.seed > 0xffff_ffff)
    throw new TypeError(`resolveRound: seed must be a u32, got ${input.seed}`);
  checkInteger(input.round, "round");
  const seed = input.seed;
  const rng = new Sfc32(seed);
  const events: RoundEvent[] = [];

  const fighters: Fighter[] = input.combatants
    .map((c) => {
      for (const key of ["hp", "maxHp", "respawnIn", "charge"] as const) checkInteger(c[key], `${c.id}.${key}`);
      const maxHp = c.stats ? c.stats.maxHp : c.maxHp;
      return {
        state: {
          id: c.id,
          hp: Math.min(c.hp, maxHp),
          maxHp,
          alive: c.alive,
          respawnIn: c.respawnIn,
          charge: c.charge,
          defending: false,
        },
        stats: c.stats,
        intent: c.intent,
      };
    })
    .sort((x, y) => compareIds(x.state.id, y.state.id));
  const byId = new Map<string, Fighter>();
  for (const f of fighters) {
    if (byId.has(f.state.id)) throw new TypeError(`resolveRound: duplicate combatant id ${f.state.id}`);
    byId.set(f.state.id, f);
  }

  // 1. The dead count down; those who reach zero come back (and act from the next round on).
  for (const f of fighters) {
    const s = f.state;
    if (s.alive) continue;
    s.respawnIn = Math.max(0, s.respawnIn - 1);
    if (s.respawnIn === 0) {
      s.alive = true;
      s.hp = s.maxHp;
      s.charge = 0;
      events.push({ t: "respawn", by: s.id, hp: s.hp });
    }
  }

  // Only the living with stats act; a respawned entity had no intent (dead clients cannot send).
  const acting = fighters.filter((f) => f.state.alive && f.stats !== null && f.intent !== null);

  // 2. Stances before blows, so a defend protects against every attack of the round.
  for (const f of acting) {
    const s = f.state;
    if (f.intent!.action === "defend") {
      s.defending = true;
      events.push({ t: "defend", by: s.id });
    } else if (f.intent!.action === "focus") {
      s.charge = Math.min(MAX_CHARGE, s.charge + 1);
      events.push({ t: "focus", by: s.id, charge: s.charge });
    }
  }

  // 3. Attacks, fastest first, ties by id.
  const attackers = acting
    .filter((f) => f.intent!.action === "attack")
    .sort((x, y) => y.stats!.speed - x.stats!.speed || compareIds(x.state.id, y.state.id));
  for (const f of attackers) {
    const s = f.state;
    const intent = f.intent as { action: "attack"; target: string };
    const target = byId.get(intent.target);
    // Killed earlier this round, or the target is gone, dead or sitting out: the blow finds no one.
    if (!s.alive || !target || !target.state.alive || target.stats === null) continue;
    const stats = f.stats!;
    const t = target.state;
    const base = Math.floor((stats.attack * (100 + FOCUS_BONUS_PERCENT * s.charge)) / 100);
    s.charge = 0;
    // Armour: defense d takes damage to 100 / (100 + d) of the base.
    let damage = Math.floor((base * 100) / (100 + target.stats.defense));
    // Exactly two draws per attack, whatever the outcome, so one entity's luck never shifts another's.
    const variance = VARIANCE_MIN_PERCENT + rng.nextInt(VARIANCE_SPAN);
    const critRoll = rng.nextInt(1000);
    damage = Math.floor((damage * variance) / 100);
    const crit = critRoll < stats.critChance;
    if (crit) damage = Math.floor((damage * stats.critMultiplier) / 100);
    if (t.defending) damage = Math.floor(damage / 2);
    damage = Math.max(1, damage);
    t.hp = Math.max(0, t.hp - damage);
    events.push({ t: "attack", by: s.id, target: t.id, damage, crit, hp: t.hp });
    if (t.hp === 0) {
      t.alive = false;
      t.respawnIn = RESPAWN_ROUNDS;
      t.charge = 0;
      events.push({ t: "death", by: t.id, killer: s.id });
    }
  }

  const next = fighters.map((f) => f.state);
  const hash = fnv1a64HexOfString(JSON.stringify([seed, events, next]));
  return { seed, events, next, hash };
}
