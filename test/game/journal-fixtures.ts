/** Round and journal data shared by the round-runner and journal suites. */
import type { PlannedEntity } from "../../server/game/round/combat-round.ts";
import type { JournalRecord } from "../../server/game/journal/round-journal.ts";

/** A living entity at full health (50) with no intent; `over` sets what a test is about. */
export function plannedEntity(id: string, over: Partial<PlannedEntity> = {}): PlannedEntity {
  return { id, hp: 50, maxHp: 50, alive: true, respawnIn: 0, charge: 0, intent: null, ...over };
}

/** A journal row for round `round` of room "r1": an empty plan, no calls; `over` replaces fields. */
export function journalRecord(round: number, over: Partial<JournalRecord> = {}): JournalRecord {
  return {
    room: "r1",
    round,
    seed: 7,
    plan: { seed: 1, round, entities: [] },
    calls: [],
    hash: "00",
    joinMs: 1,
    deadlineMs: 300,
    ...over,
  };
}
