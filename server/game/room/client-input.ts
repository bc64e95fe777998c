/**
 * What an arena's clients send: an intent is budgeted (intent-budget.ts), refused to spectators,
 * parsed, checked against the arena and queued for the next round; any other message type is
 * refused; a frame Colyseus cannot decode is screened out first (frame-screen.ts). Every refusal
 * is counted and answered with an `error` message.
 */
import type { Client, Room } from "@colyseus/core";
import { Msg, parseIntent, type ErrorMessage } from "../../../shared/protocol.ts";
import type { LimitedLog } from "../../observability/log-limiter.ts";
import type { GameConfig } from "../config.ts";
import type { GameMetrics } from "../metrics.ts";
import { isSpectator, pidOf } from "./arena-seats.ts";
import { FrameScreen } from "./frame-screen.ts";
import { IntentBudget } from "./intent-budget.ts";
import { checkIntent, type IntentQueue, type IntentWorld } from "./intent-queue.ts";

const SPECTATOR_REFUSAL: ErrorMessage = {
  code: "spectator",
  message: "spectators cannot act: open the page without ?watch= to play",
};

export interface InputDeps {
  config: GameConfig;
  metrics: GameMetrics;
  limitedLog: LimitedLog;
  intents: IntentQueue;
  world: IntentWorld;
}

export class ClientInput {
  private readonly deps: InputDeps;
  /** per-client soft limit on intents, to answer `rate_limited` before the hard drop */
  private readonly budget: IntentBudget;
  private readonly frames: FrameScreen;

  /** Takes `room`'s client messages from here on. */
  constructor(room: Room, deps: InputDeps) {
    this.deps = deps;
    this.budget = new IntentBudget(deps.config.maxMessagesPerSecond, () => room.clock.currentTime);
    const refuse = (client: Client, error: ErrorMessage) => this.refuse(client, error);
    this.frames = new FrameScreen(room, { metrics: deps.metrics, limitedLog: deps.limitedLog, refuse });
    room.onMessage(Msg.intent, (client, raw) => this.onIntent(client, raw));
    room.onMessage("*", (client, type) => {
      this.refuse(client, {
        code: "unknown_type",
        message: `unknown message type ${JSON.stringify(String(type)).slice(0, 40)}`,
      });
    });
  }

  /** the client left: its budget and frame count go */
  forget(sessionId: string): void {
    this.budget.forget(sessionId);
    this.frames.forget(sessionId);
  }

  private onIntent(client: Client, raw: unknown): void {
    if (!this.withinBudget(client)) return;
    if (isSpectator(client)) return this.refuse(client, SPECTATOR_REFUSAL);
    const pid = pidOf(client);
    if (!pid) return;
    const parsed = parseIntent(raw);
    if (!parsed.ok) return this.refuse(client, parsed.error);
    const refusal = checkIntent(this.deps.world, pid, parsed.value);
    if (refusal) return this.refuse(client, refusal);
    this.deps.intents.put(pid, parsed.value);
    this.deps.metrics.intentsAccepted.inc();
  }

  /** Past the soft limit the client is told, once per second, before being dropped. */
  private withinBudget(client: Client): boolean {
    const spent = this.budget.spend(client.sessionId);
    if (spent === "over_first")
      this.refuse(client, { code: "rate_limited", message: "too many intents: at most one per round counts" });
    return spent === "within";
  }

  private refuse(client: Client, error: ErrorMessage): void {
    this.deps.metrics.errors.inc(error.code);
    client.send(Msg.error, error);
  }
}
