/**
 * The chain check of `npm run replay`: round N+1 began exactly where round N ended. Its entities
 * at the cut-off must be round N's replayed output, plus the entities that joined and minus those
 * that left between the two cut-offs (the room ledger, room-ledger.ts), with the same hp, max hp,
 * life, respawn counter and charge; entities that joined in between enter fresh and are only
 * checked for being there. Across a crash and a restore this proves that the restored room went
 * on from the last committed round, with nothing lost and nothing fought twice.
 */
import { CARRIED_FIELDS, type CombatantState } from "../../../shared/combat.ts";
import type { JournaledPlan } from "../round/combat-round.ts";
import type { MemberRecord } from "./room-ledger.ts";

/**
 * The membership events between round `round`'s cut-off and the next one's: those recorded after
 * `round` rounds, and those of cut-offs never committed that a later restore from `round` undid.
 */
function eventsBetween(round: number, events: readonly MemberRecord[]): MemberRecord[] {
  const lastRestore = events.findLast((e) => e.event === "restore" && e.afterRound === round)?.seq ?? -1;
  return events.filter(
    (e) => e.event !== "restore" && (e.afterRound === round || (e.afterRound > round && (e.seq ?? 0) < lastRestore)),
  );
}

/** Why round `round + 1` did not begin where `round` ended, or null. */
export function chainBreak(
  round: number,
  output: readonly CombatantState[],
  next: JournaledPlan,
  events: readonly MemberRecord[],
): string | null {
  if (next.round !== round + 1) return `round ${round} is followed by round ${next.round}: rounds lost in between`;
  const expected = new Map<string, CombatantState | "fresh">(output.map((s) => [s.id, s]));
  for (const e of eventsBetween(round, events)) {
    if (e.event === "join") expected.set(e.entity, "fresh");
    else if (e.event === "leave") expected.delete(e.entity);
  }
  const planned = new Set(next.entities.map((e) => e.id));
  for (const id of expected.keys())
    if (!planned.has(id)) return `${id} came out of round ${round} but is not in round ${round + 1}`;
  for (const e of next.entities) {
    const was = expected.get(e.id);
    if (was === undefined) return `${e.id} is in round ${round + 1} but neither came out of round ${round} nor joined`;
    if (was === "fresh") continue;
    for (const field of CARRIED_FIELDS)
      if (e[field] !== was[field])
        return `${e.id}.${field}: round ${round} left ${String(was[field])}, round ${round + 1} began with ${String(e[field])}`;
  }
  return null;
}
