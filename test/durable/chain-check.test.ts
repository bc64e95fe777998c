import { describe, expect, it } from "vitest";
import type { CombatantState } from "../../shared/combat.ts";
import { chainBreak } from "../../server/game/journal/chain-check.ts";
import type { MemberRecord } from "../../server/game/journal/room-ledger.ts";
import type { JournaledPlan } from "../../server/game/round/combat-round.ts";

const state = (id: string, hp: number): CombatantState => ({
  id,
  hp,
  maxHp: 100,
  alive: hp > 0,
  respawnIn: 0,
  charge: 0,
  defending: false,
});
const plan = (round: number, ...entities: CombatantState[]): JournaledPlan => ({
  seed: 1,
  round,
  entities: entities.map(({ defending: _defending, ...e }) => ({ ...e, intent: null })),
});
let seq = 0;
const event = (e: MemberRecord["event"], entity: string, afterRound: number): MemberRecord => ({
  seq: ++seq,
  event: e,
  afterRound,
  entity,
  name: entity,
  kind: "player",
  sessionId: null,
  credential: null,
});

describe("the replay's chain check: round N+1 begins where round N ended", () => {
  const out = [state("a", 80), state("b", 0)];

  it("holds for the output itself", () => {
    expect(chainBreak(4, out, plan(5, state("a", 80), state("b", 0)), [])).toBeNull();
  });

  it("breaks on a changed field, a lost round, a missing or an unexplained entity", () => {
    expect(chainBreak(4, out, plan(5, state("a", 81), state("b", 0)), [])).toMatch(
      /a\.hp: round 4 left 80, round 5 began with 81/,
    );
    expect(chainBreak(4, out, plan(6, ...out), [])).toMatch(/rounds lost/);
    expect(chainBreak(4, out, plan(5, state("a", 80)), [])).toMatch(/b came out of round 4/);
    expect(chainBreak(4, out, plan(5, ...out, state("c", 100)), [])).toMatch(/c is in round 5 but neither/);
  });

  it("takes the joins and leaves between the two cut-offs into account", () => {
    const events = [event("join", "c", 4), event("leave", "b", 4)];
    expect(chainBreak(4, out, plan(5, state("a", 80), state("c", 100)), events)).toBeNull();
    // the same events after the next cut-off do not explain this one
    const later = [event("join", "c", 5), event("leave", "b", 5)];
    expect(chainBreak(4, out, plan(5, state("a", 80), state("c", 100)), later)).not.toBeNull();
  });

  it("across a restore: events of a cut-off that was never committed count before the restored round", () => {
    // round 5 was cut off (c joined after it), the process died before committing it, and the
    // room was restored from round 4: the re-fought round 5 has c in it
    const events = [event("join", "c", 5), event("restore", "", 4)];
    expect(chainBreak(4, out, plan(5, ...out, state("c", 100)), events)).toBeNull();
    expect(chainBreak(4, out, plan(5, ...out, state("c", 100)), [event("join", "c", 5)])).not.toBeNull();
  });
});
