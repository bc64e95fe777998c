/**
 * What an HTTP route that asks the matchmaker (in a cluster: Redis) answers when it cannot: 503
 * `matchmaking_unavailable`, like a join, never the router's generic 400.
 *
 * - While the cluster's Redis is away, at once and without asking (nothing queued for Redis):
 *   counted as `skirmish_cluster_errors_total{kind="matchmaking_refused"}`, as a refused join is;
 *   the outage itself is logged by the cluster.
 * - When the matchmaker call fails: counted as `skirmish_errors_total{code="matchmaker"}` and
 *   logged (at most one line a second); the client is told to try again, not why.
 */
import type { LimitedLog } from "../../observability/log-limiter.ts";
import { errorFields } from "../../observability/log.ts";
import type { GameMetrics } from "../metrics.ts";

export const MATCHMAKING_FAILED = "matchmaking failed; try again shortly";

export interface MatchmakerGuard {
  /** `ask`'s value, or the 503 to answer instead */
  ask<T>(ask: () => Promise<T>): Promise<T | Response>;
  /** the 503 while Redis is away (counted), else null */
  refusal(): Response | null;
}

/** `unavailable`: why the matchmaker cannot be asked now (a cluster's Redis away), or null. */
export function matchmakerGuard(
  unavailable: () => string | null,
  metrics: GameMetrics,
  limited: LimitedLog,
): MatchmakerGuard {
  const answer = (message: string) =>
    Response.json({ error: "matchmaking_unavailable", message }, { status: 503, headers: { "retry-after": "1" } });
  const refusal = () => {
    const why = unavailable();
    if (why === null) return null;
    metrics.clusterErrors.inc("matchmaking_refused");
    return answer(why);
  };
  return {
    refusal,
    async ask<T>(ask: () => Promise<T>): Promise<T | Response> {
      const refused = refusal();
      if (refused) return refused;
      try {
        return await ask();
      } catch (err) {
        // Redis went away during the call: the outage's answer, already logged by the cluster
        const refusedNow = refusal();
        if (refusedNow) return refusedNow;
        metrics.errors.inc("matchmaker");
        limited("warn", "matchmaker", "matchmaker call of an HTTP route failed", errorFields(err));
        return answer(MATCHMAKING_FAILED);
      }
    },
  };
}
