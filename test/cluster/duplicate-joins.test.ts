// One seat per player in a cluster under parallel joins (issue 18, defect 4): one redis-server,
// two game processes, real @colyseus/sdk clients. Each trial takes a fresh token and joins with it
// six times at once through both processes (into a room on each process by id, and by
// joinOrCreate), either all reserved before any connects (every onJoin racing) or each join on
// its own; exactly one client may end up seated, and Redis names its room.
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import type { Room } from "@colyseus/sdk";
import { guest } from "../game/helpers.ts";
import { clusterFixture, consume, describeWithRedis, reserve, type GameProc, type SeatReservation } from "./helpers.ts";

const TRIALS = 24;

describeWithRedis("one seat per player under parallel joins through every process", () => {
  const cluster = clusterFixture("dupjoins");
  const keepers: Room[] = [];
  let a: GameProc;
  let b: GameProc;
  /** a room on each process, by process id */
  const roomOn = new Map<string, string>();

  beforeAll(async () => {
    const env = { MAX_PLAYERS: "8", NPCS: "0", CLIENT_ROOM_CHOICE: "1" };
    [a, b] = await Promise.all([cluster.startGame(env), cluster.startGame(env)]);
    // a room on each process, each kept open by a player: Colyseus creates a room on the process
    // with the fewest rooms as last written to Redis (once a second), so wait for each count
    while (roomOn.size < 2) {
      const seat = await reserve(a, (await guest(a)).token, "create");
      keepers.push(await consume(a, seat));
      roomOn.set(seat.processId, roomOn.get(seat.processId) ?? seat.roomId);
      await vi.waitFor(async () => expect(await cluster.roomsCounted()).toBe(keepers.length), { timeout: 10_000 });
    }
  }, 200_000);

  afterAll(() => Promise.all(keepers.map((k) => k.leave().catch(() => {}))), 30_000);

  /** The six joins of one token: by id into the room on each process, and joinOrCreate, each through both processes. */
  function joins(token: string): (() => Promise<SeatReservation>)[] {
    return [a, b].flatMap((via) => [
      ...[...roomOn.values()].map((roomId) => () => reserve(via, token, "joinById", roomId)),
      () => reserve(via, token),
    ]);
  }
  const viaOf = (seat: SeatReservation) => (seat.processId === a.processId ? a : b);

  it(`${TRIALS} trials of six simultaneous joins with one token: exactly one client is seated each time`, async () => {
    const seatedPerTrial: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const g = await guest(trial % 2 ? a : b);
      let rooms: PromiseSettledResult<Room>[];
      if (trial % 2 === 0) {
        // every seat reserved first, then every client connects at once: their onJoins race
        const seats = (await Promise.allSettled(joins(g.token).map((join) => join()))).flatMap((r) =>
          r.status === "fulfilled" ? [r.value] : [],
        );
        expect(seats.length).toBeGreaterThan(1);
        rooms = await Promise.allSettled(seats.map((seat) => consume(viaOf(seat), seat)));
      } else {
        rooms = await Promise.allSettled(
          joins(g.token).map((join) => join().then((seat) => consume(viaOf(seat), seat))),
        );
      }
      const seated = rooms.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      seatedPerTrial.push(seated.length);
      for (const r of rooms)
        if (r.status === "rejected") expect(String(r.reason)).toMatch(/already in an arena|matchmak|seat|locked/);
      if (seated.length === 1) {
        const [owner, roomId] = ((await cluster.probe.get(`skirmish:seat:${g.playerId}`)) ?? "").split(" ");
        expect(roomId).toBe(seated[0].roomId);
        expect([a.processId, b.processId]).toContain(owner);
      }
      await Promise.all(seated.map((room) => room.leave()));
    }
    process.stdout.write(`duplicate joins: seated clients per trial ${JSON.stringify(seatedPerTrial)}\n`);
    expect(seatedPerTrial).toEqual(Array.from({ length: TRIALS }, () => 1));
  }, 240_000);
});
