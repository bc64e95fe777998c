import { ServerError, ErrorCode, type Client } from "@colyseus/core";
import type { PlayerIdentity } from "../auth/token-verifier.ts";
import type { ArenaDeps } from "./arena-deps.ts";

/**
 * The token check, run by the matchmaker (a static `onAuth`) before it finds or creates a room or
 * reserves a seat: a client without a valid token makes no room, seat or journal row. The token
 * comes in the join options (`{ token }`) or as the SDK's auth token (Authorization header).
 * Throws AUTH_FAILED with a message saying what is wrong; the claims become the seat's auth.
 */
export async function admitPlayer(deps: ArenaDeps, headerToken: unknown, options: unknown): Promise<PlayerIdentity> {
  const fromOptions =
    typeof options === "object" && options !== null ? (options as { token?: unknown }).token : undefined;
  const check = await deps.verifyToken(fromOptions ?? headerToken);
  if (!check.ok) {
    deps.metrics.authRejected.inc(check.reason);
    throw new ServerError(ErrorCode.AUTH_FAILED, check.message);
  }
  const where = await deps.players.where(check.identity.pid);
  if (where !== undefined) {
    deps.metrics.authRejected.inc("already_in_arena");
    // A dropped seat is held for the reconnection grace: the way back in is the SDK's
    // reconnect(reconnectionToken), which keeps the entity; a second seat would duplicate it.
    throw new ServerError(
      ErrorCode.AUTH_FAILED,
      `player ${check.identity.pid} is already in an arena (${where}); a dropped client gets back in with client.reconnect(room.reconnectionToken)`,
    );
  }
  return check.identity;
}

/**
 * A reconnecting seat's token is checked again, as at matchmaking: an expired token, or one whose
 * key the login withdrew, does not come back. Throwing refuses the reconnection (Colyseus then lets
 * the client go through onLeave, which frees the player id for a join with a new token). A seat
 * restored from the journal has no token to check (the journal keeps none, restored-seats.ts): the
 * reconnection token it was matched by is its credential.
 */
export async function readmitPlayer(deps: ArenaDeps, client: Client): Promise<void> {
  const token = (client.auth as Partial<PlayerIdentity> | undefined)?.token;
  const check = token === undefined ? null : await deps.verifyToken(token);
  if (check !== null && !check.ok) {
    deps.metrics.authRejected.inc(check.reason);
    throw new ServerError(ErrorCode.AUTH_FAILED, check.message);
  }
}
