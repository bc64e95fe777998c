/**
 * How players get in, composed from its parts: the one token verifier (auth/token-verifier.ts)
 * over the guest key (AUTH_SECRET, while GUEST_LOGIN=1) and a studio's login (AUTH_JWKS_URL, its
 * keys from auth/jwks-key-source.ts); the guest issuer for POST /auth/guest; and that route's gate
 * with its per-address limiter (http/guest-route.ts). The key source fetches nothing until
 * `start()`, so a start that fails before listening has nothing of it to stop.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { guestKey, issueGuest, type GuestGrant } from "./auth/guest-issuer.ts";
import { JwksKeySource } from "./auth/jwks-key-source.ts";
import { createTokenVerifier, type TokenVerifier } from "./auth/token-verifier.ts";
import type { GameConfig } from "./config.ts";
import { loginGauges, type GameMetrics } from "./metrics.ts";
import { AddressRateLimiter } from "./http/address-rate-limiter.ts";
import { guestGate } from "./http/guest-route.ts";
import type { Logger } from "../observability/log.ts";
import type { LimitedLog } from "../observability/log-limiter.ts";
import type { Teardown } from "./teardown.ts";

/** Addresses the guest login limiter keeps a bucket for (~150 bytes each). */
const GUEST_LIMITER_MAX_ADDRESSES = 50_000;

export interface Login {
  verifyToken: TokenVerifier;
  /** a new guest identity; null with GUEST_LOGIN=0 */
  issueGuest: ((requestedName: unknown) => Promise<GuestGrant>) | null;
  /** ahead of Colyseus' router: POST /auth/guest off (404) or over its limit (429) */
  guestGate: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** for /readyz: no key set of the studio's login ever loaded; absent without one */
  problem?: () => string | null;
  /** the first JWKS fetch and the background refreshes */
  start(): void;
}

export async function openLogin(
  config: GameConfig,
  authSecret: string,
  parts: { metrics: GameMetrics; log: Logger; limited: LimitedLog },
  teardown: Teardown,
): Promise<Login> {
  const { metrics, log, limited } = parts;
  const key = config.guestLogin ? await guestKey(authSecret) : null;
  const jwks = config.authJwksUrl
    ? new JwksKeySource({
        url: config.authJwksUrl,
        refreshS: config.authJwksRefreshS,
        cooldownS: config.authJwksCooldownS,
        metrics,
        log,
        limitedLog: limited,
      })
    : undefined;
  if (jwks) teardown.add("JWKS key source", () => jwks.close());
  const limiter = new AddressRateLimiter(
    { perMinute: config.guestLoginPerMin, burst: config.guestLoginBurst, maxAddresses: GUEST_LIMITER_MAX_ADDRESSES },
    () => {
      metrics.guestLimiterEvictions.inc();
      limited("warn", "guest_limiter_full", "guest login limiter full: forgetting the least recently seen address");
    },
  );
  loginGauges(metrics, { guestLimiterAddresses: () => limiter.size, jwksKeys: jwks && (() => jwks.size()) });
  const verifyToken = createTokenVerifier({
    guestKey: key,
    studio: jwks
      ? {
          issuer: config.authIssuer!,
          audience: config.authAudience!,
          keys: jwks.getKey,
          nameClaims: config.authNameClaims
            .split(",")
            .map((claim) => claim.trim())
            .filter((claim) => claim !== ""),
        }
      : null,
    ttlS: config.authTtlS,
    clockToleranceS: config.authClockSkewS,
    limitedLog: limited,
  });
  return {
    verifyToken,
    issueGuest: key && ((name) => issueGuest(key, config.authTtlS, name, Math.floor(Date.now() / 1000))),
    guestGate: guestGate({
      enabled: key !== null,
      limiter,
      trustProxy: config.trustProxy,
      exemptLoopback: config.guestLoginExemptLoopback === 1,
      metrics,
      limitedLog: limited,
    }),
    problem: jwks && (() => jwks.problem()),
    start: () => jwks?.start(),
  };
}
