/**
 * GET /healthz (the process is up: 200 until it starts shutting down), GET /readyz (it can play
 * real rounds: stats answering, journal writable, in a cluster the matchmaker driver listing rooms
 * as a join does, a studio login's key set loaded once; 503 with the reasons otherwise) and GET
 * /metrics (Prometheus text).
 */
import { createEndpoint } from "@colyseus/core";
import type { StatsClient } from "../../stats/client.ts";
import type { ClusterMember } from "../cluster/scale-out.ts";
import type { RoundJournal } from "../journal/round-journal.ts";
import type { GameMetrics } from "../metrics.ts";

export interface HealthSources {
  processId: string;
  rooms(): number;
  ccu(): number;
  closing(): boolean;
  statsClient: StatsClient;
  journal: RoundJournal;
  cluster: ClusterMember | undefined;
  metrics: GameMetrics;
  /** why players of a studio's login cannot be checked (no key set ever loaded), or null; absent without one */
  loginProblem?(): string | null;
}

export function healthRoutes(s: HealthSources) {
  const healthz = createEndpoint("/healthz", { method: "GET" }, async () =>
    Response.json(
      {
        status: s.closing() ? "shutting_down" : "ok",
        process: s.processId,
        rooms: s.rooms(),
        ccu: s.ccu(),
        ...(s.cluster ? { redis: s.cluster.redisUp() ? "up" : "down" } : {}),
      },
      { status: s.closing() ? 503 : 200 },
    ),
  );
  const readyz = createEndpoint("/readyz", { method: "GET" }, async () => {
    const reasons = await notReadyReasons(s);
    return Response.json(reasons.length === 0 ? { status: "ready" } : { status: "not_ready", reasons }, {
      status: reasons.length === 0 ? 200 : 503,
    });
  });
  const metricsRoute = createEndpoint("/metrics", { method: "GET" }, async () => {
    const { contentType, text } = await s.metrics.registry.exposition();
    return new Response(text, { headers: { "content-type": contentType } });
  });
  return { healthz, readyz, metricsRoute };
}

async function notReadyReasons(s: HealthSources): Promise<string[]> {
  const reasons: string[] = [];
  if (s.closing()) reasons.push("shutting down");
  const stats = s.statsClient.problem();
  if (stats !== null) reasons.push(`stats: ${stats}`);
  const journaled = s.journal.problem();
  if (journaled !== null) reasons.push(`journal: ${journaled}`);
  // a real read of the room listing: matchmaking that fails is not ready, whatever the connections say
  const matchmaking = await s.cluster?.probeMatchmaking();
  if (matchmaking) reasons.push(matchmaking);
  const login = s.loginProblem?.() ?? null;
  if (login !== null) reasons.push(`auth: ${login} (guests and players already in are unaffected)`);
  return reasons;
}
