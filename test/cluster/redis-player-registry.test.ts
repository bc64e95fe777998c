// The cluster's one-seat rule at the registry itself, against a real redis-server: two processes'
// registries (each with a live IPC channel, as Colyseus keeps one) claim one player many times at
// once, from both processes and twice within each, for many players: exactly one claim wins each
// time. A seat this process left behind in Redis (a release still on its way) refuses nobody. An
// adoption takes a seat only when it is free or held for the adopted room.
import { afterAll, beforeAll, expect, it } from "vitest";
import { Redis } from "ioredis";
import { createLogger } from "../../server/observability/log.ts";
import { createGameMetrics } from "../../server/game/metrics.ts";
import { RedisPlayerRegistry } from "../../server/game/cluster/redis-player-registry.ts";
import { startRedisServer, type RedisServer } from "../../server/process/redis-server.ts";
import { describeWithRedis } from "./helpers.ts";

const PLAYERS = 300;

describeWithRedis("RedisPlayerRegistry under concurrent claims", () => {
  let redis: RedisServer;
  const connections: Redis[] = [];
  let a: RedisPlayerRegistry;
  let b: RedisPlayerRegistry;
  let probe: Redis;

  const connect = () => {
    const c = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    connections.push(c);
    return c;
  };

  beforeAll(async () => {
    redis = await startRedisServer();
    const metrics = createGameMetrics({ ccu: () => 0, rooms: () => 0, statsClientCounters: () => ({}) });
    const log = createLogger("error");
    a = new RedisPlayerRegistry(connect(), "processA", metrics, log);
    b = new RedisPlayerRegistry(connect(), "processB", metrics, log);
    // both processes alive, as their Colyseus IPC channels say
    for (const id of ["processA", "processB"]) await connect().subscribe(`p:${id}`);
    probe = connect();
  }, 30_000);

  afterAll(async () => {
    for (const c of connections) c.disconnect();
    await redis?.stop();
  });

  it(`${PLAYERS} players, each claimed six times at once (three per process, two rooms each): one claim wins`, async () => {
    const wins: number[] = [];
    const attempts = [
      [a, "roomA1"],
      [a, "roomA1"],
      [a, "roomA2"],
      [b, "roomB1"],
      [b, "roomB1"],
      [b, "roomB2"],
    ] as const;
    for (let i = 0; i < PLAYERS; i++) {
      const player = `p_${i}`;
      // rotate who starts, so every registry and room is first in some trials
      const order = attempts.map((_, k) => attempts[(k + i) % attempts.length]);
      const results = await Promise.all(order.map(([registry, room]) => registry.claim(player, room)));
      wins.push(results.filter(Boolean).length);
      const winner = order[results.indexOf(true)];
      if (winner) expect(await probe.get(`skirmish:seat:${player}`)).toBe(`${winner[0].processId} ${winner[1]}`);
    }
    expect(wins.filter((n) => n !== 1)).toEqual([]);
  });

  it("a seat of this process that none of its rooms holds (a release on its way) refuses nobody; another process's seat refuses", async () => {
    await probe.set("skirmish:seat:p_left", "processA roomGone");
    expect(await a.where("p_left")).toBeUndefined();
    expect(await b.where("p_left")).toBe("roomGone on process processA");
    expect(await b.claim("p_left", "roomB1")).toBe(false);
    expect(await a.claim("p_left", "roomA1")).toBe(true);
    expect(await probe.get("skirmish:seat:p_left")).toBe("processA roomA1");
    // the release of the old seat arriving late frees nothing of the new one
    await probe.eval(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end",
      1,
      "skirmish:seat:p_left",
      "processA roomGone",
    );
    expect(await a.claim("p_left", "roomA2")).toBe(false);
    a.release("p_left", "roomA1");
    await expect.poll(() => probe.exists("skirmish:seat:p_left")).toBe(0);
  });

  it("adopting a room's seat takes it when free or held for that room; a seat for another room refuses, even this process's", async () => {
    expect(await b.adopt("p_free", "roomX")).toBe(true);
    expect(await probe.get("skirmish:seat:p_free")).toBe("processB roomX");
    // the room's previous owner still holds its seat: the adopter takes it over
    await probe.set("skirmish:seat:p_moved", "processA roomX");
    expect(await b.adopt("p_moved", "roomX")).toBe(true);
    expect(await probe.get("skirmish:seat:p_moved")).toBe("processB roomX");
    expect(await probe.sismember("skirmish:seats-of:processB", "p_moved")).toBe(1);
    // a seat in another room is that room's, whoever holds it
    await probe.set("skirmish:seat:p_other", "processA roomY");
    expect(await b.adopt("p_other", "roomX")).toBe(false);
    await probe.set("skirmish:seat:p_mine", "processB roomY");
    expect(await b.adopt("p_mine", "roomX")).toBe(false);
    expect(await probe.get("skirmish:seat:p_mine")).toBe("processB roomY");
  });
});
