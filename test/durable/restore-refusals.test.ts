// What a restart restores and what it refuses: a room handed over by a stopping server comes back
// and its player gets in again with client.reconnect(token) (HTTP, through the new process); a
// room whose match ended is never resurrected; a room whose last row is torn is refused loudly
// while the others restore, and the server starts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as pathJoin } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Client } from "@colyseus/sdk";
import { afterAll, describe, expect, it } from "vitest";
import { ROOM_NAME } from "../../shared/protocol.ts";
import { createLogger } from "../../server/observability/log.ts";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import { entitiesOf, guest, startGame, startStats, track, waitFor, type Player } from "../game/helpers.ts";

const dir = mkdtempSync(pathJoin(tmpdir(), "skirmish-restore-"));
const journalPath = pathJoin(dir, "journal.db");
let stats: StatsService | undefined;
const games: GameServer[] = [];
afterAll(async () => {
  for (const g of games) await g.close();
  await stats?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(lines: string[] = []): Promise<GameServer> {
  const game = await startGame(stats!.rpcUrl, {
    journalPath,
    clientRoomChoice: 1,
    reconnectGraceS: 60,
    log: createLogger("info", (l) => lines.push(l)),
  });
  games.push(game);
  return game;
}

/** A player in a room of its own (create, not joinOrCreate). */
async function ownRoom(game: GameServer, name: string): Promise<Player> {
  const g = await guest(game, name);
  return track(await new Client(game.url).create(ROOM_NAME, { token: g.token }), g.playerId);
}

describe("restore after a restart", () => {
  it("restores a handed-over room, never a finished one, and refuses a torn one with a log line", async () => {
    stats = await startStats();
    const first = await start();
    const ann = await ownRoom(first, "Ann");
    const bob = await ownRoom(first, "Bob");
    const cat = await ownRoom(first, "Cat");
    await waitFor("rounds in all three rooms", () => [ann, bob, cat].every((p) => p.rounds.length >= 3), 15_000);
    // Cat's match ends: her room is disposed once she leaves
    await cat.room.leave();
    await waitFor("Cat's room gone", () => ![...first.rooms].some((r) => r.roomId === cat.room.roomId));
    const annToken = ann.room.reconnectionToken;
    await first.close();
    // what Ann last saw: the stopping server finished and broadcast its round in flight first
    const annHp = entitiesOf(ann.room).get(ann.id)!.hp;
    const annRound = ann.rounds.at(-1)!.round;
    // closed with 4010 ("may reconnect"), within the SDK's 5 s minUptime: it gives up, the app reconnects
    await waitFor("Ann's client closed", () => ann.left !== null);

    // Bob's room's last row torn: an encoding no version wrote
    const db = new DatabaseSync(journalPath);
    db.prepare(
      "UPDATE rounds SET enc = 99 WHERE room = ? AND round = (SELECT max(round) FROM rounds WHERE room = ?)",
    ).run(bob.room.roomId, bob.room.roomId);
    db.close();

    const lines: string[] = [];
    const second = await start(lines);
    const ids = [...second.rooms].map((r) => r.roomId);
    expect(ids).toEqual([ann.room.roomId]);
    expect(second.metrics.roomsRestored.get("restart")).toBe(1);
    expect(second.metrics.roomsRefused.get("unreadable")).toBe(1);
    const refusal = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "room not restored");
    expect(refusal).toMatchObject({
      level: "error",
      room: bob.room.roomId,
      reason: expect.stringMatching(/encoding 99/),
    });

    // Ann comes back through the new process with the token her SDK held, into the same entity
    const room = await new Client(second.url).reconnect(annToken);
    const firstState = new Promise<ReturnType<typeof entitiesOf>>((seen) =>
      room.onStateChange.once(() => seen(entitiesOf(room))),
    );
    const back = track(room, ann.id);
    expect(back.room.roomId).toBe(ann.room.roomId);
    expect((await firstState).get(ann.id)).toMatchObject({ kind: "player", connected: true, hp: annHp });
    const next = await waitFor("a round after the restore", () => back.rounds[0]);
    expect(next.round).toBe(annRound + 1);
    expect(second.metrics.seatsReclaimed.get()).toBe(1);
    // a token that never held the seat does not open it
    await expect(new Client(second.url).reconnect(`${ann.room.roomId}:${"x".repeat(20)}`)).rejects.toThrow();
    await back.room.leave();
  }, 60_000);
});
