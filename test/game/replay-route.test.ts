import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as pathJoin } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@colyseus/sdk";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import type { ReplayPage } from "../../shared/replay.ts";
import { ROOM_NAME } from "../../shared/protocol.ts";
import { sendReplayBurst } from "../../client-sim/attacks/replay-burst.ts";
import {
  AUTH_SECRET,
  closeAfterAll,
  STATS_TOKEN,
  guest,
  join,
  leaveAll,
  spawnEntry,
  spawnStats,
  startGame,
  startStats,
  stop,
  track,
  waitFor,
  type Player,
} from "./helpers.ts";

const bearer = (token: string | undefined) => ({ authorization: `Bearer ${token}` });

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

  const get = (query: string, headers: Record<string, string> = bearer(ann.token)) =>
    fetch(`${game.httpUrl}/replay/rounds?${query}`, { headers });

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

  it("refuses bad parameters with 400 and names them; a room without such rounds is 404", async () => {
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
    expect((await get(`room=${room}&from=4000000000`)).status).toBe(404);
  });

  it("answers only the room's players and spectators: anonymous 401, somebody else's token 403", async () => {
    const room = ann.room.roomId;
    const before = game.metrics.errors.get("replay_unauthorized");
    const refusedHeaders: Record<string, string>[] = [
      {},
      { authorization: "Bearer forged.token" },
      { authorization: `Basic ${ann.token}` },
    ];
    for (const headers of refusedHeaders) {
      const res = await get(`room=${room}`, headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(((await res.json()) as { error: string }).error).toMatch(/Authorization: Bearer/);
    }
    expect(game.metrics.errors.get("replay_unauthorized")).toBe(before + 3);
    const stranger = await guest(game, "Stranger");
    expect((await get(`room=${room}`, bearer(stranger.token))).status).toBe(403);
    // Ann's token is no key to other rooms
    expect((await get("room=nosuchroom")).status).toBe(403);

    // the stranger watches the room: now it may read it
    const seat = await fetch(`${game.httpUrl}/watch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ roomId: room, token: stranger.token }),
    });
    expect(seat.status).toBe(200);
    const watcher = track(
      await new Client(game.url).consumeSeatReservation(
        (await seat.json()) as Parameters<Client["consumeSeatReservation"]>[0],
      ),
      stranger.playerId,
    );
    try {
      expect((await get(`room=${room}&limit=1`, bearer(stranger.token))).status).toBe(200);
    } finally {
      await leaveAll([watcher]);
    }
  });

  it("answers a full page of 100 rounds whole (a body far larger than a socket buffer)", async () => {
    const fast = await startGame(stats.rpcUrl, { tickHz: 50, roundTicks: 2 });
    const bob = await join(fast, "Bob");
    try {
      await waitFor("101 rounds", () => fast.journal.count(bob.room.roomId) > 100, 20_000);
      const res = await fetch(`${fast.httpUrl}/replay/rounds?room=${bob.room.roomId}`, {
        headers: bearer(bob.token),
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

describe("replay requests against the rounds in play", () => {
  let stats: StatsService;
  beforeAll(async () => {
    stats = await startStats();
  });
  afterAll(() => stats?.close());

  it("REPLAY_PUBLIC=1 answers anyone", async () => {
    const open = await startGame(stats.rpcUrl, { replayPublic: 1 });
    const cid = await join(open, "Cid");
    try {
      await waitFor("a journaled round", () => open.journal.count(cid.room.roomId) > 0);
      expect((await fetch(`${open.httpUrl}/replay/rounds?room=${cid.room.roomId}`)).status).toBe(200);
    } finally {
      await leaveAll([cid]);
      await open.close();
    }
  });

  it("limits pages per client address (429 with Retry-After)", async () => {
    const limited = await startGame(stats.rpcUrl, { replayPagesPerMinute: 3 });
    const dot = await join(limited, "Dot");
    try {
      await waitFor("a journaled round", () => limited.journal.count(dot.room.roomId) > 0);
      const url = `${limited.httpUrl}/replay/rounds?room=${dot.room.roomId}&limit=1`;
      for (let i = 0; i < 3; i++) expect((await fetch(url, { headers: bearer(dot.token) })).status).toBe(200);
      const refused = await fetch(url, { headers: bearer(dot.token) });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      await leaveAll([dot]);
      await limited.close();
    }
  });

  it("a burst of 200 full pages from outside holds up no round of the player in play", async () => {
    // a recorded match to replay: 13 entities a round, 120 rounds, in a journal file
    const dir = mkdtempSync(pathJoin(tmpdir(), "skirmish-replay-"));
    const journalPath = pathJoin(dir, "journal.db");
    const recorder = await startGame(stats.rpcUrl, { journalPath, tickHz: 50, roundTicks: 2, npcs: 12 });
    const ann = await join(recorder, "Ann");
    await waitFor("120 journaled rounds", () => recorder.journal.count(ann.room.roomId) >= 120, 30_000);
    const recorded = ann.room.roomId;
    await leaveAll([ann]);
    await recorder.close();

    // the game and its stats service in processes of their own, as an attacker sees them (the
    // attacker's 200 requests load this process), on that journal: 500 ms rounds (10 Hz, 5 ticks);
    // replays public and no per-address limit, so only the worker thread and the bound on pages in
    // flight stand between the burst and the rounds
    const ownStats = await spawnStats();
    const game = await spawnEntry("server/game/main.ts", {
      PORT: "0",
      HOST: "127.0.0.1",
      STATS_URL: `ws://127.0.0.1:${ownStats.port}/rpc`,
      STATS_TOKEN,
      AUTH_SECRET,
      JOURNAL_PATH: journalPath,
      LOG_LEVEL: "warn",
      SUMMARY_EVERY_S: "0",
      TICK_HZ: "10",
      ROUND_TICKS: "5",
      ROUND_DEADLINE_MS: "100",
      REPLAY_PUBLIC: "1",
      REPLAY_PAGES_PER_MINUTE: "1000000",
    });
    const httpUrl = `http://127.0.0.1:${game.port}`;
    const metric = async (name: string) =>
      Number(new RegExp(`^${name} (\\d+)$`, "m").exec(await (await fetch(`${httpUrl}/metrics`)).text())![1]);
    const g = await guest({ httpUrl }, "Eve");
    const eve = track(
      await new Client(`ws://127.0.0.1:${game.port}`).joinOrCreate(ROOM_NAME, { token: g.token }),
      g.playerId,
    );
    try {
      await waitFor("three rounds", () => eve.rounds.length >= 3);
      // a server that has made a replay page before (its worker thread started)
      expect((await sendReplayBurst({ httpUrl, room: recorded, count: 1, limit: 100 })).get(200)).toBe(1);

      const dropped = await metric("skirmish_ticks_dropped_total");
      const overruns = await metric("skirmish_round_overruns_total");
      const from = eve.rounds.length;
      const answered = await sendReplayBurst({ httpUrl, room: recorded, count: 200, limit: 100 });
      expect(answered.get(200)).toBeGreaterThan(0);
      expect((answered.get(200) ?? 0) + (answered.get(503) ?? 0)).toBe(200);
      await waitFor("two rounds after the burst", () => eve.rounds.length >= from + 2);
      // replayed on the round thread, such a burst stalled it for seconds: ticks dropped and round
      // slots skipped (rounds never played). Now not one round is lost: fewer ticks dropped than a
      // round has, no round slot skipped, and every round reached the player in order
      expect((await metric("skirmish_ticks_dropped_total")) - dropped).toBeLessThan(5);
      expect(await metric("skirmish_round_overruns_total")).toBe(overruns);
      const seen = eve.rounds.slice(from - 1).map((r) => r.round);
      expect(seen).toEqual(seen.map((_, i) => seen[0] + i));
    } finally {
      await leaveAll([eve]);
      await stop(game);
      await stop(ownStats);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
