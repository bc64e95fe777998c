/**
 * The game server's metrics (GET /metrics), every name in one place so /metrics and tests agree.
 */
import { MetricsRegistry } from "../metrics.ts";
import { droppedLogLines } from "../log.ts";

const DURATION_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 75, 100, 150, 250, 500, 1000, 2500];

/** The stats client's numbers that go up and down (the rest of its counters() only grow). */
const STATS_CLIENT_GAUGES = {
  inFlight: ["skirmish_stats_client_in_flight_gets", "Stats gets waiting for an answer"],
  inFlightIds: ["skirmish_stats_client_in_flight_ids", "Distinct ids being fetched (after coalescing)"],
  lkgSize: ["skirmish_stats_client_lkg_entries", "Ids held in the last-known-good cache"],
} as const;

export interface MetricsSources {
  ccu(): number;
  rooms(): number;
  statsClientCounters(): Record<string, number>;
  /** 1 while the cluster's Redis answers, 0 while it is away; absent without a cluster */
  redisUp?(): number;
}

export class GameMetrics {
  readonly registry = new MetricsRegistry();
  readonly roundsTotal = this.registry.counter("skirmish_rounds_total", "Combat rounds resolved");
  readonly roundsCancelled = this.registry.counter(
    "skirmish_rounds_cancelled_total",
    "Combat rounds cancelled (shutdown, room disposed, internal error)",
  );
  readonly ticksDropped = this.registry.counter(
    "skirmish_ticks_dropped_total",
    "Ticks skipped because the event loop fell more than a round behind",
  );
  readonly overruns = this.registry.counter(
    "skirmish_round_overruns_total",
    "Round slots skipped because the previous round was still running",
  );
  readonly roundDuration = this.registry.histogram(
    "skirmish_round_duration_seconds",
    "Round spawn to broadcast",
    DURATION_BUCKETS_MS,
  );
  readonly joinWait = this.registry.histogram(
    "skirmish_stats_join_wait_seconds",
    "Time the round waited for its stats fetches",
    DURATION_BUCKETS_MS,
  );
  readonly staleEntities = this.registry.counter(
    "skirmish_stale_entities_total",
    "Entity-rounds fought on last-known-good stats",
  );
  readonly absentEntities = this.registry.counter(
    "skirmish_absent_entities_total",
    "Entity-rounds sat out without stats",
  );
  readonly degradedRounds = this.registry.counter(
    "skirmish_degraded_rounds_total",
    "Rounds with stale or absent entities, by the most common fetch failure",
    ["reason"],
  );
  readonly intentsAccepted = this.registry.counter("skirmish_intents_accepted_total", "Valid intents queued");
  readonly errors = this.registry.counter(
    "skirmish_errors_total",
    "Errors by code (client errors sent, internal failures)",
    ["code"],
  );
  readonly authRejected = this.registry.counter("skirmish_auth_rejected_total", "Joins refused by onAuth, by reason", [
    "reason",
  ]);
  readonly guestsIssued = this.registry.counter("skirmish_guests_issued_total", "Guest tokens issued");
  readonly journalRounds = this.registry.counter("skirmish_journal_rounds_total", "Rounds appended to the journal");
  readonly journalPruned = this.registry.counter(
    "skirmish_journal_pruned_rows_total",
    "Journal rows deleted by retention (age or size)",
  );
  readonly clusterErrors = this.registry.counter(
    "skirmish_cluster_errors_total",
    "Cluster (Redis) failures and refusals, by kind",
    ["kind"],
  );
  readonly seatsFreed = this.registry.counter(
    "skirmish_seats_freed_total",
    "Seats of dead processes freed for their players",
  );

  constructor(sources: MetricsSources) {
    this.registry.gauge("skirmish_ccu", "Connected clients", sources.ccu);
    this.registry.gauge("skirmish_rooms", "Arena rooms alive", sources.rooms);
    for (const [key, [name, help]] of Object.entries(STATS_CLIENT_GAUGES)) {
      this.registry.gauge(name, help, () => sources.statsClientCounters()[key] ?? 0);
    }
    this.registry.countersOf("skirmish_stats_client_total", "Stats client counters, by name", "counter", () => {
      const counters = { ...sources.statsClientCounters() };
      for (const key of Object.keys(STATS_CLIENT_GAUGES)) delete counters[key];
      return counters;
    });
    this.registry.counterOf(
      "skirmish_log_lines_dropped_total",
      "Log lines dropped because stdout had failed (EPIPE)",
      droppedLogLines,
    );
    if (sources.redisUp)
      this.registry.gauge("skirmish_redis_up", "1 while the cluster's Redis answers", sources.redisUp);
  }
}
