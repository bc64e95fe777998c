/**
 * The wire protocol between game clients and the arena room: message names, payload shapes and
 * the shape validation both sides share. The room adds the checks that need its state (target
 * exists, is alive, is not the sender).
 */
import { isValidStatsId } from "./stats.ts";

export const ROOM_NAME = "arena";

/**
 * The close code a spectator's connection gets when its arena ends (its last player left): there
 * is nothing to reconnect to. In Colyseus' range for applications (4000-4999, its own codes
 * elsewhere).
 */
export const ARENA_ENDED_CLOSE_CODE = 4100;

export const Msg = {
  /** client -> server: what this entity does next round */
  intent: "intent",
  /** server -> all clients: the resolved round, one message per round */
  round: "round",
  /** server -> one client: why its message was refused */
  error: "error",
} as const;

/**
 * What a client passes to join an arena: its signed token (POST /auth/guest). Spectators take
 * their seat through POST /watch instead (shared/lobby.ts).
 */
export interface JoinOptions {
  token: string;
}

export const ACTIONS = ["attack", "defend", "focus"] as const;
export type Action = (typeof ACTIONS)[number];

/**
 * attack: hit `target` this round. defend: halve damage taken this round.
 * focus: skip attacking to charge the next attack (+50% per charge, up to MAX_CHARGE).
 * `seq` is chosen by the client and echoed in the round that resolved the intent, so a client
 * can measure intent -> result latency.
 */
export type Intent =
  | { seq: number; action: "attack"; target: string }
  | { seq: number; action: "defend" }
  | { seq: number; action: "focus" };

export type ErrorCode =
  | "bad_intent"
  | "unknown_target"
  | "target_dead"
  | "self_target"
  | "dead"
  | "absent"
  | "unknown_type"
  | "bad_frame"
  | "rate_limited"
  | "spectator";

export interface ErrorMessage {
  code: ErrorCode;
  message: string;
}

export type RoundEvent =
  | { t: "attack"; by: string; target: string; damage: number; crit: boolean; hp: number }
  | { t: "defend"; by: string }
  | { t: "focus"; by: string; charge: number }
  | { t: "death"; by: string; killer: string }
  | { t: "respawn"; by: string; hp: number };

export interface RoundMessage {
  round: number;
  seed: number;
  events: RoundEvent[];
  /** [entity id, intent seq] of every intent this round consumed, sorted by entity id */
  intents: [string, number][];
  /** entities that fought with last-known-good stats because their fetch failed or was late */
  stale: string[];
  /** entities that sat the round out: no stats at all */
  absent: string[];
  /** how long the concurrent stats join took, in milliseconds */
  joinMs: number;
  /** fnv1a64 of the resolved result (see resolveRound) */
  hash: string;
}

const MAX_SEQ = 0xffff_ffff;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: ErrorMessage };

function bad(message: string): { ok: false; error: ErrorMessage } {
  return { ok: false, error: { code: "bad_intent", message } };
}

/**
 * Validates the shape of an `intent` payload. Unknown fields are refused rather than ignored so
 * that a client built against another protocol version fails loudly.
 */
export function parseIntent(raw: unknown): Parsed<Intent> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return bad("intent must be an object { seq, action, target? }");
  }
  const r = raw as Record<string, unknown>;
  const seq = r.seq;
  if (typeof seq !== "number" || !Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ) {
    return bad("intent.seq must be an integer in [0, 2^32)");
  }
  const action = r.action;
  if (typeof action !== "string" || !(ACTIONS as readonly string[]).includes(action)) {
    return bad(`intent.action must be one of ${ACTIONS.join(", ")}`);
  }
  for (const key of Object.keys(r)) {
    if (key !== "seq" && key !== "action" && !(action === "attack" && key === "target")) {
      return bad(`intent has an unknown field "${key.slice(0, 32)}"`);
    }
  }
  if (action === "attack") {
    const target = r.target;
    if (!isValidStatsId(target)) {
      return bad("intent.target must be an entity id (1-64 of A-Z a-z 0-9 _ -)");
    }
    return { ok: true, value: { seq, action, target } };
  }
  return { ok: true, value: { seq, action: action as "defend" | "focus" } };
}
