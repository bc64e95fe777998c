/**
 * Replay of journaled rounds: the round coroutine runs again in the runtime's replay mode (every
 * stats `call` answered from the round's call journal, no network), then `resolveRound`; the
 * rebuilt input and the output hash must equal what was journaled.
 */
import { Journal, NonDeterminismError, run } from "../runtime/index.ts";
import type { PlayerStats } from "../../shared/stats.ts";
import { combatRound, planOf, roundTaskName, type RoundOutcome } from "./combat-round.ts";
import type { JournalRecord } from "./round-journal.ts";

export type ReplayVerdict =
  | { ok: true; room: string; round: number; hash: string }
  | { ok: false; room: string; round: number; divergence: string };

function firstDifference(a: unknown, b: unknown, path: string): string | null {
  if (Object.is(a, b)) return null;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return `${path}: journaled ${JSON.stringify(b)}, replayed ${JSON.stringify(a)}`;
  }
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const k of keys) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d) return d;
  }
  return null;
}

export async function replayRecord(rec: JournalRecord): Promise<ReplayVerdict> {
  const fail = (divergence: string): ReplayVerdict => ({ ok: false, room: rec.room, round: rec.round, divergence });
  let calls: Journal;
  try {
    calls = Journal.from(rec.calls);
  } catch (err) {
    return fail(`call journal unreadable: ${(err as Error).message}`);
  }
  // A fallback is not I/O the runtime journals: the journaled input says which stats it was.
  const fallback = new Map<string, PlayerStats>();
  for (const c of rec.input.combatants) if (c.stale && c.stats) fallback.set(c.id, c.stats);

  let outcome: RoundOutcome;
  try {
    outcome = await run(
      () =>
        combatRound(planOf(rec.input, rec.deadlineMs), {
          fetch: () => Promise.reject(new Error("replay does no I/O")),
          lastKnownGood: (id) => fallback.get(id),
          now: () => 0,
        }),
      { name: roundTaskName(rec.room, rec.round), journal: calls, replay: true },
    );
  } catch (err) {
    const d = calls.divergence ?? err;
    return fail(d instanceof NonDeterminismError || d instanceof Error ? d.message : String(d));
  }
  const [skipped] = calls.unconsumed();
  if (skipped) return fail(`the replay never made journaled call "${skipped.call}" (${skipped.coroutine}, step ${skipped.step})`);
  const inputDiff = firstDifference(outcome.input, rec.input, "input");
  if (inputDiff) return fail(inputDiff);
  if (outcome.result.seed !== rec.seed) return fail(`seed: journaled ${rec.seed}, replayed ${outcome.result.seed}`);
  if (outcome.result.hash !== rec.hash) return fail(`output hash: journaled ${rec.hash}, replayed ${outcome.result.hash}`);
  return { ok: true, room: rec.room, round: rec.round, hash: outcome.result.hash };
}
