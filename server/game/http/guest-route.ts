/**
 * `POST /auth/guest` { name? } -> { playerId, name, token }: a guest identity (guest-issuer.ts).
 *
 * Two halves. The gate runs ahead of Colyseus' router (server.ts puts it there), because only
 * the Node request knows the socket a client address comes from: with GUEST_LOGIN=0 it answers
 * 404 saying guest login is off; otherwise it spends one token of the client address's bucket
 * (address-rate-limiter.ts, keyed as client-address.ts says) and answers 429 with Retry-After
 * when there is none, counted (`skirmish_guest_logins_limited_total`) and logged at most once a
 * second. Loopback addresses may be exempt (GUEST_LOGIN_EXEMPT_LOOPBACK: local bots and tests).
 * The endpoint, in the router, then issues the identity.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createEndpoint } from "@colyseus/core";
import type { GuestGrant } from "../auth/guest-issuer.ts";
import type { GameMetrics } from "../metrics.ts";
import type { LimitedLog } from "../../observability/log-limiter.ts";
import type { AddressRateLimiter } from "./address-rate-limiter.ts";
import { addressKey, clientAddress, isLoopback } from "./client-address.ts";

export const GUEST_PATH = "/auth/guest";

export interface GuestGateOptions {
  /** GUEST_LOGIN */
  enabled: boolean;
  limiter: AddressRateLimiter;
  /** TRUST_PROXY: reverse proxies in front, whose X-Forwarded-For entries are believed */
  trustProxy: number;
  exemptLoopback: boolean;
  metrics: GameMetrics;
  limitedLog: LimitedLog;
}

/** Answers a guest login that may not go on (and returns true); leaves every other request alone. */
export function guestGate(opts: GuestGateOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { enabled, limiter, trustProxy, exemptLoopback, metrics, limitedLog } = opts;
  return (req, res) => {
    if (req.method !== "POST" || req.url?.split("?")[0] !== GUEST_PATH) return false;
    if (!enabled) {
      answer(
        req,
        res,
        404,
        {},
        {
          error: "guest_login_off",
          message:
            "guest login is off on this server (GUEST_LOGIN=0): sign in with the game's login and join with its token",
        },
      );
      return true;
    }
    if (trustProxy === 0 && req.headers["x-forwarded-for"] !== undefined) {
      // a proxy in front that nobody told us about makes every guest share the proxy's budget
      metrics.errors.inc("forwarded_for_ignored");
      limitedLog(
        "warn",
        "forwarded_for_ignored",
        "X-Forwarded-For ignored: TRUST_PROXY=0, guest logins are limited by the socket's address",
      );
    }
    const address = clientAddress(req, trustProxy);
    if (exemptLoopback && isLoopback(address)) return false;
    const admission = limiter.take(addressKey(address), performance.now());
    if (admission.ok) return false;
    metrics.guestLoginsLimited.inc();
    limitedLog("warn", "guest_limited", "guest logins rate-limited", { address: addressKey(address) });
    answer(
      req,
      res,
      429,
      { "retry-after": String(admission.retryAfterS) },
      {
        error: "rate_limited",
        message: `too many guest logins from your address: try again in ${admission.retryAfterS} s`,
      },
    );
    return true;
  };
}

function answer(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: { error: string; message: string },
): void {
  const text = JSON.stringify(body);
  // CORS headers, where CORS_ORIGINS grants them, are on `res` already (cors-policy.ts runs first)
  req.resume(); // the body (already capped by request-limits.ts) is not needed: drained, the connection stays usable
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

export function guestEndpoint(issue: (requestedName: unknown) => Promise<GuestGrant>, metrics: GameMetrics) {
  return createEndpoint(GUEST_PATH, { method: "POST" }, async (ctx) => {
    const body: unknown = ctx.body;
    if (body !== undefined && body !== null && (typeof body !== "object" || Array.isArray(body))) {
      return Response.json({ error: "body must be a JSON object { name?: string }" }, { status: 400 });
    }
    const grant = await issue((body as { name?: unknown } | undefined)?.name);
    metrics.guestsIssued.inc();
    return Response.json(grant);
  });
}
