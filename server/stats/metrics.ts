// The stats service's metrics (GET /metrics), every name in one place: counters as rows of a
// declaration table (server/observability/metrics.ts). In-flight ids and connections are plain numbers on the
// hot path, read as gauges at scrape time.
import { MetricsRegistry } from "../observability/metrics.ts";

const BUCKETS_MS = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

export type ServiceMetrics = ReturnType<typeof createServiceMetrics>;

export function createServiceMetrics() {
  const registry = new MetricsRegistry();
  const metrics = {
    registry,
    ...registry.counters({
      /** by transport (http, rpc) and op (get, put, faults; batch: an RPC frame of several ids) */
      requests: [
        "stats_requests_total",
        "Requests (HTTP) and frames (RPC) received, by transport and op",
        ["transport", "op"],
      ],
      /** transport http: by status; rpc: by code; internal: a request that threw */
      errors: [
        "stats_errors_total",
        "Error answers and failed requests, by transport and status (HTTP) or code (RPC)",
        ["transport", "status", "code"],
      ],
      idsServed: ["stats_ids_served_total", "Ids answered with stats, by transport", ["transport"]],
      stalled: [
        "stats_stalled_total",
        "Requests accepted and never answered (stall fault), by transport",
        ["transport"],
      ],
      guestRowsExpired: ["stats_guest_rows_expired_total", "Guest rows deleted after STATS_GUEST_TTL_S unread"],
      rejectedFrames: ["stats_rpc_rejected_frames_total", "RPC frames refused, by reason", ["reason"]],
    }),
    duration: registry.histogram(
      "stats_request_duration_seconds",
      "Time from a request's arrival to its answer, injected latency included",
      BUCKETS_MS,
      ["transport"],
    ),
    connections: 0,
    inFlightIds: 0,
    inFlightPeak: 0,
    enter(n: number): void {
      metrics.inFlightIds += n;
      if (metrics.inFlightIds > metrics.inFlightPeak) metrics.inFlightPeak = metrics.inFlightIds;
    },
    leave(n: number): void {
      metrics.inFlightIds -= n;
    },
  };
  registry.gauge("stats_rpc_connections", "Open RPC connections", () => metrics.connections);
  registry.gauge("stats_in_flight_ids", "Ids being answered now", () => metrics.inFlightIds);
  registry.gauge(
    "stats_in_flight_ids_peak",
    "Most ids in flight at once since start (or the last resetPeak)",
    () => metrics.inFlightPeak,
  );
  return metrics;
}
