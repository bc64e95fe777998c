/**
 * A route that threw (most often: its body was cut off by the request limits, or the client
 * went away mid-body) is counted and answered 400, instead of better-call's 500 plus a raw
 * console.error stack per request; while a cluster's Redis is away, 503 as the matchmaker guard
 * answers (the monitor's routes read the room listing too). An APIError is an answer a route
 * meant (the monitor's 401 with its challenge): rethrown, better-call sends it as it is.
 */
import { errorFields } from "../../observability/log.ts";
import type { LimitedLog } from "../../observability/log-limiter.ts";
import type { GameMetrics } from "../metrics.ts";
import type { MatchmakerGuard } from "./matchmaker-guard.ts";

export function routeError(limited: LimitedLog, metrics: GameMetrics, matchmaker: MatchmakerGuard) {
  return (err: unknown): Response => {
    if ((err as { name?: unknown } | null)?.name === "APIError") throw err;
    const refused = matchmaker.refusal();
    if (refused) return refused;
    metrics.errors.inc("http_route");
    limited("warn", "http_route", "HTTP route failed", errorFields(err));
    return Response.json({ error: "bad_request", message: "the request could not be read" }, { status: 400 });
  };
}
