/**
 * Player tokens: `<payload>.<mac>`, both base64url; payload = JSON { pid, name, exp } (exp in unix
 * seconds); mac = HMAC-SHA256(secret, payload part). A token binds a player id (and display name)
 * to this server's secret until it expires.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { isValidStatsId, PLAYER_ID_PREFIX } from "../../../shared/stats.ts";

export interface TokenClaims {
  pid: string;
  name: string;
  /** expiry, unix seconds */
  exp: number;
}

export type TokenCheck =
  | { ok: true; claims: TokenClaims }
  | { ok: false; reason: "missing" | "malformed" | "forged" | "expired"; message: string };

const MAX_TOKEN_LENGTH = 1024;
const NAME_PATTERN = /^[\p{L}\p{N} _.-]{1,24}$/u;

/** The mac part as signed: canonical base64url of HMAC-SHA256 (always 43 characters). */
function mac(secret: string, payload: string): string {
  return createHmac("sha256", secret).update(payload).digest("base64url");
}

export function signToken(secret: string, claims: TokenClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `${payload}.${mac(secret, payload)}`;
}

/** `maxTtlS`: how far past `nowS` an accepted `exp` may lie (the server's AUTH_TTL_S). */
export function verifyToken(secret: string, token: unknown, nowS: number, maxTtlS: number): TokenCheck {
  if (token === undefined || token === null || token === "") {
    return { ok: false, reason: "missing", message: "missing token: POST /auth/guest, then join with { token }" };
  }
  if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH) {
    return { ok: false, reason: "malformed", message: "malformed token" };
  }
  const dot = token.indexOf(".");
  if (dot <= 0 || dot !== token.lastIndexOf(".")) return { ok: false, reason: "malformed", message: "malformed token" };
  const payload = token.slice(0, dot);
  // byte-wise over the encoded strings: equal length is public (it is always 43), content is not
  const given = Buffer.from(token.slice(dot + 1), "utf8");
  const expected = Buffer.from(mac(secret, payload), "utf8");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: "forged", message: "invalid token signature" };
  }
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return { ok: false, reason: "malformed", message: "malformed token payload" };
  }
  const c = claims as Partial<TokenClaims>;
  if (
    typeof c !== "object" ||
    c === null ||
    typeof c.pid !== "string" ||
    typeof c.name !== "string" ||
    typeof c.exp !== "number"
  ) {
    return { ok: false, reason: "malformed", message: "malformed token payload" };
  }
  // a player id must be usable as an entity and stats id, whoever signed it
  if (!c.pid.startsWith(PLAYER_ID_PREFIX) || !isValidStatsId(c.pid) || c.name.length > 64) {
    return { ok: false, reason: "malformed", message: "token names no valid player id" };
  }
  if (!Number.isSafeInteger(c.exp) || c.exp > nowS + maxTtlS) {
    return { ok: false, reason: "malformed", message: "token expiry is beyond this server's token lifetime" };
  }
  if (c.exp <= nowS)
    return { ok: false, reason: "expired", message: "token expired: get a new one from POST /auth/guest" };
  return { ok: true, claims: { pid: c.pid, name: c.name, exp: c.exp } };
}

export function newPlayerId(): string {
  return PLAYER_ID_PREFIX + randomBytes(9).toString("base64url");
}

/** A requested display name if it is acceptable, else a generated one. */
export function guestName(requested: unknown, playerId: string): string {
  if (typeof requested === "string") {
    const trimmed = requested.trim();
    if (NAME_PATTERN.test(trimmed)) return trimmed;
  }
  return "Guest-" + playerId.slice(PLAYER_ID_PREFIX.length, PLAYER_ID_PREFIX.length + 4);
}

export interface GuestGrant {
  playerId: string;
  name: string;
  token: string;
}

export function issueGuest(secret: string, ttlS: number, requestedName: unknown, nowS: number): GuestGrant {
  const playerId = newPlayerId();
  const name = guestName(requestedName, playerId);
  return { playerId, name, token: signToken(secret, { pid: playerId, name, exp: nowS + ttlS }) };
}
