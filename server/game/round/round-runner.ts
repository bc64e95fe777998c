/**
 * Drives a room's combat rounds: starts one when asked unless one is still running (then the
 * slot is counted as an overrun, never stacked), runs it as a runtime task with its own call
 * journal, appends it to the round journal and, once committed, hands the outcome to the room
 * to apply and broadcast.
 * A failing round is counted and logged; it never takes the room or the process down.
 */
import { Journal, run, timeout, TimeoutError, until, type Task } from "../../runtime/index.ts";
import {
  combatRound,
  roundTaskName,
  type PlannedEntity,
  type RoundOutcome,
  type RoundPlan,
  type RoundSources,
} from "./combat-round.ts";
import type { JournalRecord, RoundJournal } from "../journal/round-journal.ts";
import type { GameMetrics } from "../metrics.ts";
import { errorFields, type Logger } from "../../observability/log.ts";
import type { LimitedLog } from "../../observability/log-limiter.ts";

export interface RoundRunnerOptions {
  roomId: string;
  /** the seed of round `round` (the room's keyed derivation, round/room-secret.ts) */
  seedOf(round: number): number;
  deadlineMs: number;
  /** the round's cut-off: entities as they stand, with the intents taken from the queue */
  snapshot(): PlannedEntity[];
  sources: RoundSources;
  /** apply a resolved round to the room, synchronously, then patch and broadcast */
  apply(round: number, outcome: RoundOutcome): void;
  journal: RoundJournal | null;
  /**
   * Cluster only: whether the room may act as its owner now (no round starts otherwise), and the
   * checkpoint written once the round is committed and before it is broadcast (false: the room
   * lost its lease, the round is neither applied nor broadcast).
   */
  fence?: { owns(): boolean; beforeBroadcast(record: JournalRecord): Promise<boolean> };
  metrics: GameMetrics;
  log: Logger;
  /** shared by every room: a degraded round is worth a line, a thousand rooms degraded at once are not */
  limitedLog: LimitedLog;
  /** what the stats client knows about why fetches fail, for the degraded-round warning */
  statsProblem(): string | null;
  /** wall clock for durations (reporting only) */
  now(): number;
}

export class RoundRunner {
  private readonly o: RoundRunnerOptions;
  private inFlight: { round: number; task: Task<RoundOutcome>; settled: Promise<void> } | null = null;
  private nextRound: number;
  private stopped = false;

  constructor(options: RoundRunnerOptions, firstRound = 1) {
    this.o = options;
    this.nextRound = firstRound;
  }

  /** the number the next round will have */
  get upcoming(): number {
    return this.nextRound;
  }

  get running(): boolean {
    return this.inFlight !== null;
  }

  /** Starts the next round; false if the previous one still runs (an overrun) or we stopped. */
  start(): boolean {
    if (this.stopped) return false;
    if (this.o.fence && !this.o.fence.owns()) {
      this.o.metrics.errors.inc("round_fenced");
      return false;
    }
    if (this.inFlight) {
      this.o.metrics.overruns.inc();
      this.o.log.debug("round overrun", { room: this.o.roomId, running: this.inFlight.round });
      return false;
    }
    const round = this.nextRound++;
    const plan: RoundPlan = {
      seed: this.o.seedOf(round),
      round,
      deadlineMs: this.o.deadlineMs,
      entities: this.o.snapshot(),
    };
    const calls = new Journal();
    const started = this.o.now();
    const task = run(() => combatRound(plan, this.o.sources), {
      name: roundTaskName(this.o.roomId, round),
      journal: calls,
    });
    const settled = Promise.resolve(task)
      .then(
        (outcome) => this.finish(plan, outcome, calls, started),
        (err) => {
          this.o.metrics.roundsCancelled.inc();
          if (this.stopped) {
            this.o.log.debug("round cancelled", { room: this.o.roomId, round });
          } else {
            this.o.metrics.errors.inc("round_failed");
            this.o.log.error("round failed", { room: this.o.roomId, round, ...errorFields(err) });
          }
        },
      )
      .finally(() => {
        this.inFlight = null;
      });
    this.inFlight = { round, task, settled };
    return true;
  }

  /**
   * Journals the round, then applies and broadcasts it once the journal has committed it (at the
   * end of this event-loop turn, together with every other room's rounds of the turn): a round a
   * client saw is never lost by a crash, nor fought again after a restore. Resolves once applied.
   */
  private finish(plan: RoundPlan, outcome: RoundOutcome, calls: Journal, started: number): Promise<void> {
    const round = plan.round;
    const journal = this.o.journal && !this.o.journal.isClosed ? this.o.journal : null;
    const record: JournalRecord = {
      room: this.o.roomId,
      round,
      seed: outcome.result.seed,
      // the plan, not outcome.input: the stats are in the calls already
      plan: { seed: plan.seed, round, entities: plan.entities },
      calls: calls.entries,
      hash: outcome.result.hash,
      joinMs: outcome.joinMs,
      deadlineMs: this.o.deadlineMs,
    };
    if (journal) {
      try {
        journal.append(record);
        this.o.metrics.journalRounds.inc();
      } catch (err) {
        this.o.metrics.errors.inc("journal_append");
        this.o.log.error("journal append failed", { room: this.o.roomId, round, ...errorFields(err) });
      }
    }
    return new Promise((applied) => {
      const apply = () => {
        this.apply(round, outcome, started);
        applied();
      };
      const fence = this.o.fence;
      const checkpointThenApply = !fence
        ? apply
        : () =>
            fence.beforeBroadcast(record).then((owned) => {
              if (owned) return apply();
              this.o.metrics.errors.inc("round_fenced");
              this.o.log.warn("round not broadcast: the room's lease is lost", { room: this.o.roomId, round });
              applied();
            });
      if (journal) journal.afterCommit(checkpointThenApply);
      else checkpointThenApply();
    });
  }

  private apply(round: number, outcome: RoundOutcome, started: number): void {
    try {
      this.o.apply(round, outcome);
    } catch (err) {
      this.o.metrics.errors.inc("round_apply");
      this.o.log.error("round apply failed", { room: this.o.roomId, round, ...errorFields(err) });
      return;
    }
    const m = this.o.metrics;
    m.roundsTotal.inc();
    m.roundDuration.observe(this.o.now() - started);
    m.joinWait.observe(outcome.joinMs);
    m.staleEntities.inc(undefined, outcome.stale.length);
    m.absentEntities.inc(undefined, outcome.absent.length);
    for (const f of outcome.failures) m.errors.inc("stats_" + f.reason);
    if (outcome.stale.length + outcome.absent.length > 0) this.degraded(round, outcome);
    this.o.log.debug("round", {
      room: this.o.roomId,
      round,
      entities: outcome.input.combatants.length,
      events: outcome.result.events.length,
      stale: outcome.stale.length,
      absent: outcome.absent.length,
      joinMs: Math.round(outcome.joinMs * 10) / 10,
      hash: outcome.result.hash,
    });
  }

  /** Counted by its most common failure reason, and said out loud (rate-limited across rooms). */
  private degraded(round: number, outcome: RoundOutcome): void {
    const byReason = new Map<string, number>();
    for (const f of outcome.failures) byReason.set(f.reason, (byReason.get(f.reason) ?? 0) + 1);
    const reason = [...byReason].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? "unknown";
    this.o.metrics.degradedRounds.inc(reason);
    this.o.limitedLog("warn", "degraded_round", "round fought without fresh stats", {
      room: this.o.roomId,
      round,
      reason,
      stale: outcome.stale.length,
      absent: outcome.absent.length,
      failures: Object.fromEntries(byReason),
      stats: this.o.statsProblem() ?? undefined,
      degradedRounds: this.o.metrics.degradedRounds.get(reason),
    });
  }

  /**
   * No more rounds. The one in flight may finish (it is bounded by the round deadline) within
   * `graceMs`; after that it is halted (its fetches aborted) and counted as cancelled.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    const current = this.inFlight;
    if (!current) return;
    try {
      await run(() => timeout(graceMs, until(current.settled)), { name: `stop:${this.o.roomId}` });
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      await current.task.halt();
      await current.settled;
    }
  }
}
