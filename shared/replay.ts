/**
 * A journaled round as the replay viewer draws it (GET /replay/rounds): the round replayed from
 * its journal row (server/game/journal/replay.ts) and resolved with the same pure rules, so the viewer
 * shows what the players saw; `verified` says whether that matches the hash journaled then.
 */
import { resolveRound, type CombatantState, type RoundInput } from "./combat.ts";
import type { Intent, RoundEvent } from "./protocol.ts";
import { NPC_ID_PREFIX } from "./stats.ts";

/** An entity after the round: the rules' own state, plus what the table shows beside it. */
export interface ReplayEntity extends CombatantState {
  kind: "player" | "npc";
  stale: boolean;
  absent: boolean;
}

export interface ReplayRound {
  round: number;
  seed: number;
  /** the journaled output hash */
  hash: string;
  /** the round replayed from its journal row hashes to `hash` */
  verified: boolean;
  /** why it did not (then `entities` are as the round found them and `events` is empty) */
  divergence?: string;
  /** [entity id, intent] of every intent the round consumed, by entity id */
  intents: [string, Intent][];
  events: RoundEvent[];
  /** every entity after the round, by id */
  entities: ReplayEntity[];
}

/** GET /replay/rounds?room=…&from=…&limit=… answers this. */
export interface ReplayPage {
  room: string;
  rounds: ReplayRound[];
  /** the `from` of the next page; null when this page reached the journal's end */
  next: number | null;
}

export function replayRound(input: RoundInput, hash: string): ReplayRound {
  const result = resolveRound(input);
  const byId = new Map(input.combatants.map((c) => [c.id, c]));
  return {
    round: input.round,
    seed: result.seed,
    hash,
    verified: result.hash === hash,
    intents: [...input.combatants]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .flatMap((c) => (c.intent ? [[c.id, c.intent] as [string, Intent]] : [])),
    events: result.events,
    entities: result.next.map((n) => {
      const c = byId.get(n.id)!;
      return {
        ...n,
        kind: n.id.startsWith(NPC_ID_PREFIX) ? "npc" : "player",
        stale: c.stale,
        absent: c.alive && c.stats === null,
      };
    }),
  };
}
