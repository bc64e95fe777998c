/**
 * What verifies a seat's reconnection token without being it: an HMAC of the token under a key
 * derived from the server's key. The journal keeps this (room-ledger.ts), so a restored room can
 * recognise a player coming back with the token its SDK holds, while a copied journal alone
 * cannot take a seat.
 */
import { createHmac } from "node:crypto";

export class SeatCredentials {
  private readonly key: Buffer;

  constructor(serverKey: string) {
    this.key = createHmac("sha256", serverKey).update("skirmish seat credential v1").digest();
  }

  of(reconnectionToken: string): string {
    return createHmac("sha256", this.key).update(reconnectionToken).digest("base64url");
  }
}
