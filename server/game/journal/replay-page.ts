/**
 * A page of the replay viewer (shared/replay.ts) from journal rows: each round replayed from its
 * row (replay.ts, no I/O) and resolved again for the table; a row that does not replay is shown as
 * the round found its entities, with the reason. Pure CPU: the replay route runs it on a worker
 * thread (server/game/http/replay-worker.ts), never on the thread that runs rounds.
 */
import { carriedState } from "../../../shared/combat.ts";
import { NPC_ID_PREFIX } from "../../../shared/stats.ts";
import { replayRound, type ReplayPage, type ReplayRound } from "../../../shared/replay.ts";
import { replayRecord } from "./replay.ts";
import { decodeStored, type JournalRecord, type StoredRound } from "./round-journal.ts";
import type { JournaledPlan } from "../round/combat-round.ts";

/** A row that does not replay: the entities as the round found them (if its plan could be read), and why. */
function unverified(
  row: { round: number; seed: number; hash: string },
  plan: JournaledPlan | undefined,
  divergence: string,
): ReplayRound {
  const entities = Array.isArray(plan?.entities) ? plan.entities : [];
  return {
    round: row.round,
    seed: row.seed,
    hash: row.hash,
    verified: false,
    divergence,
    intents: entities.flatMap((e) => (e.intent ? [[e.id, e.intent] as ReplayRound["intents"][number]] : [])),
    events: [],
    entities: entities.map((e) => ({
      id: e.id,
      kind: e.id.startsWith(NPC_ID_PREFIX) ? "npc" : "player",
      ...carriedState(e),
      defending: false,
      stale: false,
      absent: false,
    })),
  };
}

/**
 * The page of `room` holding `rows` (stored rows in round order, at most `limit` + 1 of them: one
 * past the page says whether there is a next page).
 */
export async function replayPage(room: string, rows: readonly StoredRound[], limit: number): Promise<ReplayPage> {
  const rounds: ReplayRound[] = [];
  for (const row of rows.slice(0, limit + 1)) {
    let rec: JournalRecord;
    try {
      rec = decodeStored(row);
    } catch (err) {
      rounds.push(unverified(row, undefined, (err as Error).message));
      continue;
    }
    const replayed = await replayRecord(rec);
    rounds.push(replayed.ok ? replayRound(replayed.input, rec.hash) : unverified(rec, rec.plan, replayed.divergence));
  }
  const more = rounds.length > limit;
  if (more) rounds.pop();
  return { room, rounds, next: more ? rounds[rounds.length - 1].round + 1 : null };
}
