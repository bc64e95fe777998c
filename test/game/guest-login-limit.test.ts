// POST /auth/guest rate-limited per client address, against a real game server over HTTP.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GameServer } from "../../server/game/server.ts";
import { startGame } from "./helpers.ts";

/** No stats service: a guest login never reaches a room. */
const NO_STATS = "ws://127.0.0.1:9/rpc";

async function guestLogin(game: GameServer, forwardedFor?: string) {
  const res = await fetch(`${game.httpUrl}/auth/guest`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(forwardedFor ? { "x-forwarded-for": forwardedFor } : {}) },
    body: "{}",
  });
  return {
    status: res.status,
    retryAfter: res.headers.get("retry-after"),
    body: (await res.json()) as Record<string, unknown>,
  };
}

describe("guest login rate limit", () => {
  const games: GameServer[] = [];
  const start = async (overrides: Parameters<typeof startGame>[1]) => {
    const game = await startGame(NO_STATS, overrides);
    games.push(game);
    return game;
  };
  afterAll(async () => {
    for (const game of games) await game.close();
  });

  it("answers 429 with Retry-After past the burst, counted", async () => {
    const game = await start({ guestLoginExemptLoopback: 0, guestLoginBurst: 3, guestLoginPerMin: 1 });
    for (let i = 0; i < 3; i++) expect((await guestLogin(game)).status).toBe(200);
    const refused = await guestLogin(game);
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(50); // one login a minute: most of a minute to wait
    expect(refused.body).toMatchObject({
      error: "rate_limited",
      message: expect.stringMatching(/too many guest logins/),
    });
    expect((await guestLogin(game)).status).toBe(429);
    expect(game.metrics.guestLoginsLimited.get()).toBe(2);
    expect(game.metrics.guestsIssued.get()).toBe(3);
    const text = await (await fetch(`${game.httpUrl}/metrics`)).text();
    expect(text).toContain("skirmish_guest_logins_limited_total 2");
    expect(text).toContain("skirmish_guest_limiter_addresses 1");
  });

  it("TRUST_PROXY=1: each client behind the proxy has its own budget; TRUST_PROXY=0 ignores the header (counted)", async () => {
    const proxied = await start({
      guestLoginExemptLoopback: 0,
      guestLoginBurst: 2,
      guestLoginPerMin: 1,
      trustProxy: 1,
    });
    for (const client of ["203.0.113.7", "203.0.113.7"]) expect((await guestLogin(proxied, client)).status).toBe(200);
    expect((await guestLogin(proxied, "203.0.113.7")).status).toBe(429);
    // what a client writes left of the proxy's own entry does not buy it a fresh budget
    expect((await guestLogin(proxied, "198.51.100.1, 203.0.113.7")).status).toBe(429);
    expect((await guestLogin(proxied, "203.0.113.8")).status).toBe(200);
    // one IPv6 subscriber (a /64) is one budget, whichever of its addresses it uses
    expect((await guestLogin(proxied, "2001:db8:1:2::1")).status).toBe(200);
    expect((await guestLogin(proxied, "2001:db8:1:2:ffff::2")).status).toBe(200);
    expect((await guestLogin(proxied, "2001:db8:1:2::3")).status).toBe(429);

    const direct = await start({ guestLoginExemptLoopback: 0, guestLoginBurst: 2, guestLoginPerMin: 1 });
    for (const spoofed of ["192.0.2.1", "192.0.2.2"]) expect((await guestLogin(direct, spoofed)).status).toBe(200);
    expect((await guestLogin(direct, "192.0.2.3")).status).toBe(429);
    expect(direct.metrics.errors.get("forwarded_for_ignored")).toBe(3);
  });

  it("by default this machine's own clients (local bots, the tests) are not limited", async () => {
    const game = await start({ guestLoginBurst: 1, guestLoginPerMin: 1 });
    for (let i = 0; i < 5; i++) expect((await guestLogin(game)).status).toBe(200);
    expect(game.metrics.guestLoginsLimited.get()).toBe(0);
  });
});

describe("guest login limit, default settings", () => {
  let game: GameServer;
  beforeAll(async () => {
    game = await startGame(NO_STATS, { guestLoginExemptLoopback: 0 });
  });
  afterAll(() => game?.close());

  it("allows a burst of 20, then about one every 6 s", async () => {
    const statuses = [];
    for (let i = 0; i < 21; i++) statuses.push((await guestLogin(game)).status);
    expect(statuses.slice(0, 20).every((s) => s === 200)).toBe(true);
    expect(statuses[20]).toBe(429);
  });
});
