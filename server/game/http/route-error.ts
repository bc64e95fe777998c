/**
 * A route that threw (most often: its body was cut off by the request limits, or the client
 * went away mid-body) is counted and answered 400, instead of better-call's 500 plus a raw
 * console.error stack per request. An APIError is an answer a route meant (the monitor's 401
 * with its challenge): rethrown, better-call sends it as it is.
 */
import { errorFields } from "../../observability/log.ts";
import type { LimitedLog } from "../../observability/log-limiter.ts";
import type { GameMetrics } from "../metrics.ts";

export function routeError(limited: LimitedLog, metrics: GameMetrics) {
  return (err: unknown): Response => {
    if ((err as { name?: unknown } | null)?.name === "APIError") throw err;
    metrics.errors.inc("http_route");
    limited("warn", "http_route", "HTTP route failed", errorFields(err));
    return Response.json({ error: "bad_request", message: "the request could not be read" }, { status: 400 });
  };
}
