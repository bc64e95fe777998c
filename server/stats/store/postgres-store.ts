// PostgreSQL store of player stats (pg), shared by any number of stateless stats replicas.
//
// No cache in front: every read is a query, so a write committed through one replica is seen by the
// next read through any other (the coherence bound is the commit itself, nothing to invalidate).
// A batch get is one query (`WHERE id = ANY($1)`); only ids never seen cost a second one (an
// INSERT .. ON CONFLICT DO NOTHING of their derived stats). A put is one conditional UPDATE in the
// common case; optimistic concurrency is decided by PostgreSQL under the row lock, so two replicas
// racing on one version cannot both win.
//
// Faults: every query is bounded by statement_timeout on the server and query_timeout on the client,
// and waiting for a pooled connection by connectionTimeoutMillis, so a slow or black-holed database
// fails the request instead of holding it. PostgreSQL gone: queries reject at once (connection
// refused) and the pool reconnects by itself when it is back. Going down and coming back are each
// logged once (not once per failed query). Contract: stats-store.ts.
//
// Guest expiry (expireGuests): reads mark ids as used in this replica's memory; expireGuests writes
// the marks and deletes the guest rows unused for the TTL in one transaction; inserts and writes
// stamp used_at themselves. With several replicas, marks another replica has not written yet (at
// most its expiry interval old) are not seen: a guest unread for the whole TTL and then read in
// that last interval through another replica may still be deleted, and is derived again on its
// next read.
import pg from "pg";
import {
  deriveStats,
  PLAYER_ID_PREFIX,
  STAT_FIELDS,
  type PlayerStats,
  type StatFields,
} from "../../../shared/stats.ts";
import type { Logger } from "../../observability/log.ts";
import { migrate } from "./postgres-schema.ts";
import { checkPut, type PutResult, type StatsStore } from "./stats-store.ts";
import { COLUMN_NAMES, COLUMNS, fromRow, rowValues, STAT_COLUMNS, type StatsRow } from "./stats-row.ts";

export interface PostgresStoreOptions {
  /** postgres:// or postgresql:// connection string */
  url: string;
  /** connections in the pool */
  poolSize: number;
  /** bound of one statement, server side (statement_timeout) and client side (plus a margin) */
  statementTimeoutMs: number;
  log: Logger;
}

const N = COLUMN_NAMES.length;
/** "$2, $3, …": the stat fields' parameters of UPDATE_IF (id is $1, the expected version $N) */
const STAT_PARAMS = STAT_COLUMNS.map((_, i) => `$${i + 2}`);

const SELECT_MANY = `SELECT ${COLUMNS} FROM player_stats WHERE id = ANY($1::text[])`;
const SELECT_ONE = `SELECT ${COLUMNS} FROM player_stats WHERE id = $1`;
const INSERT_DERIVED = `INSERT INTO player_stats (${COLUMNS})
  SELECT * FROM unnest(${COLUMN_NAMES.map((_, i) => `$${i + 1}::${i === 0 ? "text" : "int"}[]`).join(", ")})
  ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`;
const INSERT_ONE = `INSERT INTO player_stats (${COLUMNS}) VALUES (${COLUMN_NAMES.map((_, i) => `$${i + 1}`).join(", ")})
  ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`;
// $N: expected version or NULL; a write that changes nothing matches no row (and bumps nothing)
const UPDATE_IF = `UPDATE player_stats
  SET ${STAT_COLUMNS.map((c, i) => `${c} = ${STAT_PARAMS[i]}`).join(", ")}, version = version + 1,
      used_at = (extract(epoch from clock_timestamp()) * 1000)::bigint
  WHERE id = $1 AND ($${N}::integer IS NULL OR version = $${N})
    AND (${STAT_COLUMNS.join(", ")}) IS DISTINCT FROM (${STAT_PARAMS.join(", ")})
  RETURNING ${COLUMNS}`;

/** Guest ids sort in [GUEST_LOW, GUEST_HIGH): the prefix, and the prefix with its last character + 1. */
const GUEST_LOW = PLAYER_ID_PREFIX;
const GUEST_HIGH =
  PLAYER_ID_PREFIX.slice(0, -1) + String.fromCharCode(PLAYER_ID_PREFIX.charCodeAt(PLAYER_ID_PREFIX.length - 1) + 1);

/** A put that keeps losing races this many times gives up with an error (never seen in practice). */
const MAX_PUT_ATTEMPTS = 8;

/** Where the url points, without a password, for logs. */
export function describePostgresUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.username ? u.username + "@" : ""}${u.host}${u.pathname}`;
}

export class PostgresStore implements StatsStore {
  readonly kind = "postgres";
  private readonly pool: pg.Pool;
  private readonly log: Logger;
  private readonly where: string;
  /** false after a failed query until one succeeds: down and back are logged once each */
  private reachable = true;
  /** ids read since expireGuests last wrote their use */
  private used = new Set<string>();

  constructor(opts: PostgresStoreOptions) {
    this.log = opts.log;
    this.where = describePostgresUrl(opts.url);
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize,
      statement_timeout: opts.statementTimeoutMs,
      query_timeout: opts.statementTimeoutMs + 1000,
      // a new connection may take a while on a busy host; refused ones fail at once anyway
      connectionTimeoutMillis: Math.max(1000, opts.statementTimeoutMs),
      idleTimeoutMillis: 30_000,
      application_name: "skirmish-stats",
    });
    // An idle pooled connection that dies (PostgreSQL restarted) reports here; without a listener
    // the error would take the process down. The pool drops that connection by itself.
    this.pool.on("error", (err) => this.failed(err));
  }

  /**
   * Connects and applies the schema migrations (advisory lock: safe when replicas start together).
   * One attempt; rejects with the reason (unreachable, auth, a failed migration). Idempotent.
   */
  async open(): Promise<void> {
    const client = await this.track(this.pool.connect());
    let broken: Error | undefined;
    try {
      const applied = await this.track(migrate(client));
      if (applied.length > 0) this.log.info("stats schema migrated", { db: this.where, applied });
    } catch (err) {
      broken = err as Error;
      throw err;
    } finally {
      client.release(broken); // a connection that failed mid-migration is not reused
    }
  }

  async peek(id: string): Promise<PlayerStats | undefined> {
    this.used.add(id);
    const r = await this.query<StatsRow>({ name: "stats_select_one", text: SELECT_ONE, values: [id] });
    return r.rows.length === 0 ? undefined : fromRow(r.rows[0]);
  }

  async get(id: string): Promise<PlayerStats> {
    return (await this.getMany([id]))[0];
  }

  async getMany(ids: readonly string[]): Promise<PlayerStats[]> {
    for (const id of ids) this.used.add(id);
    const found = new Map<string, PlayerStats>();
    const r = await this.query<StatsRow>({ name: "stats_select_many", text: SELECT_MANY, values: [ids] });
    for (const row of r.rows) found.set(row.id as string, fromRow(row));
    if (found.size < ids.length) {
      const missing = [...new Set(ids.filter((id) => !found.has(id)))];
      if (missing.length > 0) for (const s of await this.create(missing)) found.set(s.id, s);
    }
    return ids.map((id) => found.get(id)!);
  }

  async put(id: string, fields: StatFields, expectedVersion?: number): Promise<PutResult> {
    const f = checkPut(id, fields, expectedVersion);
    const args = [id, ...STAT_FIELDS.map((k) => f[k]), expectedVersion ?? null];
    for (let attempt = 0; attempt < MAX_PUT_ATTEMPTS; attempt++) {
      const updated = await this.query<StatsRow>({ name: "stats_update_if", text: UPDATE_IF, values: args });
      if (updated.rows.length === 1) return { ok: true, stats: fromRow(updated.rows[0]) };
      // No row updated: the version did not match, nothing changed, or the row does not exist yet.
      const stored = await this.peek(id);
      const current = stored ?? deriveStats(id);
      if (expectedVersion !== undefined && expectedVersion !== current.version) return { ok: false, current };
      if (STAT_FIELDS.every((k) => current[k] === f[k])) return { ok: true, stats: current };
      if (stored === undefined) {
        // never stored: the write counts from the derived stats, version 1 -> 2
        const inserted = await this.query<StatsRow>({
          name: "stats_insert_one",
          text: INSERT_ONE,
          values: rowValues({ id, ...f, version: 2 }),
        });
        if (inserted.rows.length === 1) return { ok: true, stats: fromRow(inserted.rows[0]) };
      }
      // another writer got in between our statements: decide again on the row as it is now
    }
    throw new Error(`put ${id}: lost ${MAX_PUT_ATTEMPTS} races in a row`);
  }

  async expireGuests(ttlMs: number, nowMs = Date.now()): Promise<number> {
    const marks = this.used;
    this.used = new Set();
    const client = await this.track(this.pool.connect());
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      if (marks.size > 0)
        await client.query("UPDATE player_stats SET used_at = $1 WHERE id = ANY($2::text[])", [nowMs, [...marks]]);
      const gone = await client.query("DELETE FROM player_stats WHERE id >= $1 AND id < $2 AND used_at < $3", [
        GUEST_LOW,
        GUEST_HIGH,
        nowMs - ttlMs,
      ]);
      await client.query("COMMIT");
      return gone.rowCount ?? 0;
    } catch (err) {
      broken = err as Error;
      await client.query("ROLLBACK").catch(() => {});
      for (const id of marks) this.used.add(id); // written next time
      this.failed(broken);
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Inserts the derived stats of ids never seen; ids another replica created meanwhile are read. */
  private async create(ids: string[]): Promise<PlayerStats[]> {
    const columns: unknown[][] = Array.from({ length: N }, () => []);
    for (const id of ids) {
      const v = rowValues(deriveStats(id));
      for (let c = 0; c < N; c++) columns[c].push(v[c]);
    }
    const r = await this.query<StatsRow>({ name: "stats_insert_derived", text: INSERT_DERIVED, values: columns });
    const out = r.rows.map(fromRow);
    if (out.length < ids.length) {
      const got = new Set(out.map((s) => s.id));
      const raced = ids.filter((id) => !got.has(id));
      const again = await this.query<StatsRow>({ name: "stats_select_many", text: SELECT_MANY, values: [raced] });
      for (const row of again.rows) out.push(fromRow(row));
    }
    return out;
  }

  private query<R extends pg.QueryResultRow>(q: pg.QueryConfig): Promise<pg.QueryResult<R>> {
    return this.track(this.pool.query<R>(q));
  }

  /** Logs the transitions unreachable -> reachable and back, once each. */
  private async track<T>(p: Promise<T>): Promise<T> {
    try {
      const out = await p;
      if (!this.reachable) {
        this.reachable = true;
        this.log.info("PostgreSQL reachable again", { db: this.where });
      }
      return out;
    } catch (err) {
      this.failed(err as Error);
      throw err;
    }
  }

  private failed(err: Error): void {
    // a statement's own failure (timeout, constraint) says nothing about reachability
    const code = (err as { code?: string }).code;
    if (code !== undefined && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith("08") && code !== "57P01") return;
    if (this.reachable) {
      this.reachable = false;
      this.log.warn("PostgreSQL unreachable", { db: this.where, error: err.message });
    }
  }
}
