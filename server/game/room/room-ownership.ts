/**
 * Whether this process still acts for a room. When the process stops it hands the room over to its
 * successor; when a checkpoint finds the room's lease lost (room-durability.ts) it drops the room
 * at once. Without a cluster there is no lease: a checkpoint always holds.
 */
import { CloseCode, type Client } from "@colyseus/core";
import type { GameConfig } from "../config.ts";
import type { DurableRoomState } from "./durable-room-state.ts";
import type { RoomDurability } from "./room-durability.ts";

/** What ownership uses of its room: Colyseus' Room (its listing is private to it). */
export interface OwnedRoom {
  readonly roomId: string;
  readonly clients: Iterable<Client>;
  disconnect(closeCode?: number): Promise<unknown>;
}

export interface OwnershipDeps {
  config: GameConfig;
  durability: RoomDurability | undefined;
  durable: DurableRoomState;
  /** stops the room's rounds, the one in flight given `waitMs` to finish and be committed */
  stopRounds(waitMs: number): Promise<unknown>;
}

export class RoomOwnership {
  private readonly room: OwnedRoom;
  private readonly deps: OwnershipDeps;
  private handing = false;
  private lost = false;

  constructor(room: OwnedRoom, deps: OwnershipDeps) {
    this.room = room;
    this.deps = deps;
  }

  /** the process is stopping and hands this room to its successor: no leave is recorded, the room is not finished */
  get handingOver(): boolean {
    return this.handing;
  }

  /** another process owns the room now (its lease was lost): nothing is broadcast, written or checkpointed */
  get dropped(): boolean {
    return this.lost;
  }

  /**
   * The process is stopping and the room goes on in its successor: the round in flight finishes
   * and is committed, then every client is closed with 4010 ("may reconnect"), which the SDK
   * answers by reconnecting; nothing is recorded as a leave and the room is not finished.
   */
  async handOver(): Promise<void> {
    this.handing = true;
    await this.deps.stopRounds(this.deps.config.roundDeadlineMs + 500);
    if (this.deps.durability) {
      this.keepListing();
      await this.deps.durability.handOver(this.room.roomId, this.deps.durable.checkpoint());
    }
    for (const client of [...this.room.clients]) client.leave(CloseCode.MAY_TRY_RECONNECT, "the server is restarting");
  }

  /**
   * Another process owns the room now (this one lost its lease: it was paused past it, say): stop
   * acting at once. No round is broadcast or journaled, nothing recorded, the adopter's listing
   * stays; clients are closed with 4010 and reach the adopter with client.reconnect(token).
   */
  drop(): void {
    if (this.lost) return;
    this.lost = true;
    this.handing = true;
    this.keepListing();
    void this.deps.stopRounds(0);
    void this.room.disconnect(CloseCode.MAY_TRY_RECONNECT);
  }

  /** Writes the checkpoint under this process's lease (true without a cluster); a lost lease drops the room. */
  async checkpoint(): Promise<boolean> {
    if (this.lost) return false;
    if (!this.deps.durability) return true;
    const owned = await this.deps.durability.checkpoint(this.room.roomId, this.deps.durable.checkpoint());
    if (!owned) this.drop();
    return owned;
  }

  /** On dispose Colyseus removes the room's listing by id: not when the listing is now another process's. */
  private keepListing(): void {
    (this.room as unknown as { _listing: { roomId?: string } })._listing.roomId = undefined;
  }
}
