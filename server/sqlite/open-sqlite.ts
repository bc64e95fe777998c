import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";

/** What a database file holds, and how an older file is brought up to date. */
export interface SqliteSchema {
  /** `CREATE TABLE IF NOT EXISTS ...` (and its indexes): run on every open */
  schema: string;
  /**
   * Columns added since the table's first release: added to an existing table that lacks them,
   * before `schema` runs (so its indexes may name them). `definition` says what old rows hold.
   */
  addedColumns?: readonly { table: string; column: string; definition: string }[];
  /** `auto_vacuum = INCREMENTAL` (takes effect in a new file only): lets a pruner hand pages back */
  incrementalVacuum?: boolean;
}

/**
 * Opens (creating it and its folder if needed) a SQLite database owned by this process and
 * brings its schema up to date. A file gets WAL (writes do not block readers, e.g. a replay
 * while the server runs) and synchronous = NORMAL (durable across process crashes, one fsync per
 * checkpoint rather than per write); ":memory:" gets neither.
 *
 * @throws what node:sqlite throws for a file it cannot open or a schema it cannot apply
 */
export function openSqlite(path: string, schema: SqliteSchema): DatabaseSync {
  const inMemory = path === ":memory:";
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  try {
    if (!inMemory) {
      const vacuum = schema.incrementalVacuum === true ? "PRAGMA auto_vacuum = INCREMENTAL; " : "";
      db.exec(`${vacuum}PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;`);
    }
    for (const { table, column, definition } of schema.addedColumns ?? []) {
      const columns = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
      if (columns.length > 0 && !columns.some((c) => c.name === column))
        db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
    }
    db.exec(schema.schema);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
