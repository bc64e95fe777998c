/**
 * What a room tells the cluster so that another process can adopt it if this one dies or stops
 * (cluster/room-adoption.ts implements it over Redis; one process alone needs none: its own
 * journal is enough to restart in place). Each room is owned under a lease with an epoch; its
 * checkpoint (the last committed round plus its members: what restore-plan.ts needs) is written
 * under that lease before a round is broadcast or a join acknowledged, so an adopter never
 * resumes from a state older than what a client saw.
 */
import type { JournalRecord } from "../journal/round-journal.ts";
import type { LedgerRoom, MemberRecord } from "../journal/room-ledger.ts";

export interface RoomCheckpoint {
  room: LedgerRoom;
  /** the last committed round (null before the first) */
  last: JournalRecord | null;
  /** who is in: one join record each, with its latest seat */
  members: MemberRecord[];
}

export interface RoomDurability {
  /** A new room: takes its lease. Rejects when Redis cannot be reached (the room is not created). */
  opened(roomId: string): Promise<void>;
  /** Writes the checkpoint under this process's lease; false: the lease is lost (the room must be dropped). */
  checkpoint(roomId: string, checkpoint: RoomCheckpoint): Promise<boolean>;
  /** Whether this process may still act for the room: its lease is known to hold right now. */
  owns(roomId: string): boolean;
  /** The match is over: its lease and checkpoint go. Never throws (failures are counted and logged). */
  finished(roomId: string): void;
  /** This process stops: the last checkpoint stays and the lease is given up, for another process to adopt the room at once. */
  handOver(roomId: string, checkpoint: RoomCheckpoint): Promise<void>;
}
