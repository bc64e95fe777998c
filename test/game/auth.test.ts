import { beforeAll, describe, expect, it } from "vitest";
import { Client } from "@colyseus/sdk";
import { ROOM_NAME } from "../../shared/protocol.ts";
import { signToken, verifyToken } from "../../server/game/auth/player-token.ts";
import { loadConfig, DEFAULT_CONFIG } from "../../server/game/config.ts";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import { closeAfterAll, AUTH_SECRET, guest, join, startGame, startStats, track, type Player } from "./helpers.ts";

describe("player tokens", () => {
  const now = 1_700_000_000;
  const ttl = 3600;
  it("verifies what it signed and names what is wrong otherwise", () => {
    const token = signToken("s3cret", { pid: "p_abc", name: "Ann", exp: now + 60 });
    expect(verifyToken("s3cret", token, now, ttl)).toEqual({
      ok: true,
      claims: { pid: "p_abc", name: "Ann", exp: now + 60 },
    });
    expect(verifyToken("other", token, now, ttl)).toMatchObject({ ok: false, reason: "forged" });
    expect(verifyToken("s3cret", token, now + 60, ttl)).toMatchObject({ ok: false, reason: "expired" });
    expect(verifyToken("s3cret", undefined, now, ttl)).toMatchObject({ ok: false, reason: "missing" });
    expect(verifyToken("s3cret", "abc", now, ttl)).toMatchObject({ ok: false, reason: "malformed" });
    // a payload swapped under a valid signature: another player id
    const other = signToken("s3cret", { pid: "p_other", name: "Bob", exp: now + 60 });
    const spliced = other.split(".")[0] + "." + token.split(".")[1];
    expect(verifyToken("s3cret", spliced, now, ttl)).toMatchObject({ ok: false, reason: "forged" });
    // signed, but not a player id an entity can have
    expect(
      verifyToken("s3cret", signToken("s3cret", { pid: "npc_goblin_1", name: "G", exp: now + 60 }), now, ttl),
    ).toMatchObject({ ok: false, reason: "malformed" });
    expect(
      verifyToken("s3cret", signToken("s3cret", { pid: "p_bad id!", name: "G", exp: now + 60 }), now, ttl),
    ).toMatchObject({ ok: false, reason: "malformed" });
  });

  it("accepts only the exact canonical signature and an expiry within the token lifetime", () => {
    const token = signToken("s3cret", { pid: "p_abc", name: "Ann", exp: now + 60 });
    const [payload, sig] = token.split(".");
    // decoders ignore padding, stray characters and the 2 spare bits of the 43rd character
    expect(Buffer.from(sig + "=", "base64url").equals(Buffer.from(sig, "base64url"))).toBe(true);
    expect(verifyToken("s3cret", token + "=", now, ttl)).toMatchObject({ ok: false, reason: "forged" });
    expect(verifyToken("s3cret", token + "==", now, ttl)).toMatchObject({ ok: false, reason: "forged" });
    expect(verifyToken("s3cret", `${payload}.${sig.slice(0, 20)}!${sig.slice(20)}`, now, ttl)).toMatchObject({
      ok: false,
      reason: "forged",
    });
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(sig[42]);
    const junk = alphabet[last ^ 1]; // flips one of the low bits no byte uses
    const sameBytes = sig.slice(0, 42) + junk;
    expect(Buffer.from(sameBytes, "base64url").equals(Buffer.from(sig, "base64url"))).toBe(true);
    expect(verifyToken("s3cret", `${payload}.${sameBytes}`, now, ttl)).toMatchObject({ ok: false, reason: "forged" });
    // a non-ASCII character whose low byte is the right one must not pass either
    const wide = sig.slice(0, 42) + String.fromCharCode(0x100 + sig.charCodeAt(42));
    expect(verifyToken("s3cret", `${payload}.${wide}`, now, ttl)).toMatchObject({ ok: false, reason: "forged" });
    // expiry: validly signed, but further ahead than the lifetime, or not an integer
    for (const exp of [1e300, now + ttl + 1, now + 0.5]) {
      expect(verifyToken("s3cret", signToken("s3cret", { pid: "p_abc", name: "Ann", exp }), now, ttl)).toMatchObject({
        ok: false,
        reason: "malformed",
      });
    }
    expect(
      verifyToken("s3cret", signToken("s3cret", { pid: "p_abc", name: "Ann", exp: now + ttl }), now, ttl),
    ).toMatchObject({ ok: true });
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

  it("POST /auth/guest issues a player id, a name and a token the arena accepts", async () => {
    const g = await guest(game, "Ann");
    expect(g.playerId).toMatch(/^p_[A-Za-z0-9_-]+$/);
    expect(g.name).toBe("Ann");
    expect(verifyToken(AUTH_SECRET, g.token, Math.floor(Date.now() / 1000), game.config.authTtlS)).toMatchObject({
      ok: true,
      claims: { pid: g.playerId },
    });
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
    expect(await attempt({})).toMatch(/missing token/);
    const forged = signToken("not-the-server-secret", {
      pid: "p_forger",
      name: "F",
      exp: Math.floor(Date.now() / 1000) + 600,
    });
    expect(await attempt({ token: forged })).toMatch(/invalid token signature/);
    const expired = signToken(AUTH_SECRET, { pid: "p_late", name: "L", exp: Math.floor(Date.now() / 1000) - 1 });
    expect(await attempt({ token: expired })).toMatch(/token expired/);
    expect(await attempt({ token: 42 })).toMatch(/malformed token/);
    const good = await guest(game);
    expect(await attempt({ token: good.token + "=" })).toMatch(/invalid token signature/);
    const farFuture = signToken(AUTH_SECRET, { pid: "p_forever", name: "F", exp: 1e300 });
    expect(await attempt({ token: farFuture })).toMatch(/beyond this server's token lifetime/);
    const metrics = await (await fetch(`${game.httpUrl}/metrics`)).text();
    for (const [reason, n] of [
      ["missing", 1],
      ["forged", 2],
      ["expired", 1],
      ["malformed", 2],
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
