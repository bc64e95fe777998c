// SQLite store of player stats (node:sqlite), the embedded default, with a bounded in-memory cache
// in front. Writes go to SQLite first and then to the cache, so the cache never holds anything the
// database does not; one process owns the file, so the cache is coherent. node:sqlite is
// synchronous: the work is done before the returned promise exists (the async StatsStore interface
// costs one settled promise per call, not a thread hop). Contract: stats-store.ts.
// Guest rows (player ids, `p_…`) nobody read for a TTL are deleted by expireGuests(); reads only
// mark ids as used in memory, expireGuests writes those marks first (one transaction).
import type { DatabaseSync, StatementSync } from "node:sqlite";
import {
  deriveStats,
  PLAYER_ID_PREFIX,
  STAT_FIELDS,
  type PlayerStats,
  type StatFields,
} from "../../../shared/stats.ts";
import { Lru } from "../lru.ts";
import { openSqlite } from "../../sqlite/open-sqlite.ts";
import { checkPut, type PutResult, type StatsStore } from "./stats-store.ts";
import { COLUMN_NAMES, COLUMNS, fromRow, rowValues, type StatsRow } from "./stats-row.ts";

/** the stat columns, then used_at */
const PLACEHOLDERS = [...COLUMN_NAMES, "used_at"].map(() => "?").join(", ");

const SCHEMA = `
CREATE TABLE IF NOT EXISTS player_stats (
  id              TEXT PRIMARY KEY,
  level           INTEGER NOT NULL,
  max_hp          INTEGER NOT NULL,
  attack          INTEGER NOT NULL,
  defense         INTEGER NOT NULL,
  crit_chance     INTEGER NOT NULL,
  crit_multiplier INTEGER NOT NULL,
  speed           INTEGER NOT NULL,
  version         INTEGER NOT NULL,
  used_at         INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID`;

/** Guest ids sort in [GUEST_LOW, GUEST_HIGH): the prefix, and the prefix with its last character + 1. */
const GUEST_LOW = PLAYER_ID_PREFIX;
const GUEST_HIGH =
  PLAYER_ID_PREFIX.slice(0, -1) + String.fromCharCode(PLAYER_ID_PREFIX.charCodeAt(PLAYER_ID_PREFIX.length - 1) + 1);

export class SqliteStore implements StatsStore {
  readonly kind = "sqlite";
  private readonly db: DatabaseSync;
  private readonly selectOne: StatementSync;
  private readonly insertIfAbsent: StatementSync;
  private readonly upsert: StatementSync;
  private readonly cache: Lru<string, PlayerStats>;
  /** ids read since expireGuests last wrote their use */
  private readonly used = new Set<string>();

  constructor(path: string, cacheSize = 100_000) {
    this.db = openSqlite(path, {
      schema: SCHEMA,
      addedColumns: [{ table: "player_stats", column: "used_at", definition: "INTEGER NOT NULL DEFAULT 0" }],
    });
    // a store from before expiry: its rows count as used now, so they get a full TTL
    this.db.prepare("UPDATE player_stats SET used_at = ? WHERE used_at = 0").run(Date.now());
    this.selectOne = this.db.prepare(`SELECT ${COLUMNS} FROM player_stats WHERE id = ?`);
    this.insertIfAbsent = this.db.prepare(
      `INSERT OR IGNORE INTO player_stats (${COLUMNS}, used_at) VALUES (${PLACEHOLDERS})`,
    );
    this.upsert = this.db.prepare(
      `INSERT INTO player_stats (${COLUMNS}, used_at) VALUES (${PLACEHOLDERS})
       ON CONFLICT(id) DO UPDATE SET ${[...COLUMN_NAMES.slice(1), "used_at"].map((c) => `${c} = excluded.${c}`).join(", ")}`,
    );
    this.cache = new Lru(cacheSize);
  }

  async open(): Promise<void> {}

  async peek(id: string): Promise<PlayerStats | undefined> {
    return this.peekNow(id);
  }

  async get(id: string): Promise<PlayerStats> {
    return this.getNow(id);
  }

  async getMany(ids: readonly string[]): Promise<PlayerStats[]> {
    return this.getManyNow(ids);
  }

  async put(id: string, fields: StatFields, expectedVersion?: number): Promise<PutResult> {
    return this.putNow(id, checkPut(id, fields, expectedVersion), expectedVersion);
  }

  async expireGuests(ttlMs: number, nowMs = Date.now()): Promise<number> {
    return this.expireGuestsNow(ttlMs, nowMs);
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private peekNow(id: string): PlayerStats | undefined {
    this.used.add(id);
    const cached = this.cache.get(id);
    if (cached !== undefined) return cached;
    const row = this.selectOne.get(id) as StatsRow | undefined;
    if (row === undefined) return undefined;
    const s = fromRow(row);
    this.cache.set(id, s);
    return s;
  }

  private getNow(id: string): PlayerStats {
    const stored = this.peekNow(id);
    if (stored !== undefined) return stored;
    const s = deriveStats(id);
    this.write(this.insertIfAbsent, s);
    this.cache.set(id, s);
    return s;
  }

  /** Cache hits first; the unknown ones are read or created in one transaction. */
  private getManyNow(ids: readonly string[]): PlayerStats[] {
    const out = new Array<PlayerStats>(ids.length);
    let missing: number[] | undefined;
    for (let i = 0; i < ids.length; i++) {
      const s = this.cache.get(ids[i]);
      this.used.add(ids[i]);
      if (s !== undefined) out[i] = s;
      else (missing ??= []).push(i);
    }
    if (missing !== undefined) {
      this.db.exec("BEGIN");
      try {
        for (const i of missing) out[i] = this.getNow(ids[i]);
        this.db.exec("COMMIT");
      } catch (err) {
        this.db.exec("ROLLBACK");
        throw err;
      }
    }
    return out;
  }

  private putNow(id: string, fields: StatFields, expectedVersion: number | undefined): PutResult {
    // Not getNow(): a refused or no-op write must not create the row as a side effect.
    const current = this.peekNow(id) ?? deriveStats(id);
    if (expectedVersion !== undefined && expectedVersion !== current.version) return { ok: false, current };
    if (STAT_FIELDS.every((f) => current[f] === fields[f])) return { ok: true, stats: current };
    const next: PlayerStats = { id, ...fields, version: current.version + 1 };
    this.write(this.upsert, next);
    this.cache.set(id, next);
    return { ok: true, stats: next };
  }

  /** Writes the uses marked since the last call (at `nowMs`), then deletes unused guest rows; one transaction. */
  private expireGuestsNow(ttlMs: number, nowMs: number): number {
    this.db.exec("BEGIN");
    let gone: { id: string }[];
    try {
      const mark = this.db.prepare("UPDATE player_stats SET used_at = ? WHERE id = ?");
      for (const id of this.used) mark.run(nowMs, id);
      gone = this.db
        .prepare("DELETE FROM player_stats WHERE id >= ? AND id < ? AND used_at < ? RETURNING id")
        .all(GUEST_LOW, GUEST_HIGH, nowMs - ttlMs) as { id: string }[];
      this.db.exec("COMMIT");
    } catch (err) {
      this.db.exec("ROLLBACK");
      throw err;
    }
    this.used.clear();
    for (const { id } of gone) this.cache.delete(id);
    return gone.length;
  }

  private write(stmt: StatementSync, s: PlayerStats): void {
    stmt.run(...rowValues(s), Date.now());
  }
}
