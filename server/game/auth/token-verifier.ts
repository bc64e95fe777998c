/**
 * The one token check. Every path that admits someone asks it: the arena's static onAuth at
 * matchmaking, POST /watch, and a reconnection into a held seat (the seat's token is checked
 * again: an expired token, or one whose key the studio withdrew, does not come back).
 *
 * A token is a JWT (RFC 7519) checked with jose, from one of two sources, each with its own pinned
 * algorithms, so a token can never pick its own way of being checked:
 * - a guest token (guest-issuer.ts): HS256 with AUTH_SECRET, this game's `iss` and `aud`;
 * - a studio token (AUTH_JWKS_URL): RS256, ES256 or EdDSA with a key from the studio's JWKS
 *   (jwks-key-source.ts), `iss` = AUTH_ISSUER, `aud` = AUTH_AUDIENCE. An HS256 token signed with
 *   the studio's public key goes the guest way and fails there; `alg: none` goes nowhere.
 * `exp` is required and at most AUTH_TTL_S ahead; `nbf` and `iat` are honoured; AUTH_CLOCK_SKEW_S
 * of tolerance covers clocks that disagree. A token longer than MAX_TOKEN_LENGTH is refused
 * before anything parses it, and a token of the format before JWTs (`<payload>.<mac>`) is
 * refused with word to get a new one.
 *
 * Refusals name what is wrong (the client's error) under a reason from a fixed set (the label of
 * `skirmish_auth_rejected_total`).
 */
import { decodeProtectedHeader, errors, jwtVerify, type CryptoKey, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { isValidStatsId, PLAYER_ID_PREFIX } from "../../../shared/stats.ts";
import type { LimitedLog } from "../../observability/log-limiter.ts";
import { errorFields } from "../../observability/log.ts";
import { displayName } from "./display-name.ts";
import { GUEST_ALGORITHM, GUEST_AUDIENCE, GUEST_ISSUER, guestFallbackName } from "./guest-issuer.ts";
import { KeySetUnavailable } from "./jwks-key-source.ts";
import { playerIdOfSubject } from "./player-id-mapping.ts";

/** Who a checked token says the player is: the seat's auth in the arena. */
export interface PlayerIdentity {
  /** entity and stats id */
  pid: string;
  name: string;
  /** expiry, unix seconds */
  exp: number;
  /** the token itself, checked again when the player reconnects */
  token: string;
}

export type RefusalReason =
  | "missing"
  | "oversized"
  | "malformed"
  | "old_format"
  | "algorithm"
  | "forged"
  | "expired"
  | "not_yet_valid"
  | "lifetime"
  | "issuer"
  | "audience"
  | "unknown_key"
  | "keys_unavailable"
  | "subject"
  | "internal";

export type TokenVerdict =
  { ok: true; identity: PlayerIdentity } | { ok: false; reason: RefusalReason; message: string };

export type TokenVerifier = (token: unknown) => Promise<TokenVerdict>;

export interface StudioLogin {
  issuer: string;
  audience: string;
  /** the JWKS's keys (JwksKeySource.getKey) */
  keys: JWTVerifyGetKey;
  /** claims to take the display name from, first present first */
  nameClaims: readonly string[];
}

export interface TokenVerifierOptions {
  /** HMAC key of guest tokens (guest-issuer.ts guestKey); null = guest tokens are refused (GUEST_LOGIN=0) */
  guestKey: CryptoKey | null;
  studio: StudioLogin | null;
  /** AUTH_TTL_S: the furthest ahead an accepted `exp` may lie */
  ttlS: number;
  clockToleranceS: number;
  limitedLog: LimitedLog;
}

/** Larger than any login's JWT (a few hundred bytes to ~2 kB with custom claims), small enough to refuse cheaply. */
export const MAX_TOKEN_LENGTH = 4096;
/** EdDSA is also spelt Ed25519 (RFC 9864); both name the same signatures. */
export const STUDIO_ALGORITHMS = ["RS256", "ES256", "EdDSA", "Ed25519"];
/** The token format before JWTs: base64url JSON, a dot, a 43-character HMAC-SHA256. */
const OLD_FORMAT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;

function refuse(reason: RefusalReason, message: string): TokenVerdict {
  return { ok: false, reason, message };
}

/** What every check of one verifier shares: its options and the word on where to get a token. */
interface Checking extends TokenVerifierOptions {
  getOne: string;
}

export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  const getOne = opts.guestKey ? "get one from POST /auth/guest" : "get one from the game's login";
  const c: Checking = { ...opts, getOne };
  return async (token) => {
    const screened = screen(token, getOne);
    if ("refusal" in screened) return screened.refusal;
    const { alg } = screened;
    if (alg === GUEST_ALGORITHM) return checkGuest(screened.token, c);
    if (typeof alg === "string" && STUDIO_ALGORITHMS.includes(alg)) return checkStudio(screened.token, alg, c);
    const accepted = [c.guestKey ? GUEST_ALGORITHM : null, ...(c.studio ? STUDIO_ALGORITHMS : [])].filter(Boolean);
    return refuse(
      "algorithm",
      `token algorithm ${JSON.stringify(String(alg)).slice(0, 20)} is not accepted (${accepted.join(", ") || "none"})`,
    );
  };
}

type Screened = { refusal: TokenVerdict } | { token: string; alg: unknown };

/** What is refused before any key is looked at: no token, not a string, too long, the old format, no JWT header. */
function screen(token: unknown, getOne: string): Screened {
  if (token === undefined || token === null || token === "")
    return { refusal: refuse("missing", `missing token: ${getOne}, then join with { token }`) };
  if (typeof token !== "string") return { refusal: refuse("malformed", "malformed token: not a string") };
  if (token.length > MAX_TOKEN_LENGTH)
    return { refusal: refuse("oversized", `token longer than ${MAX_TOKEN_LENGTH} characters`) };
  if (OLD_FORMAT.test(token))
    return {
      refusal: refuse("old_format", `this token is of the old format (before JWTs), no longer accepted: ${getOne}`),
    };
  try {
    return { token, alg: decodeProtectedHeader(token).alg };
  } catch {
    return { refusal: refuse("malformed", "malformed token: not a JWT") };
  }
}

function checkGuest(token: string, c: Checking): TokenVerdict | Promise<TokenVerdict> {
  const { guestKey } = c;
  if (guestKey === null) return refuse("algorithm", "guest tokens are not accepted here (GUEST_LOGIN=0)");
  const options = {
    algorithms: [GUEST_ALGORITHM],
    issuer: GUEST_ISSUER,
    audience: GUEST_AUDIENCE,
    requiredClaims: ["exp", "iat", "sub"],
    clockTolerance: c.clockToleranceS,
  };
  return check(token, () => jwtVerify(token, guestKey, options), guestIdentity(token), c);
}

function checkStudio(token: string, alg: string, c: Checking): TokenVerdict | Promise<TokenVerdict> {
  const { studio } = c;
  if (studio === null)
    return refuse("algorithm", `${alg} tokens come from a studio login, and this server has none (AUTH_JWKS_URL)`);
  const options = {
    algorithms: STUDIO_ALGORITHMS,
    issuer: studio.issuer,
    audience: studio.audience,
    requiredClaims: ["exp", "sub"],
    clockTolerance: c.clockToleranceS,
  };
  return check(token, () => jwtVerify(token, studio.keys, options), studioIdentity(token, studio), c);
}

/** jose's verdict on signature and standard claims, then this server's own rules on the claims. */
async function check(
  token: string,
  verify: () => Promise<{ payload: JWTPayload }>,
  identify: (payload: JWTPayload) => TokenVerdict,
  c: Checking,
): Promise<TokenVerdict> {
  let payload: JWTPayload;
  try {
    ({ payload } = await verify());
  } catch (err) {
    return refusalOf(err, token, c);
  }
  if (payload.exp! > Math.floor(Date.now() / 1000) + c.ttlS + c.clockToleranceS) {
    return refuse("lifetime", "token expiry is beyond this server's token lifetime (AUTH_TTL_S)");
  }
  return identify(payload);
}

function refusalOf(err: unknown, token: string, c: Checking): TokenVerdict {
  if (err instanceof errors.JWSSignatureVerificationFailed) return refuse("forged", "invalid token signature");
  if (err instanceof errors.JWTExpired) return refuse("expired", `token expired: ${c.getOne}`);
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "iss") return refuse("issuer", "token issuer (iss) is not accepted here");
    if (err.claim === "aud") return refuse("audience", "token audience (aud) is not this game");
    if ((err.claim === "nbf" || err.claim === "iat") && err.reason === "check_failed")
      return refuse("not_yet_valid", `token not valid yet (${err.claim} is in the future)`);
    return refuse("malformed", `malformed token: ${err.message}`);
  }
  if (err instanceof errors.JWKSNoMatchingKey) {
    const kid = JSON.stringify(String(decodeProtectedHeader(token).kid ?? "none")).slice(0, 70);
    return refuse("unknown_key", `token signed with a key (kid ${kid}) the login's key set does not hold`);
  }
  if (err instanceof errors.JWKSMultipleMatchingKeys)
    return refuse("unknown_key", "several keys of the login's key set match this token: give tokens a kid");
  if (err instanceof KeySetUnavailable)
    return refuse("keys_unavailable", "the login's key set (AUTH_JWKS_URL) could not be loaded yet: try again shortly");
  if (err instanceof errors.JOSEError) return refuse("malformed", `malformed token: ${err.message}`);
  // not the token's fault: a failure of this process, counted by the caller's reason and logged here
  c.limitedLog("error", "token_check", "token check failed", errorFields(err));
  return refuse("internal", "the token could not be checked: try again");
}

function guestIdentity(token: string) {
  return (payload: JWTPayload): TokenVerdict => {
    const pid = payload.sub!;
    if (!pid.startsWith(PLAYER_ID_PREFIX) || !isValidStatsId(pid))
      return refuse("subject", "guest token names no valid player id");
    return {
      ok: true,
      identity: { pid, name: displayName(payload.name, guestFallbackName(pid)), exp: payload.exp!, token },
    };
  };
}

function studioIdentity(token: string, login: StudioLogin) {
  return (payload: JWTPayload): TokenVerdict => {
    const mapped = playerIdOfSubject(payload.sub);
    if (!mapped.ok) return refuse("subject", mapped.message);
    const claimed = login.nameClaims.map((claim) => payload[claim]).find((v) => typeof v === "string");
    const name = displayName(claimed, "Player-" + mapped.playerId.slice(0, 4));
    return { ok: true, identity: { pid: mapped.playerId, name, exp: payload.exp!, token } };
  };
}
