import { afterAll, describe, expect, it } from "vitest";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import { join, leaveAll, startGame, startStats, type Player } from "./helpers.ts";

const basic = (user: string, password: string) => "Basic " + Buffer.from(`${user}:${password}`).toString("base64");

describe("the Colyseus monitor at /colyseus", () => {
  const started: { stats?: StatsService; games: GameServer[]; players: Player[] } = { games: [], players: [] };
  afterAll(async () => {
    await leaveAll(started.players);
    for (const g of started.games) await g.close();
    await started.stats?.close();
  });

  it("does not exist without MONITOR_PASSWORD", async () => {
    started.stats = await startStats();
    const game = await startGame(started.stats.rpcUrl);
    started.games.push(game);
    for (const path of ["/colyseus/", "/colyseus/api"]) {
      const res = await fetch(game.httpUrl + path, { headers: { authorization: basic("admin", "") } });
      expect(res.status, path).toBe(404);
    }
    await game.close();
  });

  it("asks for the password, refuses a wrong one, and lists live rooms with the right one", async () => {
    const game = await startGame(started.stats!.rpcUrl, { monitorPassword: "s3cret-pw" });
    started.games.push(game);
    const anonymous = await fetch(`${game.httpUrl}/colyseus/api`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
    for (const [user, pw] of [
      ["admin", "wrong"],
      ["root", "s3cret-pw"],
      ["admin", ""],
    ]) {
      const res = await fetch(`${game.httpUrl}/colyseus/api`, { headers: { authorization: basic(user, pw) } });
      expect(res.status, `${user}:${pw}`).toBe(401);
    }
    const ok = { authorization: basic("admin", "s3cret-pw") };
    const page = await fetch(`${game.httpUrl}/colyseus/`, { headers: ok });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app">');

    const player = await join(game, "Mon");
    started.players.push(player);
    const api = (await (await fetch(`${game.httpUrl}/colyseus/api`, { headers: ok })).json()) as {
      rooms: { roomId: string; clients: number }[];
    };
    expect(api.rooms.map((r) => r.roomId)).toContain(player.room.roomId);
    expect(api.rooms.find((r) => r.roomId === player.room.roomId)!.clients).toBe(1);
  });
});
