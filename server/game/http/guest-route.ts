/** POST /auth/guest `{ name? }`: a signed guest token for a new player id. */
import { createEndpoint } from "@colyseus/core";
import { issueGuest } from "../auth/player-token.ts";
import type { GameMetrics } from "../metrics.ts";

export function guestEndpoint(authSecret: string, ttlS: number, metrics: GameMetrics) {
  return createEndpoint("/auth/guest", { method: "POST" }, async (ctx) => {
    const body: unknown = ctx.body;
    if (body !== undefined && body !== null && (typeof body !== "object" || Array.isArray(body))) {
      return Response.json({ error: "body must be a JSON object { name?: string }" }, { status: 400 });
    }
    const grant = issueGuest(
      authSecret,
      ttlS,
      (body as { name?: unknown } | undefined)?.name,
      Math.floor(Date.now() / 1000),
    );
    metrics.guestsIssued.inc();
    return Response.json(grant);
  });
}
