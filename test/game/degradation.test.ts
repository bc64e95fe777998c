import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { deriveStats } from "../../shared/stats.ts";
import { createLogger } from "../../server/observability/log.ts";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import { join, leaveAll, startGame, startStats, waitFor, type Player } from "./helpers.ts";

/**
 * A game server whose warn lines are kept, with one player in it. Rounds of 200 ms with a 150 ms
 * stats deadline: a loaded machine must not turn a healthy fetch into a timeout here.
 */
async function gameWithPlayer(statsUrl: string, statsToken?: string) {
  const lines: string[] = [];
  const game = await startGame(statsUrl, {
    log: createLogger("warn", (l) => lines.push(l)),
    tickHz: 20,
    roundTicks: 4,
    roundDeadlineMs: 150,
    ...(statsToken ? { statsToken } : {}),
  });
  const player = await join(game);
  return { game, player, lines };
}

async function readyz(game: GameServer): Promise<{ status: number; body: { status: string; reasons?: string[] } }> {
  const res = await fetch(`${game.httpUrl}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; reasons?: string[] } };
}

/** An own HTTP stats backend that answers every id with `answer(id)`. */
async function backend(answer: (id: string) => unknown): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const id = decodeURIComponent(/^\/players\/([^/]+)\/stats$/.exec(req.url ?? "")?.[1] ?? "");
    const body = JSON.stringify(answer(id));
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe("loud degradation", () => {
  let stats: StatsService;
  let current: { game: GameServer; player: Player } | undefined;
  const servers: Server[] = [];
  afterEach(async () => {
    if (current) {
      await leaveAll([current.player]);
      await current.game.close();
    }
    current = undefined;
  });
  afterAll(async () => {
    await stats?.close();
    for (const s of servers) s.close();
  });

  it("a wrong STATS_TOKEN is logged, counted per degraded round, and makes /readyz 503", async () => {
    stats = await startStats();
    const { game, player, lines } = (current = await gameWithPlayer(stats.rpcUrl, "not-the-token"));
    await waitFor(
      "degraded rounds",
      () =>
        player.rounds.length > 0 &&
        game.metrics.degradedRounds.get("unavailable") + game.metrics.degradedRounds.get("unauthorized") >= 3,
      10_000,
    );
    expect(lines.some((l) => l.includes("stats service not reachable") && l.includes("refused the token"))).toBe(true);
    const warned = lines.filter((l) => l.includes("round fought without fresh stats"));
    expect(warned.length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(warned.at(-1)!)).toMatchObject({
      level: "warn",
      absent: expect.any(Number),
      stats: expect.stringMatching(/refused the token/),
    });
    const metrics = await (await fetch(`${game.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/skirmish_degraded_rounds_total\{reason="(unavailable|unauthorized)"\} [1-9]/);
    const r = await readyz(game);
    expect(r.status).toBe(503);
    expect(r.body.reasons!.join(" ")).toMatch(/stats: .*refused the token/);
    expect((await fetch(`${game.httpUrl}/healthz`)).status).toBe(200);
  });

  it("a bare ws://host:port means the service's /rpc: rounds are fresh and /readyz is 200", async () => {
    const { game, player } = (current = await gameWithPlayer(`ws://127.0.0.1:${stats.port}`));
    // a round on fresh stats for everyone (a fetch late on a loaded machine may leave one round short)
    await waitFor("a fresh round", () => player.rounds.find((r) => r.stale.length + r.absent.length === 0), 10_000);
    expect(game.metrics.errors.get("stats_unavailable")).toBe(0);
    expect(await readyz(game)).toMatchObject({ status: 200, body: { status: "ready" } });
  });

  it("an own HTTP backend may leave out the id (it is in the path)", async () => {
    const b = await backend((id) => {
      const { id: _omitted, ...rest } = deriveStats(id);
      return rest;
    });
    servers.push(b.server);
    const { game, player } = (current = await gameWithPlayer(b.url));
    // its answers are taken: a round on fresh stats for everyone, and none refused
    await waitFor("a fresh round", () => player.rounds.find((r) => r.stale.length + r.absent.length === 0), 10_000);
    expect(game.metrics.errors.get("stats_server")).toBe(0);
    expect(game.metrics.degradedRounds.get("server")).toBe(0);
  });

  it("an own HTTP backend's answer missing a stat is refused loudly, naming the field", async () => {
    const b = await backend((id) => {
      const { attack: _omitted, ...rest } = deriveStats(id);
      return rest;
    });
    servers.push(b.server);
    const { game, lines } = (current = await gameWithPlayer(b.url));
    await waitFor("degraded rounds", () => game.metrics.degradedRounds.get("server") >= 3, 10_000);
    const refused = lines.filter((l) => l.includes("stats reply refused"));
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused[0]).toContain('field \\"attack\\" is missing');
    // every reply is refused, the log says so about once a second
    expect(refused.length).toBeLessThan(game.metrics.degradedRounds.get("server"));
    expect((await readyz(game)).body.reasons!.join(" ")).toMatch(/"attack" is missing/);
  });

  it("/readyz says when the journal cannot be written", async () => {
    const { game, player } = (current = await gameWithPlayer(stats.rpcUrl));
    await waitFor("rounds", () => player.rounds.length >= 1);
    expect((await readyz(game)).status).toBe(200);
    game.journal.close();
    const r = await readyz(game);
    expect(r.status).toBe(503);
    expect(r.body.reasons).toContain("journal: journal is closed");
  });
});
