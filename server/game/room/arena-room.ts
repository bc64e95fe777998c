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
import { Scope, TickScheduler } from "../../runtime/index.ts";
import { ArenaState } from "../../../shared/state.ts";
import { Msg, type Intent } from "../../../shared/protocol.ts";
import { carriedState, compareIds } from "../../../shared/combat.ts";
import type { PlayerIdentity } from "../auth/token-verifier.ts";
import { checkIntent, IntentQueue } from "./intent-queue.ts";
import { npcBrain } from "./npc-brain.ts";
import { RoundRunner } from "../round/round-runner.ts";
import { RoomSecret } from "../round/room-secret.ts";
import { inOneWrite } from "./one-write.ts";
import { roundMessage, type PlannedEntity, type RoundOutcome } from "../round/combat-round.ts";
import { errorFields } from "../../observability/log.ts";
import type { RestorePlan } from "./restore-plan.ts";
import { holdRestoredSeats, type RestoredSeats } from "./restored-seats.ts";
import type { MemberRecord } from "../journal/room-ledger.ts";
import type { ArenaDeps } from "./arena-deps.ts";
import { admitPlayer, readmitPlayer } from "./admit-player.ts";
import { ArenaSeats, isSpectator, isWatcher, pidOf, type SpectatorSeat, type WatcherClaims } from "./arena-seats.ts";
import { DurableRoomState } from "./durable-room-state.ts";
import { ClientInput } from "./client-input.ts";
import { ArenaEntities } from "./arena-entities.ts";
import { RoomOwnership } from "./room-ownership.ts";

/** An intent frame is ~60 bytes; anything near this is not a well-behaved client. */
export const MAX_PAYLOAD_BYTES = 1024;

/** Ticks one late interval may run to catch up with the wall clock (one round at the defaults). */
const MAX_CATCH_UP_TICKS = 10;

/** the longest delay a Node timer takes: a simulation interval that never fires */
const NEVER_MS = 2 ** 31 - 1;

export class ArenaRoom extends Room<{ state: ArenaState }> {
  /** set by the per-server subclass (see arenaRoomClass) */
  declare deps: ArenaDeps;

  /** seeds every roll and NPC decision; never leaves the server (round/room-secret.ts) */
  private secret!: RoomSecret;
  /** its nonce, members and last round: what a restore or an adoption needs (durable-room-state.ts) */
  private durable!: DurableRoomState;
  private ticks = new TickScheduler();
  private tickCount = 0;
  /** performance.now() at which tick 0 was due: game time follows the wall clock from here */
  private clockStart = 0;
  private clockStarted = false;
  /** leaves the process's tick clock (set from onCreate on) */
  private stopTicking = (): void => {};
  private readonly intents = new IntentQueue();
  /** each entity in the state, with the runtime Scope it owns (arena-entities.ts) */
  private entities!: ArenaEntities;
  private runner!: RoundRunner;
  /** intents, other messages and undecodable frames from clients (client-input.ts) */
  private input!: ClientInput;
  /** players and spectators against their limits; the listing and the lock (arena-seats.ts) */
  private seating!: ArenaSeats;
  /** the journal's players, held until they come back (a restored room only) */
  private restoredSeats: RestoredSeats | undefined;
  /** handing the room over, or dropping it when its lease is lost (room-ownership.ts) */
  private ownership!: RoomOwnership;

  async onCreate(): Promise<void> {
    const { config, metrics, log } = this.deps;
    // before maxClients: setting it asks hasReachedMaxClients
    this.seating = new ArenaSeats(this, {
      config,
      metrics,
      log,
      audience: this.deps.audience,
      rooms: this.deps.rooms,
      allSeatsTaken: () => super.hasReachedMaxClients(),
      stopping: () => this.ownership.handingOver || this.ownership.dropped,
    });
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
    this.openParts();
    const restore = this.deps.restoring.get(this.roomId);
    this.deps.restoring.delete(this.roomId);
    // a new room in a cluster is owned under a lease first (an adopted one was claimed before)
    if (!restore) await this.deps.durability?.opened(this.roomId);
    if (restore) this.restoreFrom(restore);
    else this.open();
    this.startBrains();

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
            this.durable.lastRecord = record;
            return this.ownership.checkpoint();
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

    this.input = new ClientInput(this as unknown as Room, {
      config,
      metrics,
      limitedLog: this.deps.limitedLog,
      intents: this.intents,
      world: this.intentWorld,
    });
    this.deps.rooms.add(this);
    this.stopTicking = this.deps.tickClock.subscribe(() => this.onTick());
    this.seating.startAudit();
    if (restore)
      this.restoredSeats = holdRestoredSeats(this as unknown as Room, this.deps, restore, (c) => this.onLeave(c));
    this.deps.journal?.rooms.refsUsed(this.roomId, this.durable.refsUsed());
    // an adopted room's first checkpoint under its new owner's lease
    if (this.deps.durability) await this.ownership.checkpoint();
    log.debug(restore ? "arena restored" : "arena created", { room: this.roomId, round: this.state.round });
  }

  /** The parts the room is made of that need its id, state and config (all but the seats). */
  private openParts(): void {
    const { config, metrics, log, durability } = this.deps;
    this.durable = new DurableRoomState(this.roomId, this.deps.journal, this.state);
    const stopRounds = (waitMs: number) => this.runner.stop(waitMs);
    this.ownership = new RoomOwnership(this, { config, durability, durable: this.durable, stopRounds });
    this.entities = new ArenaEntities({
      state: this.state,
      ticks: this.ticks,
      intents: this.intents,
      metrics,
      log,
      room: this,
    });
  }

  /** Each NPC thinks in its own coroutine, on the room's ticks (npc-brain.ts). */
  private startBrains(): void {
    for (const [id, e] of this.state.entities) {
      if (e.kind !== "npc") continue;
      this.entities
        .scopeOf(id)!
        .run(() => npcBrain(id, this.npcWorld, { seedOf: (npc, round) => this.secret.npcSeed(npc, round) }), {
          name: "brain",
        });
    }
  }

  /** A new room: a fresh nonce for its secret, its NPCs, both recorded in the journal. */
  private open(): void {
    const { config } = this.deps;
    this.durable.open();
    this.secret = RoomSecret.derive(this.deps.authSecret, this.roomId, this.durable.nonce);
    for (const { id, name } of this.entities.addNpcs(config.npcs))
      this.record({ event: "join", entity: id, name, kind: "npc", sessionId: null, credential: null });
  }

  /**
   * A room the journal says was live when its process stopped: the same secret, its entities as
   * the last committed round left them (plus later joins), the round counter going on from there.
   * The clock waits for the first player to come back; until then nothing is fought.
   */
  private restoreFrom(plan: RestorePlan): void {
    this.secret = RoomSecret.derive(this.deps.authSecret, this.roomId, plan.nonce);
    // its record in this journal, and schema refs above those a client of the old process holds
    this.durable.restore(plan);
    for (const e of plan.entities) this.entities.add(e.id, e.name, e.kind, e);
    for (const seat of plan.seats) this.state.entities.get(seat.pid)!.connected = false;
    this.state.round = plan.round;
    this.state.phase = plan.round > 0 ? "fighting" : "waiting";
    this.tickCount = plan.round * this.deps.config.roundTicks;
    // the replay's chain check: membership events of cut-offs that were never committed end here
    this.record({ event: "restore", entity: "", name: "", kind: "npc", sessionId: null, credential: null });
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

  /** The process is stopping: the room goes on in its successor (RoomOwnership.handOver). */
  handOver(): Promise<void> {
    return this.ownership.handOver();
  }

  /** Another process owns the room now: it stops acting at once (RoomOwnership.drop). */
  drop(): void {
    this.ownership.drop();
  }

  /** A membership event, in the journal's transaction of this turn, after the rounds cut off so far. */
  private record(m: Omit<MemberRecord, "afterRound">): void {
    this.durable.record(m, (this.runner?.upcoming ?? this.state.round + 1) - 1);
  }

  // --- joining -----------------------------------------------------------------------------

  async onJoin(client: Client, _options: unknown, auth: PlayerIdentity): Promise<void> {
    if (isWatcher(auth)) return this.seating.seatSpectator(client, auth);
    // onAuth's check and this claim are separated by an await: two joins with one token can race
    // (in a cluster, through two processes); the claim is atomic.
    if (!(await this.deps.players.claim(auth.pid, this.roomId))) {
      this.deps.metrics.authRejected.inc("already_in_arena");
      throw new ServerError(ErrorCode.AUTH_FAILED, `player ${auth.pid} is already in an arena`);
    }
    client.userData = { pid: auth.pid };
    this.deps.audience.add(this.roomId, auth.pid);
    this.entities.add(auth.pid, auth.name, "player");
    this.record({ event: "join", entity: auth.pid, name: auth.name, kind: "player", ...this.seatOf(client) });
    this.deps.journal?.rooms.refsUsed(this.roomId, this.durable.refsUsed());
    this.startClock();
    this.broadcastPatch();
    this.seating.publish();
    this.deps.log.debug("player joined", { room: this.roomId, pid: auth.pid });
    // the join is acknowledged only once the journal (and a cluster's checkpoint) holds it: a
    // restore or an adoption after a crash keeps the seat
    await this.durable.committed();
    if (!(await this.ownership.checkpoint()))
      throw new ServerError(ErrorCode.MATCHMAKE_UNHANDLED, "this arena moved to another process; join again");
  }

  /** What the journal keeps of a player's seat: its session, and what verifies its reconnection token. */
  private seatOf(client: Client): Pick<MemberRecord, "sessionId" | "credential"> {
    return { sessionId: client.sessionId, credential: this.deps.credentials.of(client.reconnectionToken) };
  }

  onDrop(client: Client, code?: number): void {
    if (this.ownership.handingOver) return;
    // a spectator has nothing to come back to: no grace, the seat is free
    if (isSpectator(client)) return this.onLeave(client);
    const pid = pidOf(client);
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

  /** The seat's token is checked again (readmitPlayer): throwing refuses the reconnection. */
  async onReconnect(client: Client): Promise<void> {
    await readmitPlayer(this.deps, client);
    const pid = pidOf(client);
    const entity = pid ? this.state.entities.get(pid) : undefined;
    if (!entity) return;
    entity.connected = true;
    // the new connection's reconnection token: journaled (and checkpointed) before the client gets it
    this.record({ event: "seat", entity: pid!, name: entity.name, kind: "player", ...this.seatOf(client) });
    // a restored room resumes with its first player back
    this.startClock();
    this.broadcastPatch();
    this.deps.log.debug("player reconnected", { room: this.roomId, pid });
    await this.durable.committed();
    await this.ownership.checkpoint();
  }

  onLeave(client: Client): void {
    this.input.forget(client.sessionId);
    if (this.ownership.handingOver) return;
    const pid = pidOf(client);
    if (!pid) return this.seating.publish();
    const e = this.state.entities.get(pid);
    if (e)
      this.record({ event: "leave", entity: pid, name: e.name, kind: "player", sessionId: null, credential: null });
    void this.entities.remove(pid);
    this.deps.players.release(pid, this.roomId);
    void this.ownership.checkpoint();
    this.broadcastPatch();
    this.seating.publish();
    this.seating.endIfOnlySpectators();
    this.deps.log.debug("player left", { room: this.roomId, pid });
  }

  async onDispose(): Promise<void> {
    this.stopTicking();
    this.seating?.close();
    const { config } = this.deps;
    await this.runner?.stop(config.roundDeadlineMs + 500);
    if (!this.ownership.handingOver) {
      // the match is over: it is never restored
      if (this.deps.journal && !this.deps.journal.isClosed) this.deps.journal.rooms.finished(this.roomId);
      this.deps.durability?.finished(this.roomId);
      for (const [id, entity] of this.state.entities)
        if (entity.kind === "player") this.deps.players.release(id, this.roomId);
    }
    await this.entities.removeAll();
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

  /** What Colyseus calls full: see ArenaSeats.full. */
  hasReachedMaxClients(): boolean {
    return this.seating.full();
  }

  /**
   * A spectator's seat, for the watch route (through matchMaker.remoteRoomCall, so the room may
   * live in any process; `auth` is the checked token's claims marked `watcher`).
   */
  reserveSpectatorSeat(sessionId: string, auth: WatcherClaims): Promise<SpectatorSeat> {
    return this.seating.reserveSpectator(sessionId, auth);
  }

  /** Spectator seats `pid` holds here, taken or reserved (counted over every room of the process). */
  spectatorSeatsOf(pid: string): number {
    return this.seating.spectatorSeatsOf(pid);
  }

  get ccu(): number {
    return this.clients.length;
  }

  /** The runtime Scope an entity owns (introspection for tests and tools). */
  scopeOf(id: string): Scope | undefined {
    return this.entities.scopeOf(id);
  }

  // --- what NPCs and intents see of the arena --------------------------------------------

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
