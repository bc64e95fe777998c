// Scale-out on Redis with real processes: one redis-server, one stats service, two game processes
// (server/game/main.ts), real @colyseus/sdk clients. Rooms spread over both processes, a client
// that asks one process plays on the other, one seat per player across processes, Redis dying
// mid-match and coming back, SIGKILL of a process (listings cleaned, players back in on the
// survivor), and a replay of each process's journal.
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { Client } from "@colyseus/sdk";
import { replayJournal } from "../../server/game/journal/replay-cli.ts";
import { runSim } from "../../bench/capacity.ts";
import { guest, leaveAll, track, waitFor, type Player } from "../game/helpers.ts";
import { clusterFixture, consume, describeWithRedis, reserve, type GameProc, type SeatReservation } from "./helpers.ts";

describeWithRedis("cluster on Redis: two game processes, one stats service", () => {
  const cluster = clusterFixture("cluster");
  let a: GameProc;
  let b: GameProc;
  const players: { player: Player; token: string; seat: SeatReservation }[] = [];

  beforeAll(async () => {
    const env = { MAX_PLAYERS: "2", NPCS: "1", CLIENT_ROOM_CHOICE: "1" };
    [a, b] = await Promise.all([cluster.startGame(env), cluster.startGame(env)]);
  }, 200_000);

  afterAll(() => leaveAll(players.map((p) => p.player)), 30_000);

  const healthz = async (p: GameProc) =>
    (await (await fetch(`${p.httpUrl}/healthz`)).json()) as { process: string; rooms: number; redis?: string };

  async function enter(via: GameProc, tokenFrom: GameProc): Promise<(typeof players)[number]> {
    const g = await guest(tokenFrom);
    const seat = await reserve(via, g.token);
    const entry = { player: track(await consume(via, seat), g.playerId), token: g.token, seat };
    players.push(entry);
    return entry;
  }

  it("rooms spread over both processes as players arrive through A; a client that asked A plays in a room on B", async () => {
    // tokens from either process work on both (one AUTH_SECRET)
    // Colyseus places a new room on the process with the fewest rooms as each process last wrote
    // its count to Redis, at most once a second: a burst of creations within that second all goes
    // to one process. So each arrival waits until the counts in Redis include every room so far.
    for (let i = 0; i < 8; i++) {
      await enter(a, i % 2 === 0 ? a : b);
      const rooms = new Set(players.map((p) => p.seat.roomId)).size;
      await expect.poll(cluster.roomsCounted, { timeout: 10_000, interval: 50 }).toBeGreaterThanOrEqual(rooms);
    }
    const byProcess = new Map<string, Set<string>>();
    for (const { seat } of players)
      byProcess.set(seat.processId, (byProcess.get(seat.processId) ?? new Set()).add(seat.roomId));
    process.stdout.write(
      `cluster: rooms per process ${JSON.stringify([...byProcess].map(([k, v]) => [k, v.size]))} (A=${a.processId})\n`,
    );
    expect([...byProcess.keys()].sort()).toEqual([a.processId, b.processId].sort());
    const [ha, hb] = [await healthz(a), await healthz(b)];
    expect(ha.process).toBe(a.processId);
    expect(ha.rooms).toBe(byProcess.get(a.processId)!.size);
    expect(hb.rooms).toBe(byProcess.get(b.processId)!.size);

    const onB = players.find((p) => p.seat.processId === b.processId)!;
    expect(onB.seat.publicAddress).toBe(`127.0.0.1:${b.port}`);
    await waitFor("rounds in the room on B", () => onB.player.rounds.length >= 3, 15_000);
    const metricsB = await (await fetch(`${b.httpUrl}/metrics`)).text();
    expect(metricsB).toContain(`skirmish_rooms{process="${b.processId}"} ${hb.rooms}`);
    // every series, the process's default metrics too
    expect(metricsB).toMatch(new RegExp(`^process_cpu_user_seconds_total\\{process="${b.processId}"\\} `, "m"));
  });

  it("npm run sim through A reports the rooms of each process", async () => {
    // a new room every 2 s (2 players a room, a bot a second): longer than Colyseus's 1 s room-count persistence
    const run = await runSim(["--url", a.url, "--bots", "8", "--duration", "12", "--ramp", "8"], 90_000);
    expect(run.report, run.stderr).not.toBeNull();
    const perProcess = run.report!.roomsPerProcess;
    expect(Object.keys(perProcess).sort(), run.stdout + run.stderr).toEqual([a.processId, b.processId].sort());
    expect(perProcess[a.processId] + perProcess[b.processId]).toBe(run.report!.rooms);
    expect(run.stdout).toMatch(/processes 2 {2}rooms per process /);
  }, 120_000);

  it("one seat per player across processes: a second join through the other process is refused; after leaving, it is accepted", async () => {
    // a free seat in a room on B: one of its two players leaves
    const onB = players.filter((p) => p.seat.processId === b.processId);
    const leaving = onB[0];
    await leaving.player.room.leave();
    players.splice(players.indexOf(leaving), 1);
    const roomOnB = leaving.seat.roomId;

    // a player seated on A tries the room on B, asking A and asking B
    const seated = players.find((p) => p.seat.processId === a.processId)!;
    for (const via of [a, b]) {
      const refused = await reserve(via, seated.token, "joinById", roomOnB).then(
        (s) =>
          consume(via, s).then(
            () => "joined",
            (e: Error) => e.message,
          ),
        (e: Error) => e.message,
      );
      expect(refused).toMatch(/already in an arena/);
    }
    expect(seated.player.left).toBeNull();

    await seated.player.room.leave();
    players.splice(players.indexOf(seated), 1);
    const seat = await reserve(b, seated.token, "joinById", roomOnB);
    const moved = { player: track(await consume(b, seat), seated.player.id), token: seated.token, seat };
    players.push(moved);
    await waitFor("rounds after moving to B", () => moved.player.rounds.length >= 1, 15_000);
  });

  it("Redis dies mid-match: running rooms keep playing, joins get a clear error; when it is back, joins work and seats hold", async () => {
    const watched = players[0];
    await cluster.redis.kill();
    const before = watched.player.rounds.length;
    await waitFor("rounds while Redis is down", () => watched.player.rounds.length >= before + 5, 15_000);

    const g = await guest(a);
    const refused = await reserve(a, g.token).then(
      () => "reserved",
      (e: Error) => e.message,
    );
    expect(refused).toMatch(/matchmaking unavailable: the cluster's Redis is unreachable/);
    expect((await healthz(a)).redis).toBe("down");
    expect(await (await fetch(`${a.httpUrl}/metrics`)).text()).toMatch(
      /skirmish_cluster_errors_total\{[^}]*kind="matchmaking_refused"[^}]*\} [1-9]/,
    );

    await cluster.restartRedis();
    // each process writes its seats again into the empty Redis
    await expect
      .poll(() => cluster.probe.exists(`skirmish:seat:${watched.player.id}`), { timeout: 20_000, interval: 100 })
      .toBe(1);
    const back = await enter(a, a);
    await waitFor("rounds after Redis came back", () => back.player.rounds.length >= 1, 15_000);
    // the restored seat still refuses a second join of a seated player
    const dup = await reserve(b, watched.token).then(
      (s) =>
        consume(b, s).then(
          () => "joined",
          (e: Error) => e.message,
        ),
      (e: Error) => e.message,
    );
    expect(dup).toMatch(/already in an arena/);
  });

  it("a seat left in Redis by a dead process (no IPC channel, no answer) does not block its player", async () => {
    const g = await guest(a);
    await cluster.probe.set(`skirmish:seat:${g.playerId}`, "deadProcess1 someRoom");
    await cluster.probe.sadd("skirmish:seats-of:deadProcess1", g.playerId);
    const seat = await reserve(a, g.token, "create");
    players.push({ player: track(await consume(a, seat), g.playerId), token: g.token, seat });
    expect(await cluster.probe.get(`skirmish:seat:${g.playerId}`)).toBe(`${seat.processId} ${seat.roomId}`);
    expect(await cluster.probe.exists("skirmish:seats-of:deadProcess1")).toBe(0);
  });

  it("SIGKILL of B: its clients see a close, A adopts its rooms (listed under A, not B), its players are back in them through A with client.reconnect(token); both journals replay", async () => {
    const onB = players.filter((p) => p.seat.processId === b.processId);
    expect(onB.length).toBeGreaterThan(0);
    // the SDK would try to reconnect to B for a while before giving up; these players come back through A instead
    for (const p of onB) p.player.room.reconnection.enabled = false;
    const killedAt = performance.now();
    b.child.kill("SIGKILL");
    await b.exited;
    await waitFor("B's clients closed", () => onB.every((p) => p.player.left !== null), 15_000);

    // nobody joins meanwhile: only the periodic stale-process sweep can clean up

    const listed = async () =>
      Object.values(await cluster.probe.hgetall("roomcaches")).filter((v) => JSON.parse(v).processId === b.processId)
        .length;
    await expect.poll(listed, { timeout: 20_000, interval: 100 }).toBe(0);
    process.stdout.write(
      `cluster: B's rooms left the matchmaking listing ${Math.round(performance.now() - killedAt)} ms after SIGKILL\n`,
    );
    // the sweep drops B from the room-count table too (its rooms may have left the listing first, adopted by A)
    await vi.waitFor(async () => expect(await cluster.probe.hexists("roomcount", b.processId)).toBe(0), {
      timeout: 20_000,
    });

    // B's players back in their own rooms, which A adopted, with the reconnection token their SDK holds
    for (const p of onB) {
      const room = await vi.waitFor(() => new Client(a.url).reconnect(p.player.room.reconnectionToken), {
        timeout: 20_000,
        interval: 200,
      });
      expect(room.roomId).toBe(p.seat.roomId);
      players.push({ player: track(room, p.player.id), token: p.token, seat: { ...p.seat, processId: a.processId } });
    }

    // one journal per process, replayed together (as `npm run replay -- data/journal-*.db`)
    expect(a.journal).not.toBe(b.journal);
    const out: string[] = [];
    expect(await replayJournal({ paths: [a.journal, b.journal] }, (l) => out.push(l))).toBe(0);
    for (const journal of [a.journal, b.journal]) expect(out).toContain(`== ${journal}`);
    // rooms of both processes replayed (a room is replayed once, from every file it has rounds in)
    const rooms = new Set(out.filter((l) => l.startsWith("OK room=")).map((l) => l.split(" ")[1]));
    expect(rooms.size).toBeGreaterThanOrEqual(2);
    expect(out.at(-1)).toMatch(/from 2 journals: all OK/);
  });
});
