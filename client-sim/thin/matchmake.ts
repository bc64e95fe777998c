/**
 * The matchmaking request, as the SDK's `Client` makes it: `POST /matchmake/<method>/<room name or
 * id>` with the join options as JSON, answered by a seat reservation. A refusal fails with the
 * HTTP status as its `code` (the SDK's MatchMakeError carries the same), a network failure with
 * fetch's own error (its cause's code, e.g. ECONNREFUSED).
 */
export type MatchmakeMethod = "joinOrCreate" | "create" | "joinById" | "reconnect";

export interface SeatReservation {
  roomId: string;
  sessionId: string;
  processId: string;
  /** host:port of the process holding the room, when the server publishes one */
  publicAddress?: string;
}

export class MatchmakeError extends Error {
  readonly code: number | string;
  constructor(code: number | string, message: string) {
    super(message);
    this.name = "MatchmakeError";
    this.code = code;
  }
}

const ID = /^[A-Za-z0-9_-]+$/;

export async function reserveSeat(
  httpUrl: string,
  method: MatchmakeMethod,
  target: string,
  options: Record<string, string>,
  signal: AbortSignal,
): Promise<SeatReservation> {
  const res = await fetch(`${httpUrl}/matchmake/${method}/${target}`, {
    method: "POST",
    headers: { accept: "application/json", "content-type": "application/json" },
    body: JSON.stringify(options),
    signal,
  });
  const body = (await res.json().catch(() => ({}))) as Partial<SeatReservation> & { error?: unknown };
  if (!res.ok) {
    throw new MatchmakeError(res.status, `${method}: HTTP ${res.status} ${String(body.error ?? res.statusText)}`);
  }
  const { roomId, sessionId, processId, publicAddress } = body;
  // they become the WebSocket's path and query
  if (![roomId, sessionId, processId].every((s) => typeof s === "string" && ID.test(s))) {
    throw new MatchmakeError("bad_seat", `${method}: no roomId/sessionId/processId in the answer`);
  }
  return {
    roomId: roomId!,
    sessionId: sessionId!,
    processId: processId!,
    publicAddress: typeof publicAddress === "string" ? publicAddress : undefined,
  };
}
