/**
 * An NPC's brain: a long-lived coroutine on the room's tick scheduler, running in the NPC's own
 * Scope. It waits a few ticks, looks at the arena, picks what to do and queues an intent like a
 * client would. Its choices come from its own sfc32 stream (seeded from the room seed and its
 * id), never from Math.random, so a room's NPCs behave the same given the same ticks.
 */
import { waitTicks, type Operation } from "../../runtime/index.ts";
import { Sfc32 } from "../../../shared/prng.ts";
import { fnv1a32 } from "../../../shared/hash.ts";
import { NPC_ID_PREFIX } from "../../../shared/stats.ts";
import type { Intent } from "../../../shared/protocol.ts";

export interface NpcWorld {
  /** ids of living entities, sorted by id */
  livingIds(): string[];
  isAlive(id: string): boolean;
  /** queue an intent for this NPC; returns false if the room refused it */
  submit(npcId: string, intent: Intent): boolean;
}

export interface NpcBrainOptions {
  roomSeed: number;
  /** ticks between combat rounds: the brain thinks about once per round */
  roundTicks: number;
}

export function* npcBrain(self: string, world: NpcWorld, opts: NpcBrainOptions): Operation<void> {
  const rng = new Sfc32((opts.roomSeed ^ fnv1a32(self)) >>> 0);
  const span = Math.max(1, opts.roundTicks);
  let seq = 0;
  for (;;) {
    // Think somewhere in the next round's slot: between half a round and a full round.
    yield* waitTicks(Math.max(1, Math.floor(span / 2) + rng.nextInt(Math.ceil(span / 2))));
    if (!world.isAlive(self)) continue;
    const others = world.livingIds().filter((id) => id !== self);
    const roll = rng.nextInt(100);
    let intent: Intent;
    if (others.length === 0 || roll < 10) {
      intent = { seq: seq++, action: "defend" };
    } else if (roll < 20) {
      intent = { seq: seq++, action: "focus" };
    } else {
      // Players draw some extra aggression, so a lone human always has a fight, but not a
      // three-on-one that kills them before they can click. A player is anyone not an NPC: guests
      // (p_…) and a studio's players (their login's sub, auth/player-id-mapping.ts).
      const players = others.filter((id) => !id.startsWith(NPC_ID_PREFIX));
      const pool = players.length > 0 && rng.nextInt(100) < 40 ? players : others;
      intent = { seq: seq++, action: "attack", target: pool[rng.nextInt(pool.length)] };
    }
    seq >>>= 0;
    world.submit(self, intent);
  }
}
