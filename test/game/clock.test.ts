import { beforeAll, describe, expect, it } from "vitest";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import { closeAfterAll, join, sleep, startGame, startStats, waitFor, type Player } from "./helpers.ts";

/** Blocks this process's event loop (the game server runs in it) the way a heavy handler would. */
function stall(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe("round clock", () => {
  let stats: StatsService;
  let game: GameServer;
  let ann: Player;
  // 50 Hz ticks, a round every 5 ticks: 100 ms rounds
  const roundMs = 100;

  beforeAll(async () => {
    stats = await startStats();
    game = await startGame(stats.rpcUrl, { tickHz: 50, roundTicks: 5, roundDeadlineMs: 50 });
    ann = await join(game, "Ann");
    await waitFor("a first round", () => ann.rounds.length > 0);
  });
  closeAfterAll(() => ({ players: [ann], game, stats }));

  it("keeps the round period when the event loop is late: missed ticks are run, not lost", async () => {
    const before = game.metrics.roundsTotal.get();
    const started = performance.now();
    // 60 ms of every 100 ms blocked (the load itself, not a wait): an interval timer alone would
    // tick at well under half rate
    while (performance.now() - started < 1500) {
      stall(60);
      await sleep(40);
    }
    const last = game.metrics.roundsTotal.get();
    await waitFor("the next round once the loop is free", () => game.metrics.roundsTotal.get() > last);
    const elapsed = performance.now() - started;
    const rounds = game.metrics.roundsTotal.get() - before;
    expect(rounds).toBeGreaterThanOrEqual(Math.floor((0.75 * elapsed) / roundMs));
    expect(game.metrics.ticksDropped.get()).toBe(0);
  });

  it("drops and counts a backlog longer than a round instead of replaying it in a burst", async () => {
    const before = game.metrics.roundsTotal.get();
    stall(600);
    await waitFor("the backlog dropped", () => game.metrics.ticksDropped.get() > 0);
    await waitFor("two rounds on the clock again", () => game.metrics.roundsTotal.get() >= before + 2);
    // at most one round per MAX_CATCH_UP_TICKS backlog + the ones due since: no burst of 6
    expect(game.metrics.roundsTotal.get() - before).toBeLessThanOrEqual(4);
    const text = await (await fetch(`${game.httpUrl}/metrics`)).text();
    expect(text).toMatch(/^skirmish_ticks_dropped_total [1-9]\d*$/m);
  });
});
