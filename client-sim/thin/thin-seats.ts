/**
 * `--client thin`: seats taken without the SDK. Matchmaking over HTTP (matchmake.ts), then a
 * ThinSeat on the reserved seat's WebSocket, `/<processId>/<roomId>?sessionId=…` (plus
 * `reconnectionToken=…` when reconnecting), as the SDK's Client builds it. One per process: its
 * seats share the room views (room-view.ts) and report protocol errors into the process's metrics.
 */
import { ROOM_NAME } from "../../shared/protocol.ts";
import type { Log } from "../log.ts";
import { roomKey, type Metrics } from "../metrics.ts";
import type { ConnectionObserver, Seat, SeatSourceFor } from "../seat.ts";
import { reserveSeat, type MatchmakeMethod } from "./matchmake.ts";
import { RoomViews } from "./room-view.ts";
import { ThinSeat, type ThinContext } from "./thin-seat.ts";

export function thinSeats(httpUrl: string, wsUrl: string, metrics: Metrics, log: Log): SeatSourceFor {
  const ctx: ThinContext = {
    views: new RoomViews(),
    protocolError(what, detail) {
      metrics.error(`protocol:${what}`);
      log("protocol_error", { what, ...detail });
    },
  };
  const url = new URL(wsUrl);
  const base = `${url.protocol}//${url.host}${url.pathname.replace(/\/$/, "")}`;

  async function take(
    observer: ConnectionObserver,
    method: MatchmakeMethod,
    target: string,
    options: Record<string, string>,
    signal: AbortSignal,
  ): Promise<Seat> {
    const seat = await reserveSeat(httpUrl, method, target, options, signal);
    const where = seat.publicAddress === undefined ? base : `${url.protocol}//${seat.publicAddress}`;
    let address = `${where}/${seat.processId}/${seat.roomId}?sessionId=${seat.sessionId}`;
    if (options.reconnectionToken !== undefined) address += `&reconnectionToken=${options.reconnectionToken}`;
    signal.throwIfAborted();
    return new ThinSeat(ctx, address, seat.roomId, roomKey(address, seat.roomId), observer, signal).joined;
  }

  return (observer) => ({
    joinOrCreate: (token, signal) => take(observer, "joinOrCreate", ROOM_NAME, { token }, signal),
    create: (token, signal) => take(observer, "create", ROOM_NAME, { token }, signal),
    joinById: (roomId, token, signal) => take(observer, "joinById", roomId, { token }, signal),
    reconnect: (reconnectionToken, signal) => {
      const [roomId, token] = reconnectionToken.split(":");
      return take(observer, "reconnect", roomId, { reconnectionToken: token }, signal);
    },
  });
}
