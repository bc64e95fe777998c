import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@colyseus/sdk";
import { ROOM_NAME } from "../../shared/protocol.ts";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import { guest, leaveAll, matchmake, sleep, startGame, startStats, track, waitFor, type Player } from "./helpers.ts";

describe("authentication at matchmaking", () => {
  let stats: StatsService;
  let game: GameServer;
  const players: Player[] = [];
  beforeAll(async () => {
    stats = await startStats();
    game = await startGame(stats.rpcUrl, { maxPlayers: 2, seatReservationS: 1 });
  });
  afterAll(async () => {
    await leaveAll(players);
    await game?.close();
    await stats?.close();
  });

  it("an anonymous client makes no room, seat or journal row", async () => {
    for (const body of [{}, { token: "nope" }, { token: 42 }]) {
      const label = JSON.stringify(body);
      expect((await matchmake(game, "create", body)).error, label).toMatch(/invalid method "create"/);
      for (const method of ["joinOrCreate", "join"]) {
        const r = await matchmake(game, method, body);
        expect(r.status, `${method} ${label}`).toBeGreaterThanOrEqual(400);
        expect(r.error, `${method} ${label}`).toMatch(/missing token|malformed token/);
      }
    }
    await expect(new Client(game.url).joinOrCreate(ROOM_NAME, {})).rejects.toThrow(/missing token/);
    await expect(new Client(game.url).create(ROOM_NAME, {})).rejects.toThrow();
    await sleep(300); // rounds of any room created would be journaled by now
    expect(game.rooms.size).toBe(0);
    expect(game.journal.count()).toBe(0);
    expect(game.metrics.authRejected.get("missing")).toBe(3);
  });

  it("even with a token, clients may not create rooms or pick one by id (joinOrCreate places them)", async () => {
    const g = await guest(game);
    expect((await matchmake(game, "create", { token: g.token })).error).toMatch(/invalid method "create"/);
    expect((await matchmake(game, "joinById", { token: g.token }, "some-room-id")).error).toMatch(
      /invalid method "joinById"/,
    );
    expect(game.rooms.size).toBe(0);
  });

  it("a room opened by a seat nobody takes runs no round (no stats fetched, nothing journaled) and is disposed", async () => {
    const served = stats.counters().rpcIdsServed;
    const g = await guest(game);
    expect(await matchmake(game, "joinOrCreate", { token: g.token })).toMatchObject({ status: 200 });
    expect(game.rooms.size).toBe(1);
    await sleep(600); // rounds every 80 ms here: a room on its clock would have run several
    expect(game.journal.count()).toBe(0);
    expect(stats.counters().rpcIdsServed).toBe(served);
    expect([...game.rooms][0].state.phase).toBe("waiting");
    await waitFor("the unused room disposed after SEAT_RESERVATION_S", () => game.rooms.size === 0);
    expect(game.journal.count()).toBe(0);
  });

  it("a seat reserved and never taken is free again after SEAT_RESERVATION_S", async () => {
    const a = await guest(game);
    const first = track(await new Client(game.url).joinOrCreate(ROOM_NAME, { token: a.token }), a.playerId);
    players.push(first);
    // the second (last) seat of the arena, reserved over HTTP by a client that never connects
    const b = await guest(game);
    const reserved = await matchmake(game, "joinOrCreate", { token: b.token });
    expect(reserved).toMatchObject({ status: 200, roomId: first.room.roomId });
    await sleep(2000);
    const c = await guest(game);
    const third = track(await new Client(game.url).joinOrCreate(ROOM_NAME, { token: c.token }), c.playerId);
    players.push(third);
    expect(third.room.roomId).toBe(first.room.roomId);
    await waitFor("both players in one arena", () => game.rooms.size === 1 && [...game.rooms][0].ccu === 2);
    // the first player started the room's clock: rounds run and are journaled
    await waitFor("rounds journaled once a player is in", () => game.journal.count() > 0);
  });
});
