/**
 * The `arena` room: players (authenticated by token) and NPCs fight in combat rounds.
 *
 * From the first player's join, a clock tick at TICK_HZ advances the runtime's TickScheduler (NPC brains think on it); every
 * ROUND_TICKS ticks a combat round starts unless one is still running. Intents are validated and
 * queued between rounds; a round applies its whole result synchronously, then patches state
 * (patchRate is null: clients never see half a round) and broadcasts one `round` message.
 * Every entity owns a runtime Scope; removing the entity halts it.
 */
import {
  Room,
  ServerError,
  ErrorCode,
  CloseCode,
  type Client,
  TimestepException,
  type RoomException,
  type RoomMethodName,
} from "@colyseus/core";
import { $changes } from "@colyseus/schema";
import { Scope, TickScheduler } from "../../runtime/index.ts";
import { ArenaState, Entity } from "../../../shared/state.ts";
import { ARENA_ENDED_CLOSE_CODE, Msg, parseIntent, type ErrorMessage, type Intent } from "../../../shared/protocol.ts";
import type { ArenaMetadata } from "../../../shared/lobby.ts";
import { carriedState, compareIds, type CarriedState } from "../../../shared/combat.ts";
import { deriveStats, NPC_PROFILES } from "../../../shared/stats.ts";
import type { StatsClient } from "../../stats/client.ts";
import type { PlayerIdentity, TokenVerifier } from "../auth/token-verifier.ts";
import { checkIntent, IntentQueue } from "./intent-queue.ts";
import { npcBrain } from "./npc-brain.ts";
import { RoundRunner } from "../round/round-runner.ts";
import { RoomSecret } from "../round/room-secret.ts";
import { inOneWrite } from "./one-write.ts";
import type { TickClock } from "./tick-clock.ts";
import { roundMessage, type PlannedEntity, type RoundOutcome } from "../round/combat-round.ts";
import type { PlayerRegistry } from "./player-registry.ts";
import type { RoomAudience } from "./room-audience.ts";
import type { RoundJournal } from "../journal/round-journal.ts";
import type { GameMetrics } from "../metrics.ts";
import type { GameConfig } from "../config.ts";
import { errorFields, type Logger } from "../../observability/log.ts";
import type { LimitedLog } from "../../observability/log-limiter.ts";
import { undecodableType } from "./frame-check.ts";
import type { RestorePlan } from "./restore-plan.ts";
import { RestoredSeats } from "./restored-seats.ts";
import type { SeatCredentials } from "./seat-credential.ts";
import type { MemberRecord } from "../journal/room-ledger.ts";
import type { JournalRecord } from "../journal/round-journal.ts";
import type { RoomCheckpoint, RoomDurability } from "./room-durability.ts";

export interface ArenaDeps {
  config: GameConfig;
  /** the server key: room secrets derive from it (round/room-secret.ts) */
  authSecret: string;
  /** the one token check (auth/token-verifier.ts): matchmaking, and reconnections here */
  verifyToken: TokenVerifier;
  statsClient: StatsClient;
  journal: RoundJournal | null;
  metrics: GameMetrics;
  log: Logger;
  /** for what clients can make happen per frame or request */
  limitedLog: LimitedLog;
  players: PlayerRegistry;
  /** live rooms, for the rooms/ccu gauges and the summary */
  rooms: Set<ArenaRoom>;
  /** rooms being restored from the journal, by id: a room created under such an id takes its plan (restore-rooms.ts) */
  restoring: Map<string, RestorePlan>;
  /** what verifies reconnection tokens in the journal (seat-credential.ts) */
  credentials: SeatCredentials;
  /** a cluster's leases and checkpoints, so that another process can adopt the room (room-durability.ts) */
  durability?: RoomDurability;
  /** who played or watched in each room: who may read its replay */
  audience: RoomAudience;
  /** the process's one tick clock: every room's clock runs on it (tick-clock.ts) */
  tickClock: TickClock;
}

/** NPC kinds in the order a room fills them: a mixed pack a lone human can still fight. */
const NPC_KINDS = ["goblin", "wolf", "orc", "rat", "troll"].filter((k) => Object.hasOwn(NPC_PROFILES, k));

/** An intent frame is ~60 bytes; anything near this is not a well-behaved client. */
export const MAX_PAYLOAD_BYTES = 1024;

/** A client that sends this many frames Colyseus cannot decode is dropped. */
const MAX_UNDECODABLE_FRAMES = 10;

const SPECTATOR_REFUSAL: ErrorMessage = {
  code: "spectator",
  message: "spectators cannot act: open the page without ?watch= to play",
};

/** What reserveSpectatorSeat did: reserved, or refused as the arena's spectators are all in, or as the token holds SPECTATOR_SEATS_PER_PLAYER seats. */
export type SpectatorSeat = "reserved" | "arena_full" | "token_full";

/** How often a room looks for seat changes it was not told of (auditSeats). */
const SEAT_AUDIT_MS = 1000;

/** A spectator's seat auth: the token's identity, marked by the watch route (lobby-routes.ts). */
export type WatcherClaims = PlayerIdentity & { watcher: true };

function isWatcher(auth: unknown): auth is WatcherClaims {
  return typeof auth === "object" && auth !== null && (auth as { watcher?: unknown }).watcher === true;
}

/** Ticks one late interval may run to catch up with the wall clock (one round at the defaults). */
const MAX_CATCH_UP_TICKS = 10;

/** the longest delay a Node timer takes: a simulation interval that never fires */
const NEVER_MS = 2 ** 31 - 1;

export class ArenaRoom extends Room<{ state: ArenaState }> {
  /** set by the per-server subclass (see arenaRoomClass) */
  declare deps: ArenaDeps;

  /** seeds every roll and NPC decision; never leaves the server (round/room-secret.ts) */
  private secret!: RoomSecret;
  /** what the secret is derived from, and when the room first opened (for checkpoints) */
  private nonce!: Uint8Array;
  private openedAtMs = 0;
  /** who is in: each entity's join record with its latest seat (what a checkpoint carries) */
  private readonly members = new Map<string, MemberRecord>();
  /** the last round journaled (what a checkpoint carries) */
  private lastRecord: JournalRecord | null = null;
  private ticks = new TickScheduler();
  private tickCount = 0;
  /** performance.now() at which tick 0 was due: game time follows the wall clock from here */
  private clockStart = 0;
  private clockStarted = false;
  /** leaves the process's tick clock (set from onCreate on) */
  private stopTicking = (): void => {};
  private readonly intents = new IntentQueue();
  private readonly scopes = new Map<string, Scope>();
  private runner!: RoundRunner;
  /** per-client soft limit on intents, to answer `rate_limited` before the hard drop */
  private readonly intentBudget = new Map<string, { windowEnd: number; used: number; warned: boolean }>();
  /** per client: frames refused as undecodable */
  private readonly undecodable = new Map<string, number>();
  /** true only while reserveSpectatorSeat has Colyseus reserve a seat (see hasReachedMaxClients) */
  private admittingSpectator = false;
  /** the seats last put in the listing (JSON), for auditSeats */
  private publishedSeats = "";
  private seatAudit: NodeJS.Timeout | undefined;
  /** endIfOnlySpectators has begun disconnecting everyone */
  private ending = false;
  /** the journal's players, held until they come back (a restored room only) */
  private restoredSeats: RestoredSeats | undefined;
  /** the process is stopping and hands this room to its successor: no leave is recorded, the room is not finished */
  private handingOver = false;
  /** another process owns the room now (its lease was lost): nothing is broadcast, written or checkpointed */
  private dropped = false;

  async onCreate(): Promise<void> {
    const { config, metrics, log } = this.deps;
    this.maxClients = config.maxPlayers + config.maxSpectators;
    // a seat reserved but never taken (no WebSocket connect) is free again after this
    this.seatReservationTimeout = config.seatReservationS;
    // Colyseus ticks the clock of a room with neither a patch rate nor a simulation interval on a
    // 60 Hz timer of its own; this room's clock runs on the process's tick clock instead, so it
    // declares a simulation interval that never fires before it turns the patch interval off
    this.setSimulationInterval(() => {}, NEVER_MS);
    this.patchRate = null;
    this.maxMessagesPerSecond = config.maxMessagesPerSecond;
    this.state = new ArenaState();
    this.state.phase = "waiting";
    this.state.round = 0;
    const restore = this.deps.restoring.get(this.roomId);
    this.deps.restoring.delete(this.roomId);
    // a new room in a cluster is owned under a lease first (an adopted one was claimed before)
    if (!restore) await this.deps.durability?.opened(this.roomId);
    if (restore) this.restoreFrom(restore);
    else this.open();
    for (const [id, e] of this.state.entities) {
      if (e.kind !== "npc") continue;
      this.scopes
        .get(id)!
        .run(() => npcBrain(id, this.npcWorld, { seedOf: (npc, round) => this.secret.npcSeed(npc, round) }), {
          name: "brain",
        });
    }

    const statsClient = this.deps.statsClient;
    this.runner = new RoundRunner(
      {
        roomId: this.roomId,
        seedOf: (round) => this.secret.roundSeed(round),
        deadlineMs: config.roundDeadlineMs,
        snapshot: () => this.cutOff(),
        sources: {
          fetch: (id, signal, deadlineMs) => statsClient.get(id, { signal, deadlineMs }),
          lastKnownGood: (id) => statsClient.lastKnownGood(id),
          now: () => performance.now(),
        },
        apply: (round, outcome) => this.applyRound(round, outcome),
        journal: this.deps.journal,
        fence: this.deps.durability && {
          owns: () => this.deps.durability!.owns(this.roomId),
          beforeBroadcast: (record) => {
            this.lastRecord = record;
            return this.checkpoint();
          },
        },
        metrics,
        log,
        limitedLog: this.deps.limitedLog,
        statsProblem: () => statsClient.problem(),
        now: () => performance.now(),
      },
      this.state.round + 1,
    );

    this.screenFrames();
    this.onMessage(Msg.intent, (client, raw) => this.onIntent(client, raw));
    this.onMessage("*", (client, type) => {
      this.refuse(client, {
        code: "unknown_type",
        message: `unknown message type ${JSON.stringify(String(type)).slice(0, 40)}`,
      });
    });
    this.deps.rooms.add(this);
    this.stopTicking = this.deps.tickClock.subscribe(() => this.onTick());
    this.seatAudit = setInterval(() => this.auditSeats(), SEAT_AUDIT_MS);
    this.seatAudit.unref();
    if (restore) this.holdRestoredSeats(restore);
    this.deps.journal?.rooms.refsUsed(this.roomId, this.refsUsed());
    // an adopted room's first checkpoint under its new owner's lease
    if (this.deps.durability) await this.checkpoint();
    log.debug(restore ? "arena restored" : "arena created", { room: this.roomId, round: this.state.round });
  }

  /** A new room: a fresh nonce for its secret, its NPCs, both recorded in the journal. */
  private open(): void {
    const { config } = this.deps;
    this.nonce = RoomSecret.newNonce();
    this.openedAtMs = Date.now();
    this.secret = RoomSecret.derive(this.deps.authSecret, this.roomId, this.nonce);
    this.deps.journal?.rooms.opened(this.roomId, this.nonce, this.refsUsed());
    for (let i = 0; i < config.npcs; i++) {
      const kind = NPC_KINDS[i % NPC_KINDS.length];
      const id = `npc_${kind}_${i + 1}`;
      const name = `${kind[0].toUpperCase()}${kind.slice(1)} ${i + 1}`;
      this.addEntity(id, name, "npc");
      this.record({ event: "join", entity: id, name, kind: "npc", sessionId: null, credential: null });
    }
  }

  /**
   * A room the journal says was live when its process stopped: the same secret, its entities as
   * the last committed round left them (plus later joins), the round counter going on from there.
   * The clock waits for the first player to come back; until then nothing is fought.
   */
  private restoreFrom(plan: RestorePlan): void {
    this.secret = RoomSecret.derive(this.deps.authSecret, this.roomId, plan.nonce);
    this.nonce = plan.nonce;
    this.openedAtMs = plan.openedAtMs;
    this.lastRecord = plan.last;
    for (const m of plan.members) this.members.set(m.entity, m);
    // adopted from another process: this journal gets the room's record too
    this.deps.journal?.rooms.opened(this.roomId, plan.nonce, plan.refBase);
    // new refs above every ref id a client of the old process may still hold
    const root = (this.state as unknown as { [$changes]: { root: { nextUniqueId: number } } })[$changes].root;
    root.nextUniqueId = Math.max(root.nextUniqueId, plan.refBase);
    for (const e of plan.entities) this.addEntity(e.id, e.name, e.kind, e);
    for (const seat of plan.seats) this.state.entities.get(seat.pid)!.connected = false;
    this.state.round = plan.round;
    this.state.phase = plan.round > 0 ? "fighting" : "waiting";
    this.tickCount = plan.round * this.deps.config.roundTicks;
    // the replay's chain check: membership events of cut-offs that were never committed end here
    this.record({ event: "restore", entity: "", name: "", kind: "npc", sessionId: null, credential: null });
  }

  private holdRestoredSeats(plan: RestorePlan): void {
    const { config, metrics, log } = this.deps;
    this.restoredSeats = new RestoredSeats(this as unknown as Room, this.deps.credentials);
    for (const seat of plan.seats) {
      this.deps.audience.add(this.roomId, seat.pid);
      this.deps.players.adopt(seat.pid, this.roomId).then(
        (taken) =>
          taken ||
          log.warn("restored seat held by another room in the player registry", { room: this.roomId, pid: seat.pid }),
        (err) =>
          log.warn("restored seat not claimed in the player registry", {
            room: this.roomId,
            pid: seat.pid,
            ...errorFields(err),
          }),
      );
      this.restoredSeats.hold(
        seat,
        config.reconnectGraceS,
        () => metrics.seatsReclaimed.inc(),
        (placeholder) => {
          metrics.seatsExpired.inc();
          this.onLeave(placeholder);
        },
      );
    }
    // no seat to hold (no grace, or only NPCs were left): nobody will come back to it
    if (plan.seats.length === 0 || config.reconnectGraceS === 0) void this.disconnect();
  }

  /** Colyseus asks this for a WebSocket (re)connect: a held seat is first matched to the token. */
  hasReservedSeat(sessionId: string, reconnectionToken?: string): boolean {
    this.restoredSeats?.claim(reconnectionToken);
    return super.hasReservedSeat(sessionId, reconnectionToken);
  }

  /** Colyseus asks this for `client.reconnect(token)` over HTTP: likewise. */
  checkReconnectionToken(reconnectionToken: string): string {
    this.restoredSeats?.claim(reconnectionToken);
    return super.checkReconnectionToken(reconnectionToken);
  }

  /**
   * The process is stopping and the room goes on in its successor: the round in flight finishes
   * and is committed, then every client is closed with 4010 ("may reconnect"), which the SDK
   * answers by reconnecting; nothing is recorded as a leave and the room is not finished.
   */
  async handOver(): Promise<void> {
    this.handingOver = true;
    await this.runner.stop(this.deps.config.roundDeadlineMs + 500);
    if (this.deps.durability) {
      this.keepListing();
      await this.deps.durability.handOver(this.roomId, this.checkpointNow());
    }
    for (const client of [...this.clients]) client.leave(CloseCode.MAY_TRY_RECONNECT, "the server is restarting");
  }

  /**
   * Another process owns the room now (this one lost its lease: it was paused past it, say): stop
   * acting at once. No round is broadcast or journaled, nothing recorded, the adopter's listing
   * stays; clients are closed with 4010 and reach the adopter with client.reconnect(token).
   */
  drop(): void {
    if (this.dropped) return;
    this.dropped = true;
    this.handingOver = true;
    this.keepListing();
    void this.runner.stop(0);
    void this.disconnect(CloseCode.MAY_TRY_RECONNECT);
  }

  /** On dispose Colyseus removes the room's listing by id: not when the listing is now another process's. */
  private keepListing(): void {
    (this as unknown as { _listing: { roomId?: string } })._listing.roomId = undefined;
  }

  /** What another process would restore this room from now. */
  private checkpointNow(): RoomCheckpoint {
    return {
      room: { room: this.roomId, nonce: this.nonce, openedAtMs: this.openedAtMs, refBase: this.refsUsed() },
      last: this.lastRecord,
      members: [...this.members.values()],
    };
  }

  /** Writes the checkpoint under this process's lease (true without a cluster); a lost lease drops the room. */
  private async checkpoint(): Promise<boolean> {
    if (this.dropped) return false;
    if (!this.deps.durability) return true;
    const owned = await this.deps.durability.checkpoint(this.roomId, this.checkpointNow());
    if (!owned) this.drop();
    return owned;
  }

  /** The schema ref ids this room's state has handed out so far. */
  private refsUsed(): number {
    return (this.state as unknown as { [$changes]: { root: { nextUniqueId: number } } })[$changes].root.nextUniqueId;
  }

  /** A membership event, in the journal's transaction of this turn, after the rounds cut off so far. */
  private record(m: Omit<MemberRecord, "afterRound">): void {
    const record: MemberRecord = { ...m, afterRound: (this.runner?.upcoming ?? this.state.round + 1) - 1 };
    this.deps.journal?.rooms.member(this.roomId, record);
    if (m.event === "join") this.members.set(m.entity, record);
    else if (m.event === "leave") this.members.delete(m.entity);
    else if (m.event === "seat") {
      const joined = this.members.get(m.entity);
      if (joined) this.members.set(m.entity, { ...joined, sessionId: m.sessionId, credential: m.credential });
    }
  }

  /** Resolves once what the journal holds so far is committed. */
  private committed(): Promise<void> {
    const journal = this.deps.journal;
    return journal ? new Promise((done) => journal.afterCommit(done)) : Promise.resolve();
  }

  // --- joining -----------------------------------------------------------------------------

  async onJoin(client: Client, _options: unknown, auth: PlayerIdentity): Promise<void> {
    if (isWatcher(auth)) {
      if (this.seats().spectators > this.deps.config.maxSpectators) {
        throw new ServerError(
          ErrorCode.MATCHMAKE_UNHANDLED,
          `this arena has its ${this.deps.config.maxSpectators} spectators already`,
        );
      }
      client.userData = { watcher: auth.pid };
      this.deps.audience.add(this.roomId, auth.pid);
      this.publishSeats();
      return;
    }
    // onAuth's check and this claim are separated by an await: two joins with one token can race
    // (in a cluster, through two processes); the claim is atomic.
    if (!(await this.deps.players.claim(auth.pid, this.roomId))) {
      this.deps.metrics.authRejected.inc("already_in_arena");
      throw new ServerError(ErrorCode.AUTH_FAILED, `player ${auth.pid} is already in an arena`);
    }
    client.userData = { pid: auth.pid };
    this.deps.audience.add(this.roomId, auth.pid);
    this.addEntity(auth.pid, auth.name, "player");
    this.record({ event: "join", entity: auth.pid, name: auth.name, kind: "player", ...this.seatOf(client) });
    this.deps.journal?.rooms.refsUsed(this.roomId, this.refsUsed());
    this.startClock();
    this.broadcastPatch();
    this.publishSeats();
    this.deps.log.debug("player joined", { room: this.roomId, pid: auth.pid });
    // the join is acknowledged only once the journal (and a cluster's checkpoint) holds it: a
    // restore or an adoption after a crash keeps the seat
    await this.committed();
    if (!(await this.checkpoint()))
      throw new ServerError(ErrorCode.MATCHMAKE_UNHANDLED, "this arena moved to another process; join again");
  }

  /** What the journal keeps of a player's seat: its session, and what verifies its reconnection token. */
  private seatOf(client: Client): Pick<MemberRecord, "sessionId" | "credential"> {
    return { sessionId: client.sessionId, credential: this.deps.credentials.of(client.reconnectionToken) };
  }

  onDrop(client: Client, code?: number): void {
    if (this.handingOver) return;
    // a spectator has nothing to come back to: no grace, the seat is free
    if (this.isSpectator(client)) return this.onLeave(client);
    const pid = this.pidOf(client);
    const entity = pid ? this.state.entities.get(pid) : undefined;
    if (!entity) return;
    entity.connected = false;
    this.intents.drop(pid!);
    this.broadcastPatch();
    if (this.deps.config.reconnectGraceS > 0 && code !== CloseCode.SERVER_SHUTDOWN) {
      // A grace that ends unused (or a room already disposing) rejects; onLeave answers it.
      Promise.resolve(this.allowReconnection(client, this.deps.config.reconnectGraceS)).catch((err) =>
        this.deps.log.debug("reconnection grace ended unused", { room: this.roomId, pid, ...errorFields(err) }),
      );
    }
  }

  /**
   * The seat's token is checked again, as at matchmaking: an expired token, or one whose key the
   * login withdrew, does not come back. Throwing refuses the reconnection (Colyseus then lets the
   * client go through onLeave, which frees the player id for a join with a new token). A seat
   * restored from the journal has no token to check (the journal keeps none, restored-seats.ts):
   * the reconnection token it was matched by is its credential.
   */
  async onReconnect(client: Client): Promise<void> {
    const token = (client.auth as Partial<PlayerIdentity> | undefined)?.token;
    const check = token === undefined ? null : await this.deps.verifyToken(token);
    if (check !== null && !check.ok) {
      this.deps.metrics.authRejected.inc(check.reason);
      throw new ServerError(ErrorCode.AUTH_FAILED, check.message);
    }
    const pid = this.pidOf(client);
    const entity = pid ? this.state.entities.get(pid) : undefined;
    if (!entity) return;
    entity.connected = true;
    // the new connection's reconnection token: journaled (and checkpointed) before the client gets it
    this.record({ event: "seat", entity: pid!, name: entity.name, kind: "player", ...this.seatOf(client) });
    // a restored room resumes with its first player back
    this.startClock();
    this.broadcastPatch();
    this.deps.log.debug("player reconnected", { room: this.roomId, pid });
    await this.committed();
    await this.checkpoint();
  }

  onLeave(client: Client): void {
    this.intentBudget.delete(client.sessionId);
    this.undecodable.delete(client.sessionId);
    if (this.handingOver) return;
    const pid = this.pidOf(client);
    if (!pid) return this.publishSeats();
    const e = this.state.entities.get(pid);
    if (e)
      this.record({ event: "leave", entity: pid, name: e.name, kind: "player", sessionId: null, credential: null });
    void this.removeEntity(pid);
    this.deps.players.release(pid, this.roomId);
    void this.checkpoint();
    this.broadcastPatch();
    this.publishSeats();
    this.endIfOnlySpectators();
    this.deps.log.debug("player left", { room: this.roomId, pid });
  }

  async onDispose(): Promise<void> {
    this.stopTicking();
    clearInterval(this.seatAudit);
    const { config } = this.deps;
    await this.runner?.stop(config.roundDeadlineMs + 500);
    if (!this.handingOver) {
      // the match is over: it is never restored
      if (this.deps.journal && !this.deps.journal.isClosed) this.deps.journal.rooms.finished(this.roomId);
      this.deps.durability?.finished(this.roomId);
      for (const [id, entity] of this.state.entities)
        if (entity.kind === "player") this.deps.players.release(id, this.roomId);
    }
    await Promise.all([...this.scopes.keys()].map((id) => this.removeEntity(id)));
    this.deps.rooms.delete(this);
    this.deps.log.debug("arena disposed", { room: this.roomId, round: this.state.round });
  }

  onUncaughtException(error: RoomException, method: RoomMethodName): void {
    const cause = (error as Error).cause ?? error;
    // A seat claimed twice is expected traffic, already counted in onJoin.
    if (cause instanceof ServerError && method === "onJoin") return;
    this.deps.metrics.errors.inc("uncaught_" + method);
    this.deps.log.error("room exception", { room: this.roomId, method, ...errorFields(cause) });
  }

  // --- seats: players against MAX_PLAYERS, spectators against MAX_SPECTATORS ------------------

  /**
   * What Colyseus calls full (it then locks the room for matchmaking): every seat taken, or the
   * player seats (joined, reserved, or held for a reconnection) at MAX_PLAYERS. Checked when a
   * seat is reserved, so a burst of joins opens a new arena instead of overfilling this one.
   */
  hasReachedMaxClients(): boolean {
    if (super.hasReachedMaxClients()) return true;
    return !this.admittingSpectator && this.seats().players >= this.deps.config.maxPlayers;
  }

  /**
   * A spectator's seat, for the watch route (through matchMaker.remoteRoomCall, so the room may
   * live in any process; `auth` is the checked token's claims marked `watcher`). False when
   * MAX_SPECTATORS are watching. A room full of players can still be watched: Colyseus'
   * reservation asks hasReachedMaxClients synchronously, before its first await, and during that
   * call only the total seat count applies.
   */
  async reserveSpectatorSeat(sessionId: string, auth: WatcherClaims): Promise<SpectatorSeat> {
    const { maxSpectators, spectatorSeatsPerPlayer } = this.deps.config;
    if (!isWatcher(auth) || this.seats().spectators >= maxSpectators) return "arena_full";
    // every room of this process, counted and reserved with no await in between: two requests
    // with one token cannot both take the last seat it may hold
    let held = 0;
    for (const room of this.deps.rooms) held += room.spectatorSeatsOf(auth.pid);
    if (held >= spectatorSeatsPerPlayer) return "token_full";
    const reserveSeat = (
      this as unknown as { _reserveSeat(id: string, options: unknown, auth: unknown): Promise<boolean> }
    )._reserveSeat;
    this.admittingSpectator = true;
    let reserved: Promise<boolean>;
    try {
      reserved = reserveSeat.call(this, sessionId, {}, auth);
    } finally {
      this.admittingSpectator = false;
    }
    if (!(await reserved)) return "arena_full";
    this.publishSeats();
    return "reserved";
  }

  /** Spectator seats `pid` holds here, taken or reserved. */
  spectatorSeatsOf(pid: string): number {
    let n = 0;
    for (const c of this.clients) if ((c.userData as { watcher?: string } | undefined)?.watcher === pid) n++;
    const reserved = this.reservedSeats();
    for (const id in reserved) {
      const auth = reserved[id][1];
      if (isWatcher(auth) && auth.pid === pid) n++;
    }
    return n;
  }

  /**
   * Colyseus' seats reserved and not yet joined (their auth second), and players' seats held for
   * a reconnection (a restored room's too).
   */
  private reservedSeats(): Record<string, [unknown, unknown, ...unknown[]]> {
    return (this as unknown as { _reservedSeats: Record<string, [unknown, unknown, ...unknown[]]> })._reservedSeats;
  }

  private seats(): ArenaMetadata {
    let players = 0;
    let spectators = 0;
    for (const c of this.clients) this.isSpectator(c) ? spectators++ : players++;
    const reserved = this.reservedSeats();
    for (const id in reserved) isWatcher(reserved[id][1]) ? spectators++ : players++;
    return { players, spectators };
  }

  /**
   * Seats also change with no join or leave: a reservation nobody takes lapses after
   * SEAT_RESERVATION_S, silently (Colyseus has no hook for it). Every SEAT_AUDIT_MS the room
   * republishes its seats if they changed, and ends if only spectators are left.
   */
  private auditSeats(): void {
    if (this.handingOver || this.dropped) return;
    if (JSON.stringify(this.seats()) !== this.publishedSeats) this.publishSeats();
    this.endIfOnlySpectators();
  }

  /**
   * An arena whose players are all gone (left, reconnection grace over, reservation lapsed) ends
   * even with spectators in it: they alone would keep it fighting and journaling NPC rounds.
   * They are disconnected with ARENA_ENDED_CLOSE_CODE (nothing to reconnect to), then it disposes.
   */
  private endIfOnlySpectators(): void {
    const { players, spectators } = this.seats();
    if (players > 0 || spectators === 0 || this.ending || this.handingOver || this.dropped) return;
    this.ending = true;
    this.deps.log.debug("arena ended: only spectators left", { room: this.roomId, spectators });
    this.disconnect(ARENA_ENDED_CLOSE_CODE).catch((err: unknown) => {
      this.deps.metrics.errors.inc("arena_end");
      this.deps.log.error("ending an arena left to its spectators failed", { room: this.roomId, ...errorFields(err) });
    });
  }

  /**
   * Keeps the listing current for GET /rooms, and the room locked exactly while its players are
   * at MAX_PLAYERS: an explicit lock, so a spectator leaving does not reopen a full arena.
   */
  private publishSeats(): void {
    const seats = this.seats();
    this.publishedSeats = JSON.stringify(seats);
    void this.setMetadata(seats);
    const full = seats.players >= this.deps.config.maxPlayers;
    // also when Colyseus already locked it at the reservation: that lock is not explicit
    if (full) void this.lock();
    else if (this.locked && !super.hasReachedMaxClients()) void this.unlock();
  }

  private isSpectator(client: Client): boolean {
    return (client.userData as { watcher?: string } | undefined)?.watcher !== undefined;
  }

  get ccu(): number {
    return this.clients.length;
  }

  /** The runtime Scope an entity owns (introspection for tests and tools). */
  scopeOf(id: string): Scope | undefined {
    return this.scopes.get(id);
  }

  // --- frames ------------------------------------------------------------------------------

  /**
   * Every client frame passes undecodableType before Colyseus decodes it (Room#_onMessage, which
   * Colyseus binds per client at join: an instance property shadows it). An undecodable frame is
   * counted, logged rate-limited, answered once with `bad_frame`, and after
   * MAX_UNDECODABLE_FRAMES its client is dropped; other clients never notice.
   */
  private screenFrames(): void {
    const room = this as unknown as { _onMessage(client: Client, frame: Uint8Array | undefined): void };
    const decode = room._onMessage;
    room._onMessage = (client, frame) => {
      const reason = frame === undefined ? null : undecodableType(frame);
      if (reason === null) return decode.call(this, client, frame);
      const n = (this.undecodable.get(client.sessionId) ?? 0) + 1;
      this.undecodable.set(client.sessionId, n);
      this.deps.metrics.errors.inc("undecodable_frame");
      if (n === 1) this.refuse(client, { code: "bad_frame", message: `undecodable frame: ${reason}` });
      this.deps.limitedLog("warn", "undecodable_frame", "undecodable client frame", {
        room: this.roomId,
        pid: this.pidOf(client),
        reason,
        frames: n,
      });
      if (n === MAX_UNDECODABLE_FRAMES) {
        this.deps.metrics.errors.inc("undecodable_drop");
        client.leave(CloseCode.WITH_ERROR, "too many undecodable frames");
      }
    };
  }

  // --- intents -----------------------------------------------------------------------------

  private onIntent(client: Client, raw: unknown): void {
    if (!this.withinBudget(client)) return;
    if (this.isSpectator(client)) return this.refuse(client, SPECTATOR_REFUSAL);
    const pid = this.pidOf(client);
    if (!pid) return;
    const parsed = parseIntent(raw);
    if (!parsed.ok) return this.refuse(client, parsed.error);
    const refusal = checkIntent(this.intentWorld, pid, parsed.value);
    if (refusal) return this.refuse(client, refusal);
    this.intents.put(pid, parsed.value);
    this.deps.metrics.intentsAccepted.inc();
  }

  /** Soft limit at half the hard one: the client is told, once per second, before being dropped. */
  private withinBudget(client: Client): boolean {
    const now = this.clock.currentTime;
    let b = this.intentBudget.get(client.sessionId);
    if (!b || now >= b.windowEnd) {
      b = { windowEnd: now + 1000, used: 0, warned: false };
      this.intentBudget.set(client.sessionId, b);
    }
    b.used++;
    if (b.used <= Math.max(1, Math.floor(this.deps.config.maxMessagesPerSecond / 2))) return true;
    if (!b.warned) {
      b.warned = true;
      this.refuse(client, { code: "rate_limited", message: "too many intents: at most one per round counts" });
    }
    return false;
  }

  private refuse(client: Client, error: ErrorMessage): void {
    this.deps.metrics.errors.inc(error.code);
    client.send(Msg.error, error);
  }

  private readonly intentWorld = {
    aliveOf: (id: string): boolean | undefined => this.state.entities.get(id)?.alive,
  };

  private readonly npcWorld = {
    livingIds: (): string[] => {
      const ids: string[] = [];
      for (const [id, e] of this.state.entities) if (e.alive) ids.push(id);
      return ids.sort(compareIds);
    },
    isAlive: (id: string): boolean => this.state.entities.get(id)?.alive === true,
    submit: (npcId: string, intent: Intent): boolean => {
      if (checkIntent(this.intentWorld, npcId, intent)) return false;
      this.intents.put(npcId, intent);
      return true;
    },
    nextRound: (): number => this.runner.upcoming,
    // called inside a tick, before tick() counts it: the current tick is number tickCount + 1
    ticksToCutOff: (): number => {
      const roundTicks = this.deps.config.roundTicks;
      return (roundTicks - ((this.tickCount + 1) % roundTicks)) % roundTicks;
    },
  };

  // --- rounds ------------------------------------------------------------------------------

  /**
   * Fixed timestep against the wall clock: a late interval (a busy event loop) runs the ticks it
   * missed, so rounds keep their period instead of stretching with the load. Beyond
   * MAX_CATCH_UP_TICKS the backlog is dropped and counted, not replayed in a burst.
   */
  private catchUp(): void {
    const periodMs = this.deps.tickClock.periodMs;
    let due = Math.floor((performance.now() - this.clockStart) / periodMs) - this.tickCount;
    if (due > MAX_CATCH_UP_TICKS) {
      this.deps.metrics.ticksDropped.inc(undefined, due - MAX_CATCH_UP_TICKS);
      this.clockStart += (due - MAX_CATCH_UP_TICKS) * periodMs;
      due = MAX_CATCH_UP_TICKS;
    }
    for (let i = 0; i < due; i++) this.tick();
  }

  private tick(): void {
    this.ticks.tick();
    this.tickCount++;
    if (this.tickCount % this.deps.config.roundTicks === 0) this.runner.start();
  }

  /**
   * The clock (NPC brains, combat rounds) starts with the room's first player, not at creation: a
   * room opened by a seat reservation nobody takes (a client minting guest tokens and calling
   * joinOrCreate) runs no round, fetches no stats and journals nothing before it is disposed.
   */
  private startClock(): void {
    if (this.clockStarted) return;
    this.clockStarted = true;
    // a restored room's tick count goes on from its last round: game time resumes from there,
    // on the process's next tick
    this.clockStart = this.deps.tickClock.alignedStart(this.tickCount);
  }

  /**
   * Every tick of the process's clock from creation on: Colyseus' room clock (its message-rate
   * windows read it), then the game clock once it started. An error is the room's, handled as
   * Colyseus handles one in a simulation interval (onUncaughtException); other rooms tick on.
   */
  private onTick(): void {
    try {
      this.clock.tick();
      if (this.clockStarted) this.catchUp();
    } catch (err) {
      this.onUncaughtException(new TimestepException(err as Error, "room tick"), "setTimestep");
    }
  }

  /** The round's cut-off: every entity, with the intent it queued (if any). */
  private cutOff(): PlannedEntity[] {
    const taken = this.intents.takeAll();
    const planned: PlannedEntity[] = [];
    for (const [id, e] of this.state.entities) {
      planned.push({ id, ...carriedState(e), intent: taken.get(id) ?? null });
    }
    return planned; // the round itself orders entities by id
  }

  /** Synchronous from first mutation to broadcast: no patch can go out half-applied. */
  private applyRound(round: number, outcome: RoundOutcome): void {
    const stale = new Set(outcome.stale);
    const absent = new Set(outcome.absent);
    for (const next of outcome.result.next) {
      const e = this.state.entities.get(next.id);
      if (!e) continue; // left while the round ran
      Object.assign(e, carriedState(next));
      e.defending = next.defending;
      e.stale = stale.has(next.id);
      e.absent = absent.has(next.id);
    }
    this.state.round = round;
    this.state.phase = "fighting";
    inOneWrite(this.clients, () => {
      this.broadcastPatch();
      this.broadcast(Msg.round, roundMessage(round, outcome));
    });
  }

  // --- entities ----------------------------------------------------------------------------

  /** `restored`: its state as the journal left it; by default fresh, at full hp. */
  private addEntity(id: string, name: string, kind: "player" | "npc", restored?: CarriedState): void {
    // Until its first round brings real stats, an entity has the stats the service derives for
    // an unknown id; resolveRound clamps hp to the fetched maxHp.
    const maxHp = deriveStats(id).maxHp;
    const e = new Entity();
    e.id = id;
    e.name = name;
    e.kind = kind;
    Object.assign(e, carriedState(restored ?? { hp: maxHp, maxHp, alive: true, respawnIn: 0, charge: 0 }));
    e.defending = false;
    e.stale = false;
    e.absent = false;
    // NPCs are always there; a player is disconnected only while its reconnection grace runs
    e.connected = true;
    this.state.entities.set(id, e);
    const onError = (err: unknown) => {
      this.deps.metrics.errors.inc("entity_coroutine");
      this.deps.log.error("entity coroutine failed", { room: this.roomId, id, ...errorFields(err) });
    };
    this.scopes.set(id, new Scope({ name: id, order: id, ticks: this.ticks, onError }));
  }

  private async removeEntity(id: string): Promise<void> {
    this.state.entities.delete(id);
    this.intents.drop(id);
    const scope = this.scopes.get(id);
    this.scopes.delete(id);
    // Scope.halt() never rejects: a coroutine that fails while halting is counted by the
    // scope's onError (entity_coroutine), like any other failure of the entity's coroutines.
    if (scope) await scope.halt();
  }

  private pidOf(client: Client): string | undefined {
    return (client.userData as { pid?: string } | undefined)?.pid;
  }
}

/**
 * The token check, run by the matchmaker (a static `onAuth`) before it finds or creates a room or
 * reserves a seat: a client without a valid token makes no room, seat or journal row. The token
 * comes in the join options (`{ token }`) or as the SDK's auth token (Authorization header).
 * Throws AUTH_FAILED with a message saying what is wrong; the claims become the seat's auth.
 */
async function admitPlayer(deps: ArenaDeps, headerToken: unknown, options: unknown): Promise<PlayerIdentity> {
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

/** A room class bound to one server's dependencies (the matchmaker instantiates it). */
export function arenaRoomClass(deps: ArenaDeps): typeof ArenaRoom {
  return class BoundArenaRoom extends ArenaRoom {
    deps = deps;
    // Colyseus 0.18 runs a static onAuth during matchmaking; an instance onAuth would only run
    // at the WebSocket connect, after the room was created and the seat reserved.
    static async onAuth(token: unknown, options: unknown): Promise<PlayerIdentity> {
      return admitPlayer(deps, token, options);
    }
  };
}
