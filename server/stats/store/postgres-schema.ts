// The PostgreSQL schema as an append-only list of migrations, applied at start by every replica.
// Safe when several replicas start at once: the applier holds a session advisory lock while it
// reads stats_migrations and applies what is missing, each migration in its own transaction with
// its row in stats_migrations, so a migration runs exactly once and a replica that waited finds it
// done. Never edit a migration that may have run somewhere: append a new one.
import type pg from "pg";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "player_stats",
    sql: `CREATE TABLE player_stats (
      id              text PRIMARY KEY,
      level           integer NOT NULL,
      max_hp          integer NOT NULL,
      attack          integer NOT NULL,
      defense         integer NOT NULL,
      crit_chance     integer NOT NULL,
      crit_multiplier integer NOT NULL,
      speed           integer NOT NULL,
      version         integer NOT NULL
    )`,
  },
  {
    // guest expiry: when a row was last used, ms since the epoch; rows already there get a full TTL
    // from now, new rows their insert time (a volatile default is evaluated per row)
    version: 2,
    name: "player_stats.used_at",
    sql: `ALTER TABLE player_stats ADD COLUMN used_at bigint NOT NULL DEFAULT (extract(epoch from clock_timestamp()) * 1000)::bigint`,
  },
];

/** Any constant: the key of the session advisory lock held while migrating (ASCII "skst"). */
const MIGRATION_LOCK_KEY = 0x736b7374;

/**
 * Applies the migrations `client` has not seen, under the advisory lock. Answers the versions it
 * applied (empty when the schema was current). Errors: a failed migration is rolled back and
 * rethrown (the lock is released with the session or explicitly); the caller retries later.
 */
export async function migrate(client: pg.ClientBase, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS stats_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const seen = await client.query<{ version: number }>("SELECT version FROM stats_migrations");
    const done = new Set(seen.rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query("INSERT INTO stats_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK").catch(() => {});
        throw new Error(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(m.version);
    }
    return applied;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
  }
}
