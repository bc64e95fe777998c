import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStatsClient, type StatsClient } from "../../server/stats/client.ts";
import type { StatsService } from "../../server/stats/service.ts";
import { RoundRunner } from "../../server/game/round/round-runner.ts";
import { RoundJournal } from "../../server/game/journal/round-journal.ts";
import { createGameMetrics } from "../../server/game/metrics.ts";
import { limitLog } from "../../server/observability/log-limiter.ts";
import { createLogger } from "../../server/observability/log.ts";
import type { PlannedEntity, RoundOutcome } from "../../server/game/round/combat-round.ts";
import { replayRecord } from "../../server/game/journal/replay.ts";
import { combatRound, JOIN_BACKSTOP_MS, roundTaskName } from "../../server/game/round/combat-round.ts";
import { Journal, run } from "../../server/runtime/index.ts";
import { startStats, STATS_TOKEN, waitFor } from "./helpers.ts";

describe("RoundRunner against the real stats service", () => {
  let stats: StatsService;
  let client: StatsClient;
  beforeAll(async () => {
    stats = await startStats();
    client = createStatsClient(stats.rpcUrl, { token: STATS_TOKEN, deadlineMs: 200 });
  });
  afterAll(async () => {
    await client.close();
    await stats.close();
  });

  function runner(
    snapshot: () => PlannedEntity[],
    applied: [number, RoundOutcome][],
    journal: RoundJournal | null = null,
  ) {
    const metrics = createGameMetrics({ ccu: () => 0, rooms: () => 0, statsClientCounters: () => client.counters() });
    const lines: string[] = [];
    const log = createLogger("debug", (l) => lines.push(l));
    const r = new RoundRunner({
      roomId: "room1",
      seedOf: (round) => (0x9e3779b1 * round) >>> 0,
      deadlineMs: 200,
      snapshot,
      sources: {
        fetch: (id, signal, deadlineMs) => client.get(id, { signal, deadlineMs }),
        lastKnownGood: (id) => client.lastKnownGood(id),
        now: () => performance.now(),
      },
      apply: (round, outcome) => applied.push([round, outcome]),
      journal,
      metrics,
      log,
      limitedLog: limitLog(log),
      statsProblem: () => client.problem(),
      now: () => performance.now(),
    });
    return { r, metrics, lines };
  }

  const entity = (id: string, over: Partial<PlannedEntity> = {}): PlannedEntity => ({
    id,
    hp: 50,
    maxHp: 50,
    alive: true,
    respawnIn: 0,
    charge: 0,
    intent: null,
    ...over,
  });

  it("never stacks rounds: a start while one runs is an overrun; rounds are numbered and journaled", async () => {
    const applied: [number, RoundOutcome][] = [];
    const journal = new RoundJournal(":memory:");
    const { r, metrics } = runner(
      () => [entity("p_b", { intent: { seq: 3, action: "attack", target: "p_a" } }), entity("p_a")],
      applied,
      journal,
    );
    stats.setFaults({ latencyMs: 40 });
    expect(r.start()).toBe(true);
    expect(r.start()).toBe(false);
    expect(r.start()).toBe(false);
    expect(metrics.overruns.get()).toBe(2);
    await waitFor("round 1 applied", () => applied.length === 1);
    expect(r.start()).toBe(true);
    await waitFor("round 2 applied", () => applied.length === 2);
    stats.setFaults({ latencyMs: 0 });
    expect(applied.map(([n]) => n)).toEqual([1, 2]);
    expect(applied[0][1].intents).toEqual([["p_b", 3]]);
    expect(applied[0][1].result.events[0]).toMatchObject({ t: "attack", by: "p_b", target: "p_a" });
    expect(metrics.roundsTotal.get()).toBe(2);
    const recs = [...journal.read()];
    expect(recs.map((x) => x.round)).toEqual([1, 2]);
    for (const rec of recs) expect(await replayRecord(rec)).toMatchObject({ ok: true });
    journal.close();
  });

  it("contains a failing round: counted and logged, the next round runs", async () => {
    const applied: [number, RoundOutcome][] = [];
    let broken = true;
    // a non-integer hp makes resolveRound throw: a bug inside the round, not in the process
    const { r, metrics, lines } = runner(() => [entity("p_a", { hp: broken ? 1.5 : 10 })], applied);
    expect(r.start()).toBe(true);
    await waitFor("the failure counted", () => metrics.errors.get("round_failed") === 1);
    expect(lines.some((l) => l.includes('"round failed"') && l.includes("must be an integer"))).toBe(true);
    broken = false;
    await waitFor("runner free again", () => !r.running);
    expect(r.start()).toBe(true);
    await waitFor("round 2 applied", () => applied.length === 1);
    expect(applied[0][0]).toBe(2);
  });

  it("stop(): a round stuck on a stalled service is halted after the grace and counted as cancelled", async () => {
    const applied: [number, RoundOutcome][] = [];
    const { r, metrics } = runner(() => [entity("p_stuck_1"), entity("p_stuck_2")], applied);
    stats.setFaults({ stall: true });
    try {
      expect(r.start()).toBe(true);
      // halted after 20 ms: had it run to its 200 ms deadline it would have been applied, not cancelled
      await r.stop(20);
      expect(r.running).toBe(false);
      expect(metrics.roundsCancelled.get()).toBe(1);
      expect(applied).toEqual([]);
      expect(r.start()).toBe(false); // stopped for good
    } finally {
      stats.setFaults({ stall: false });
    }
  });

  it("a join cut by the runtime's backstop timeout (a fetch ignoring its deadline) is journaled and replays", async () => {
    stats.setFaults({ stall: true });
    try {
      const calls = new Journal();
      const plan = {
        seed: 5,
        round: 1,
        deadlineMs: 40,
        entities: [
          entity("p_late_1"),
          entity("p_late_2", { intent: { seq: 1, action: "attack" as const, target: "p_late_1" } }),
        ],
      };
      const outcome = await run(
        () =>
          combatRound(plan, {
            // no deadline passed on: only the runtime's timeout can end this join
            fetch: (id, signal) => client.get(id, { signal, deadlineMs: 5_000 }),
            lastKnownGood: (id) => client.lastKnownGood(id),
            now: () => performance.now(),
          }),
        { name: roundTaskName("r", 1), journal: calls },
      );
      expect(outcome.failures.map((f) => f.reason)).toEqual(["deadline", "deadline"]);
      expect(outcome.absent).toEqual(["p_late_1", "p_late_2"]);
      expect(outcome.joinMs).toBeLessThan(40 + JOIN_BACKSTOP_MS + 500);
      const rec = {
        room: "r",
        round: 1,
        seed: outcome.result.seed,
        plan,
        calls: structuredClone(calls.entries),
        hash: outcome.result.hash,
        joinMs: outcome.joinMs,
        deadlineMs: 40,
      };
      expect(await replayRecord(rec)).toMatchObject({ ok: true, hash: outcome.result.hash });
    } finally {
      stats.setFaults({ stall: false });
    }
  });

  it("stale fallbacks are journaled lookups: replay proves them from the journal, a changed one diverges", async () => {
    await client.get("p_lkg_1"); // known-good stats for p_lkg_1, none for p_lkg_2
    stats.setFaults({ stall: true });
    try {
      const calls = new Journal();
      const plan = {
        seed: 6,
        round: 2,
        deadlineMs: 40,
        entities: [
          entity("p_lkg_1"),
          entity("p_lkg_2", { intent: { seq: 1, action: "attack" as const, target: "p_lkg_1" } }),
        ],
      };
      const sources = {
        fetch: (id: string, signal: AbortSignal, deadlineMs: number) => client.get(id, { signal, deadlineMs }),
        lastKnownGood: (id: string) => client.lastKnownGood(id),
        now: () => performance.now(),
      };
      const outcome = await run(() => combatRound(plan, sources), { name: roundTaskName("r", 2), journal: calls });
      expect([outcome.stale, outcome.absent]).toEqual([["p_lkg_1"], ["p_lkg_2"]]);
      const lookups = calls.entries.filter((e) => e.call.startsWith("lkg:"));
      expect(lookups).toMatchObject([
        { coroutine: "round:r:2", step: 0, call: "lkg:p_lkg_1", ok: true, value: { id: "p_lkg_1" } },
        { coroutine: "round:r:2", step: 1, call: "lkg:p_lkg_2", ok: true, value: null },
      ]);
      const rec = {
        room: "r",
        round: 2,
        seed: outcome.result.seed,
        plan,
        calls: structuredClone(calls.entries),
        hash: outcome.result.hash,
        joinMs: outcome.joinMs,
        deadlineMs: 40,
      };
      const replayed = await replayRecord(rec);
      expect(replayed).toMatchObject({ ok: true, hash: outcome.result.hash });
      // the replay took the fallback from the journal (its sources throw), and flags it stale
      expect(
        (replayed as { input: { combatants: { id: string; stale: boolean }[] } }).input.combatants.map((c) => [
          c.id,
          c.stale,
        ]),
      ).toEqual([
        ["p_lkg_1", true],
        ["p_lkg_2", false],
      ]);

      // a journal without p_lkg_1's lookup: the replayed round asks for it and is told it was never made
      const v1 = await replayRecord({ ...rec, calls: rec.calls.filter((e) => e.call !== "lkg:p_lkg_1") });
      expect((v1 as { divergence: string }).divergence).toMatch(
        /it called "lkg:p_lkg_1" but the journal has no entry there/,
      );
      // p_lkg_2 now falls back to stats it never had: it fights, and the output hash differs
      const invented = structuredClone(rec.calls);
      Object.assign(
        invented.find((e) => e.call === "lkg:p_lkg_2")!,
        { value: { ...(lookups[0] as { value: object }).value, id: "p_lkg_2" } },
      );
      const v2 = await replayRecord({ ...rec, calls: invented });
      expect((v2 as { divergence: string }).divergence).toMatch(/output hash/);
      // a row of the old format (full input, no lookups) is named as such
      const old = await replayRecord({ ...rec, plan: undefined as never });
      expect((old as { divergence: string }).divergence).toMatch(/before the plan format/);
    } finally {
      stats.setFaults({ stall: false });
    }
  });
});
