/**
 * The round journal: one SQLite row (node:sqlite) per resolved round with everything needed to
 * re-run it: the room, round number, seed, the round's plan (entities at the cut-off, with their
 * intents, no stats) and the runtime's call journal of the round (fetched stats and
 * last-known-good lookups: each entity's stats are stored once, there), both msgpackr, the stats
 * deadline, and the hash of the resolved output. The `input` column holds the plan; rows written
 * before the plan format held the full RoundInput (stats twice) and no lookups, and are reported
 * as such by replay.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { Packr } from "msgpackr";
import type { JournaledPlan } from "./combat-round.ts";

export interface JournalRecord {
  room: string;
  round: number;
  seed: number;
  /** the round's plan; replay rebuilds the RoundInput from it and the calls */
  plan: JournaledPlan;
  /** the runtime Journal's entries for this round (plain data) */
  calls: unknown[];
  hash: string;
  joinMs: number;
  deadlineMs: number;
}

// Records off: a journal must decode the same in any process, without shared structure tables.
const packr = new Packr({ useRecords: false, moreTypes: false });

const SCHEMA = `
CREATE TABLE IF NOT EXISTS rounds (
  room TEXT NOT NULL,
  round INTEGER NOT NULL,
  seed INTEGER NOT NULL,
  input BLOB NOT NULL,
  calls BLOB NOT NULL,
  hash TEXT NOT NULL,
  join_ms REAL NOT NULL,
  deadline_ms INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  PRIMARY KEY (room, round)
) STRICT;`;

interface Row {
  room: string;
  round: number;
  seed: number;
  input: Uint8Array;
  calls: Uint8Array;
  hash: string;
  join_ms: number;
  deadline_ms: number;
}

export class RoundJournal {
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly insert: StatementSync | null;
  private readonly readOnly: boolean;
  private closed = false;
  /** the last append's failure, until an append succeeds */
  private lastError: Error | undefined = undefined;

  /** `readOnly`: for replay and tools; the file must exist. */
  constructor(path: string, opts: { readOnly?: boolean } = {}) {
    this.path = path;
    this.readOnly = opts.readOnly === true;
    if (this.readOnly) {
      this.db = new DatabaseSync(path, { readOnly: true });
      this.insert = null;
      return;
    }
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    if (path !== ":memory:") {
      // WAL: appends do not block readers (a replay while the server runs); NORMAL is durable
      // across process crashes, which is what a journal of a game server needs.
      this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    }
    this.db.exec(SCHEMA);
    this.insert = this.db.prepare(
      "INSERT INTO rounds (room, round, seed, input, calls, hash, join_ms, deadline_ms, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
  }

  get isClosed(): boolean {
    return this.closed;
  }

  append(rec: JournalRecord): void {
    if (this.closed) throw new Error("round journal is closed");
    if (!this.insert) throw new Error("round journal is open read-only");
    try {
      this.insert.run(rec.room, rec.round, rec.seed, packr.pack(rec.plan), packr.pack(rec.calls), rec.hash, rec.joinMs, rec.deadlineMs, Date.now());
      this.lastError = undefined;
    } catch (err) {
      this.lastError = err as Error;
      throw err;
    }
  }

  /** Why rounds cannot be appended right now, or null: closed, the last append failed, or no write lock. */
  problem(): string | null {
    if (this.closed) return "journal is closed";
    if (this.readOnly) return "journal is open read-only";
    if (this.lastError) return `last append failed: ${this.lastError.message}`;
    try {
      // takes and releases the write lock: fails when the file cannot be written or is locked
      this.db.exec("BEGIN IMMEDIATE; ROLLBACK;");
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }

  count(room?: string): number {
    const row = (room === undefined
      ? this.db.prepare("SELECT COUNT(*) AS n FROM rounds").get()
      : this.db.prepare("SELECT COUNT(*) AS n FROM rounds WHERE room = ?").get(room)) as { n: number };
    return row.n;
  }

  /**
   * Rounds in (room, round) order, optionally one room and/or one round, or rounds from
   * `fromRound` on, at most `limit` of them.
   */
  *read(filter: { room?: string; round?: number; fromRound?: number; limit?: number } = {}): Generator<JournalRecord> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.room !== undefined) {
      where.push("room = ?");
      args.push(filter.room);
    }
    if (filter.round !== undefined) {
      where.push("round = ?");
      args.push(filter.round);
    }
    if (filter.fromRound !== undefined) {
      where.push("round >= ?");
      args.push(filter.fromRound);
    }
    const limit = filter.limit === undefined ? "" : ` LIMIT ${Math.max(0, Math.floor(filter.limit))}`;
    const sql = `SELECT room, round, seed, input, calls, hash, join_ms, deadline_ms FROM rounds${where.length ? " WHERE " + where.join(" AND ") : ""} ORDER BY room, round${limit}`;
    for (const row of this.db.prepare(sql).iterate(...args) as Iterable<Row>) {
      yield {
        room: row.room,
        round: row.round,
        seed: row.seed,
        plan: packr.unpack(row.input) as JournaledPlan,
        calls: packr.unpack(row.calls) as unknown[],
        hash: row.hash,
        joinMs: row.join_ms,
        deadlineMs: row.deadline_ms,
      };
    }
  }

  /** Test and tooling hook: rewrite one stored field (e.g. to prove tampering is detected). */
  rawUpdate(room: string, round: number, set: { hash?: string; plan?: JournaledPlan; calls?: unknown[] }): void {
    if (set.hash !== undefined) this.db.prepare("UPDATE rounds SET hash = ? WHERE room = ? AND round = ?").run(set.hash, room, round);
    if (set.plan !== undefined) this.db.prepare("UPDATE rounds SET input = ? WHERE room = ? AND round = ?").run(packr.pack(set.plan), room, round);
    if (set.calls !== undefined) this.db.prepare("UPDATE rounds SET calls = ? WHERE room = ? AND round = ?").run(packr.pack(set.calls), room, round);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // checkpoint so the .db file alone holds every round once the server has exited
    if (this.path !== ":memory:" && !this.readOnly) this.db.exec("PRAGMA wal_checkpoint(TRUNCATE);");
    this.db.close();
  }
}
