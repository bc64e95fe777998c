/**
 * A restored room's player seats: each held for RECONNECT_GRACE_S with Colyseus's own
 * `allowReconnection`, on a placeholder client carrying the journaled session id and the
 * player's claims, so that the SDK's automatic reconnection (a WebSocket with the reconnection
 * token it holds) and `client.reconnect(token)` over HTTP both land in the same entity.
 *
 * The journal holds only what verifies a token (seat-credential.ts), so the placeholder's own
 * token is a random one nobody knows; when a client presents a token whose credential matches a
 * held seat, Colyseus's reconnection entry is moved under that token (`claim`), before Colyseus
 * looks it up (Room#hasReservedSeat for the WebSocket, Room#checkReconnectionToken for HTTP).
 */
import { randomBytes } from "node:crypto";
import { ClientState, type Client, type Room } from "@colyseus/core";
import { errorFields } from "../../observability/log.ts";
import type { ArenaDeps } from "./arena-deps.ts";
import type { SeatCredentials } from "./seat-credential.ts";
import type { RestoredSeat, RestorePlan } from "./restore-plan.ts";

/** Colyseus 0.18's reconnection entries (Room#_reconnections): token -> [sessionId, deferred]. */
type Reconnections = Record<string, [string, PromiseLike<unknown>] | undefined>;

export class RestoredSeats {
  private readonly room: Room;
  private readonly credentials: SeatCredentials;
  /** credential -> the placeholder's token, while the seat waits */
  private readonly waiting = new Map<string, string>();

  constructor(room: Room, credentials: SeatCredentials) {
    this.room = room;
    this.credentials = credentials;
  }

  /**
   * Holds `seat` for `graceS` seconds. `back`: the player reconnected (after the room's
   * onReconnect); `expired`: nobody came, with the placeholder to hand to the room's onLeave.
   */
  hold(seat: RestoredSeat, graceS: number, back: () => void, expired: (placeholder: Client) => void): void {
    const placeholder = {
      sessionId: seat.sessionId,
      reconnectionToken: randomBytes(24).toString("base64url"),
      auth: { pid: seat.pid, name: seat.name },
      userData: { pid: seat.pid },
      state: ClientState.JOINED,
      view: undefined,
    } as unknown as Client;
    this.waiting.set(seat.credential, placeholder.reconnectionToken);
    Promise.resolve(this.room.allowReconnection(placeholder, graceS)).then(back, () => {
      this.waiting.delete(seat.credential);
      expired(placeholder);
    });
  }

  get held(): number {
    return this.waiting.size;
  }

  /** If `token` opens a held seat, moves the seat's reconnection entry under it. */
  claim(token: unknown): void {
    if (typeof token !== "string" || this.waiting.size === 0) return;
    const credential = this.credentials.of(token);
    const placeholderToken = this.waiting.get(credential);
    if (placeholderToken === undefined) return;
    this.waiting.delete(credential);
    const reconnections = (this.room as unknown as { _reconnections: Reconnections })._reconnections;
    const entry = reconnections[placeholderToken];
    if (!entry) return;
    delete reconnections[placeholderToken];
    reconnections[token] = entry;
    const forget = () => delete reconnections[token];
    entry[1].then(forget, forget);
  }
}

/**
 * Holds a restored room's player seats: each player is back in the room's audience and claimed in
 * the player registry (a failed or lost claim is logged: the seat is held all the same), and its
 * seat waits RECONNECT_GRACE_S; a seat nobody comes back to is handed to `leave`. A room with no
 * seat to hold (no grace, or only NPCs were left) is disconnected: nobody will come back to it.
 */
export function holdRestoredSeats(
  room: Room,
  deps: Pick<ArenaDeps, "config" | "metrics" | "log" | "audience" | "players" | "credentials">,
  plan: RestorePlan,
  leave: (placeholder: Client) => void,
): RestoredSeats {
  const { config, metrics, log } = deps;
  const seats = new RestoredSeats(room, deps.credentials);
  for (const seat of plan.seats) {
    deps.audience.add(room.roomId, seat.pid);
    deps.players.adopt(seat.pid, room.roomId).then(
      (taken) =>
        taken ||
        log.warn("restored seat held by another room in the player registry", { room: room.roomId, pid: seat.pid }),
      (err) =>
        log.warn("restored seat not claimed in the player registry", {
          room: room.roomId,
          pid: seat.pid,
          ...errorFields(err),
        }),
    );
    seats.hold(
      seat,
      config.reconnectGraceS,
      () => metrics.seatsReclaimed.inc(),
      (placeholder) => {
        metrics.seatsExpired.inc();
        leave(placeholder);
      },
    );
  }
  if (plan.seats.length === 0 || config.reconnectGraceS === 0) void room.disconnect();
  return seats;
}
