// Stats replicas on one real PostgreSQL (started by this file): stateless stats service processes
// behind a comma-separated STATS_URL. Calls spread over them; a write through one is read through
// the other at once (no per-replica cache: the bound is the write's commit); a replica SIGKILLed
// mid-match costs the game no fresh rounds beyond the failover; PostgreSQL killed mid-match turns
// rounds stale (fetches fail fast) and they are fresh again within seconds of its return;
// PostgreSQL down at start is a wait (healthz 503, retries), not a crash loop.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GameServer } from "../../server/game/server.ts";
import { createStatsClient, StatsError, type StatsClient } from "../../server/stats/client.ts";
import { deriveStats } from "../../shared/stats.ts";
import { freePort, postgresForTests, startPostgres, type PostgresServer } from "../postgres-server.ts";
import {
  join,
  leaveAll,
  spawnEntry,
  startGame,
  stop,
  waitFor,
  STATS_TOKEN,
  type ChildService,
  type Player,
} from "./helpers.ts";

const pgBin = postgresForTests();
let pgServer: PostgresServer;
const replicas: ChildService[] = [];
const clients: StatsClient[] = [];
const games: GameServer[] = [];
const players: Player[] = [];

beforeAll(async () => {
  if (pgBin !== undefined) pgServer = await startPostgres(pgBin);
}, 120_000);
afterAll(async () => {
  await leaveAll(players);
  for (const g of games) await g.close();
  for (const c of clients) await c.close();
  for (const r of replicas) await stop(r, "SIGKILL");
  await pgServer?.stop();
});

async function replica(db: string, port = 0): Promise<ChildService> {
  const r = await spawnEntry("server/stats/main.ts", {
    STATS_PORT: String(port),
    STATS_HOST: "127.0.0.1",
    STATS_TOKEN,
    STATS_DB: db,
    STATS_PG_POOL_SIZE: "4",
  });
  replicas.push(r);
  return r;
}

const rpcUrl = (r: ChildService) => `ws://127.0.0.1:${r.port}/rpc`;
const httpUrl = (r: ChildService) => `http://127.0.0.1:${r.port}`;

function client(url: string, deadlineMs = 5000): StatsClient {
  const c = createStatsClient(url, { token: STATS_TOKEN, deadlineMs, backoffMaxMs: 200 });
  clients.push(c);
  return c;
}

async function idsServed(r: ChildService): Promise<number> {
  const text = await (await fetch(`${httpUrl(r)}/metrics`)).text();
  return Number(/^stats_ids_served_total\{transport="rpc"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

async function healthz(r: ChildService): Promise<{ status: number; body: { status: string; error?: string } }> {
  const res = await fetch(`${httpUrl(r)}/healthz`);
  return { status: res.status, body: (await res.json()) as { status: string; error?: string } };
}

async function ready(r: ChildService): Promise<void> {
  await expect.poll(async () => (await healthz(r)).status, { timeout: 15_000, interval: 50 }).toBe(200);
}

/** Fresh = every entity's stats came from the service this round. */
const fresh = (p: Player, from = 0) =>
  p.rounds.slice(from).filter((r) => r.stale.length === 0 && r.absent.length === 0);

const body = { level: 7, maxHp: 210, attack: 30, defense: 12, critChance: 150, critMultiplier: 180, speed: 13 };

// Each test starts processes (and the last a second PostgreSQL) on a shared, loaded machine.
const SLOW = { timeout: 120_000 };

describe.skipIf(pgBin === undefined)("stats replicas over one PostgreSQL", () => {
  it(
    "spreads a client's calls over the replicas; a write through one is read through the other at once",
    SLOW,
    async () => {
      const db = await pgServer.createDatabase("spread");
      const [a, b] = await Promise.all([replica(db), replica(db)]);
      await Promise.all([ready(a), ready(b)]);
      const both = client(`${rpcUrl(a)},${rpcUrl(b)}`);
      for (let turn = 0; turn < 10; turn++) {
        const got = await Promise.all(Array.from({ length: 100 }, (_, i) => both.get(`p_spread_${turn}_${i}`)));
        expect(got[7]).toEqual(deriveStats(`p_spread_${turn}_7`));
      }
      const [servedA, servedB] = [await idsServed(a), await idsServed(b)];
      expect(servedA + servedB).toBe(1000);
      expect(Math.min(servedA, servedB)).toBeGreaterThan(100); // both took a real share

      // coherence: PUT through A, read through B (and through the balanced client) right after the 200
      const onlyB = client(rpcUrl(b));
      expect(await onlyB.get("p_coherent")).toEqual(deriveStats("p_coherent"));
      for (let attack = 40; attack < 50; attack++) {
        const put = await fetch(`${httpUrl(a)}/players/p_coherent/stats`, {
          method: "PUT",
          headers: { authorization: `Bearer ${STATS_TOKEN}` },
          body: JSON.stringify({ ...body, attack }),
        });
        expect(put.status).toBe(200);
        const written = await put.json();
        expect(await onlyB.get("p_coherent")).toEqual(written);
        expect(await both.get("p_coherent")).toEqual(written);
      }
      // optimistic concurrency holds across replicas: the same expected version through both, one wins
      const current = await onlyB.get("p_coherent");
      const statuses = await Promise.all(
        [a, b, a, b].map(async (r, i) => {
          const res = await fetch(`${httpUrl(r)}/players/p_coherent/stats`, {
            method: "PUT",
            headers: { authorization: `Bearer ${STATS_TOKEN}` },
            body: JSON.stringify({ ...body, speed: 20 + i, version: current.version }),
          });
          await res.text();
          return res.status;
        }),
      );
      expect(statuses.sort()).toEqual([200, 409, 409, 409]);
    },
  );

  it("a replica SIGKILLed mid-match: the game keeps fresh rounds through the other", SLOW, async () => {
    const db = await pgServer.createDatabase("failover");
    const [a, b] = await Promise.all([replica(db), replica(db)]);
    await Promise.all([ready(a), ready(b)]);
    // 300 ms rounds with a 200 ms stats deadline: room for a loaded machine, still a real bound
    const game = await startGame(`${rpcUrl(a)},${rpcUrl(b)}`, { tickHz: 50, roundTicks: 15, roundDeadlineMs: 200 });
    games.push(game);
    const ann = await join(game, "Ann");
    players.push(ann);
    await waitFor("fresh rounds through both replicas", () => fresh(ann).length >= 4, 15_000);
    const bServedBefore = await idsServed(b);

    await stop(a, "SIGKILL");
    const killedAt = ann.rounds.length;
    // every round still comes (none hung), and fresh ones come through B alone
    await waitFor("5 fresh rounds after the kill", () => fresh(ann, killedAt).length >= 5, 15_000);
    const after = ann.rounds.slice(killedAt).map((r) => r.round);
    for (let i = 1; i < after.length; i++) expect(after[i]).toBe(after[i - 1] + 1);
    // a round during the failover may be stale; most are fresh
    expect(fresh(ann, killedAt).length).toBeGreaterThanOrEqual(ann.rounds.length - killedAt - 2);
    expect(await idsServed(b)).toBeGreaterThan(bServedBefore);
    expect(ann.left).toBeNull();
  });

  it(
    "PostgreSQL killed mid-match: fetches fail fast, rounds go stale; back: fresh again within seconds",
    SLOW,
    async () => {
      const db = await pgServer.createDatabase("pg_outage");
      const [a, b] = await Promise.all([replica(db), replica(db)]);
      await Promise.all([ready(a), ready(b)]);
      const both = client(`${rpcUrl(a)},${rpcUrl(b)}`, 5000);
      const game = await startGame(`${rpcUrl(a)},${rpcUrl(b)}`, { tickHz: 50, roundTicks: 15, roundDeadlineMs: 200 });
      games.push(game);
      const ann = await join(game, "Ann");
      players.push(ann);
      await waitFor("fresh rounds", () => fresh(ann).length >= 3, 15_000);

      await pgServer.kill("SIGKILL");
      const killedAt = ann.rounds.length;
      const stale = await waitFor(
        "a stale round",
        () => ann.rounds.slice(killedAt).find((r) => r.stale.includes(ann.id)),
        10_000,
      );
      expect(stale.absent).toEqual([]);
      // a get fails with a server error, not at its 5 s deadline ('timeout'): the store fails fast
      const err = await both.get("p_outage").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StatsError);
      expect((err as StatsError).code).toBe("server");
      await waitFor("rounds keep coming during the outage", () => ann.rounds.length >= killedAt + 6, 10_000);

      await pgServer.restart();
      const backAt = ann.rounds.length;
      await waitFor("fresh rounds again", () => fresh(ann, backAt).length >= 2, 15_000);
      expect(await both.get("p_outage")).toEqual(deriveStats("p_outage"));
      expect(ann.left).toBeNull();
    },
  );

  it(
    "PostgreSQL not up at start: the replica listens, says why it is not ready, retries, and serves once it is",
    SLOW,
    async () => {
      const port = await freePort(); // nothing listens there yet
      const r = await replica(`postgres://postgres@127.0.0.1:${port}/postgres`);
      const h = await healthz(r);
      expect(h.status).toBe(503);
      expect(h.body).toMatchObject({ status: "starting" });
      expect(h.body.error).toMatch(/ECONNREFUSED/);
      const notReady = await client(rpcUrl(r))
        .get("p_early")
        .then(
          () => undefined,
          (e: StatsError) => e,
        );
      expect(notReady?.code).toBe("unavailable");
      expect(notReady?.message).toMatch(/stats store not ready/);
      await waitFor(
        "a retry logged with its reason",
        () =>
          r.lines.filter((l) => l.includes("stats store not ready, retrying") && l.includes("ECONNREFUSED")).length >=
          2,
        10_000,
      );
      expect(r.proc.exitCode).toBeNull(); // no crash loop: the same process waits

      // PostgreSQL comes up on that port (the suite's server, moved there)
      await pgServer.kill("SIGINT");
      const moved = await startPostgres(pgBin!, { port });
      try {
        await ready(r);
        expect(await client(rpcUrl(r)).get("p_late")).toEqual(deriveStats("p_late"));
        expect(r.lines.some((l) => l.includes('"msg":"stats store ready"'))).toBe(true);
      } finally {
        await stop(r, "SIGKILL");
        await moved.stop();
      }
    },
  );
});
