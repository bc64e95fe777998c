// ONE contract suite for the StatsStore interface (server/stats/store/stats-store.ts), run against
// both implementations: SqliteStore and PostgresStore on a real PostgreSQL this file starts.
// Then what only PostgreSQL has: migrations (idempotent, safe when replicas start together), a batch
// get is one statement, two stores on one database are coherent, a slow statement is bounded.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../server/observability/log.ts";
import { createStore, parseStoreLocation } from "../../server/stats/store/open-store.ts";
import { StoreInputError, type StatsStore } from "../../server/stats/store/stats-store.ts";
import { deriveStats, type StatFields } from "../../shared/stats.ts";
import { postgresForTests, startPostgres, type PostgresServer } from "../postgres-server.ts";

const pgBin = postgresForTests();
let server: PostgresServer | undefined;
const dir = mkdtempSync(join(tmpdir(), "store-contract-"));
const opened: StatsStore[] = [];
let databases = 0;

beforeAll(async () => {
  if (pgBin !== undefined) server = await startPostgres(pgBin);
}, 120_000);
afterAll(async () => {
  for (const s of opened) await s.close().catch(() => {});
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const silent = createLogger("silent");

async function open(db: string, statementTimeoutMs = 5000): Promise<StatsStore> {
  const s = createStore(db, { poolSize: 4, statementTimeoutMs, log: silent });
  opened.push(s);
  await s.open();
  return s;
}

/** Each call: a database of its own (a fresh SQLite file / a fresh PostgreSQL database). */
const implementations: { name: string; skip: boolean; db: () => Promise<string> }[] = [
  { name: "SqliteStore", skip: false, db: async () => join(dir, `contract-${++databases}.db`) },
  { name: "PostgresStore", skip: pgBin === undefined, db: () => server!.createDatabase(`contract_${++databases}`) },
];

const fields: StatFields = {
  level: 5,
  maxHp: 150,
  attack: 20,
  defense: 9,
  critChance: 120,
  critMultiplier: 175,
  speed: 11,
};

for (const impl of implementations) {
  describe.skipIf(impl.skip)(`StatsStore contract: ${impl.name}`, () => {
    let db: string;
    let store: StatsStore;
    beforeAll(async () => {
      db = await impl.db();
      store = await open(db);
    });

    it("derives an unknown id on first read and stores it; peek never creates", async () => {
      expect(await store.peek("p_first")).toBeUndefined();
      expect(await store.peek("p_first")).toBeUndefined();
      expect(await store.get("p_first")).toEqual(deriveStats("p_first"));
      expect(await store.peek("p_first")).toEqual(deriveStats("p_first"));
    });

    it("getMany answers in the order asked, duplicates included, creating only the unknown ids", async () => {
      await store.put("p_many_known", fields);
      const ids = ["p_many_b", "p_many_known", "p_many_a", "p_many_b", "npc_goblin_1"];
      const got = await store.getMany(ids);
      expect(got.map((s) => s.id)).toEqual(ids);
      expect(got[1]).toEqual({ id: "p_many_known", ...fields, version: 2 });
      expect(got[0]).toEqual(deriveStats("p_many_b"));
      expect(got[3]).toEqual(got[0]);
      expect(got[4]).toEqual(deriveStats("npc_goblin_1"));
      for (const id of ["p_many_a", "p_many_b", "npc_goblin_1"]) expect(await store.peek(id)).toEqual(deriveStats(id));
      const big = Array.from({ length: 1000 }, (_, i) => `p_bulk_${i}`);
      expect((await store.getMany(big)).map((s) => s.version)).toEqual(Array(1000).fill(1));
      expect((await store.getMany(big)).map((s) => s.id)).toEqual(big);
    });

    it("bumps the version on every write that changes something, and only then", async () => {
      const first = await store.put("p_ver", fields); // never read: counts from the derived stats at version 1
      expect(first).toEqual({ ok: true, stats: { id: "p_ver", ...fields, version: 2 } });
      expect(await store.put("p_ver", fields)).toEqual(first); // no change, no bump
      const second = await store.put("p_ver", { ...fields, attack: 21 });
      expect(second).toEqual({ ok: true, stats: { id: "p_ver", ...fields, attack: 21, version: 3 } });
      expect(await store.get("p_ver")).toEqual({ id: "p_ver", ...fields, attack: 21, version: 3 });
    });

    it("a write that changes nothing on an id never read creates no row", async () => {
      const { id: _id, version: _v, ...derived } = deriveStats("p_noop");
      expect(await store.put("p_noop", derived)).toEqual({ ok: true, stats: deriveStats("p_noop") });
      expect(await store.peek("p_noop")).toBeUndefined();
    });

    it("optimistic concurrency: a stale expected version is refused (409) and changes nothing", async () => {
      await store.put("p_occ", fields);
      const refused = await store.put("p_occ", { ...fields, attack: 99 }, 1);
      expect(refused).toEqual({ ok: false, current: { id: "p_occ", ...fields, version: 2 } });
      expect(await store.get("p_occ")).toEqual({ id: "p_occ", ...fields, version: 2 });
      expect(await store.put("p_occ", { ...fields, attack: 99 }, 2)).toMatchObject({
        ok: true,
        stats: { attack: 99, version: 3 },
      });
      // an id never read is at version 1: only 1 is the right expectation; a refusal creates nothing
      expect(await store.put("p_occ_new", fields, 5)).toEqual({ ok: false, current: deriveStats("p_occ_new") });
      expect(await store.peek("p_occ_new")).toBeUndefined();
      expect(await store.put("p_occ_new", fields, 1)).toMatchObject({ ok: true, stats: { version: 2 } });
    });

    it("concurrent writes on one expected version: exactly one wins", async () => {
      const base = (await store.get("p_race")).version;
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => store.put("p_race", { ...fields, attack: 100 + i }, base)),
      );
      const winners = results.filter((r) => r.ok);
      expect(winners).toHaveLength(1);
      const final = await store.get("p_race");
      expect(final.version).toBe(base + 1);
      expect(winners[0]).toEqual({ ok: true, stats: final });
      for (const r of results) if (!r.ok) expect(r.current.version).toBeGreaterThanOrEqual(base);
    });

    it("refuses bad fields and bad ids with the field named, and changes nothing", async () => {
      await store.put("p_bad", fields);
      const attempts: [string, unknown, number | undefined, string][] = [
        ["p_bad", { ...fields, attack: -1 }, undefined, "attack"],
        ["p_bad", { ...fields, level: 101 }, undefined, "level"],
        ["p_bad", { ...fields, speed: 1.5 }, undefined, "speed"],
        ["p_bad", { ...fields, critChance: "9" }, undefined, "critChance"],
        ["p_bad", { level: 5 }, undefined, "maxHp"],
        ["p_bad", { ...fields, bonus: 1 }, undefined, "bonus"],
        ["p_bad", fields, 0, "version"],
        ["p bad", fields, undefined, "id"],
      ];
      for (const [id, body, version, field] of attempts) {
        const err = await store.put(id, body as StatFields, version).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err, `${id} ${JSON.stringify(body)}`).toBeInstanceOf(StoreInputError);
        expect((err as StoreInputError).field).toBe(field);
      }
      expect(await store.get("p_bad")).toEqual({ id: "p_bad", ...fields, version: 2 });
    });

    it("what was written is there for a store opened later on the same database", async () => {
      await store.put("p_durable", { ...fields, defense: 33 });
      const again = await open(db);
      expect(await again.peek("p_durable")).toEqual({ id: "p_durable", ...fields, defense: 33, version: 2 });
      expect(await again.peek("p_first")).toEqual(deriveStats("p_first"));
    });
  });
}

describe("STATS_DB picks the store by its form", () => {
  it("postgres:// and postgresql:// are PostgreSQL; paths and :memory: are SQLite; other schemes are refused by name", () => {
    expect(parseStoreLocation("postgres://u@127.0.0.1:5432/db")).toEqual({
      kind: "postgres",
      url: "postgres://u@127.0.0.1:5432/db",
    });
    expect(parseStoreLocation("postgresql://u@h/db").kind).toBe("postgres");
    expect(parseStoreLocation("data/stats.db")).toEqual({ kind: "sqlite", path: "data/stats.db" });
    expect(parseStoreLocation(":memory:")).toEqual({ kind: "sqlite", path: ":memory:" });
    expect(parseStoreLocation("/var/lib/stats.db").kind).toBe("sqlite");
    for (const bad of ["mysql://u@h/db", "file:///tmp/x.db", "redis://127.0.0.1:6379", "http://x"]) {
      expect(() => parseStoreLocation(bad)).toThrow(`unsupported URL scheme "${bad.slice(0, bad.indexOf(":"))}://"`);
    }
    expect(() => parseStoreLocation("")).toThrow(RangeError);
  });
});

describe.skipIf(pgBin === undefined)("PostgresStore on a real PostgreSQL", () => {
  const MIGRATED = [
    { version: 1, name: "player_stats" },
    { version: 2, name: "player_stats.used_at" },
  ];

  async function migrationRows(url: string): Promise<{ version: number; name: string }[]> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query("SELECT version, name FROM stats_migrations ORDER BY version")).rows;
    } finally {
      await c.end();
    }
  }

  it("replicas starting at once migrate the schema exactly once; opening again is a no-op", async () => {
    const url = await server!.createDatabase("migrate_race");
    const replicas = Array.from({ length: 6 }, () =>
      createStore(url, { poolSize: 2, statementTimeoutMs: 30_000, log: silent }),
    );
    opened.push(...replicas);
    await Promise.all(replicas.map((r) => r.open()));
    expect(await migrationRows(url)).toEqual(MIGRATED);
    await replicas[0].open();
    expect(await migrationRows(url)).toEqual(MIGRATED);
    expect(await replicas[5].get("p_mig")).toEqual(deriveStats("p_mig"));
  });

  it("a batch get of known ids is one statement on the server (WHERE id = ANY)", async () => {
    const url = await server!.createDatabase("one_query");
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query("ALTER DATABASE one_query SET log_statement = 'all'");
    await admin.end();
    const store = await open(url);
    const ids = Array.from({ length: 300 }, (_, i) => `p_one_${i}`);
    await store.getMany(ids); // creates them
    const before = server!.output.length;
    const got = await store.getMany(ids);
    expect(got.map((s) => s.id)).toEqual(ids);
    // a statement sent after the batch had its answer: once the server's log (one pipe) shows it,
    // it shows every statement of the batch too
    const marker = new pg.Client({ connectionString: url });
    await marker.connect();
    await marker.query("SELECT 'one_query: batch answered'");
    await marker.end();
    await expect.poll(() => server!.output.slice(before)).toContain("one_query: batch answered");
    const statements = server!.output
      .slice(before)
      .split("\n")
      .filter((l) => /LOG:\s+(statement|execute)/.test(l) && !l.includes("one_query: batch answered"));
    expect(statements).toHaveLength(1);
    expect(statements[0]).toContain("WHERE id = ANY($1::text[])");
  });

  it("two stores on one database (two replicas) see each other's writes at once: no cache to go stale", async () => {
    const url = await server!.createDatabase("coherent");
    const a = await open(url);
    const b = await open(url);
    expect(await b.get("p_coh")).toEqual(deriveStats("p_coh"));
    for (let attack = 30; attack < 35; attack++) {
      const w = await a.put("p_coh", { ...fields, attack });
      expect(w.ok).toBe(true);
      expect(await b.get("p_coh")).toEqual((w as { stats: unknown }).stats);
      expect((await b.getMany(["p_coh"]))[0].attack).toBe(attack);
    }
  });

  it("a slow statement is cut at statement_timeout: the read fails in bounded time, the store recovers", async () => {
    const url = await server!.createDatabase("slow");
    const store = await open(url, 300);
    await store.get("p_slow");
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE player_stats IN ACCESS EXCLUSIVE MODE");
      // the lock is held until the read has settled: only the statement timeout can end the read
      const err = await store.getMany(["p_slow"]).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(/statement timeout/);
      await locker.query("ROLLBACK");
    } finally {
      await locker.end();
    }
    expect(await store.get("p_slow")).toEqual(deriveStats("p_slow"));
  });

  it("expireGuests: guest rows unread for the TTL go (a read through another replica counts once written), other rows stay", async () => {
    const url = await server!.createDatabase("expiry");
    const a = await open(url);
    const b = await open(url);
    await a.get("p_old");
    await a.get("npc_goblin_1");
    await a.put("p_written", fields);
    const t0 = Date.now();
    expect(await a.expireGuests!(60_000, t0)).toBe(0);
    await b.get("p_recent");
    expect(await b.expireGuests!(1000, t0 + 1500)).toBe(2); // p_old, p_written: last used at t0
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      expect((await c.query("SELECT id FROM player_stats ORDER BY id")).rows.map((r) => r.id)).toEqual([
        "npc_goblin_1",
        "p_recent",
      ]);
    } finally {
      await c.end();
    }
    expect(await a.peek("p_old")).toBeUndefined();
    expect(await a.get("p_old")).toEqual(deriveStats("p_old"));
  });

  it("unreachable: open() rejects at once with the reason (the caller retries)", async () => {
    const store = createStore(`postgres://postgres@127.0.0.1:1/none`, {
      poolSize: 1,
      statementTimeoutMs: 1000,
      log: silent,
    });
    opened.push(store);
    await expect(store.open()).rejects.toThrow(/ECONNREFUSED/);
  });
});
