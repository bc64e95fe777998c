import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Client, type Room } from "@colyseus/sdk";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import type { RoomSummary } from "../../shared/lobby.ts";
import { ARENA_ENDED_CLOSE_CODE } from "../../shared/protocol.ts";
import { entitiesOf, guest, join, leaveAll, startGame, startStats, track, waitFor, type Player } from "./helpers.ts";

describe("spectators and the lobby", () => {
  let stats: StatsService;
  let game: GameServer;
  const players: Player[] = [];

  beforeAll(async () => {
    stats = await startStats();
    // one player fills an arena; one spectator per arena
    game = await startGame(stats.rpcUrl, { maxPlayers: 1, maxSpectators: 1 });
  });
  afterAll(async () => {
    await leaveAll(players);
    await game?.close();
    await stats?.close();
  });

  function watchRequest(body: unknown) {
    return fetch(`${game.httpUrl}/watch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  async function watch(roomId: string): Promise<Player> {
    const g = await guest(game, "Watcher");
    const res = await watchRequest({ roomId, token: g.token });
    expect(res.status).toBe(200);
    const room: Room = await new Client(game.url).consumeSeatReservation(
      (await res.json()) as Parameters<Client["consumeSeatReservation"]>[0],
    );
    const p = track(room, g.playerId);
    players.push(p);
    return p;
  }

  async function rooms(): Promise<RoomSummary[]> {
    return ((await (await fetch(`${game.httpUrl}/rooms`)).json()) as { rooms: RoomSummary[] }).rooms;
  }

  /** GET /rooms until one arena matches (the listing is updated as seats change) */
  function listing(match: (r: RoomSummary) => boolean): Promise<RoomSummary[]> {
    return vi.waitFor(
      async () => {
        const listed = await rooms();
        if (!listed.some(match)) throw new Error(`no arena in /rooms matched: ${JSON.stringify(listed)}`);
        return listed;
      },
      { timeout: 5000, interval: 50 },
    );
  }

  it("watches an arena full of players: sees state and rounds, holds no entity, every intent refused", async () => {
    const ann = await join(game, "Ann");
    players.push(ann);
    const listed = await listing((r) => r.roomId === ann.room.roomId && r.players === 1);
    expect(listed.find((r) => r.roomId === ann.room.roomId)).toMatchObject({ players: 1, spectators: 0, locked: true });

    const eve = await watch(ann.room.roomId);
    expect(eve.room.roomId).toBe(ann.room.roomId);
    const seen = eve.rounds.length;
    await waitFor("two rounds for the spectator", () => eve.rounds.length >= seen + 2);
    const ents = entitiesOf(eve.room);
    expect(ents.get(ann.id)?.kind).toBe("player");
    expect(ents.has(eve.id)).toBe(false);
    expect([...ents.values()].filter((e) => e.kind === "player")).toHaveLength(1);

    eve.room.send("intent", { seq: 1, action: "attack", target: ann.id });
    eve.room.send("intent", { seq: 2, action: "defend" });
    await waitFor("two refusals", () => eve.errors.length >= 2);
    expect(eve.errors.map((e) => e.code)).toEqual(["spectator", "spectator"]);
    const later = eve.rounds.length;
    await waitFor("a later round", () => eve.rounds.length > later + 1);
    expect(eve.rounds.some((r) => r.intents.some(([id]) => id === eve.id))).toBe(false);
    await listing((r) => r.roomId === ann.room.roomId && r.spectators === 1);
  });

  it("does not count spectators as players: the next player opens a new arena, the full one stays closed", async () => {
    const bob = await join(game, "Bob");
    players.push(bob);
    expect(bob.room.roomId).not.toBe(players[0].room.roomId);
    const listed = await rooms();
    expect(listed).toHaveLength(2);
    // the spectator leaving must not reopen the full arena to players
    await players[1].room.leave();
    await listing((r) => r.roomId === players[0].room.roomId && r.spectators === 0);
    const cid = await join(game, "Cid");
    players.push(cid);
    expect([players[0].room.roomId, bob.room.roomId]).not.toContain(cid.room.roomId);
  });

  it("caps spectators per arena (409) and refuses bad tokens (401), bodies (400) and rooms (404) without a seat", async () => {
    const ann = players[0];
    await watch(ann.room.roomId);
    const g = await guest(game, "Late");
    const full = await watchRequest({ roomId: ann.room.roomId, token: g.token });
    expect(full.status).toBe(409);
    expect(((await full.json()) as { error: string }).error).toMatch(/spectators/);
    expect((await watchRequest({ roomId: ann.room.roomId, token: "forged.token" })).status).toBe(401);
    expect((await watchRequest({ roomId: ann.room.roomId })).status).toBe(400);
    expect((await watchRequest([1, 2])).status).toBe(400);
    expect((await watchRequest({ roomId: "../etc", token: g.token })).status).toBe(400);
    expect((await watchRequest({ roomId: "nosuchroom", token: g.token })).status).toBe(404);
    expect((await rooms()).find((r) => r.roomId === ann.room.roomId)).toMatchObject({ players: 1, spectators: 1 });
  });
});

describe("spectator seats: per token, reservations that lapse, arenas only spectators are left in", () => {
  let stats: StatsService;
  let game: GameServer;
  const players: Player[] = [];

  beforeAll(async () => {
    stats = await startStats();
    // one player per arena, four spectators each, a seat reserved for one second
    game = await startGame(stats.rpcUrl, {
      maxPlayers: 1,
      maxSpectators: 4,
      seatReservationS: 1,
      spectatorSeatsPerPlayer: 3,
      reconnectGraceS: 0,
    });
  });
  afterAll(async () => {
    await leaveAll(players);
    await game?.close();
    await stats?.close();
  });

  const reserve = (roomId: string, token: string) =>
    fetch(`${game.httpUrl}/watch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ roomId, token }),
    });
  async function take(res: Response, id: string): Promise<Player> {
    expect(res.status).toBe(200);
    const room: Room = await new Client(game.url).consumeSeatReservation(
      (await res.json()) as Parameters<Client["consumeSeatReservation"]>[0],
    );
    const p = track(room, id);
    players.push(p);
    return p;
  }
  const listed = async (roomId: string) =>
    ((await (await fetch(`${game.httpUrl}/rooms`)).json()) as { rooms: RoomSummary[] }).rooms.find(
      (r) => r.roomId === roomId,
    );
  async function arena(name: string): Promise<Player> {
    const p = await join(game, name);
    players.push(p);
    return p;
  }

  it("lets one token hold at most SPECTATOR_SEATS_PER_PLAYER seats at once, taken or reserved", async () => {
    const arenas = [await arena("A1"), await arena("A2"), await arena("A3"), await arena("A4")];
    const g = await guest(game, "Watcher");
    const first = await take(await reserve(arenas[0].room.roomId, g.token), g.playerId);
    await take(await reserve(arenas[1].room.roomId, g.token), g.playerId);
    expect((await reserve(arenas[2].room.roomId, g.token)).status).toBe(200); // reserved, not taken
    const fourth = await reserve(arenas[3].room.roomId, g.token);
    expect(fourth.status).toBe(429);
    expect(((await fourth.json()) as { error: string }).error).toMatch(/spectator seats/);
    // nobody else is held back by it
    expect((await reserve(arenas[3].room.roomId, (await guest(game, "Other")).token)).status).toBe(200);
    // a seat given back frees one
    await first.room.leave();
    await expect.poll(async () => (await reserve(arenas[3].room.roomId, g.token)).status).toBe(200);
  });

  it("frees a reserved spectator seat nobody takes after SEAT_RESERVATION_S, in the listing too", async () => {
    const ann = await arena("Ann");
    const g = await guest(game, "Lapsed");
    for (let i = 0; i < 3; i++) expect((await reserve(ann.room.roomId, g.token)).status).toBe(200);
    expect((await reserve(ann.room.roomId, g.token)).status).toBe(429);
    await expect.poll(async () => (await listed(ann.room.roomId))?.spectators).toBe(3);
    await expect.poll(async () => (await listed(ann.room.roomId))?.spectators, { timeout: 10_000 }).toBe(0);
    // the token holds nothing any more, and the arena is still there to be watched
    expect((await reserve(ann.room.roomId, g.token)).status).toBe(200);
  });

  it("ends an arena whose last player left: its spectators are told, it plays and journals no more", async () => {
    const bob = await arena("Bob");
    const roomId = bob.room.roomId;
    const g = await guest(game, "Eve");
    const eve = await take(await reserve(roomId, g.token), g.playerId);
    const seen = eve.rounds.length;
    await waitFor("two rounds for the spectator", () => eve.rounds.length >= seen + 2);
    await bob.room.leave();
    await waitFor("the spectator told the arena ended", () => eve.left !== null);
    expect(eve.left).toBe(ARENA_ENDED_CLOSE_CODE);
    await waitFor("the arena disposed", () => ![...game.rooms].some((r) => r.roomId === roomId));
    expect(await listed(roomId)).toBeUndefined();
    expect((await reserve(roomId, g.token)).status).toBe(404);
    expect(game.journal.count(roomId)).toBe(Math.max(...eve.rounds.map((r) => r.round)));
  });
});
