import { beforeAll, describe, expect, it } from "vitest";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import type { ReplayPage } from "../../shared/replay.ts";
import { closeAfterAll, join, leaveAll, startGame, startStats, waitFor, type Player } from "./helpers.ts";

describe("GET /replay/rounds: a room's journal for the replay viewer", () => {
  let stats: StatsService;
  let game: GameServer;
  let ann: Player;
  beforeAll(async () => {
    stats = await startStats();
    // 200 ms rounds: the whole match stays under one page of 100 rounds while the suite runs
    game = await startGame(stats.rpcUrl, { roundTicks: 10 });
    ann = await join(game, "Ann");
    await waitFor("12 rounds", () => ann.rounds.length >= 12, 15_000);
  });
  closeAfterAll(() => ({ players: [ann], game, stats }));

  const get = (query: string) => fetch(`${game.httpUrl}/replay/rounds?${query}`);

  it("pages through the journaled rounds, each re-resolved to the round every client was sent", async () => {
    const room = ann.room.roomId;
    const first = (await (await get(`room=${room}&limit=5`)).json()) as ReplayPage;
    expect(first.room).toBe(room);
    expect(first.rounds.map((r) => r.round)).toEqual([1, 2, 3, 4, 5]);
    expect(first.next).toBe(6);
    const second = (await (await get(`room=${room}&from=${first.next}&limit=5`)).json()) as ReplayPage;
    expect(second.rounds[0].round).toBe(6);
    expect(second.rounds.at(-1)!.entities.find((e) => e.id === ann.id)).toMatchObject({ kind: "player" });
    for (const r of [...first.rounds, ...second.rounds]) {
      const sent = ann.rounds.find((m) => m.round === r.round)!;
      expect(r.verified).toBe(true);
      expect(r.hash).toBe(sent.hash);
      expect(r.events).toEqual(sent.events);
      expect(r.entities.map((e) => e.id)).toEqual(expect.arrayContaining(["npc_goblin_1", "npc_wolf_2", "npc_orc_3"]));
      expect(r.intents.map(([id, intent]) => [id, intent.seq])).toEqual(sent.intents);
    }
    // rounds keep coming while the room plays: a page ends where the journal did
    const all = (await (await get(`room=${room}&from=1`)).json()) as ReplayPage;
    expect(all.rounds.length).toBeLessThanOrEqual(100);
    expect(all.next).toBeNull();
  });

  it("refuses bad parameters with 400 and names them; an unknown room is 404", async () => {
    const room = ann.room.roomId;
    for (const [query, what] of [
      ["", "room"],
      ["room=a/b", "room"],
      [`room=${room}&from=-1`, "from"],
      [`room=${room}&from=1.5`, "from"],
      [`room=${room}&limit=0`, "limit"],
      [`room=${room}&limit=101`, "limit"],
      [`room=${room}&limit=abc`, "limit"],
      [`room=${room}&drop=1`, "drop"],
    ]) {
      const res = await get(query);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: string }).error, query).toContain(what);
    }
    expect((await get("room=nosuchroom")).status).toBe(404);
    expect((await get(`room=${room}&from=4000000000`)).status).toBe(404);
  });

  it("answers a full page of 100 rounds whole (a body far larger than a socket buffer)", async () => {
    const fast = await startGame(stats.rpcUrl, { tickHz: 50, roundTicks: 2 });
    const bob = await join(fast, "Bob");
    try {
      await waitFor("101 rounds", () => fast.journal.count(bob.room.roomId) > 100, 20_000);
      const res = await fetch(`${fast.httpUrl}/replay/rounds?room=${bob.room.roomId}`, {
        signal: AbortSignal.timeout(10_000),
      });
      const page = (await res.json()) as ReplayPage;
      expect(page.rounds).toHaveLength(100);
      expect(page.next).toBe(page.rounds[99].round + 1);
      expect(Number(res.headers.get("content-length"))).toBeGreaterThan(64 * 1024);
    } finally {
      await leaveAll([bob]);
      await fast.close();
    }
  });
});
