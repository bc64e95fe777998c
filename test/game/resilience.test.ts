import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { Client } from "@colyseus/sdk";
import { ROOM_NAME } from "../../shared/protocol.ts";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import {
  closeAfterAll,
  entitiesOf,
  guest,
  join,
  spawnStats,
  startGame,
  startStats,
  stop,
  track,
  waitFor,
  type ChildService,
  leaveAll,
  type Player,
} from "./helpers.ts";

/** Rounds are numbered consecutively as one client received them. */
function expectConsecutive(p: Player) {
  const nums = p.rounds.map((r) => r.round);
  for (let i = 1; i < nums.length; i++) expect(nums[i]).toBe(nums[i - 1] + 1);
}

describe("bad clients do not disturb the others", () => {
  let stats: StatsService;
  let game: GameServer;
  const players: Player[] = [];
  closeAfterAll(() => ({ players, game, stats }));

  it("survives garbage frames, an oversized frame and a flood from one client", async () => {
    stats = await startStats();
    // no NPCs: nobody kills Ann before her last intent, which a dead entity could not send
    game = await startGame(stats.rpcUrl, { maxMessagesPerSecond: 30, npcs: 0 });
    const ann = await join(game, "Ann");
    const bob = await join(game, "Bob");
    players.push(ann, bob);
    await waitFor("rounds before the attack", () => ann.rounds.length >= 3);

    // 1. a raw ws client with a real seat reservation, speaking junk instead of the protocol
    const g = await guest(game, "Junk");
    const seat = (await (
      await fetch(`${game.httpUrl}/matchmake/joinOrCreate/${ROOM_NAME}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token: g.token }),
      })
    ).json()) as { sessionId: string; room: { roomId: string; processId: string } } & Record<string, any>;
    const roomId = seat.room?.roomId ?? seat.roomId;
    const processId = seat.room?.processId ?? seat.processId;
    expect(roomId).toBe(ann.room.roomId);
    const raw = new WebSocket(`ws://127.0.0.1:${game.port}/${processId}/${roomId}?sessionId=${seat.sessionId}`);
    await new Promise<void>((resolve, reject) => {
      raw.once("open", () => resolve());
      raw.once("error", reject);
    });
    const junk = [
      [13],
      [13, 255],
      [13, 0xd9, 0xff, 1],
      [13, 0xa6, 0x69, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0xc1],
      [14, 1, 2],
      [99],
      [],
      [13, 0xa1, 0x78, 0xdd, 0xff, 0xff, 0xff, 0xff],
    ];
    for (const bytes of junk) if (raw.readyState === WebSocket.OPEN) raw.send(Buffer.from(bytes));
    if (raw.readyState === WebSocket.OPEN) raw.send("plain text, not a frame");

    // 2. a joined SDK client whose socket then sends junk, and one that sends a frame above maxPayload
    const mallory = await join(game, "Mallory");
    const malSocket = (mallory.room as any).connection.transport.ws as { send(b: Uint8Array): void };
    for (const bytes of junk) malSocket.send(new Uint8Array(bytes));
    const big = await join(game, "Big");
    big.room.send("intent", { seq: 1, action: "attack", target: "x".repeat(3000) });

    // 3. a flood: far above maxMessagesPerSecond
    const flood = await join(game, "Flood");
    flood.room.reconnection.enabled = false;
    for (let i = 0; i < 400; i++) flood.room.send("intent", { seq: i, action: "defend" });

    await waitFor("the flooder dropped", () => flood.left !== null, 5000);
    await waitFor("the oversized sender dropped", () => big.left !== null, 5000);
    expect(flood.errors.map((e) => e.code)).toContain("rate_limited");

    const before = ann.rounds.length;
    await waitFor(
      "rounds keep coming for Ann and Bob",
      () => ann.rounds.length >= before + 5 && bob.rounds.length >= before + 5,
      5000,
    );
    expect(ann.left).toBeNull();
    expect(bob.left).toBeNull();
    expect(ann.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
    expectConsecutive(ann);
    expectConsecutive(bob);
    // Ann still plays: her intent is consumed
    ann.room.send("intent", { seq: 424242, action: "attack", target: bob.id });
    await waitFor("Ann's intent resolved", () =>
      ann.rounds.some((r) => r.intents.some(([id, s]) => id === ann.id && s === 424242)),
    );
    const h = await fetch(`${game.httpUrl}/healthz`);
    expect(h.status).toBe(200);
    raw.close();
    mallory.room.leave().catch(() => {});
  });
});

describe("the stats service going away", () => {
  let statsProc: ChildService | undefined;
  let game: GameServer;
  const players: Player[] = [];
  afterAll(async () => {
    await leaveAll(players);
    await game?.close();
    if (statsProc) await stop(statsProc);
  });

  it("degrades rounds to stale/absent while it is down and recovers when it returns", async () => {
    statsProc = await spawnStats(0);
    const port = statsProc.port;
    game = await startGame(`ws://127.0.0.1:${port}/rpc`);
    const ann = await join(game, "Ann");
    players.push(ann);
    await waitFor(
      "fresh rounds",
      () => ann.rounds.filter((r) => r.stale.length === 0 && r.absent.length === 0).length >= 3,
    );

    await stop(statsProc, "SIGKILL");
    const killedAt = ann.rounds.length;
    const degraded = await waitFor(
      "a round on last-known-good stats",
      () => ann.rounds.slice(killedAt).find((r) => r.stale.includes(ann.id)),
      5000,
    );
    expect(degraded.stale).toContain("npc_goblin_1");
    expect(degraded.absent).toEqual([]);
    // a player who never had stats sits rounds out instead of breaking them
    const bob = await join(game, "Bob");
    players.push(bob);
    await waitFor("Bob absent", () => ann.rounds.slice(killedAt).some((r) => r.absent.includes(bob.id)), 5000);
    await waitFor("rounds keep coming during the outage", () => ann.rounds.length >= killedAt + 8, 5000);
    expect((await fetch(`${game.httpUrl}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${game.httpUrl}/metrics`)).text();
    expect(Number(/^skirmish_stale_entities_total (\d+)$/m.exec(metrics)![1])).toBeGreaterThan(0);
    expect(Number(/^skirmish_absent_entities_total (\d+)$/m.exec(metrics)![1])).toBeGreaterThan(0);

    statsProc = await spawnStats(port);
    const back = ann.rounds.length;
    await waitFor(
      "fresh rounds again",
      () => ann.rounds.slice(back).find((r) => r.stale.length === 0 && r.absent.length === 0),
      8000,
    );
    expectConsecutive(ann);
    expect(ann.left).toBeNull();
  });
});

describe("a slow or stalled stats service", () => {
  let stats: StatsService;
  let game: GameServer;
  const players: Player[] = [];
  closeAfterAll(() => ({ players, game, stats }));

  it("counts overruns instead of stacking rounds, and bounds a stalled join by the deadline", async () => {
    stats = await startStats();
    // 80 ms round slots, 150 ms stats latency, 300 ms deadline: every round overruns its slot
    game = await startGame(stats.rpcUrl, { roundDeadlineMs: 300 });
    const ann = await join(game, "Ann");
    players.push(ann);
    await waitFor("fresh rounds", () => ann.rounds.length >= 2);
    stats.setFaults({ latencyMs: 150 });
    const slowFrom = ann.rounds.length;
    await waitFor("slow rounds", () => ann.rounds.length >= slowFrom + 4, 5000);
    const slow = ann.rounds.slice(slowFrom + 1);
    for (const r of slow) {
      expect(r.joinMs).toBeGreaterThanOrEqual(140);
      expect(r.stale).toEqual([]);
    }
    const metrics = await (await fetch(`${game.httpUrl}/metrics`)).text();
    expect(Number(/^skirmish_round_overruns_total (\d+)$/m.exec(metrics)![1])).toBeGreaterThan(3);
    expectConsecutive(ann);

    stats.setFaults({ latencyMs: 0, stall: true });
    const stalledRound = await waitFor(
      "a round on last-known-good stats",
      () => ann.rounds.slice(slowFrom).find((r) => r.stale.includes(ann.id)),
      5000,
    );
    // the stalled service never answers: the round came, so its deadline ended the join, which
    // waited for it (300 ms)
    expect(stalledRound.joinMs).toBeGreaterThanOrEqual(250);
    stats.setFaults({ stall: false });
    const back = ann.rounds.length;
    await waitFor("fresh again", () => ann.rounds.slice(back).find((r) => r.stale.length === 0), 5000);
    expectConsecutive(ann);
  });
});

describe("reconnection", () => {
  let stats: StatsService;
  let game: GameServer;
  closeAfterAll(() => ({ game, stats }));

  it("keeps a dropped player's entity through the grace period and hands it back", async () => {
    stats = await startStats();
    game = await startGame(stats.rpcUrl, { reconnectGraceS: 5 });
    const ann = await join(game, "Ann");
    const bob = await join(game, "Bob");
    ann.room.reconnection.enabled = false;
    await waitFor("a few rounds", () => ann.rounds.length >= 2);
    const token = ann.room.reconnectionToken;
    const sessionId = ann.room.sessionId;
    // an abnormal close (no leave message): the server sees a drop, not a leave
    (ann.room as any).connection.transport.ws.close();
    await waitFor("Bob sees Ann disconnected", () => entitiesOf(bob.room).get(ann.id)?.connected === false);
    const rounds = bob.rounds.length;
    await waitFor("rounds go on while Ann is away", () => bob.rounds.length >= rounds + 3);
    expect(entitiesOf(bob.room).has(ann.id)).toBe(true);

    const back = await new Client(game.url).reconnect(token);
    const again = track(back, ann.id);
    expect(back.sessionId).toBe(sessionId);
    await waitFor("Ann connected again", () => entitiesOf(bob.room).get(ann.id)?.connected === true);
    await waitFor("Ann's state", () => entitiesOf(back).has(ann.id));
    const target = [...entitiesOf(back)].find(([id, e]) => id.startsWith("npc_") && e.alive)![0];
    await waitFor("Ann alive", () => entitiesOf(back).get(ann.id)?.alive, 5000);
    back.send("intent", { seq: 5150, action: "attack", target });
    await waitFor("Ann's intent after reconnecting", () =>
      again.rounds.some((r) => r.intents.some(([id, s]) => id === ann.id && s === 5150)),
    );
    const room = [...game.rooms][0];
    const annScope = room.scopeOf(ann.id)!;
    const npcScope = room.scopeOf("npc_goblin_1")!;
    expect(annScope.halted).toBe(false);
    await back.leave();
    await waitFor("Ann gone after a consented leave", () => !entitiesOf(bob.room).has(ann.id));
    // removing the entity halted the runtime Scope it owned
    await waitFor("Ann's scope halted", () => annScope.halted);
    expect(npcScope.halted).toBe(false);
    expect(npcScope.size).toBe(1); // the NPC's brain is still running
    await bob.room.leave();
    // the room is disposed with its last player: every entity's scope (NPC brains too) halted
    await waitFor("room disposed", () => game.rooms.size === 0, 5000);
    expect(npcScope.halted).toBe(true);
    expect(npcScope.size).toBe(0);
  });
});
