/**
 * The journal's record of rooms, beside their rounds: when a room was opened (with the nonce its
 * secret is derived from, round/room-secret.ts) and finished, and who joined, came back and
 * left, in order, each event tagged with the number of rounds cut off before it. With a room's
 * last round row this is all a restore needs (room/restore-plan.ts), and all `npm run replay`
 * needs to check that round N+1 began exactly where round N ended.
 *
 * Written through the round journal's transaction of the current event-loop turn (`begin`), so a
 * membership change and the rounds around it commit together. A seat's reconnection token is
 * never stored: only an HMAC of it under the server's key (room/seat-credential.ts), which
 * verifies a token a client presents but cannot be presented itself.
 */
import type { DatabaseSync } from "node:sqlite";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS rooms (
  room TEXT PRIMARY KEY,
  nonce BLOB NOT NULL,
  opened_at_ms INTEGER NOT NULL,
  finished_at_ms INTEGER,
  ref_base INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE IF NOT EXISTS members (
  room TEXT NOT NULL,
  seq INTEGER NOT NULL,
  after_round INTEGER NOT NULL,
  event TEXT NOT NULL,
  entity TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  session_id TEXT,
  credential TEXT,
  at_ms INTEGER NOT NULL,
  PRIMARY KEY (room, seq)
) STRICT;`;

/**
 * join: the entity entered; seat: a player's connection (a reconnection) has a new credential;
 * leave: it is gone; restore: a process restored the room from round `afterRound` (events before
 * it with a later afterRound belonged to cut-offs whose rounds were never committed); a restore
 * record names no entity.
 */
export type MemberEvent = "join" | "seat" | "leave" | "restore";

export interface MemberRecord {
  /** order within the room, and when (set by the ledger) */
  seq?: number;
  atMs?: number;
  event: MemberEvent;
  /** rounds cut off before this event (0: before the first round) */
  afterRound: number;
  entity: string;
  name: string;
  kind: "player" | "npc";
  /** players: the Colyseus session the seat belongs to, and what verifies its reconnection token */
  sessionId: string | null;
  credential: string | null;
}

export interface LedgerRoom {
  room: string;
  nonce: Uint8Array;
  openedAtMs: number;
  /** schema ref ids the room's state has used (a restore allocates above them) */
  refBase: number;
}

export class RoomLedger {
  private readonly db: DatabaseSync;
  private readonly begin: (() => void) | null;
  private readonly hasTables: boolean;

  /** `begin`: opens the journal's transaction of this turn; null for a read-only journal. */
  constructor(db: DatabaseSync, begin: (() => void) | null) {
    this.db = db;
    this.begin = begin;
    if (begin) db.exec(SCHEMA);
    // a read-only journal written before rooms were recorded has no such tables
    this.hasTables = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'members'").get() !== undefined;
  }

  opened(room: string, nonce: Uint8Array, refBase: number): void {
    // a room adopted back by a process that held it before is in its journal already
    this.write(
      "INSERT INTO rooms (room, nonce, opened_at_ms, ref_base) VALUES (?, ?, ?, ?) ON CONFLICT (room) DO NOTHING",
      room,
      nonce,
      Date.now(),
      refBase,
    );
  }

  /** The room ended (its last player left, or it was refused at a restore): it is never restored. */
  finished(room: string): void {
    this.write("UPDATE rooms SET finished_at_ms = ? WHERE room = ?", Date.now(), room);
  }

  /** Schema ref ids used so far, so that a restore's new refs never reuse one a client holds. */
  refsUsed(room: string, refBase: number): void {
    this.write("UPDATE rooms SET ref_base = max(ref_base, ?) WHERE room = ?", refBase, room);
  }

  member(room: string, m: MemberRecord): void {
    this.write(
      `INSERT INTO members (room, seq, after_round, event, entity, name, kind, session_id, credential, at_ms)
       VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM members WHERE room = ?), ?, ?, ?, ?, ?, ?, ?, ?)`,
      room,
      room,
      m.afterRound,
      m.event,
      m.entity,
      m.name,
      m.kind,
      m.sessionId,
      m.credential,
      Date.now(),
    );
  }

  /** Rooms opened and not finished: what a restarted process restores. */
  live(): LedgerRoom[] {
    if (!this.hasTables) return [];
    const rows = this.db
      .prepare(
        "SELECT room, nonce, opened_at_ms, ref_base FROM rooms WHERE finished_at_ms IS NULL ORDER BY opened_at_ms, room",
      )
      .all() as { room: string; nonce: Uint8Array; opened_at_ms: number; ref_base: number }[];
    return rows.map((r) => ({ room: r.room, nonce: r.nonce, openedAtMs: r.opened_at_ms, refBase: r.ref_base }));
  }

  /** A room's membership events in order (after `afterRound` rounds, when given). */
  members(room: string, fromAfterRound = 0): MemberRecord[] {
    if (!this.hasTables) return [];
    const rows = this.db
      .prepare(
        "SELECT seq, at_ms, event, after_round, entity, name, kind, session_id, credential FROM members WHERE room = ? AND after_round >= ? ORDER BY seq",
      )
      .all(room, fromAfterRound) as {
      seq: number;
      at_ms: number;
      event: MemberEvent;
      after_round: number;
      entity: string;
      name: string;
      kind: "player" | "npc";
      session_id: string | null;
      credential: string | null;
    }[];
    return rows.map((r) => ({
      seq: r.seq,
      atMs: r.at_ms,
      event: r.event,
      afterRound: r.after_round,
      entity: r.entity,
      name: r.name,
      kind: r.kind,
      sessionId: r.session_id,
      credential: r.credential,
    }));
  }

  /** Deletes the records of rooms finished before `beforeAtMs` (retention), at most `batch` rooms. */
  pruneFinished(beforeAtMs: number, batch: number): number {
    if (!this.begin || !this.hasTables) return 0;
    const rooms = this.db
      .prepare("SELECT room FROM rooms WHERE finished_at_ms < ? ORDER BY finished_at_ms LIMIT ?")
      .all(beforeAtMs, batch) as { room: string }[];
    for (const { room } of rooms) {
      this.write("DELETE FROM members WHERE room = ?", room);
      this.write("DELETE FROM rooms WHERE room = ?", room);
    }
    return rooms.length;
  }

  private write(sql: string, ...args: (string | number | null | Uint8Array)[]): void {
    if (!this.begin) throw new Error("round journal is open read-only");
    this.begin();
    this.db.prepare(sql).run(...args);
  }
}
