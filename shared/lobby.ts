/**
 * The lobby's HTTP shapes: GET /rooms lists the live arenas; POST /watch asks for a spectator's
 * seat in one of them (answered with a Colyseus seat reservation for `consumeSeatReservation`).
 */

/** One arena as GET /rooms lists it. */
export interface RoomSummary {
  roomId: string;
  players: number;
  spectators: number;
  /** no seat for another player (full, or closing); it can still be watched */
  locked: boolean;
}

/** The room listing's metadata the arena keeps current (what GET /rooms reads). */
export interface ArenaMetadata {
  players: number;
  spectators: number;
}

/** POST /watch body. */
export interface WatchRequest {
  roomId: string;
  token: string;
}
