import { beforeAll, describe, expect, it } from "vitest";
import { Client } from "@colyseus/sdk";
import { ROOM_NAME } from "../../shared/protocol.ts";
import { decodeJwt, SignJWT } from "jose";
import { playerIdOfSubject } from "../../server/game/auth/player-id-mapping.ts";
import { GUEST_AUDIENCE, GUEST_ISSUER } from "../../server/game/auth/guest-issuer.ts";
import { loadConfig, DEFAULT_CONFIG } from "../../server/game/config.ts";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import { closeAfterAll, AUTH_SECRET, guest, join, startGame, startStats, track, type Player } from "./helpers.ts";

describe("player id of a studio token's sub", () => {
  it("keeps plain ids, escapes the rest injectively, refuses what is too long or lands among NPC and guest ids", () => {
    expect(playerIdOfSubject("5f7c8ec7-c33c-6c00-4bba-fe8200000000")).toEqual({
      ok: true,
      playerId: "5f7c8ec7-c33c-6c00-4bba-fe8200000000",
    });
    expect(playerIdOfSubject("auth0|5f7c")).toEqual({ ok: true, playerId: "auth0_7C5f7c" });
    // `_` is escaped too, so an escaped id and a plain one never meet
    expect(playerIdOfSubject("a_7C")).toEqual({ ok: true, playerId: "a_5F7C" });
    expect(playerIdOfSubject("a|")).toEqual({ ok: true, playerId: "a_7C" });
    expect(playerIdOfSubject("José")).toEqual({ ok: true, playerId: "Jos_C3_A9" });
    expect(playerIdOfSubject("x".repeat(64))).toMatchObject({ ok: true });
    expect(playerIdOfSubject("x".repeat(65))).toMatchObject({ ok: false, message: /longer than a player id/ });
    expect(playerIdOfSubject("x".repeat(60) + "||")).toMatchObject({ ok: false, message: /once escaped/ });
    expect(playerIdOfSubject("")).toMatchObject({ ok: false, message: /no sub/ });
    expect(playerIdOfSubject(42)).toMatchObject({ ok: false, message: /no sub/ });
    expect(playerIdOfSubject("npc_goblin_1")).toMatchObject({ ok: false, message: /NPCs/ });
    expect(playerIdOfSubject("npc|x")).toMatchObject({ ok: false, message: /NPCs/ });
    expect(playerIdOfSubject("p_abc")).toMatchObject({ ok: false, message: /guests/ });
    expect(playerIdOfSubject("p:abc")).toMatchObject({ ok: false, message: /guests/ });
  });
});

describe("configuration", () => {
  it("reads env vars, lets flags win, and refuses bad values by name", () => {
    const c = loadConfig(["--round-ticks", "5", "--port=0"], {
      ROUND_TICKS: "7",
      TICK_HZ: "30",
      JOURNAL_PATH: ":memory:",
    })!;
    expect(c.roundTicks).toBe(5);
    expect(c.tickHz).toBe(30);
    expect(c.port).toBe(0);
    expect(c.journalPath).toBe(":memory:");
    expect(c.maxPlayers).toBe(DEFAULT_CONFIG.maxPlayers);
    expect(loadConfig(["--help"], {})).toBeNull();
    expect(() => loadConfig([], { TICK_HZ: "fast" })).toThrow(/TICK_HZ/);
    expect(() => loadConfig(["--nope", "1"], {})).toThrow(/--nope/);
    expect(() => loadConfig(["--round-deadline-ms", "99999999999"], {})).toThrow(
      /--round-deadline-ms: expected an integer in \[1, 600000\]/,
    );
  });

  it("refuses a studio login configured by halves or fetched over plain http from elsewhere", () => {
    const login = {
      AUTH_JWKS_URL: "https://login.example/jwks.json",
      AUTH_ISSUER: "https://login.example/",
      AUTH_AUDIENCE: "game",
    };
    expect(loadConfig([], login)).toMatchObject({ authJwksUrl: login.AUTH_JWKS_URL, authIssuer: login.AUTH_ISSUER });
    expect(() => loadConfig([], { ...login, AUTH_ISSUER: undefined })).toThrow(/AUTH_JWKS_URL needs AUTH_ISSUER/);
    expect(() => loadConfig([], { ...login, AUTH_AUDIENCE: undefined })).toThrow(/AUTH_JWKS_URL needs AUTH_AUDIENCE/);
    expect(() => loadConfig([], { AUTH_AUDIENCE: "game" })).toThrow(/AUTH_AUDIENCE is set without AUTH_JWKS_URL/);
    expect(() => loadConfig([], { ...login, AUTH_JWKS_URL: "http://login.example/jwks.json" })).toThrow(
      /must be https/,
    );
    expect(() => loadConfig([], { ...login, AUTH_JWKS_URL: "jwks.json" })).toThrow(/not a URL/);
    expect(loadConfig([], { ...login, AUTH_JWKS_URL: "http://127.0.0.1:9000/jwks.json" })).toMatchObject({
      authJwksUrl: "http://127.0.0.1:9000/jwks.json",
    });
  });
});

describe("guest auth against the arena", () => {
  let stats: StatsService;
  let game: GameServer;
  const players: Player[] = [];

  beforeAll(async () => {
    stats = await startStats();
    game = await startGame(stats.rpcUrl);
  });
  closeAfterAll(() => ({ players, game, stats }));

  it("POST /auth/guest issues a player id, a name and a JWT the arena accepts", async () => {
    const g = await guest(game, "Ann");
    expect(g.playerId).toMatch(/^p_[A-Za-z0-9_-]+$/);
    expect(g.name).toBe("Ann");
    const claims = decodeJwt(g.token);
    expect(claims).toMatchObject({ sub: g.playerId, name: "Ann", iss: GUEST_ISSUER, aud: GUEST_AUDIENCE });
    expect(claims.exp! - claims.iat!).toBe(game.config.authTtlS);
    const room = await new Client(game.url).joinOrCreate(ROOM_NAME, { token: g.token });
    players.push(track(room, g.playerId));
    expect(room.roomId).toBeTruthy();
    // unacceptable names are replaced, not echoed
    expect((await guest(game, "<script>")).name).toMatch(/^Guest-/);
  });

  it("refuses a missing, forged or expired token with a clear error", async () => {
    const attempt = async (options: Record<string, unknown>) => {
      try {
        await new Client(game.url).joinOrCreate(ROOM_NAME, options);
        return "joined";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(await attempt({})).toMatch(/missing token: get one from POST \/auth\/guest/);
    const now = Math.floor(Date.now() / 1000);
    const guestToken = (secret: string, claims: Record<string, unknown>) =>
      new SignJWT({
        iss: GUEST_ISSUER,
        aud: GUEST_AUDIENCE,
        sub: "p_forger",
        name: "F",
        iat: now,
        exp: now + 600,
        ...claims,
      })
        .setProtectedHeader({ alg: "HS256" })
        .sign(new TextEncoder().encode(secret));
    expect(await attempt({ token: await guestToken("not-the-server-secret", {}) })).toMatch(/invalid token signature/);
    expect(await attempt({ token: await guestToken(AUTH_SECRET, { exp: now - 60 }) })).toMatch(/token expired/);
    expect(await attempt({ token: 42 })).toMatch(/malformed token/);
    const good = await guest(game);
    expect(await attempt({ token: good.token + "x" })).toMatch(/invalid token signature/);
    expect(await attempt({ token: await guestToken(AUTH_SECRET, { exp: 1e300 }) })).toMatch(
      /beyond this server's token lifetime/,
    );
    // signed with the server's secret, but not a guest's player id
    expect(await attempt({ token: await guestToken(AUTH_SECRET, { sub: "npc_goblin_1" }) })).toMatch(
      /names no valid player id/,
    );
    expect(await attempt({ token: await guestToken(AUTH_SECRET, { aud: "elsewhere" }) })).toMatch(/audience/);
    // the format before JWTs: a clear word to get a new token, not "malformed"
    const old = `${Buffer.from(JSON.stringify({ pid: "p_abc", name: "A", exp: now + 60 })).toString("base64url")}.${"A".repeat(43)}`;
    expect(await attempt({ token: old })).toMatch(
      /old format \(before JWTs\), no longer accepted: get one from POST \/auth\/guest/,
    );
    const metrics = await (await fetch(`${game.httpUrl}/metrics`)).text();
    for (const [reason, n] of [
      ["missing", 1],
      ["forged", 2],
      ["expired", 1],
      ["malformed", 1],
      ["lifetime", 1],
      ["subject", 1],
      ["audience", 1],
      ["old_format", 1],
    ] as const) {
      expect(metrics).toContain(`skirmish_auth_rejected_total{reason="${reason}"} ${n}`);
    }
  });

  it("keeps a player id in one arena at a time", async () => {
    const g = await guest(game);
    const first = await new Client(game.url).joinOrCreate(ROOM_NAME, { token: g.token });
    players.push(track(first, g.playerId));
    await expect(new Client(game.url).joinOrCreate(ROOM_NAME, { token: g.token })).rejects.toThrow(
      /already in an arena/,
    );
    // once the first seat is gone, the same token joins again
    await first.leave();
    const again = await new Client(game.url).joinOrCreate(ROOM_NAME, { token: g.token });
    players.push(track(again, g.playerId));
  });

  it("refuses a body that is not an object", async () => {
    const res = await fetch(`${game.httpUrl}/auth/guest`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "[1,2]",
    });
    expect(res.status).toBe(400);
    const joined = await join(game);
    players.push(joined);
  });
});
