/**
 * A room's checkpoint as stored in Redis (room-leases.ts): msgpack of the version, the owner and
 * epoch that wrote it, and what a restore needs (room/room-durability.ts's RoomCheckpoint: the
 * room's record, its last committed round, its members). A checkpoint of another version is
 * refused, never guessed at.
 */
import { Packr } from "msgpackr";
import type { RoomCheckpoint } from "../room/room-durability.ts";

export const CHECKPOINT_VERSION = 1;

export interface StoredCheckpoint extends RoomCheckpoint {
  v: number;
  owner: string;
  epoch: number;
  /** written by an owner that stopped and gave the lease up: adopt at once, the owner is alive but leaving */
  handedOver: boolean;
}

const packr = new Packr({ useRecords: false, moreTypes: false });

export function encodeCheckpoint(
  owner: string,
  epoch: number,
  checkpoint: RoomCheckpoint,
  handedOver = false,
): Uint8Array {
  return packr.pack({ v: CHECKPOINT_VERSION, owner, epoch, handedOver, ...checkpoint });
}

/** Throws for bytes that are not a checkpoint of this version. */
export function decodeCheckpoint(bytes: Uint8Array): StoredCheckpoint {
  const value = packr.unpack(bytes) as Partial<StoredCheckpoint> | null;
  if (typeof value !== "object" || value === null) throw new Error("not a checkpoint");
  if (value.v !== CHECKPOINT_VERSION)
    throw new Error(`checkpoint of version ${String(value.v)}; this build reads version ${CHECKPOINT_VERSION}`);
  if (
    typeof value.owner !== "string" ||
    typeof value.epoch !== "number" ||
    !value.room ||
    !Array.isArray(value.members)
  )
    throw new Error("checkpoint without its owner, epoch, room or members");
  return value as StoredCheckpoint;
}
