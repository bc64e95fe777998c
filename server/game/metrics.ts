/**
 * The game server's metrics (GET /metrics), every name in one place so /metrics and tests agree.
 */
import { Counter, Gauge, Histogram } from "../metrics.ts";
import { droppedLogLines } from "../log.ts";

const DURATION_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 75, 100, 150, 250, 500, 1000, 2500];

export interface MetricsSources {
  ccu(): number;
  rooms(): number;
  statsClientCounters(): Record<string, number>;
}

export class GameMetrics {
  readonly roundsTotal = new Counter("skirmish_rounds_total", "Combat rounds resolved");
  readonly roundsCancelled = new Counter("skirmish_rounds_cancelled_total", "Combat rounds cancelled (shutdown, room disposed, internal error)");
  readonly ticksDropped = new Counter("skirmish_ticks_dropped_total", "Ticks skipped because the event loop fell more than a round behind");
  readonly overruns = new Counter("skirmish_round_overruns_total", "Round slots skipped because the previous round was still running");
  readonly roundDuration = new Histogram("skirmish_round_duration_seconds", "Round spawn to broadcast", DURATION_BUCKETS_MS);
  readonly joinWait = new Histogram("skirmish_stats_join_wait_seconds", "Time the round waited for its stats fetches", DURATION_BUCKETS_MS);
  readonly staleEntities = new Counter("skirmish_stale_entities_total", "Entity-rounds fought on last-known-good stats");
  readonly absentEntities = new Counter("skirmish_absent_entities_total", "Entity-rounds sat out without stats");
  readonly degradedRounds = new Counter("skirmish_degraded_rounds_total", "Rounds with stale or absent entities, by the most common fetch failure", "reason");
  readonly intentsAccepted = new Counter("skirmish_intents_accepted_total", "Valid intents queued");
  readonly errors = new Counter("skirmish_errors_total", "Errors by code (client errors sent, internal failures)", "code");
  readonly authRejected = new Counter("skirmish_auth_rejected_total", "Joins refused by onAuth, by reason", "reason");
  readonly guestsIssued = new Counter("skirmish_guests_issued_total", "Guest tokens issued");
  readonly journalRounds = new Counter("skirmish_journal_rounds_total", "Rounds appended to the journal");
  private readonly sources: MetricsSources;

  constructor(sources: MetricsSources) {
    this.sources = sources;
  }

  render(): string {
    const ccu = new Gauge("skirmish_ccu", "Connected clients", this.sources.ccu);
    const rooms = new Gauge("skirmish_rooms", "Arena rooms alive", this.sources.rooms);
    const statsCounters = new Counter("skirmish_stats_client_total", "Stats client counters, by name", "counter");
    for (const [k, v] of Object.entries(this.sources.statsClientCounters())) statsCounters.inc(k, v);
    const logDropped = new Counter("skirmish_log_lines_dropped_total", "Log lines dropped because stdout had failed (EPIPE)");
    logDropped.inc("", droppedLogLines());
    const all = [
      ccu, rooms, this.roundsTotal, this.roundsCancelled, this.overruns, this.ticksDropped, this.roundDuration, this.joinWait,
      this.staleEntities, this.absentEntities, this.degradedRounds, this.intentsAccepted, this.errors, this.authRejected,
      this.guestsIssued, this.journalRounds, statsCounters, logDropped,
    ];
    return all.map((m) => m.render()).join("\n") + "\n";
  }
}
