/**
 * What a scenario (client-sim/scenarios/*.ts) can see and do. A scenario is the bot's behaviour:
 * it is told about every round result and decides what to send next. Copy a scenario file to make
 * a new behaviour and register it in scenarios/index.ts.
 */
import type { Action, RoundMessage } from "../shared/protocol.ts";
import type { Sfc32 } from "../shared/prng.ts";

export interface BotApi {
  /** this bot's entity id (== its playerId) */
  readonly id: string;
  /** seeded per bot: the same --seed gives the same choices */
  readonly rng: Sfc32;
  /** milliseconds between rounds as this bot sees them (moving average) */
  readonly roundIntervalMs: number;
  /** false from this bot's death until its respawn; `intent` is ignored meanwhile */
  readonly alive: boolean;
  /** ids of alive entities other than this bot, from the room state */
  targets(): string[];
  /** sends an intent with the next seq; its intent -> result latency is measured */
  intent(action: Action, target?: string): void;
  /** sends any message untracked (for robustness runs) */
  sendRaw(type: string | number, payload: unknown): void;
  /** runs `fn` after `ms` unless the bot drops or leaves first */
  after(ms: number, fn: () => void): void;
  /** closes the socket the way a network drop would; the bot then reconnects */
  drop(): void;
}

export interface Scenario {
  readonly description: string;
  /** server `error` messages are provoked on purpose: reported apart, not counted as errors */
  readonly provokesErrors: boolean;
  /** called for every round result this bot receives */
  onRound(bot: BotApi, round: RoundMessage): void;
}

/** Uniform in [lo, hi) of a round interval: how long the "player" thinks before acting. */
export function thinkMs(bot: BotApi, lo: number, hi: number): number {
  return (lo + ((hi - lo) * bot.rng.nextU32()) / 0x1_0000_0000) * bot.roundIntervalMs;
}

/** A seeded pick; undefined when there is nothing to pick. */
export function pick<T>(bot: BotApi, items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[bot.rng.nextInt(items.length)];
}
