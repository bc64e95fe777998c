/**
 * An arena's seats: players against MAX_PLAYERS, spectators against MAX_SPECTATORS, counted over
 * its clients and Colyseus' reserved seats. They keep the listing (GET /rooms) and the room's lock
 * in step, take the spectator seats the watch route reserves, and end an arena whose players are
 * all gone.
 */
import { ErrorCode, ServerError, type Client } from "@colyseus/core";
import type { ArenaMetadata } from "../../../shared/lobby.ts";
import { ARENA_ENDED_CLOSE_CODE } from "../../../shared/protocol.ts";
import type { PlayerIdentity } from "../auth/token-verifier.ts";
import type { GameConfig } from "../config.ts";
import type { GameMetrics } from "../metrics.ts";
import { errorFields, type Logger } from "../../observability/log.ts";
import type { RoomAudience } from "./room-audience.ts";

/** What reserveSpectator did: reserved, or refused as the arena's spectators are all in, or as the token holds SPECTATOR_SEATS_PER_PLAYER seats. */
export type SpectatorSeat = "reserved" | "arena_full" | "token_full";

/** A spectator's seat auth: the token's identity, marked by the watch route (lobby-routes.ts). */
export type WatcherClaims = PlayerIdentity & { watcher: true };

export function isWatcher(auth: unknown): auth is WatcherClaims {
  return typeof auth === "object" && auth !== null && (auth as { watcher?: unknown }).watcher === true;
}

/** What a joined client's seat is (set at join): a player's id, or the watching player's. */
type SeatData = { pid?: string; watcher?: string } | undefined;

export function isSpectator(client: Client): boolean {
  return (client.userData as SeatData)?.watcher !== undefined;
}

/** The player a client plays (undefined for a spectator). */
export function pidOf(client: Client): string | undefined {
  return (client.userData as SeatData)?.pid;
}

/** How often a room looks for seat changes it was not told of (audit). */
const SEAT_AUDIT_MS = 1000;

/** Colyseus' seats reserved and not yet joined, by session id (their auth second). */
type ReservedSeats = Record<string, [unknown, unknown, ...unknown[]]>;

/** What the seats use of their room: Colyseus' Room (its seat reservations are private to it). */
export interface SeatedRoom {
  readonly roomId: string;
  readonly clients: Iterable<Client>;
  readonly locked: boolean;
  setMetadata(seats: ArenaMetadata): Promise<void>;
  lock(): Promise<void>;
  unlock(): Promise<void>;
  disconnect(closeCode?: number): Promise<unknown>;
}

export interface SeatDeps {
  config: GameConfig;
  metrics: GameMetrics;
  log: Logger;
  /** a spectator may read the room's replay */
  audience: RoomAudience;
  /** this process's arenas: the spectator seats one token holds are counted over all of them */
  rooms: Iterable<{ spectatorSeatsOf(pid: string): number }>;
  /** Colyseus' own test: every seat (players and spectators) taken */
  allSeatsTaken(): boolean;
  /** the room is handed over or dropped: its seats are not its to publish or end any more */
  stopping(): boolean;
}

export class ArenaSeats {
  private readonly room: SeatedRoom;
  private readonly deps: SeatDeps;
  /** true only while reserveSpectator has Colyseus reserve a seat (see full) */
  private admittingSpectator = false;
  /** the seats last put in the listing (JSON), for audit */
  private published = "";
  private auditTimer: NodeJS.Timeout | undefined;
  /** endIfOnlySpectators has begun disconnecting everyone */
  private ending = false;

  constructor(room: SeatedRoom, deps: SeatDeps) {
    this.room = room;
    this.deps = deps;
  }

  /** from here on, every SEAT_AUDIT_MS (see audit) */
  startAudit(): void {
    this.auditTimer = setInterval(() => this.audit(), SEAT_AUDIT_MS);
    this.auditTimer.unref();
  }

  /** stops the audit (the room is disposed) */
  close(): void {
    clearInterval(this.auditTimer);
  }

  count(): ArenaMetadata {
    let players = 0;
    let spectators = 0;
    for (const c of this.room.clients) isSpectator(c) ? spectators++ : players++;
    const reserved = this.reserved();
    for (const id in reserved) isWatcher(reserved[id][1]) ? spectators++ : players++;
    return { players, spectators };
  }

  /**
   * What Colyseus calls full (it then locks the room for matchmaking): every seat taken, or the
   * player seats (joined, reserved, or held for a reconnection) at MAX_PLAYERS. Checked when a
   * seat is reserved, so a burst of joins opens a new arena instead of overfilling this one.
   */
  full(): boolean {
    if (this.deps.allSeatsTaken()) return true;
    return !this.admittingSpectator && this.count().players >= this.deps.config.maxPlayers;
  }

  /**
   * A spectator's seat, for the watch route. A room full of players can still be watched:
   * Colyseus' reservation asks full() synchronously, before its first await, and during that call
   * only the total seat count applies.
   */
  async reserveSpectator(sessionId: string, auth: WatcherClaims): Promise<SpectatorSeat> {
    const { maxSpectators, spectatorSeatsPerPlayer } = this.deps.config;
    if (!isWatcher(auth) || this.count().spectators >= maxSpectators) return "arena_full";
    // every room of this process, counted and reserved with no await in between: two requests
    // with one token cannot both take the last seat it may hold
    let held = 0;
    for (const room of this.deps.rooms) held += room.spectatorSeatsOf(auth.pid);
    if (held >= spectatorSeatsPerPlayer) return "token_full";
    const reserveSeat = (
      this.room as unknown as { _reserveSeat(id: string, options: unknown, auth: unknown): Promise<boolean> }
    )._reserveSeat;
    this.admittingSpectator = true;
    let reserved: Promise<boolean>;
    try {
      reserved = reserveSeat.call(this.room, sessionId, {}, auth);
    } finally {
      this.admittingSpectator = false;
    }
    if (!(await reserved)) return "arena_full";
    this.publish();
    return "reserved";
  }

  /** A spectator joins (its seat reserved by reserveSpectator); refused past MAX_SPECTATORS. */
  seatSpectator(client: Client, auth: WatcherClaims): void {
    const { maxSpectators } = this.deps.config;
    if (this.count().spectators > maxSpectators) {
      throw new ServerError(ErrorCode.MATCHMAKE_UNHANDLED, `this arena has its ${maxSpectators} spectators already`);
    }
    client.userData = { watcher: auth.pid };
    this.deps.audience.add(this.room.roomId, auth.pid);
    this.publish();
  }

  /** Spectator seats `pid` holds here, taken or reserved. */
  spectatorSeatsOf(pid: string): number {
    let n = 0;
    for (const c of this.room.clients) if ((c.userData as SeatData)?.watcher === pid) n++;
    const reserved = this.reserved();
    for (const id in reserved) {
      const auth = reserved[id][1];
      if (isWatcher(auth) && auth.pid === pid) n++;
    }
    return n;
  }

  /**
   * Keeps the listing current for GET /rooms, and the room locked exactly while its players are
   * at MAX_PLAYERS: an explicit lock, so a spectator leaving does not reopen a full arena.
   */
  publish(): void {
    const seats = this.count();
    this.published = JSON.stringify(seats);
    void this.room.setMetadata(seats);
    const full = seats.players >= this.deps.config.maxPlayers;
    // also when Colyseus already locked it at the reservation: that lock is not explicit
    if (full) void this.room.lock();
    else if (this.room.locked && !this.deps.allSeatsTaken()) void this.room.unlock();
  }

  /**
   * An arena whose players are all gone (left, reconnection grace over, reservation lapsed) ends
   * even with spectators in it: they alone would keep it fighting and journaling NPC rounds.
   * They are disconnected with ARENA_ENDED_CLOSE_CODE (nothing to reconnect to), then it disposes.
   */
  endIfOnlySpectators(): void {
    const { players, spectators } = this.count();
    if (players > 0 || spectators === 0 || this.ending || this.deps.stopping()) return;
    this.ending = true;
    const room = this.room.roomId;
    this.deps.log.debug("arena ended: only spectators left", { room, spectators });
    this.room.disconnect(ARENA_ENDED_CLOSE_CODE).catch((err: unknown) => {
      this.deps.metrics.errors.inc("arena_end");
      this.deps.log.error("ending an arena left to its spectators failed", { room, ...errorFields(err) });
    });
  }

  /**
   * Seats also change with no join or leave: a reservation nobody takes lapses after
   * SEAT_RESERVATION_S, silently (Colyseus has no hook for it). Every SEAT_AUDIT_MS the room
   * republishes its seats if they changed, and ends if only spectators are left.
   */
  private audit(): void {
    if (this.deps.stopping()) return;
    if (JSON.stringify(this.count()) !== this.published) this.publish();
    this.endIfOnlySpectators();
  }

  /**
   * Colyseus' seats reserved and not yet joined, and players' seats held for a reconnection (a
   * restored room's too).
   */
  private reserved(): ReservedSeats {
    return (this.room as unknown as { _reservedSeats: ReservedSeats })._reservedSeats;
  }
}
