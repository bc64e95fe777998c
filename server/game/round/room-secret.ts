/**
 * A room's secret and the seeds derived from it. Every roll of a round comes from that round's
 * seed, and every NPC decision from its own seed; both are HMAC-SHA256 of the room secret, so a
 * client that sees any number of published round seeds (each `round` message carries its seed
 * once the round is resolved) learns nothing about the next one. The secret itself is derived
 * from the server's key and a random nonce the journal keeps: a restarted or adopting process
 * with the same key derives it again, a copied journal alone does not.
 */
import { createHmac, randomBytes } from "node:crypto";

/** Bytes of a room's nonce (what the journal keeps instead of the secret). */
export const ROOM_NONCE_BYTES = 16;

export class RoomSecret {
  private readonly key: Buffer;

  private constructor(key: Buffer) {
    this.key = key;
  }

  /** A fresh nonce for a new room. */
  static newNonce(): Buffer {
    return randomBytes(ROOM_NONCE_BYTES);
  }

  /** The secret of room `roomId` with `nonce`, under the server's `serverKey` (AUTH_SECRET). */
  static derive(serverKey: string, roomId: string, nonce: Uint8Array): RoomSecret {
    const roomKey = createHmac("sha256", serverKey).update("skirmish room secret v1").digest();
    return new RoomSecret(createHmac("sha256", roomKey).update(roomId).update("\0").update(nonce).digest());
  }

  /** The seed (u32) of round `round`. */
  roundSeed(round: number): number {
    return this.u32(`round:${round}`);
  }

  /** The seed (u32) of NPC `id`'s decision for round `round`. */
  npcSeed(id: string, round: number): number {
    return this.u32(`npc:${id}:${round}`);
  }

  private u32(label: string): number {
    return createHmac("sha256", this.key).update(label).digest().readUInt32BE(0);
  }
}
