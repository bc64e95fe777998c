/**
 * A bot's seat in an arena, whichever client holds it: the real @colyseus/sdk (`sdk-seat.ts`) or
 * the thin client (`thin/`). The bot (bot.ts) plays through this interface only, so both kinds
 * measure the same things the same way; `--client sdk|thin` chooses the kind (`seatsFor`).
 */
import type { ErrorMessage, RoundMessage } from "../shared/protocol.ts";

export const CLIENT_KINDS = ["sdk", "thin"] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

/** What the bot measures about a seat's connections. */
export interface ConnectionObserver {
  /** the WebSocket of a join or reconnect the bot asked for is open */
  opened(): void;
  /** a frame of `bytes` bytes arrived on a seat's connection */
  received(bytes: number): void;
}

/** What a seat tells the bot while it is played. */
export interface SeatEvents {
  round(msg: RoundMessage): void;
  error(err: ErrorMessage): void;
  /** a message type the bot does not expect */
  unexpected(type: string | number): void;
  /** a Colyseus ERROR frame or a WebSocket error on the joined seat (no code: the WebSocket's) */
  roomError(code: number | undefined, message?: string): void;
  /** the connection dropped; the SDK may still reconnect it (then `reconnected`) */
  dropped(code: number, reason?: string): void;
  reconnected(): void;
  /** the seat is gone for good (closed by the server, or a drop nobody recovered from) */
  ended(code: number): void;
}

export interface Seat {
  readonly roomId: string;
  /** the room as the report counts it: `roomKey(connection URL, roomId)` (metrics.ts) */
  readonly key: string;
  /** joined, socket open: sending now reaches the room */
  readonly isOpen: boolean;
  /** `roomId:token`, for `SeatSource.reconnect` */
  readonly reconnectionToken: string;
  /** Routes the seat's events to `events` until the returned function is called. */
  listen(events: SeatEvents): () => void;
  /** `id` is in the bot's current view of the room */
  inView(id: string): boolean;
  /** the view's alive flag of `id` (undefined: not in the view) */
  aliveOf(id: string): boolean | undefined;
  /** ids of the living entities in the view, the targets (the caller must not change the array) */
  living(): readonly string[];
  /** the room refused `id` as a target it does not know: it is not in the room */
  targetRefused(id: string): void;
  send(type: string | number, payload: unknown): void;
  /** closes the socket the way a network drop would (close code MAY_TRY_RECONNECT, `reason`) */
  drop(reason: string): void;
  /** consented leave; resolves once the room let the seat go */
  leave(): Promise<void>;
  /** closes the socket at once, with no reconnection */
  close(): void;
}

/**
 * How a bot takes seats: the matchmaker's methods. `signal` aborts a request in flight (the bot
 * gave up on it); a seat that arrives anyway is the caller's to give back.
 */
export interface SeatSource {
  joinOrCreate(token: string, signal: AbortSignal): Promise<Seat>;
  create(token: string, signal: AbortSignal): Promise<Seat>;
  joinById(roomId: string, token: string, signal: AbortSignal): Promise<Seat>;
  reconnect(reconnectionToken: string, signal: AbortSignal): Promise<Seat>;
}

/** One bot's SeatSource, telling `observer` about its connections. */
export type SeatSourceFor = (observer: ConnectionObserver) => SeatSource;
