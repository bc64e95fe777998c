// A Redis outage seen from outside a cluster process (a real redis-server killed and started again,
// a real game process, the real SDK): every route that needs Redis answers 503 while it is away,
// a lobby request during the outage does not leave matchmaking stuck once Redis is back (issue 18:
// @colyseus/redis-driver 0.18.3 kept the failed room-listing read forever), /readyz follows what
// matchmaking can actually do, and the outage is logged as lines of ours, not ioredis stacks.
import { afterAll, beforeAll, expect, it } from "vitest";
import { guest, leaveAll, track, waitFor, type Player } from "../game/helpers.ts";
import { clusterFixture, consume, describeWithRedis, reserve, type GameProc } from "./helpers.ts";

describeWithRedis("a Redis outage and a cluster process's routes", () => {
  const cluster = clusterFixture("outage");
  const players: Player[] = [];
  let game: GameProc;

  beforeAll(async () => {
    game = await cluster.startGame({ MAX_PLAYERS: "4", NPCS: "1" });
  }, 120_000);

  afterAll(() => leaveAll(players), 30_000);

  const get = async (path: string) => {
    const res = await fetch(`${game.httpUrl}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const watch = async (roomId: string, token: string) => {
    const res = await fetch(`${game.httpUrl}/watch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ roomId, token }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const joinVia = async () => {
    const g = await guest(game);
    const p = track(await consume(game, await reserve(game, g.token)), g.playerId);
    players.push(p);
    return p;
  };
  const metric = async (kind: string) => {
    const text = await (await fetch(`${game.httpUrl}/metrics`)).text();
    const m = new RegExp(`skirmish_cluster_errors_total\\{[^}]*kind="${kind}"[^}]*\\} (\\d+)`).exec(text);
    return m ? Number(m[1]) : 0;
  };

  it("while Redis is away /rooms, /watch and joins answer 503; once it is back, matchmaking, /rooms, /watch, /readyz and the stale-process sweep work", async () => {
    const first = await joinVia();
    const roomId = first.room.roomId;
    const g = await guest(game);
    expect((await get("/readyz")).status).toBe(200);

    await cluster.redis.kill();
    await expect.poll(async () => (await get("/healthz")).body.redis).toBe("down");
    const logLinesAtOutage = game.lines.length;

    // the lobby requests that used to poison the room-listing cache (answered 400 then)
    const rooms = await get("/rooms");
    expect(rooms).toEqual({
      status: 503,
      body: { error: "matchmaking_unavailable", message: expect.stringMatching(/the cluster's Redis is unreachable/) },
    });
    expect(await watch(roomId, g.token)).toMatchObject({ status: 503, body: { error: "matchmaking_unavailable" } });
    expect(
      await reserve(game, g.token).then(
        () => "reserved",
        (e: Error) => e.message,
      ),
    ).toMatch(/matchmaking unavailable/);
    const readyDown = await get("/readyz");
    expect(readyDown.status).toBe(503);
    expect(JSON.stringify(readyDown.body.reasons)).toMatch(/redis/);
    // running matches go on
    const before = first.rounds.length;
    await waitFor("rounds while Redis is away", () => first.rounds.length >= before + 3, 15_000);

    await cluster.restartRedis();
    await expect.poll(async () => (await get("/readyz")).status, { timeout: 20_000 }).toBe(200);

    // matchmaking is not stuck: a join, the listing, a spectator seat
    const second = await joinVia();
    await waitFor("rounds after Redis came back", () => second.rounds.length >= 1, 15_000);
    const listed = await get("/rooms");
    expect(listed.status).toBe(200);
    expect((listed.body.rooms as { roomId: string }[]).map((r) => r.roomId)).toContain(roomId);
    expect((await watch(roomId, g.token)).status).toBe(200);

    // the stale-process sweep reads the listing again: a dead process's listing goes
    const ghost = { roomId: "ghostRoom1", processId: "ghostProcess1", name: "arena", clients: 0, maxClients: 4 };
    await cluster.probe.hset("roomcaches", ghost.roomId, JSON.stringify(ghost));
    await expect
      .poll(() => cluster.probe.hexists("roomcaches", ghost.roomId), { timeout: 20_000, interval: 200 })
      .toBe(0);
    expect(await metric("matchmaking_refused")).toBeGreaterThanOrEqual(3);

    // the outage is in our log as lines of ours, once; no ioredis "Unhandled error event" stacks
    const outageLines = game.lines.slice(logLinesAtOutage);
    expect(outageLines.filter((l) => l.includes("Unhandled error event"))).toEqual([]);
    expect(game.lines.filter((l) => l.includes('"msg":"Redis unreachable'))).toHaveLength(1);
    expect(outageLines.filter((l) => l.includes("stale-process sweep failed"))).toEqual([]);
  });

  it("/readyz is 503 while the room listing fails with every connection up, and ready again once it reads", async () => {
    const { probe } = cluster;
    // a listing Redis refuses to read (another program's key of the same name, say): HGETALL fails with WRONGTYPE
    await probe.rename("roomcaches", "roomcaches-kept");
    await probe.set("roomcaches", "not a hash");
    expect((await get("/healthz")).body.redis).toBe("up");
    const notReady = await get("/readyz");
    expect(notReady.status).toBe(503);
    expect(JSON.stringify(notReady.body.reasons)).toMatch(/matchmaking: the room listing failed \(WRONGTYPE/);
    expect(await get("/rooms")).toEqual({
      status: 503,
      body: { error: "matchmaking_unavailable", message: "matchmaking failed; try again shortly" },
    });
    expect(await metric("matchmaking_probe")).toBeGreaterThanOrEqual(1);

    await probe.del("roomcaches");
    await probe.rename("roomcaches-kept", "roomcaches");
    expect(await get("/readyz")).toEqual({ status: 200, body: { status: "ready" } });
    expect((await get("/rooms")).status).toBe(200);
  });
});
