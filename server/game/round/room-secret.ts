/**
 * A room's secret and the seeds derived from it. Every roll of a round comes from that round's
 * seed, and every NPC decision from its own seed; both are HMAC-SHA256 of the room secret, so a
 * client that sees any number of published round seeds (each `round` message carries its seed
 * once the round is resolved) learns nothing about the next one. The secret itself is derived
 * from the server's key and a random nonce the journal keeps: a restarted or adopting process
 * with the same key derives it again, a copied journal alone does not.
 */
import { createHash, createHmac, randomBytes, type Hash } from "node:crypto";

/** Bytes of a room's nonce (what the journal keeps instead of the secret). */
export const ROOM_NONCE_BYTES = 16;

/** SHA-256's block: an HMAC key up to this long is zero-padded to it (RFC 2104) */
const BLOCK_BYTES = 64;

export class RoomSecret {
  /** SHA-256 states after the key XOR ipad / opad blocks: the two halves of HMAC every seed shares */
  private readonly inner: Hash;
  private readonly outer: Hash;

  private constructor(key: Buffer) {
    const block = Buffer.alloc(BLOCK_BYTES);
    key.copy(block);
    this.inner = createHash("sha256").update(block.map((b) => b ^ 0x36));
    this.outer = createHash("sha256").update(block.map((b) => b ^ 0x5c));
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

  /**
   * HMAC-SHA256(secret, label)'s first 4 bytes, big-endian. Computed from copies of the padded key
   * states instead of createHmac: byte-identical (RFC 2104), and a third of the cost, which counts
   * with a seed per NPC per round in every room.
   */
  private u32(label: string): number {
    const inner = this.inner.copy().update(label).digest();
    return this.outer.copy().update(inner).digest().readUInt32BE(0);
  }
}
