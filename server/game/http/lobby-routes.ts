/**
 * The lobby: GET /rooms lists the live arenas (cluster-wide: the matchmaker's listing), and
 * POST /watch { roomId, token } reserves a spectator's seat in one (shared/lobby.ts). The watch
 * route checks the token before any room is asked, like the join itself: a refused token
 * (401), a bad body (400), an unknown room (404), a room with all its spectators (409) or a token
 * holding SPECTATOR_SEATS_PER_PLAYER seats in the room's process (429) leave no seat behind. Both ask the matchmaker through its guard (matchmaker-guard.ts): 503 while a
 * cluster's Redis is away or when the matchmaker fails.
 */
import { createEndpoint, generateId, matchMaker } from "@colyseus/core";
import { ROOM_NAME } from "../../../shared/protocol.ts";
import type { ArenaMetadata, RoomSummary, WatchRequest } from "../../../shared/lobby.ts";
import type { TokenVerifier } from "../auth/token-verifier.ts";
import type { SpectatorSeat, WatcherClaims } from "../room/arena-seats.ts";
import type { GameMetrics } from "../metrics.ts";
import type { MatchmakerGuard } from "./matchmaker-guard.ts";

const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function roomsEndpoint(matchmaker: MatchmakerGuard) {
  return createEndpoint("/rooms", { method: "GET" }, async () => {
    const listed = await matchmaker.ask(() => matchMaker.query({ name: ROOM_NAME }));
    if (listed instanceof Response) return listed;
    const rooms: RoomSummary[] = listed.map((r) => {
      const meta = (r.metadata ?? {}) as Partial<ArenaMetadata>;
      return {
        roomId: r.roomId,
        players: meta.players ?? 0,
        spectators: meta.spectators ?? 0,
        locked: r.locked === true,
      };
    });
    return Response.json({ rooms });
  });
}

function parseWatch(body: unknown): WatchRequest | string {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return "body must be a JSON object { roomId, token }";
  const { roomId, token } = body as Record<string, unknown>;
  if (typeof roomId !== "string" || !ROOM_ID.test(roomId)) return "roomId must be a room id (1-64 of A-Z a-z 0-9 _ -)";
  if (typeof token !== "string") return "token must be a string: a token from POST /auth/guest or the game's login";
  return { roomId, token };
}

export function watchEndpoint(verifyToken: TokenVerifier, metrics: GameMetrics, matchmaker: MatchmakerGuard) {
  return createEndpoint("/watch", { method: "POST" }, async (ctx) => {
    const req = parseWatch(ctx.body);
    if (typeof req === "string") return Response.json({ error: req }, { status: 400 });
    const check = await verifyToken(req.token);
    if (!check.ok) {
      metrics.authRejected.inc(check.reason);
      return Response.json({ error: check.message }, { status: 401 });
    }
    const found = await matchmaker.ask(() => matchMaker.query({ name: ROOM_NAME, roomId: req.roomId }));
    if (found instanceof Response) return found;
    const [room] = found;
    if (!room) return Response.json({ error: `no arena ${req.roomId}` }, { status: 404 });
    const sessionId = generateId();
    const auth: WatcherClaims = { ...check.identity, watcher: true };
    const seat = await matchmaker.ask((): Promise<SpectatorSeat> =>
      matchMaker.remoteRoomCall(room.roomId, "reserveSpectatorSeat", [sessionId, auth]),
    );
    if (seat instanceof Response) return seat;
    if (seat === "token_full") {
      metrics.errors.inc("watch_token_full");
      return Response.json(
        { error: `player ${auth.pid} holds as many spectator seats as one token may; leave one first` },
        { status: 429 },
      );
    }
    if (seat !== "reserved")
      return Response.json({ error: `arena ${req.roomId} has all the spectators it takes` }, { status: 409 });
    return Response.json({
      name: room.name,
      sessionId,
      roomId: room.roomId,
      processId: room.processId,
      ...(room.publicAddress ? { publicAddress: room.publicAddress } : {}),
    });
  });
}
