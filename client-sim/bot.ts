/**
 * One simulated player: guest auth, a seat in an arena through the real @colyseus/sdk, one
 * intent per round chosen by its scenario, reconnection when dropped, and a clean leave at the end.
 * Everything it sees goes into the shared Metrics. The per-message path is kept small: no state
 * callbacks, the state is only read when the scenario asks for targets.
 */
import { Client, CloseCode, type Room } from "@colyseus/sdk";
import { Msg, type Action, type ErrorMessage, type Intent, type RoundMessage } from "../shared/protocol.ts";
import { Sfc32 } from "../shared/prng.ts";
import { ArenaState } from "../shared/state.ts";
import type { Log } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import type { ArenaRoom, RoomPlan } from "./room-plan.ts";
import type { BotApi, Scenario } from "./scenario.ts";

export interface BotConfig {
  index: number;
  httpUrl: string;
  wsUrl: string;
  seed: number;
  scenario: Scenario;
  rooms: RoomPlan;
  metrics: Metrics;
  log: Log;
  /** epoch ms when the ramp is over: intents sent from then on also count as steady state */
  steadyAt: number;
}

/** a pending intent older than this many rounds will never be resolved */
const LOST_AFTER_ROUNDS = 3;
const JOIN_TIMEOUT_MS = 15_000;
const LEAVE_TIMEOUT_MS = 3_000;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 4_000;

/** A Client that lets the bot see each room's connection: WebSocket open time, frames, bytes. */
class InstrumentedClient extends Client {
  onConnection: ((room: Room) => void) | undefined;

  protected override createRoom<T>(roomName: string, rootSchema?: new (...args: any[]) => T): Room<any, T> {
    const room = super.createRoom<T>(roomName, rootSchema);
    const connect = room.connect.bind(room);
    room.connect = (endpoint: string, options?: any, headers?: any) => {
      connect(endpoint, options, headers);
      this.onConnection?.(room as Room);
    };
    return room;
  }
}

/** Derives bot i's seed from the run seed so choices do not depend on how bots are split. */
function botSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
}

function errorKind(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown }; name?: string; message?: string };
  // DOMExceptions (fetch aborted by its timeout) carry legacy numeric codes: the name says more
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return e.name;
  if (typeof e?.cause?.code === "string") return e.cause.code;
  if (typeof e?.code === "number" || typeof e?.code === "string") return String(e.code);
  return e?.name ?? "unknown";
}

export class Bot implements BotApi {
  id = "";
  readonly rng: Sfc32;
  roundIntervalMs = 500;
  alive = true;

  private readonly cfg: BotConfig;
  private readonly client: InstrumentedClient;
  private token = "";
  private room: ArenaRoom | null = null;
  private inRoom = false;
  private stopping = false;
  /** the bot closed its own socket (scenario drop): the disconnect is expected */
  private selfDropped = false;
  private joinedBefore = false;
  private joinStartedAt = 0;
  /** the next WebSocket open belongs to a join (not an SDK reconnect): time it */
  private awaitingOpen = false;
  private seq = 0;
  /** seq -> [sent at (performance.now), round current when sent, sent in the steady state] */
  private readonly pending = new Map<number, [number, number, boolean]>();
  private lastRound = -1;
  private lastRoundAt = 0;
  /** true once a round was seen since (re)joining: the first one only sets the clock */
  private warm = false;
  /** entities that died in the latest round: the state patch may not have caught up yet */
  private died = new Set<string>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retries = 0;
  private gotRound = false;
  private gotResult = false;

  constructor(cfg: BotConfig) {
    this.cfg = cfg;
    this.rng = new Sfc32(botSeed(cfg.seed, cfg.index));
    this.client = new InstrumentedClient(cfg.wsUrl);
    this.client.onConnection = (room) => this.instrument(room);
  }

  start(): void {
    this.cfg.metrics.count("botsStarted");
    void this.join();
  }

  /** Leaves the room (consented) and stops every timer; resolves when the socket is closed. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.clearTimers();
    clearTimeout(this.retryTimer);
    const room = this.room;
    if (room === null) return;
    if (!this.inRoom) {
      room.reconnection.enabled = false;
      room.connection?.close();
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closed = await Promise.race([
      room.leave(true).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), LEAVE_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (!closed) {
      this.cfg.metrics.error("leave:timeout");
      room.connection.close();
    }
  }

  // ---- BotApi (what scenarios use) ----

  targets(): string[] {
    const out: string[] = [];
    const state = this.room?.state;
    if (!state?.entities) return out;
    state.entities.forEach((e, id) => {
      if (e.alive && id !== this.id && !this.died.has(id)) out.push(id);
    });
    return out;
  }

  intent(action: Action, target?: string): void {
    // a dead player cannot act until it respawns (the server would answer "dead")
    if (!this.inRoom || this.room === null || !this.alive) return;
    const seq = ++this.seq;
    const msg: Intent = action === "attack" ? { seq, action, target: target ?? "" } : { seq, action };
    this.pending.set(seq, [performance.now(), this.lastRound, Date.now() >= this.cfg.steadyAt]);
    this.cfg.metrics.count("intentsSent");
    this.room.send(Msg.intent, msg);
  }

  sendRaw(type: string | number, payload: unknown): void {
    if (!this.inRoom || this.room === null) return;
    this.cfg.metrics.count("garbageSent");
    this.room.send(type as string, payload);
  }

  after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.inRoom || this.stopping) return;
      try {
        fn();
      } catch (err) {
        this.cfg.metrics.error("scenario:exception");
        this.cfg.log("scenario_exception", { bot: this.cfg.index, error: String(err) });
      }
    }, ms);
    this.timers.add(timer);
  }

  drop(): void {
    if (!this.inRoom || this.room === null) return;
    this.selfDropped = true;
    this.room.connection.close(CloseCode.MAY_TRY_RECONNECT, "client-sim drop");
  }

  // ---- lifecycle ----

  private join(): Promise<void> {
    return this.takeSeat("join", () => this.cfg.rooms.join(this.client, this.token, this.cfg.index));
  }

  /** Takes the seat back with the reconnection token; a fresh join as a new player otherwise. */
  private reconnect(reconnectionToken: string): Promise<void> {
    return this.takeSeat("reconnect", () => this.client.reconnect<ArenaState>(reconnectionToken, ArenaState));
  }

  /** One join or reconnect attempt, timed; a failure is counted and followed by a (re)join. */
  private async takeSeat(what: "join" | "reconnect", request: () => Promise<ArenaRoom>): Promise<void> {
    const { metrics, log } = this.cfg;
    if (this.stopping) return;
    metrics.count("joinAttempts");
    try {
      if (what === "join" && this.token === "") await this.auth();
      this.joinStartedAt = performance.now();
      this.awaitingOpen = true;
      const room = await this.withTimeout(request());
      if (this.stopping) {
        await room.leave(true);
        return;
      }
      metrics.record("join", performance.now() - this.joinStartedAt);
      this.onJoined(room);
    } catch (err) {
      const kind = errorKind(err);
      metrics.error(`${what}:${kind}`);
      log(`${what}_failed`, { bot: this.cfg.index, kind, error: String((err as Error)?.message ?? err) });
      // a refused token (expired, server restarted with another secret) needs a new identity, and
      // after a failed reconnect the old seat is held until its grace ends: only a new identity can join
      this.token = "";
      if (what === "join") this.retryJoin();
      else void this.join();
    }
  }

  private retryJoin(): void {
    if (this.stopping) return;
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** this.retries++);
    this.retryTimer = setTimeout(() => void this.join(), delay);
  }

  private withTimeout(p: Promise<ArenaRoom>): Promise<ArenaRoom> {
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        reject(Object.assign(new Error("join timed out"), { code: "timeout" }));
      }, JOIN_TIMEOUT_MS);
      p.then(
        (room) => {
          clearTimeout(timer);
          // a seat that arrives after the timeout is given back instead of leaking a socket
          if (timedOut) void room.leave(true);
          else resolve(room);
        },
        (err) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  private async auth(): Promise<void> {
    const started = performance.now();
    const res = await fetch(`${this.cfg.httpUrl}/auth/guest`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: `bot-${this.cfg.index}` }),
      signal: AbortSignal.timeout(JOIN_TIMEOUT_MS),
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw Object.assign(new Error(`POST /auth/guest: HTTP ${res.status}`), { code: `auth_http_${res.status}` });
    }
    const body = (await res.json()) as { playerId?: unknown; token?: unknown };
    if (typeof body.playerId !== "string" || typeof body.token !== "string") {
      throw Object.assign(new Error("POST /auth/guest: no playerId/token in the answer"), { code: "auth_bad_answer" });
    }
    this.cfg.metrics.record("auth", performance.now() - started);
    this.id = body.playerId;
    this.token = body.token;
  }

  private instrument(room: Room): void {
    const { metrics } = this.cfg;
    const events = room.connection.events;
    const onmessage = events.onmessage;
    events.onmessage = (ev: MessageEvent) => {
      metrics.counters.messages++;
      metrics.counters.bytes += (ev.data as ArrayBuffer).byteLength;
      onmessage?.(ev);
    };
    const onopen = events.onopen;
    events.onopen = (ev: Event) => {
      if (this.awaitingOpen) metrics.record("connect", performance.now() - this.joinStartedAt);
      this.awaitingOpen = false;
      onopen?.(ev);
    };
  }

  private onJoined(room: ArenaRoom): void {
    const { metrics } = this.cfg;
    this.room = room;
    this.inRoom = true;
    this.retries = 0;
    this.warm = false;
    this.lastRound = -1;
    this.selfDropped = false;
    // a new session: intents queued in the old one will never be listed in this room's rounds
    metrics.count("intentsAbandoned", this.pending.size);
    this.pending.clear();
    metrics.connected++;
    metrics.count(this.joinedBefore ? "rejoins" : "joins");
    this.joinedBefore = true;
    room.reconnection.maxRetries = 4;
    room.reconnection.maxDelay = 2_000;

    room.onMessage(Msg.round, (msg: RoundMessage) => this.onRound(room, msg));
    room.onMessage(Msg.error, (err: ErrorMessage) => this.onServerError(err));
    room.onMessage("*", (type: string | number) => metrics.error(`message:${String(type)}`, true));
    room.onError((code: number | undefined, message?: string) => {
      // a WebSocket-level error has no Colyseus code
      metrics.error(`room_error:${code ?? "ws"}`);
      this.cfg.log("room_error", { bot: this.cfg.index, code, message });
    });
    room.onDrop((code: number) => {
      this.leaveRoomState();
      metrics.count("drops");
      metrics.error(`drop:${code}`, this.selfDropped || this.stopping);
    });
    room.onReconnect(() => {
      this.inRoom = true;
      this.warm = false;
      this.selfDropped = false;
      metrics.connected++;
      metrics.count("reconnects");
    });
    room.onLeave((code: number) => {
      this.leaveRoomState();
      if (this.stopping) {
        metrics.count("left");
        return;
      }
      // dropped and the SDK gave up (or never tried: it needs 5 s of uptime), or the server
      // closed the socket: the seat is kept for the reconnection grace, so reclaim it
      metrics.error(`left:${code}`, this.selfDropped);
      this.room = null;
      void this.reconnect(room.reconnectionToken);
    });
  }

  private leaveRoomState(): void {
    if (this.inRoom) this.cfg.metrics.connected--;
    this.inRoom = false;
    this.clearTimers();
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private onServerError(err: ErrorMessage): void {
    const expected = this.cfg.scenario.provokesErrors;
    this.cfg.metrics.error(`server:${err?.code}`, expected);
    this.cfg.log("server_error", { bot: this.cfg.index, code: err?.code, message: err?.message });
    // the refusal answers the intent just sent: it will never appear in a round
    if (!expected) this.pending.delete(this.seq);
  }

  private onRound(room: ArenaRoom, msg: RoundMessage): void {
    const now = performance.now();
    const { metrics } = this.cfg;
    if (typeof msg?.round !== "number" || !Array.isArray(msg.intents) || !Array.isArray(msg.events)) {
      metrics.error("protocol:bad_round");
      return;
    }
    metrics.counters.roundsReceived++;
    if (!this.gotRound) {
      this.gotRound = true;
      metrics.count("botsWithRounds");
    }
    metrics.roundSeen(room.roomId, msg.round, Date.now() >= this.cfg.steadyAt);
    if (this.lastRound >= 0) {
      if (msg.round === this.lastRound + 1) {
        const dt = now - this.lastRoundAt;
        metrics.record("interval", dt);
        this.roundIntervalMs = this.warm ? this.roundIntervalMs * 0.8 + dt * 0.2 : dt;
        this.warm = true;
      } else if (msg.round > this.lastRound + 1) {
        metrics.count("roundsMissed", msg.round - this.lastRound - 1);
      }
    }
    this.lastRound = msg.round;
    this.lastRoundAt = now;

    if (this.pending.size > 0) this.resolveIntents(msg, now);
    this.died.clear();
    // the round's events are fresher than the state patch, which may arrive after the message
    let alive = this.room?.state?.entities?.get(this.id)?.alive ?? true;
    for (const e of msg.events) {
      if (e.t === "death") {
        this.died.add(e.by);
        if (e.by === this.id) alive = false;
      } else if (e.t === "respawn" && e.by === this.id) {
        alive = true;
      }
    }
    this.alive = alive;
    if (this.warm) this.cfg.scenario.onRound(this, msg);
  }

  private resolveIntents(msg: RoundMessage, now: number): void {
    const { metrics } = this.cfg;
    for (const [id, seq] of msg.intents) {
      if (id !== this.id) continue;
      const sent = this.pending.get(seq);
      if (sent !== undefined) {
        metrics.record("latency", now - sent[0]);
        if (sent[2]) metrics.record("steady", now - sent[0]);
        metrics.count("intentsResolved");
        if (!this.gotResult) {
          this.gotResult = true;
          metrics.count("botsWithResults");
        }
        this.pending.delete(seq);
        // older intents were replaced by this one before the round's cut-off
        for (const s of this.pending.keys()) {
          if (s < seq) {
            this.pending.delete(s);
            metrics.count("intentsSuperseded");
          }
        }
      }
      break;
    }
    for (const [s, [, round]] of this.pending) {
      if (msg.round - round > LOST_AFTER_ROUNDS) {
        this.pending.delete(s);
        metrics.count("intentsLost");
        metrics.error("intent:lost");
      }
    }
  }
}
