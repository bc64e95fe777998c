/**
 * The Colyseus monitor (`@colyseus/monitor`) at /colyseus, for operators to list and inspect
 * rooms, behind HTTP basic auth (user `admin`, password MONITOR_PASSWORD; the browser asks for
 * it). With no password configured there is no monitor at all: its routes do not exist (404).
 *
 * Before any monitor code runs, its gate refuses:
 * - another website's request (403): an `Origin` that is not this server, or a browser's
 *   `Sec-Fetch-Site` of cross-site or same-site, except a navigation to the monitor's page. The
 *   monitor never answers CORS (cors-policy.ts), and without this a browser's cached basic-auth
 *   credentials would ride along on another site's links, images and forms;
 * - an address (client-address.ts) past MAX_FAILED_LOGINS_PER_MIN failed logins a minute (a
 *   bucket of that many, address-rate-limiter.ts): 429 with Retry-After, before its password is
 *   even looked at;
 * - a missing or wrong password (401 with the challenge). A wrong one is counted
 *   (`skirmish_errors_total{code="monitor_login_failed"}`) and logged with the address.
 *
 * Actions: the monitor's own /api/room/call ran any room method a GET named (`method=onDispose`
 * left a listed, joinable arena that never played again). Ours refuses every call unless
 * MONITOR_ACTIONS=1, and then runs only the two actions an operator needs, each logged:
 * disconnect one client, close an arena. The monitor page's other buttons (send a message, edit
 * state) are refused: they would change a match outside its rounds and its journal.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createEndpoint, createMiddleware, matchMaker, type Endpoint } from "@colyseus/core";
import { monitor } from "@colyseus/monitor";
import type { Logger } from "../../observability/log.ts";
import type { LimitedLog } from "../../observability/log-limiter.ts";
import type { GameMetrics } from "../metrics.ts";
import { AddressRateLimiter } from "./address-rate-limiter.ts";
import { addressKey } from "./client-address.ts";
import { peerAddress } from "./peer-address.ts";

export const MONITOR_PATH = "/colyseus";
export const MONITOR_USER = "admin";
export const MAX_FAILED_LOGINS_PER_MIN = 5;
/** Addresses the failed-login limiter keeps a bucket for. */
const LOGIN_LIMITER_MAX_ADDRESSES = 10_000;
const ROOM_CALL_PATH = `${MONITOR_PATH}/api/room/call`;
const CHALLENGE = 'Basic realm="Skirmish monitor", charset="UTF-8"';
const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The monitor page's room calls MONITOR_ACTIONS=1 allows: the arguments each takes, or null when refused. */
const ACTIONS: Record<string, (args: unknown[]) => unknown[] | null> = {
  // disconnect one client: [sessionId]
  _forceClientDisconnect: (args) =>
    args.length === 1 && typeof args[0] === "string" && ROOM_ID.test(args[0]) ? [args[0]] : null,
  // close the arena: its players and spectators are disconnected, then it is disposed
  disconnect: (args) => (args.length === 0 ? [] : null),
};

export interface MonitorOptions {
  /** null: no monitor */
  monitorPassword: string | null;
  /** 1: the two ACTIONS run; 0: every room call is refused */
  monitorActions: number;
}

export interface MonitorDeps {
  metrics: GameMetrics;
  log: Logger;
  limitedLog: LimitedLog;
}

function sameSecret(a: string, b: string): boolean {
  // hashing first gives equal lengths, so the compare is constant-time whatever was typed
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

function basicCredentials(header: string | null): { user: string; password: string } | null {
  const match = /^basic\s+(\S+)$/i.exec(header ?? "");
  if (!match) return null;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** A request another website made a browser send (a navigation to the monitor's page excepted). */
function fromAnotherSite(request: Request): boolean {
  const headers = request.headers;
  const site = headers.get("sec-fetch-site");
  const origin = headers.get("origin");
  let foreign = site === "cross-site" || site === "same-site";
  if (!foreign && origin !== null) {
    try {
      foreign = new URL(origin).host !== headers.get("host");
    } catch {
      foreign = true; // "null" (a sandboxed page) or garbage
    }
  }
  const toPage = headers.get("sec-fetch-mode") === "navigate" && new URL(request.url).pathname === `${MONITOR_PATH}/`;
  return foreign && !toPage;
}

function refusal(status: number, error: string): Response {
  return Response.json({ error }, { status });
}

/** The monitor's router endpoints, or none without a password. */
export function monitorEndpoints(options: MonitorOptions, deps: MonitorDeps): Record<string, Endpoint> {
  const password = options.monitorPassword;
  if (password === null) return {};
  const { metrics, log, limitedLog } = deps;
  const failures = new AddressRateLimiter({
    perMinute: MAX_FAILED_LOGINS_PER_MIN,
    burst: MAX_FAILED_LOGINS_PER_MIN,
    maxAddresses: LOGIN_LIMITER_MAX_ADDRESSES,
  });

  const gate = createMiddleware(async (ctx) => {
    const request = ctx.request as Request;
    if (fromAnotherSite(request)) {
      metrics.errors.inc("monitor_cross_site");
      throw ctx.error(403, { message: "the monitor answers its own pages only, not other websites" });
    }
    const address = addressKey(peerAddress(request));
    const admission = failures.peek(address, performance.now());
    if (!admission.ok) {
      metrics.errors.inc("monitor_login_locked");
      throw ctx.error(
        429,
        { message: `too many failed monitor logins from ${address}; try again in ${admission.retryAfterS} s` },
        { "Retry-After": String(admission.retryAfterS) },
      );
    }
    const given = basicCredentials(request.headers.get("authorization"));
    if (given !== null && sameSecret(given.user, MONITOR_USER) && sameSecret(given.password, password)) return;
    if (given !== null) {
      failures.take(address, performance.now());
      metrics.errors.inc("monitor_login_failed");
      limitedLog("warn", "monitor_login_failed", "monitor login failed", { address });
    }
    throw ctx.error(401, { message: "authentication required" }, { "WWW-Authenticate": CHALLENGE });
  });

  const roomCall = createEndpoint(ROOM_CALL_PATH, { method: "GET", use: [gate] }, async (ctx) => {
    if (options.monitorActions !== 1) {
      metrics.errors.inc("monitor_action_refused");
      return refusal(403, "monitor actions are off (MONITOR_ACTIONS=1 turns them on)");
    }
    const query = new URL((ctx.request as Request).url).searchParams;
    const roomId = query.get("roomId") ?? "";
    const method = query.get("method") ?? "";
    const checkArgs = Object.hasOwn(ACTIONS, method) ? ACTIONS[method] : undefined;
    if (checkArgs === undefined) {
      metrics.errors.inc("monitor_action_refused");
      return refusal(
        400,
        `${JSON.stringify(method.slice(0, 40))} is not a monitor action (${Object.keys(ACTIONS).join(", ")})`,
      );
    }
    let args: unknown;
    try {
      args = JSON.parse(query.get("args") ?? "[]");
    } catch {
      args = null;
    }
    const checked = Array.isArray(args) ? checkArgs(args) : null;
    if (checked === null || !ROOM_ID.test(roomId)) return refusal(400, `bad roomId or args for ${method}`);
    try {
      await matchMaker.remoteRoomCall(roomId, method, checked);
    } catch {
      return refusal(404, `no room ${roomId}`);
    }
    log.info("monitor action", { room: roomId, action: method, args: checked, address: peerAddress(ctx.request) });
    return Response.json({});
  });

  // spread: the monitor is an express-style middleware carrying its endpoints as properties
  const endpoints = { ...monitor({ prefix: MONITOR_PATH, use: [gate] }) } as Record<string, Endpoint>;
  for (const [key, endpoint] of Object.entries(endpoints)) if (endpoint.path === ROOM_CALL_PATH) delete endpoints[key];
  return { ...endpoints, monitorRoomCall: roomCall as unknown as Endpoint };
}
