/**
 * A seat taken without the SDK, as a hostile client takes it: `POST /matchmake/joinOrCreate/arena`
 * with a token, then a bare WebSocket to the reserved seat, over which the caller sends whatever
 * bytes it likes. Rejects with the server's answer when no seat is granted.
 */
import WebSocket from "ws";
import { ROOM_NAME } from "../../shared/protocol.ts";

/** ROOM_DATA (13) whose message type is a 3-byte msgpack string that is not valid UTF-8. */
export const UNDECODABLE_TYPE_FRAME = Uint8Array.of(13, 0xa3, 0xff, 0xfe, 0xfd);

export async function rawSeat(httpUrl: string, token: string): Promise<WebSocket> {
  const res = await fetch(`${httpUrl}/matchmake/joinOrCreate/${ROOM_NAME}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token }),
  });
  const seat = (await res.json()) as { roomId?: string; sessionId?: string; processId?: string; error?: string };
  if (!res.ok || !seat.sessionId) throw new Error(`no seat: HTTP ${res.status} ${seat.error ?? ""}`);
  const ws = new WebSocket(
    `${httpUrl.replace(/^http/, "ws")}/${seat.processId}/${seat.roomId}?sessionId=${seat.sessionId}`,
  );
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return ws;
}
