/**
 * An NPC's brain: a long-lived coroutine on the room's tick scheduler, running in the NPC's own
 * Scope. Once per round it waits for a tick in the second half of the round's slot, looks at the
 * arena, picks what to do and queues an intent like a client would.
 *
 * It keeps no state between rounds: each decision (and the tick it is made at) comes from an
 * sfc32 stream seeded with `seedOf(self, round)`, the room's keyed derivation
 * (round/room-secret.ts), never from Math.random. So a room restored from its journal in another
 * process has NPCs that decide exactly as the original's would, and a client that watched every
 * past round cannot predict the next decision.
 */
import { waitTicks, type Operation } from "../../runtime/index.ts";
import { Sfc32 } from "../../../shared/prng.ts";
import { NPC_ID_PREFIX } from "../../../shared/stats.ts";
import type { Intent } from "../../../shared/protocol.ts";

export interface NpcWorld {
  /** ids of living entities, sorted by id */
  livingIds(): string[];
  isAlive(id: string): boolean;
  /** queue an intent for this NPC; returns false if the room refused it */
  submit(npcId: string, intent: Intent): boolean;
  /** the number of the round the next cut-off will start */
  nextRound(): number;
  /** ticks from the current one to the cut-off's (0: this tick is the cut-off's; intents queued now still count) */
  ticksToCutOff(): number;
}

export interface NpcBrainOptions {
  /** the seed (u32) of NPC `id`'s decision for round `round` */
  seedOf(id: string, round: number): number;
}

export function* npcBrain(self: string, world: NpcWorld, opts: NpcBrainOptions): Operation<void> {
  // from here on the brain runs inside ticks, where ticksToCutOff() is measured
  yield* waitTicks(1);
  let decided = -1;
  for (;;) {
    const round = world.nextRound();
    const untilCutOff = world.ticksToCutOff();
    if (round === decided) {
      // decided already (the cut-off is this very tick, or the slot overran): the next slot
      yield* waitTicks(Math.max(1, untilCutOff));
      continue;
    }
    const rng = new Sfc32(opts.seedOf(self, round));
    // think somewhere in the second half of what is left of the slot, at the latest on its cut-off tick
    yield* waitTicks(untilCutOff - rng.nextInt(Math.floor(untilCutOff / 2) + 1));
    decided = round;
    if (world.isAlive(self)) world.submit(self, decide(self, world.livingIds(), round, rng));
  }
}

function decide(self: string, living: string[], round: number, rng: Sfc32): Intent {
  const others = living.filter((id) => id !== self);
  const seq = round >>> 0;
  const roll = rng.nextInt(100);
  if (others.length === 0 || roll < 10) return { seq, action: "defend" };
  if (roll < 20) return { seq, action: "focus" };
  // Players draw some extra aggression, so a lone human always has a fight, but not a
  // three-on-one that kills them before they can click. A player is anyone not an NPC: guests
  // (p_…) and a studio's players (their login's sub, auth/player-id-mapping.ts).
  const players = others.filter((id) => !id.startsWith(NPC_ID_PREFIX));
  const pool = players.length > 0 && rng.nextInt(100) < 40 ? players : others;
  return { seq, action: "attack", target: pool[rng.nextInt(pool.length)] };
}
