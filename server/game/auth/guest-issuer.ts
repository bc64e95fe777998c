/**
 * Guest identities: `POST /auth/guest` hands out a fresh player id (`p_` + 12 random base64url
 * characters) and an HS256 JWT for it, signed with AUTH_SECRET: `sub` = the player id, `name`,
 * `iat`, `exp` = `iat` + AUTH_TTL_S, `iss` and `aud` naming this game's guest tokens (every
 * process of a cluster, sharing AUTH_SECRET, issues and accepts the same ones).
 */
import { randomBytes } from "node:crypto";
import { SignJWT, type CryptoKey } from "jose";
import { PLAYER_ID_PREFIX } from "../../../shared/stats.ts";
import { displayName } from "./display-name.ts";

export const GUEST_ALGORITHM = "HS256";
export const GUEST_ISSUER = "skirmish:guest";
export const GUEST_AUDIENCE = "skirmish:arena";

export interface GuestGrant {
  playerId: string;
  name: string;
  token: string;
}

/** The HMAC key of guest tokens, from AUTH_SECRET: imported once, not per token. */
export function guestKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

export function newGuestId(): string {
  return PLAYER_ID_PREFIX + randomBytes(9).toString("base64url");
}

export function guestFallbackName(playerId: string): string {
  return "Guest-" + playerId.slice(PLAYER_ID_PREFIX.length, PLAYER_ID_PREFIX.length + 4);
}

export async function issueGuest(
  key: CryptoKey,
  ttlS: number,
  requestedName: unknown,
  nowS: number,
): Promise<GuestGrant> {
  const playerId = newGuestId();
  const name = displayName(requestedName, guestFallbackName(playerId));
  const token = await new SignJWT({ name })
    .setProtectedHeader({ alg: GUEST_ALGORITHM, typ: "JWT" })
    .setSubject(playerId)
    .setIssuer(GUEST_ISSUER)
    .setAudience(GUEST_AUDIENCE)
    .setIssuedAt(nowS)
    .setExpirationTime(nowS + ttlS)
    .sign(key);
  return { playerId, name, token };
}
