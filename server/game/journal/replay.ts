/**
 * Replay of journaled rounds: the round coroutine runs again in the runtime's replay mode from
 * the journaled plan, every `call` (stats fetches and last-known-good lookups alike) answered
 * from the round's call journal, no network; then `resolveRound`. The replayed code must ask for
 * exactly the journaled calls (which entities fetched, which fell back, in order), and the
 * resolved seed and output hash must equal what was journaled.
 */
import type { CombatantState, RoundInput } from "../../../shared/combat.ts";
import { Journal, NonDeterminismError, run } from "../../runtime/index.ts";
import { combatRound, roundTaskName, type RoundOutcome } from "../round/combat-round.ts";
import type { JournalRecord } from "./round-journal.ts";

export type ReplayVerdict =
  | { ok: true; room: string; round: number; hash: string; input: RoundInput; next: CombatantState[] }
  | { ok: false; room: string; round: number; divergence: string };

function noIo(): never {
  throw new Error("replay does no I/O");
}

export async function replayRecord(rec: JournalRecord): Promise<ReplayVerdict> {
  const fail = (divergence: string): ReplayVerdict => ({ ok: false, room: rec.room, round: rec.round, divergence });
  if (!Array.isArray(rec.plan?.entities)) {
    return fail(
      "journal row written before the plan format (full input, no last-known-good lookups): replay it with a build from before it",
    );
  }
  let calls: Journal;
  try {
    calls = Journal.from(rec.calls);
  } catch (err) {
    return fail(`call journal unreadable: ${(err as Error).message}`);
  }
  let outcome: RoundOutcome;
  try {
    outcome = await run(
      () =>
        combatRound(
          // the row's seed column: rows written before seeds were keyed kept a room seed in the plan
          { seed: rec.seed, round: rec.plan.round, entities: rec.plan.entities, deadlineMs: rec.deadlineMs },
          { fetch: noIo, lastKnownGood: noIo, now: () => 0 },
        ),
      { name: roundTaskName(rec.room, rec.round), journal: calls, replay: true },
    );
  } catch (err) {
    const d = calls.divergence ?? err;
    return fail(d instanceof NonDeterminismError || d instanceof Error ? d.message : String(d));
  }
  const [skipped] = calls.unconsumed();
  if (skipped)
    return fail(`the replay never made journaled call "${skipped.call}" (${skipped.coroutine}, step ${skipped.step})`);
  if (outcome.result.seed !== rec.seed) return fail(`seed: journaled ${rec.seed}, replayed ${outcome.result.seed}`);
  if (outcome.result.hash !== rec.hash)
    return fail(`output hash: journaled ${rec.hash}, replayed ${outcome.result.hash}`);
  return {
    ok: true,
    room: rec.room,
    round: rec.round,
    hash: outcome.result.hash,
    input: outcome.input,
    next: outcome.result.next,
  };
}
