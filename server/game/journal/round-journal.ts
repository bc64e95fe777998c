/**
 * The round journal: one SQLite row (node:sqlite) per resolved round with everything needed to
 * re-run it: the room, round number, seed, the round's plan (entities at the cut-off, with their
 * intents, no stats) and the runtime's call journal of the round (fetched stats and
 * last-known-good lookups: each entity's stats are stored once, there), both msgpackr, the stats
 * deadline, and the hash of the resolved output. The `input` column holds the plan; rows written
 * before the plan format held the full RoundInput (stats twice) and no lookups, and are reported
 * as such by replay. Plan and calls are stored in the encoding of journal-codec.ts (`enc`).
 *
 * Group commit: every append (and every room-ledger write, room-ledger.ts) made in one turn of
 * the event loop goes into one transaction, committed at the end of that turn (setImmediate);
 * `afterCommit` runs its callback once what was written before it is committed. A room
 * broadcasts a round only from there, so no round a client saw can be lost by a crash and
 * fought again after a restore. One commit per turn instead of one per round: an insert of its
 * own is a commit of its own (a WAL write of every page it touched), 6 % of the server's self
 * time in a profile at 2 000 bots (bench/profiles.md), and rounds of many rooms end in the same
 * turn. The insert still runs inside `append` (a bad record throws there, to the caller);
 * readers in this process see it at once, other processes (a replay while the server runs) once
 * committed. Commits are durable across a process crash (SIGKILL, OOM); with
 * `synchronous = NORMAL` a power cut can lose what was committed since the last WAL checkpoint.
 * A failed commit rolls the batch back, and an append whose failure made SQLite roll the batch
 * back (a full disk) loses the batch's earlier rounds: both are reported to `onCommitError` with
 * the rounds lost (and the callbacks waiting for the commit still run: the game goes on).
 *
 * Retention: `prune` deletes the oldest rows (older than a cut-off, or while the rows in use
 * take more than a byte budget), one bounded batch per call, so a caller can spread a large
 * prune over many event-loop turns (journal-retention.ts) instead of stalling rounds.
 */
import { extname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { JournaledPlan } from "../round/combat-round.ts";
import { decodeBlob, encodeBlob, JOURNAL_ENCODING } from "./journal-codec.ts";
import { RoomLedger } from "./room-ledger.ts";
import { openSqlite } from "../../sqlite/open-sqlite.ts";

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

export interface JournalFilter {
  room?: string;
  round?: number;
  fromRound?: number;
  limit?: number;
}

/**
 * The journal file of one process of a cluster: `data/journal.db` becomes
 * `data/journal-<processId>.db`, so processes never share a SQLite file (and a restarted process,
 * which gets a new id, starts a file of its own). Without a process id, or for `:memory:`, the
 * path as given.
 */
export function journalPathOf(path: string, processId: string | undefined): string {
  if (processId === undefined || path === ":memory:") return path;
  const ext = extname(path);
  return `${path.slice(0, path.length - ext.length)}-${processId}${ext}`;
}

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
  enc INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (room, round)
) STRICT;
CREATE INDEX IF NOT EXISTS rounds_at_ms ON rounds (at_ms);`;

/** A row as stored: `input` (the plan) and `calls` still encoded (decodeStored decodes them). */
export interface StoredRound {
  room: string;
  round: number;
  seed: number;
  input: Uint8Array;
  calls: Uint8Array;
  hash: string;
  join_ms: number;
  deadline_ms: number;
  enc: number;
}

/** A stored row as a record; throws for an encoding this version does not know (journal-codec.ts). */
export function decodeStored(row: StoredRound): JournalRecord {
  return {
    room: row.room,
    round: row.round,
    seed: row.seed,
    plan: decodeBlob(row.input, row.enc) as JournaledPlan,
    calls: decodeBlob(row.calls, row.enc) as unknown[],
    hash: row.hash,
    joinMs: row.join_ms,
    deadlineMs: row.deadline_ms,
  };
}

export class RoundJournal {
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly insert: StatementSync | null;
  private readonly readOnly: boolean;
  private closed = false;
  /** the last append's (or commit's) failure, until an append succeeds */
  private lastError: Error | undefined = undefined;
  /** the open transaction's commit (end of this event-loop turn), while writes wait for it */
  private commitTimer: NodeJS.Immediate | undefined;
  private uncommitted = 0;
  private readonly waiting: (() => void)[] = [];
  /** room lifecycle and membership, written in the rounds' transactions */
  readonly rooms: RoomLedger;
  private readonly onCommitError: (err: unknown, rounds: number) => void;

  /**
   * `readOnly`: for replay and tools; the file must exist. `onCommitError`: a batch of appends
   * was rolled back, by a failed commit or by SQLite after a failed append (`rounds` lost, the
   * failed append's own round not counted: it threw to its caller); by default rethrown.
   */
  constructor(path: string, opts: { readOnly?: boolean; onCommitError?: (err: unknown, rounds: number) => void } = {}) {
    this.path = path;
    this.onCommitError =
      opts.onCommitError ??
      ((err) => {
        throw err;
      });
    this.readOnly = opts.readOnly === true;
    if (this.readOnly) {
      this.db = new DatabaseSync(path, { readOnly: true });
      this.insert = null;
      this.rooms = new RoomLedger(this.db, null);
      return;
    }
    this.db = openSqlite(path, {
      schema: SCHEMA,
      // a journal from before encodings were numbered: its rows are encoding 0
      addedColumns: [{ table: "rounds", column: "enc", definition: "INTEGER NOT NULL DEFAULT 0" }],
      incrementalVacuum: true, // prune hands pages back
    });
    this.insert = this.db.prepare(
      `INSERT INTO rounds (room, round, seed, input, calls, hash, join_ms, deadline_ms, at_ms, enc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ${JOURNAL_ENCODING})`,
    );
    this.rooms = new RoomLedger(this.db, () => this.begin());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Opens this turn's transaction if none is open; its commit runs at the end of the turn. */
  private begin(): void {
    if (this.closed) throw new Error("round journal is closed");
    if (this.readOnly) throw new Error("round journal is open read-only");
    if (this.commitTimer !== undefined) return;
    this.db.exec("BEGIN");
    this.commitTimer = setImmediate(() => this.commit());
  }

  append(rec: JournalRecord): void {
    if (!this.insert) throw new Error("round journal is open read-only");
    this.begin();
    this.uncommitted++;
    try {
      this.insert.run(
        rec.room,
        rec.round,
        rec.seed,
        encodeBlob(rec.plan),
        encodeBlob(rec.calls),
        rec.hash,
        rec.joinMs,
        rec.deadlineMs,
        Date.now(),
      );
      this.lastError = undefined;
    } catch (err) {
      this.lastError = err as Error;
      // some failures (a full disk, I/O) make SQLite roll the whole transaction back: the
      // batch's earlier rounds are gone too, and later appends must start a new one
      if (this.commitTimer !== undefined && !this.db.isTransaction) {
        clearImmediate(this.commitTimer);
        this.commitTimer = undefined;
        const lost = this.uncommitted - 1;
        this.uncommitted = 0;
        if (lost > 0) this.onCommitError(err, lost);
        for (const then of this.waiting.splice(0)) then();
      }
      throw err;
    }
  }

  /** Why rounds cannot be appended right now, or null: closed, the last append failed, or no write lock. */
  problem(): string | null {
    if (this.closed) return "journal is closed";
    if (this.readOnly) return "journal is open read-only";
    if (this.lastError) return `last append failed: ${this.lastError.message}`;
    // appends waiting for their commit: this connection holds the write lock already
    if (this.db.isTransaction) return null;
    try {
      // takes and releases the write lock: fails when the file cannot be written or is locked
      this.db.exec("BEGIN IMMEDIATE; ROLLBACK;");
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }

  /**
   * Runs `then` once everything written so far is committed: at the end of this event-loop turn,
   * or at once when nothing waits. A failed commit is reported to onCommitError first; `then`
   * still runs.
   */
  afterCommit(then: () => void): void {
    if (this.commitTimer === undefined) then();
    else this.waiting.push(then);
  }

  /** Commits what waits now (the end of the turn, `prune` and `close` call it), then runs afterCommit's callbacks. */
  commit(): void {
    if (this.commitTimer === undefined) return;
    clearImmediate(this.commitTimer);
    this.commitTimer = undefined;
    const rounds = this.uncommitted;
    this.uncommitted = 0;
    try {
      this.db.exec("COMMIT");
    } catch (err) {
      this.lastError = err as Error;
      if (this.db.isTransaction) this.db.exec("ROLLBACK");
      this.onCommitError(err, rounds);
    }
    for (const then of this.waiting.splice(0)) then();
  }

  count(room?: string): number {
    const row = (
      room === undefined
        ? this.db.prepare("SELECT COUNT(*) AS n FROM rounds").get()
        : this.db.prepare("SELECT COUNT(*) AS n FROM rounds WHERE room = ?").get(room)
    ) as { n: number };
    return row.n;
  }

  /**
   * Rounds in (room, round) order, optionally one room and/or one round, or rounds from
   * `fromRound` on, at most `limit` of them.
   */
  *read(filter: JournalFilter = {}): Generator<JournalRecord> {
    for (const row of this.readStored(filter)) yield decodeStored(row);
  }

  /**
   * The rows `read` would decode, as stored: for a reader that decodes them elsewhere (the replay
   * route's worker thread), the decoding being as costly as reading.
   */
  *readStored(filter: JournalFilter = {}): Generator<StoredRound> {
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
    // a read-only journal from before encodings were numbered has no enc column: encoding 0
    const hasEnc = (this.db.prepare("PRAGMA table_info(rounds)").all() as { name: string }[]).some(
      (c) => c.name === "enc",
    );
    const sql = `SELECT room, round, seed, input, calls, hash, join_ms, deadline_ms, ${hasEnc ? "enc" : "0 AS enc"} FROM rounds${where.length ? " WHERE " + where.join(" AND ") : ""} ORDER BY room, round${limit}`;
    yield* this.db.prepare(sql).iterate(...args) as Iterable<StoredRound>;
  }

  /** The rooms with rounds in this journal (or just `room`, when it has any), sorted. */
  roomIds(room?: string): string[] {
    const rows = (
      room === undefined
        ? this.db.prepare("SELECT DISTINCT room FROM rounds ORDER BY room").all()
        : this.db.prepare("SELECT DISTINCT room FROM rounds WHERE room = ?").all(room)
    ) as { room: string }[];
    return rows.map((r) => r.room);
  }

  /** A room's last journaled round (throws, naming the encoding, for a row it cannot decode). */
  last(room: string): JournalRecord | undefined {
    const row = this.db.prepare("SELECT round FROM rounds WHERE room = ? ORDER BY round DESC LIMIT 1").get(room) as
      { round: number } | undefined;
    return row === undefined ? undefined : this.read({ room, round: row.round }).next().value;
  }

  /** Test and tooling hook: rewrite one stored field (e.g. to prove tampering is detected). */
  rawUpdate(room: string, round: number, set: { hash?: string; plan?: JournaledPlan; calls?: unknown[] }): void {
    if (set.hash !== undefined)
      this.db.prepare("UPDATE rounds SET hash = ? WHERE room = ? AND round = ?").run(set.hash, room, round);
    if (set.plan !== undefined || set.calls !== undefined) {
      const row = this.db
        .prepare("SELECT input, calls, enc FROM rounds WHERE room = ? AND round = ?")
        .get(room, round) as { input: Uint8Array; calls: Uint8Array; enc: number };
      const plan = set.plan ?? decodeBlob(row.input, row.enc);
      const calls = set.calls ?? decodeBlob(row.calls, row.enc);
      this.db
        .prepare(`UPDATE rounds SET input = ?, calls = ?, enc = ${JOURNAL_ENCODING} WHERE room = ? AND round = ?`)
        .run(encodeBlob(plan), encodeBlob(calls), room, round);
    }
  }

  /** Bytes the journal's rows occupy (pages in use; freed pages are reused before the file grows). */
  usedBytes(): number {
    const n = (pragma: string) => (this.db.prepare(`PRAGMA ${pragma}`).get() as Record<string, number>)[pragma];
    return (n("page_count") - n("freelist_count")) * n("page_size");
  }

  /**
   * Deletes up to `batch` of the oldest rows that are older than `beforeAtMs` or, while the
   * journal uses more than `maxBytes`, the oldest regardless of age. Returns how many went; 0 means
   * nothing is left to prune. Frees the pages it can (incremental vacuum) afterwards.
   */
  prune(beforeAtMs: number, maxBytes: number, batch: number): number {
    if (this.closed || this.readOnly) return 0;
    // a prune is its own transaction: the incremental vacuum after it must see it committed
    this.commit();
    let deleted = Number(
      this.db
        .prepare("DELETE FROM rounds WHERE rowid IN (SELECT rowid FROM rounds WHERE at_ms < ? ORDER BY at_ms LIMIT ?)")
        .run(beforeAtMs, batch).changes,
    );
    if (deleted === 0 && maxBytes > 0 && this.usedBytes() > maxBytes) deleted = this.deleteOldest(batch);
    if (deleted > 0) this.db.exec("PRAGMA incremental_vacuum;");
    return deleted;
  }

  /** Deletes up to `batch` of the oldest rows whatever their age (a byte budget shared with other journals); how many went. */
  pruneOldest(batch: number): number {
    if (this.closed || this.readOnly) return 0;
    this.commit();
    const deleted = this.deleteOldest(batch);
    if (deleted > 0) this.db.exec("PRAGMA incremental_vacuum;");
    return deleted;
  }

  /** When the oldest row was written (ms since the epoch), or undefined for an empty journal. */
  oldestAtMs(): number | undefined {
    const row = this.db.prepare("SELECT MIN(at_ms) AS at FROM rounds").get() as { at: number | null };
    return row.at ?? undefined;
  }

  private deleteOldest(batch: number): number {
    return Number(
      this.db.prepare("DELETE FROM rounds WHERE rowid IN (SELECT rowid FROM rounds ORDER BY at_ms LIMIT ?)").run(batch)
        .changes,
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.commit();
      // checkpoint so the .db file alone holds every round once the server has exited
      if (this.path !== ":memory:" && !this.readOnly) this.db.exec("PRAGMA wal_checkpoint(TRUNCATE);");
    } finally {
      this.db.close();
    }
  }
}
