import { get as httpGet } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { GameServer, GameServerOptions } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import { MAX_FAILED_LOGINS_PER_MIN } from "../../server/game/http/monitor-route.ts";
import { createLogger } from "../../server/observability/log.ts";
import { join, leaveAll, startGame, startStats, waitFor, type Player } from "./helpers.ts";

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

describe("the monitor against other websites, method calls and password guessing", () => {
  const PASSWORD = "s3cret-pw";
  const ok = { authorization: basic("admin", PASSWORD) };
  const GAME_SITE = "https://game.example";
  const EVIL = "https://evil.example";
  let stats: StatsService;
  let game: GameServer | undefined;
  const players: Player[] = [];
  const lines: string[] = [];
  beforeAll(async () => {
    stats = await startStats();
  });
  afterEach(async () => {
    await leaveAll(players.splice(0));
    await game?.close();
    game = undefined;
  });
  afterAll(() => stats?.close());

  const start = (overrides: GameServerOptions = {}) =>
    startGame(stats.rpcUrl, {
      monitorPassword: PASSWORD,
      corsOrigins: [GAME_SITE],
      log: createLogger("info", (line) => lines.push(line)),
      ...overrides,
    });
  const call = (g: GameServer, roomId: string, method: string, args: unknown[] = []) =>
    fetch(
      `${g.httpUrl}/colyseus/api/room/call?${new URLSearchParams({ roomId, method, args: JSON.stringify(args) })}`,
      { headers: ok },
    );

  it("answers no CORS for the monitor or /metrics, refuses other websites' requests, allows listed origins on game routes", async () => {
    game = await start();
    const api = `${game.httpUrl}/colyseus/api`;
    for (const origin of [EVIL, GAME_SITE]) {
      const preflight = await fetch(api, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
      });
      expect(preflight.headers.get("access-control-allow-origin"), origin).toBeNull();
      expect(preflight.headers.get("access-control-allow-credentials"), origin).toBeNull();
      const read = await fetch(api, { headers: { ...ok, origin } });
      expect(read.status, origin).toBe(403);
      expect(read.headers.get("access-control-allow-origin"), origin).toBeNull();
      const metrics = await fetch(`${game.httpUrl}/metrics`, { headers: { origin } });
      expect(metrics.headers.get("access-control-allow-origin"), origin).toBeNull();
    }
    // another site's <img> or link: no Origin on a GET, but the browser says where it came from
    expect((await fetch(api, { headers: { ...ok, "sec-fetch-site": "cross-site" } })).status).toBe(403);
    // the monitor page's own requests, and tools without a browser
    const own = await fetch(api, { headers: { ...ok, origin: game.httpUrl, "sec-fetch-site": "same-origin" } });
    expect(own.status).toBe(200);
    expect((await fetch(api, { headers: ok })).status).toBe(200);
    // an operator following a link to the monitor's page from elsewhere still gets the page
    // (node:http: fetch itself always says sec-fetch-mode: cors)
    const navigate = (path: string) =>
      new Promise<number>((resolve, reject) =>
        httpGet(
          `${game!.httpUrl}${path}`,
          { headers: { ...ok, "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" } },
          (res) => {
            res.resume();
            resolve(res.statusCode!);
          },
        ).on("error", reject),
      );
    expect(await navigate("/colyseus/")).toBe(200);
    expect(await navigate("/colyseus/api")).toBe(403);

    // the game's public routes: a listed origin is answered with credentials, any other is not
    const listed = await fetch(`${game.httpUrl}/rooms`, { headers: { origin: GAME_SITE } });
    expect(listed.headers.get("access-control-allow-origin")).toBe(GAME_SITE);
    expect(listed.headers.get("access-control-allow-credentials")).toBe("true");
    const preflight = await fetch(`${game.httpUrl}/matchmake/joinOrCreate/arena`, {
      method: "OPTIONS",
      headers: { origin: GAME_SITE, "access-control-request-method": "POST" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBe(GAME_SITE);
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
    const unlisted = await fetch(`${game.httpUrl}/rooms`, { headers: { origin: EVIL } });
    expect(unlisted.status).toBe(200);
    expect(unlisted.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("calls no room method while MONITOR_ACTIONS is off: the arena keeps playing", async () => {
    game = await start();
    const ann = await join(game, "Ann");
    players.push(ann);
    const res = await call(game, ann.room.roomId, "onDispose");
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toMatch(/MONITOR_ACTIONS/);
    expect((await call(game, ann.room.roomId, "_forceClientDisconnect", [ann.room.sessionId])).status).toBe(403);
    const seen = ann.rounds.length;
    await waitFor("three more rounds", () => ann.rounds.length >= seen + 3);
    expect(ann.left).toBeNull();
    expect(game.metrics.errors.get("monitor_action_refused")).toBe(2);
  });

  it("with MONITOR_ACTIONS=1 runs its two actions, logged, and refuses any other method", async () => {
    game = await start({ monitorActions: 1 });
    const ann = await join(game, "Ann");
    players.push(ann);
    for (const [method, args] of [
      ["onDispose", []],
      ["_editStateProperty", [["round"], 1]],
      ["broadcast", ["round", {}]],
      ["_forceClientDisconnect", [{ not: "a session id" }]],
      ["disconnect", [4000]],
    ] as [string, unknown[]][]) {
      const res = await call(game, ann.room.roomId, method, args);
      expect(res.status, method).toBe(400);
    }
    const seen = ann.rounds.length;
    await waitFor("two more rounds", () => ann.rounds.length >= seen + 2);

    expect((await call(game, ann.room.roomId, "_forceClientDisconnect", [ann.room.sessionId])).status).toBe(200);
    await waitFor("Ann disconnected", () => ann.left !== null);
    expect(lines.some((l) => /"msg":"monitor action".*"action":"_forceClientDisconnect"/.test(l))).toBe(true);
  });

  it("locks an address out after failed logins, counts and logs them", async () => {
    game = await start();
    const api = `${game.httpUrl}/colyseus/api`;
    // no credentials at all is the browser asking for them: refused, not a failed login
    expect((await fetch(api)).status).toBe(401);
    for (let i = 0; i < MAX_FAILED_LOGINS_PER_MIN; i++) {
      const res = await fetch(api, { headers: { authorization: basic("admin", `guess-${i}`) } });
      expect(res.status).toBe(401);
    }
    const locked = await fetch(api, { headers: ok });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(game.metrics.errors.get("monitor_login_failed")).toBe(MAX_FAILED_LOGINS_PER_MIN);
    expect(lines.some((l) => /"msg":"monitor login failed".*"address":"(::ffff:)?127\.0\.0\.1"/.test(l))).toBe(true);
  });
});
