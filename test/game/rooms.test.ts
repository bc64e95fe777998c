import { describe, expect, it } from "vitest";
import { Client } from "@colyseus/sdk";
import { ROOM_NAME } from "../../shared/protocol.ts";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import {
  closeAfterAll,
  entitiesOf,
  guest,
  join,
  startGame,
  startStats,
  track,
  waitFor,
  type Player,
} from "./helpers.ts";

describe("several arenas, and the HTTP stats transport", () => {
  let stats: StatsService;
  let game: GameServer;
  const players: Player[] = [];
  closeAfterAll(() => ({ players, game, stats }));

  it("fills arenas up to MAX_PLAYERS, each with its own NPCs and rounds, one seat per player id", async () => {
    stats = await startStats();
    // http:// picks the stats client's HTTP transport instead of RPC
    game = await startGame(stats.httpUrl, { maxPlayers: 2, npcs: 2 });
    const aGuest = await guest(game, "A");
    const aRoom = await new Client(game.url).joinOrCreate(ROOM_NAME, { token: aGuest.token });
    players.push(track(aRoom, aGuest.playerId));
    for (const name of ["B", "C"]) players.push(await join(game, name));
    const [a, b, c] = players;
    expect(a.room.roomId).toBe(b.room.roomId);
    expect(c.room.roomId).not.toBe(a.room.roomId);
    await waitFor(
      "fresh rounds in both arenas",
      () =>
        a.rounds.filter((r) => r.stale.length === 0 && r.absent.length === 0).length >= 3 &&
        c.rounds.filter((r) => r.stale.length === 0 && r.absent.length === 0).length >= 3,
    );
    const inC = entitiesOf(c.room);
    expect([...inC.keys()].sort()).toEqual([c.id, "npc_goblin_1", "npc_wolf_2"].sort());
    expect(inC.has(a.id)).toBe(false);
    const h = (await (await fetch(`${game.httpUrl}/healthz`)).json()) as { rooms: number; ccu: number };
    expect(h).toMatchObject({ rooms: 2, ccu: 3 });
    // A's token cannot take the free seat in C's arena: one arena at a time
    await expect(new Client(game.url).joinOrCreate(ROOM_NAME, { token: aGuest.token })).rejects.toThrow(
      /already in an arena/,
    );
    const metrics = await (await fetch(`${game.httpUrl}/metrics`)).text();
    expect(Number(/^skirmish_stats_client_total\{counter="ok"\} (\d+)$/m.exec(metrics)![1])).toBeGreaterThan(0);
  });
});
