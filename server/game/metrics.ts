/**
 * The game server's metrics (GET /metrics), every name in one place so /metrics and tests agree:
 * counters as rows of a declaration table (server/observability/metrics.ts), the rest read at scrape time.
 */
import { MetricsRegistry } from "../observability/metrics.ts";
import { droppedLogLines } from "../observability/log.ts";

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

export type GameMetrics = ReturnType<typeof createGameMetrics>;

export function createGameMetrics(sources: MetricsSources) {
  const registry = new MetricsRegistry();
  // registered in this order, the order of /metrics
  const metrics = {
    registry,
    ...roundMetrics(registry),
    ...loginMetrics(registry),
    ...durabilityMetrics(registry),
  };
  scrapedMetrics(registry, sources);
  return metrics;
}

/** Rounds, what they waited for and fought on, and the clients' intents and errors. */
function roundMetrics(registry: MetricsRegistry) {
  return {
    ...registry.counters({
      roundsTotal: ["skirmish_rounds_total", "Combat rounds resolved"],
      roundsCancelled: [
        "skirmish_rounds_cancelled_total",
        "Combat rounds cancelled (shutdown, room disposed, internal error)",
      ],
      ticksDropped: [
        "skirmish_ticks_dropped_total",
        "Ticks skipped because the event loop fell more than a round behind",
      ],
      overruns: ["skirmish_round_overruns_total", "Round slots skipped because the previous round was still running"],
    }),
    roundDuration: registry.histogram(
      "skirmish_round_duration_seconds",
      "Round spawn to broadcast",
      DURATION_BUCKETS_MS,
    ),
    joinWait: registry.histogram(
      "skirmish_stats_join_wait_seconds",
      "Time the round waited for its stats fetches",
      DURATION_BUCKETS_MS,
    ),
    ...registry.counters({
      staleEntities: ["skirmish_stale_entities_total", "Entity-rounds fought on last-known-good stats"],
      absentEntities: ["skirmish_absent_entities_total", "Entity-rounds sat out without stats"],
      degradedRounds: [
        "skirmish_degraded_rounds_total",
        "Rounds with stale or absent entities, by the most common fetch failure",
        ["reason"],
      ],
      intentsAccepted: ["skirmish_intents_accepted_total", "Valid intents queued"],
      errors: ["skirmish_errors_total", "Errors by code (client errors sent, internal failures)", ["code"]],
    }),
  };
}

/** Tokens refused, guest logins and the studio login's key set. */
function loginMetrics(registry: MetricsRegistry) {
  return registry.counters({
    authRejected: [
      "skirmish_auth_rejected_total",
      "Tokens refused (matchmaking, POST /watch, reconnection), by reason",
      ["reason"],
    ],
    guestsIssued: ["skirmish_guests_issued_total", "Guest tokens issued"],
    guestLoginsLimited: [
      "skirmish_guest_logins_limited_total",
      "Guest logins refused 429 by the per-address rate limit",
    ],
    guestLimiterEvictions: [
      "skirmish_guest_limiter_evictions_total",
      "Addresses the guest login limiter forgot to stay within its bound (least recently seen first)",
    ],
    jwksFetches: [
      "skirmish_jwks_fetches_total",
      "Fetches of the studio login's JWKS (AUTH_JWKS_URL), by result",
      ["result"],
    ],
  });
}

/** The journal, the cluster and rooms restored, adopted, handed over or dropped. */
function durabilityMetrics(registry: MetricsRegistry) {
  return {
    ...registry.counters({
      journalRounds: ["skirmish_journal_rounds_total", "Rounds appended to the journal"],
      journalPruned: ["skirmish_journal_pruned_rows_total", "Journal rows deleted by retention (age or size)"],
      journalFilesRemoved: [
        "skirmish_journal_files_removed_total",
        "Journal files of gone cluster processes deleted once retention left them empty",
      ],
      clusterErrors: ["skirmish_cluster_errors_total", "Cluster (Redis) failures and refusals, by kind", ["kind"]],
      seatsFreed: ["skirmish_seats_freed_total", "Seats of dead processes freed for their players"],
      roomsRestored: [
        "skirmish_rooms_restored_total",
        "Rooms brought back by this process, by how (restart: from its own journal; adopted: from a cluster checkpoint)",
        ["how"],
      ],
      roomsRefused: ["skirmish_rooms_refused_total", "Live rooms of the journal not restored, by reason", ["reason"]],
      roomsHandedOver: [
        "skirmish_rooms_handed_over_total",
        "Rooms this process gave up to another on stopping (cluster)",
      ],
      roomsDropped: [
        "skirmish_rooms_dropped_total",
        "Rooms this process stopped acting for because their lease was lost to another (cluster)",
      ],
      seatsReclaimed: ["skirmish_seats_reclaimed_total", "Seats of restored rooms their players came back to"],
      seatsExpired: ["skirmish_seats_expired_total", "Seats of restored rooms whose grace ended unused"],
    }),
    restoreDuration: registry.histogram(
      "skirmish_restore_duration_seconds",
      "Time to restore the rooms of a journal before listening",
      [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
    ),
  };
}

/** What is read at scrape time: connections, rooms, the stats client, dropped log lines, the cluster's Redis. */
function scrapedMetrics(registry: MetricsRegistry, sources: MetricsSources): void {
  registry.gauge("skirmish_ccu", "Connected clients", sources.ccu);
  registry.gauge("skirmish_rooms", "Arena rooms alive", sources.rooms);
  for (const [key, [name, help]] of Object.entries(STATS_CLIENT_GAUGES)) {
    registry.gauge(name, help, () => sources.statsClientCounters()[key] ?? 0);
  }
  registry.countersOf("skirmish_stats_client_total", "Stats client counters, by name", "counter", () => {
    const counters = { ...sources.statsClientCounters() };
    for (const key of Object.keys(STATS_CLIENT_GAUGES)) delete counters[key];
    return counters;
  });
  registry.counterOf(
    "skirmish_log_lines_dropped_total",
    "Log lines dropped because stdout had failed (EPIPE)",
    droppedLogLines,
  );
  if (sources.redisUp) registry.gauge("skirmish_redis_up", "1 while the cluster's Redis answers", sources.redisUp);
}

/** The login's gauges, registered once its parts exist (they count into the metrics above). */
export function loginGauges(
  metrics: GameMetrics,
  sources: {
    /** addresses the guest login limiter holds a bucket for */
    guestLimiterAddresses(): number;
    /** keys in the studio login's key set in use (0 = none loaded); absent without AUTH_JWKS_URL */
    jwksKeys?(): number;
  },
): void {
  metrics.registry.gauge(
    "skirmish_guest_limiter_addresses",
    "Addresses the guest login limiter holds a bucket for",
    sources.guestLimiterAddresses,
  );
  if (sources.jwksKeys)
    metrics.registry.gauge(
      "skirmish_jwks_keys",
      "Keys in the studio login's key set in use (0 = none loaded)",
      sources.jwksKeys,
    );
}
