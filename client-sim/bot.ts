/**
 * One simulated player: guest auth, a seat in an arena (through the real @colyseus/sdk or the thin
 * client: seat.ts), one intent per round chosen by its scenario, reconnection when dropped, and a
 * clean leave at the end. Everything it sees goes into the shared Metrics. The per-message path is
 * kept small: no state callbacks, the view is only read when the scenario asks for targets.
 *
 * Its life is one coroutine on the project's runtime (`life()`, run in the fleet's Scope):
 * join -> play -> (seat lost: reconnect, or join again after a jittered backoff) -> ... and, when
 * halted, a consented leave bounded by `timeout()`. Where it is in that life is where the
 * coroutine is, not a set of flags; halting it aborts a join in flight (a seat that arrives late
 * is given back) and ends the session's scenario timers. The runtime is dependency-free (no Node
 * or game imports), so client-sim uses it like shared/ code; it never imports server/game or
 * server/stats.
 */
import { Backoff } from "../shared/backoff.ts";
import { call, sleep, timeout, TimeoutError, until, type Operation } from "../server/runtime/index.ts";
import { Msg, type Action, type ErrorMessage, type Intent, type RoundMessage } from "../shared/protocol.ts";
import { Sfc32 } from "../shared/prng.ts";
import type { Log } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import type { RoomPlan } from "./room-plan.ts";
import { digestOf } from "./round-digest.ts";
import { wellFormedRound } from "./round-message.ts";
import type { BotApi, Scenario } from "./scenario.ts";
import type { Seat, SeatSource, SeatSourceFor } from "./seat.ts";
import { slotTimer } from "./slot-timer.ts";
import type { SteadyState } from "./steady-state.ts";
import { StaleView } from "./stale-view.ts";

export interface BotConfig {
  index: number;
  httpUrl: string;
  /** the client kind's seats (seat.ts) */
  seats: SeatSourceFor;
  seed: number;
  scenario: Scenario;
  rooms: RoomPlan;
  metrics: Metrics;
  log: Log;
  /** the fleet's steady state: intents sent and rounds seen once it has begun count as steady */
  steady: SteadyState;
}

/** a pending intent older than this many rounds will never be resolved */
const LOST_AFTER_ROUNDS = 3;
const JOIN_TIMEOUT_MS = 15_000;
const LEAVE_TIMEOUT_MS = 3_000;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 4_000;
/**
 * How long a dropped bot keeps reconnecting to a server it cannot reach before it joins as a new
 * player: a game process that crashed or is being redeployed comes back with the match restored
 * and the seat held for its grace (RECONNECT_GRACE_S), as a game client would keep trying.
 */
const RECONNECT_PATIENCE_MS = 30_000;
/** failures that say the server was not there, not that it refused the seat */
const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "TimeoutError"]);
/** the close reason of a drop the scenario asked for: that drop (and a leave after it) is expected */
const DROP_REASON = "client-sim drop";

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
  private readonly seats: SeatSource;
  private token = "";
  /** the seat being played (connected or reconnecting), with its scenario timers */
  private room: Seat | null = null;
  /** counts seats played: a scenario timer (`after`) of an earlier seat does nothing */
  private sessions = 0;
  /** performance.now() of the join or reconnect whose WebSocket has not opened yet */
  private connectingSince: number | null = null;
  private seq = 0;
  /** seq -> [sent at (performance.now), round current when sent, sent in the steady state] */
  private readonly pending = new Map<number, [number, number, boolean]>();
  private lastRound = -1;
  private lastRoundAt = 0;
  /** true once a round was seen since (re)joining: the first one only sets the clock */
  private warm = false;
  /** entities that died in the latest round: the SDK's state patch may not have caught up yet */
  private died: ReadonlySet<string> = new Set();
  /** tells refusals earned by acting on a one-round-old view from real errors */
  private readonly staleView = new StaleView();
  private roundsSeen = 0;
  private resultsSeen = 0;

  constructor(cfg: BotConfig) {
    this.cfg = cfg;
    this.rng = new Sfc32(botSeed(cfg.seed, cfg.index));
    const { metrics } = cfg;
    this.seats = cfg.seats({
      opened: () => {
        if (this.connectingSince !== null) metrics.record("connect", performance.now() - this.connectingSince);
        this.connectingSince = null;
      },
      received: (bytes) => {
        metrics.counters.messages++;
        metrics.counters.bytes += bytes;
      },
    });
  }

  /**
   * The bot's whole life; run it in a Scope and halt it to stop the bot.
   * Cancellation: halting it gives back a seat being taken, ends the session, and leaves the
   * room (consented, within LEAVE_TIMEOUT_MS, then the socket is closed). Never throws: every
   * failure is counted in the metrics and followed by a retry.
   */
  *life(): Operation<void> {
    this.cfg.metrics.count("botsStarted");
    const backoff = new Backoff({ minMs: RETRY_MIN_MS, maxMs: RETRY_MAX_MS });
    let seat: Seat | null = null;
    let reconnectionToken: string | null = null;
    let droppedAt = 0;
    let seats = 0;
    try {
      for (;;) {
        const taken: Seat | string = yield* this.takeSeat(reconnectionToken);
        if (typeof taken === "string") {
          const patient = performance.now() - droppedAt < RECONNECT_PATIENCE_MS;
          // an unreachable server is retried with the same token (its process is coming back);
          // a failed join backs off (bots refused together spread out); a refused reconnect
          // joins again at once, as a new player: the old seat is held until its grace ends
          if (reconnectionToken !== null && UNREACHABLE.has(taken) && patient) {
            yield* sleep(backoff.next());
            continue;
          }
          if (reconnectionToken === null) yield* sleep(backoff.next());
          reconnectionToken = null;
          continue;
        }
        seat = taken;
        backoff.reset();
        reconnectionToken = yield* this.play(taken, seats++ === 0);
        droppedAt = performance.now();
        seat = null;
      }
    } finally {
      if (seat !== null) yield* this.leave(seat);
    }
  }

  /** Leaves the room (consented), bounded by LEAVE_TIMEOUT_MS; a seat not connected is closed. */
  private *leave(seat: Seat): Operation<void> {
    const { metrics } = this.cfg;
    if (!seat.isOpen) {
      seat.close();
      return;
    }
    try {
      yield* timeout(
        LEAVE_TIMEOUT_MS,
        call("leave", () => seat.leave()),
      );
      metrics.count("left");
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      metrics.error("leave:timeout");
      seat.close();
    }
  }

  // ---- BotApi (what scenarios use) ----

  /** In a room with an open socket (not dropped, not reconnecting, not gone). */
  private get connected(): boolean {
    return this.room !== null && this.room.isOpen;
  }

  targets(): string[] {
    const out: string[] = [];
    for (const id of this.room?.living() ?? []) if (id !== this.id && !this.died.has(id)) out.push(id);
    return out;
  }

  intent(action: Action, target?: string): void {
    // a dead player cannot act until it respawns (the server would answer "dead")
    if (!this.connected || !this.alive) return;
    const seq = ++this.seq;
    const msg: Intent = action === "attack" ? { seq, action, target: target ?? "" } : { seq, action };
    this.pending.set(seq, [performance.now(), this.lastRound, this.cfg.steady.begun]);
    this.staleView.chose(this.id, this.lastRound, msg, this.inView);
    this.cfg.metrics.counters.intentsSent++;
    this.room!.send(Msg.intent, msg);
  }

  sendRaw(type: string | number, payload: unknown): void {
    if (!this.connected) return;
    this.cfg.metrics.count("garbageSent");
    this.room!.send(type, payload);
  }

  // On the process's shared slot timer, not a coroutine or a timer of its own: one per bot and
  // round is the hot path (bench:loadgen).
  after(ms: number, fn: () => void): void {
    if (this.room === null) return;
    const session = this.sessions;
    slotTimer.after(ms, () => {
      if (this.sessions !== session || !this.connected) return;
      try {
        fn();
      } catch (err) {
        this.cfg.metrics.error("scenario:exception");
        this.cfg.log("scenario_exception", { bot: this.cfg.index, error: String(err) });
      }
    });
  }

  drop(): void {
    if (!this.connected) return;
    this.room!.drop(DROP_REASON);
  }

  // ---- lifecycle ----

  /**
   * One join (no token) or reconnect attempt, bounded by JOIN_TIMEOUT_MS: the seat, or the
   * failure's kind after counting it. A failed attempt drops the identity: a refused token (expired, a
   * server restarted with another secret) needs a new one, and after a failed reconnect only a
   * new identity can join while the old seat is held.
   */
  private *takeSeat(reconnectionToken: string | null): Operation<Seat | string> {
    const { metrics, log } = this.cfg;
    const what = reconnectionToken === null ? "join" : "reconnect";
    metrics.count("joinAttempts");
    try {
      if (reconnectionToken === null && this.token === "")
        yield* timeout(
          JOIN_TIMEOUT_MS,
          call("auth", (signal) => this.auth(signal)),
        );
      const started = performance.now();
      this.connectingSince = started;
      const request = (signal: AbortSignal) =>
        reconnectionToken === null
          ? this.cfg.rooms.join(this.seats, this.token, this.cfg.index, signal)
          : this.seats.reconnect(reconnectionToken, signal);
      const room = yield* timeout(
        JOIN_TIMEOUT_MS,
        call(what, (signal) => givenBackIfLate(request(signal), signal)),
      );
      metrics.record("join", performance.now() - started);
      return room;
    } catch (err) {
      const kind = errorKind(err);
      metrics.error(`${what}:${kind}`);
      log(`${what}_failed`, { bot: this.cfg.index, kind, error: String((err as Error)?.message ?? err) });
      this.token = "";
      return kind;
    } finally {
      this.connectingSince = null;
    }
  }

  private async auth(signal: AbortSignal): Promise<void> {
    const started = performance.now();
    const res = await fetch(`${this.cfg.httpUrl}/auth/guest`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: `bot-${this.cfg.index}` }),
      signal,
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

  /**
   * Plays a seat until it is given up (the server closed it, or a drop nobody recovered from: the
   * thin client never reconnects by itself, the SDK retries a few times); returns its
   * reconnection token. The seat's handlers and the session's scenario timers end with it,
   * however it ends.
   */
  private *play(seat: Seat, first: boolean): Operation<string> {
    const { metrics } = this.cfg;
    this.room = seat;
    this.warm = false;
    this.lastRound = -1;
    // a new session: intents queued in the old one will never be listed in this room's rounds
    metrics.count("intentsAbandoned", this.pending.size);
    this.pending.clear();
    metrics.connected++;
    metrics.count(first ? "joins" : "rejoins");

    let up = true; // counted in metrics.connected
    let dropExpected = false;
    let stop = () => {};
    const ended = new Promise<number>((resolve) => {
      stop = seat.listen({
        round: (msg) => this.onRound(seat, msg),
        error: (err) => this.onServerError(err),
        unexpected: (type) => metrics.error(`message:${String(type)}`, true),
        roomError: (code, message) => {
          // a WebSocket-level error has no Colyseus code
          metrics.error(`room_error:${code ?? "ws"}`);
          this.cfg.log("room_error", { bot: this.cfg.index, code, message });
        },
        dropped: (code, reason) => {
          if (up) metrics.connected--;
          up = false;
          dropExpected = reason === DROP_REASON;
          metrics.count("drops");
          metrics.error(`drop:${code}`, dropExpected);
        },
        reconnected: () => {
          up = true;
          this.warm = false;
          metrics.connected++;
          metrics.count("reconnects");
        },
        ended: resolve,
      });
    });
    try {
      const code = yield* until(ended);
      // dropped and the seat gave up (the SDK needs 5 s of uptime to try), or the server closed
      // the socket: the seat is kept for the reconnection grace, so reclaim it
      metrics.error(`left:${code}`, dropExpected);
      return seat.reconnectionToken;
    } finally {
      if (up) metrics.connected--;
      stop();
      this.room = null;
      this.sessions++;
    }
  }

  private readonly inView = (id: string): boolean => this.room?.inView(id) === true;

  private onServerError(err: ErrorMessage): void {
    const provoked = this.cfg.scenario.provokesErrors;
    // a refusal the bot's one-round-old view explains is expected under load, reported apart
    const lag = !provoked && this.staleView.explains(err, this.inView);
    this.cfg.metrics.error(`${lag ? "lag" : "server"}:${err?.code}`, provoked || lag);
    this.cfg.log("server_error", { bot: this.cfg.index, code: err?.code, message: err?.message });
    if (provoked) return;
    // the refusal answers the intent just sent: it will never appear in a round
    this.pending.delete(this.seq);
    const target = this.staleView.target;
    if (err?.code === "unknown_target" && target !== null) this.room?.targetRefused(target);
  }

  private onRound(seat: Seat, msg: RoundMessage): void {
    const now = performance.now();
    const { metrics } = this.cfg;
    if (!wellFormedRound(msg)) {
      metrics.error("protocol:bad_round");
      return;
    }
    metrics.counters.roundsReceived++;
    if (++this.roundsSeen === 1) metrics.count("botsWithRounds");
    metrics.roundSeen(seat.key, msg.round, this.cfg.steady.begun);
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
    this.staleView.saw(msg);

    const digest = digestOf(msg);
    if (this.pending.size > 0) this.resolveIntents(msg.round, digest.seqOf.get(this.id), now);
    // the round's events are fresher than the SDK's state patch, which may arrive after the
    // message; a respawn comes before the blows of its round, so a death in it wins
    this.died = digest.deaths;
    this.alive = digest.deaths.has(this.id) ? false : digest.respawns.has(this.id) || (seat.aliveOf(this.id) ?? true);
    if (this.warm) this.cfg.scenario.onRound(this, msg);
  }

  /** `seq`: this bot's intent the round `round` consumed, if any */
  private resolveIntents(round: number, seq: number | undefined, now: number): void {
    const { metrics } = this.cfg;
    const sent = seq === undefined ? undefined : this.pending.get(seq);
    if (sent !== undefined) {
      metrics.record("latency", now - sent[0]);
      if (sent[2]) metrics.record("steady", now - sent[0]);
      metrics.counters.intentsResolved++;
      if (++this.resultsSeen === 1) metrics.count("botsWithResults");
      this.pending.delete(seq!);
      // older intents were replaced by this one before the round's cut-off
      for (const s of this.pending.keys()) {
        if (s < seq!) {
          this.pending.delete(s);
          metrics.count("intentsSuperseded");
        }
      }
    }
    for (const [s, [, sentIn]] of this.pending) {
      if (round - sentIn > LOST_AFTER_ROUNDS) {
        this.pending.delete(s);
        metrics.count("intentsLost");
        metrics.error("intent:lost");
      }
    }
  }
}

/**
 * The seat `request` gives, unless `signal` (the call's: aborted when the bot is halted or the
 * join timed out) was aborted first: a seat that arrives then is given back, not leaked.
 */
function givenBackIfLate(request: Promise<Seat>, signal: AbortSignal): Promise<Seat> {
  return request.then((seat) => {
    if (!signal.aborted) return seat;
    void seat.leave();
    throw new Error("seat arrived after the join was abandoned");
  });
}
