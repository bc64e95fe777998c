/**
 * One combat round as a runtime coroutine: one child per living entity, spawned in entity-id
 * order, each fetching its stats through a journaled `call`, all concurrently; the join is
 * `allSettled` bounded by the round deadline; each entity left without stats looks up its
 * last-known-good stats through a journaled `call` too; then the pure `resolveRound`.
 *
 * The same coroutine runs live (real stats client) and in replay (the runtime answers each
 * `call` from the journal), so a replay proves the round, not a re-implementation of it.
 */
import { allSettled, call, timeout, TimeoutError, type Operation, type Settled } from "../../runtime/index.ts";
import {
  carriedState,
  compareIds,
  resolveRound,
  type Combatant,
  type RoundInput,
  type RoundResult,
} from "../../../shared/combat.ts";
import type { RoundMessage } from "../../../shared/protocol.ts";
import type { PlayerStats } from "../../../shared/stats.ts";

/** An entity as the round found it at its cut-off (stats not yet known). */
export type PlannedEntity = Omit<Combatant, "stats" | "stale">;

export interface RoundPlan {
  /** the round's seed (round/room-secret.ts) */
  seed: number;
  round: number;
  entities: PlannedEntity[];
  deadlineMs: number;
}

/**
 * What the round journal keeps of a plan (its deadline has a column of its own). With the call
 * journal (fetched stats, last-known-good lookups) it is all a replay needs: the stats are stored
 * once, in the calls.
 */
export type JournaledPlan = Omit<RoundPlan, "deadlineMs">;

export interface RoundSources {
  /** fetch fresh stats within the round deadline (every fetch of a round starts at once) */
  fetch(id: string, signal: AbortSignal, deadlineMs: number): Promise<PlayerStats>;
  /** stats to fall back on when the fetch failed or was late */
  lastKnownGood(id: string): PlayerStats | undefined;
  /** wall clock for joinMs (reporting only, never part of the rules) */
  now(): number;
}

export interface RoundOutcome {
  input: RoundInput;
  result: RoundResult;
  stale: string[];
  absent: string[];
  /** [entity id, seq] of the intents this round consumed, sorted by id */
  intents: [string, number][];
  joinMs: number;
  /** ids whose fetch failed, with the reason (for logs and metrics) */
  failures: { id: string; reason: string }[];
}

/**
 * Slack on top of the stats client's own deadline: the client rejects late fetches itself (a
 * journaled failure, replayable); the runtime timeout is only the backstop that keeps a round
 * from hanging if a fetch ignores its deadline.
 */
export const JOIN_BACKSTOP_MS = 100;

/** The live round task's name; replay must use the same, the call journal is keyed by it. */
export function roundTaskName(room: string, round: number): string {
  return `round:${room}:${round}`;
}

export function callName(id: string): string {
  return "stats:" + id;
}

/** The journaled last-known-good lookup of an entity whose fetch failed or was late. */
export function fallbackCallName(id: string): string {
  return "lkg:" + id;
}

function reasonOf(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" ? code : err.name;
  }
  return "error";
}

export interface FetchedStats {
  fetched: Map<string, PlayerStats>;
  failures: { id: string; reason: string }[];
  joinMs: number;
}

/**
 * The heart of the round: one child per living entity, spawned in entity-id order, each a
 * journaled stats `call`; joined with allSettled, bounded by the deadline.
 */
export function* fetchConcurrently(
  living: readonly string[],
  deadlineMs: number,
  sources: RoundSources,
): Operation<FetchedStats> {
  const fetched = new Map<string, PlayerStats>();
  const failures: { id: string; reason: string }[] = [];
  const started = sources.now();
  const children = living.map((id) =>
    (function* fetchOne(): Operation<void> {
      const stats: PlayerStats = yield* call(callName(id), (signal: AbortSignal) =>
        sources.fetch(id, signal, deadlineMs),
      );
      fetched.set(id, stats);
    })(),
  );
  try {
    const settled = yield* timeout(deadlineMs + JOIN_BACKSTOP_MS, allSettled(children));
    settled.forEach((s: Settled<void>, i: number) => {
      if (!s.ok) failures.push({ id: living[i], reason: reasonOf(s.error) });
    });
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
    for (const id of living) if (!fetched.has(id)) failures.push({ id, reason: "deadline" });
  }
  return { fetched, failures, joinMs: sources.now() - started };
}

/**
 * The last-known-good stats of each living entity the fetches left without stats, in id order;
 * each lookup is a journaled `call`, so a replay answers it from the journal and proves which
 * entities fell back (a different set is a divergence) instead of being told by its input.
 */
export function* lookUpFallbacks(
  living: readonly string[],
  got: FetchedStats,
  sources: Pick<RoundSources, "lastKnownGood">,
): Operation<Map<string, PlayerStats>> {
  const fallbacks = new Map<string, PlayerStats>();
  for (const id of living) {
    if (got.fetched.has(id)) continue;
    const stats: PlayerStats | null = yield* call(fallbackCallName(id), () => sources.lastKnownGood(id) ?? null);
    if (stats !== null) fallbacks.set(id, stats);
  }
  return fallbacks;
}

/** Fills in each entity's stats (fresh, last-known-good = stale, or none = absent) and resolves. */
export function resolvePlanned(
  plan: RoundPlan,
  got: FetchedStats,
  fallbacks: ReadonlyMap<string, PlayerStats>,
): RoundOutcome {
  const entities = [...plan.entities].sort((a, b) => compareIds(a.id, b.id));
  const stale: string[] = [];
  const absent: string[] = [];
  const combatants: Combatant[] = entities.map((e) => {
    let stats: PlayerStats | null = null;
    let isStale = false;
    if (e.alive) {
      const fresh = got.fetched.get(e.id);
      if (fresh) {
        stats = fresh;
      } else {
        const lkg = fallbacks.get(e.id);
        if (lkg) {
          stats = lkg;
          isStale = true;
          stale.push(e.id);
        } else {
          absent.push(e.id);
        }
      }
    }
    return {
      id: e.id,
      ...carriedState(e),
      stats,
      stale: isStale,
      intent: e.intent,
    };
  });
  const input: RoundInput = { seed: plan.seed, round: plan.round, combatants };
  const result = resolveRound(input);
  const intents: [string, number][] = entities.filter((e) => e.intent !== null).map((e) => [e.id, e.intent!.seq]);
  return { input, result, stale, absent, intents, joinMs: got.joinMs, failures: got.failures };
}

export function* combatRound(plan: RoundPlan, sources: RoundSources): Operation<RoundOutcome> {
  const living = plan.entities
    .filter((e) => e.alive)
    .map((e) => e.id)
    .sort(compareIds);
  const got = yield* fetchConcurrently(living, plan.deadlineMs, sources);
  const fallbacks = yield* lookUpFallbacks(living, got, sources);
  return resolvePlanned(plan, got, fallbacks);
}

/** The `round` message of a resolved round: what every client receives (broadcast encodes it once). */
export function roundMessage(round: number, outcome: RoundOutcome): RoundMessage {
  return {
    round,
    seed: outcome.result.seed,
    events: outcome.result.events,
    intents: outcome.intents,
    stale: outcome.stale,
    absent: outcome.absent,
    joinMs: Math.round(outcome.joinMs * 100) / 100,
    hash: outcome.result.hash,
  };
}
