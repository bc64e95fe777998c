// Both servers' /metrics over HTTP, parsed: every sample belongs to a family with a # TYPE, every
// family of ours has the type it should (gauges are gauges: the stats client's in-flight numbers
// were once exported as a counter), and the process metrics (CPU, RSS, heap, event-loop lag, GC) are there.
import { beforeAll, describe, expect, it } from "vitest";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import { closeAfterAll, join, startGame, startStats, waitFor, type Player } from "./helpers.ts";

type Kind = "counter" | "gauge" | "histogram";

const GAME: Record<string, Kind> = {
  skirmish_ccu: "gauge",
  skirmish_rooms: "gauge",
  skirmish_rounds_total: "counter",
  skirmish_rounds_cancelled_total: "counter",
  skirmish_ticks_dropped_total: "counter",
  skirmish_round_overruns_total: "counter",
  skirmish_round_duration_seconds: "histogram",
  skirmish_stats_join_wait_seconds: "histogram",
  skirmish_stale_entities_total: "counter",
  skirmish_absent_entities_total: "counter",
  skirmish_degraded_rounds_total: "counter",
  skirmish_intents_accepted_total: "counter",
  skirmish_errors_total: "counter",
  skirmish_auth_rejected_total: "counter",
  skirmish_guests_issued_total: "counter",
  skirmish_guest_logins_limited_total: "counter",
  skirmish_guest_limiter_evictions_total: "counter",
  skirmish_guest_limiter_addresses: "gauge",
  skirmish_jwks_fetches_total: "counter",
  skirmish_journal_rounds_total: "counter",
  skirmish_journal_pruned_rows_total: "counter",
  skirmish_journal_files_removed_total: "counter",
  skirmish_stats_client_total: "counter",
  skirmish_stats_client_in_flight_gets: "gauge",
  skirmish_stats_client_in_flight_ids: "gauge",
  skirmish_stats_client_lkg_entries: "gauge",
  skirmish_log_lines_dropped_total: "counter",
  skirmish_cluster_errors_total: "counter",
  skirmish_seats_freed_total: "counter",
  skirmish_rooms_restored_total: "counter",
  skirmish_rooms_refused_total: "counter",
  skirmish_rooms_handed_over_total: "counter",
  skirmish_rooms_dropped_total: "counter",
  skirmish_seats_reclaimed_total: "counter",
  skirmish_seats_expired_total: "counter",
  skirmish_restore_duration_seconds: "histogram",
};

const STATS: Record<string, Kind> = {
  stats_requests_total: "counter",
  stats_errors_total: "counter",
  stats_ids_served_total: "counter",
  stats_guest_rows_expired_total: "counter",
  stats_stalled_total: "counter",
  stats_rpc_rejected_frames_total: "counter",
  stats_request_duration_seconds: "histogram",
  stats_rpc_connections: "gauge",
  stats_in_flight_ids: "gauge",
  stats_in_flight_ids_peak: "gauge",
};

/** Default metrics of the process (prom-client collectDefaultMetrics), a few of each kind. */
const PROCESS: Record<string, Kind> = {
  process_cpu_user_seconds_total: "counter",
  process_cpu_system_seconds_total: "counter",
  process_resident_memory_bytes: "gauge",
  nodejs_heap_size_used_bytes: "gauge",
  nodejs_eventloop_lag_seconds: "gauge",
  nodejs_eventloop_lag_p99_seconds: "gauge",
  nodejs_gc_duration_seconds: "histogram",
};

interface Exposition {
  types: Map<string, string>;
  /** sample name -> the family it was found under */
  samples: Map<string, string>;
}

function parse(text: string): Exposition {
  const types = new Map<string, string>();
  const samples = new Map<string, string>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    if (line === "" || line.startsWith("#")) continue;
    const name = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line)![1];
    const family = [name, name.replace(/_(bucket|sum|count)$/, "")].find((f) => types.has(f));
    expect(family, `sample ${line} has no # TYPE before it`).toBeDefined();
    expect(
      types.get(family!) === "histogram" || family === name,
      `${line}: only a histogram has _bucket/_sum/_count samples`,
    ).toBe(true);
    samples.set(name, family!);
  }
  return { types, samples };
}

async function scrape(httpUrl: string): Promise<{ contentType: string | null; exposition: Exposition }> {
  const res = await fetch(`${httpUrl}/metrics`);
  expect(res.status).toBe(200);
  return { contentType: res.headers.get("content-type"), exposition: parse(await res.text()) };
}

/** Our families are exactly `expected` (a new metric must be added here), each with its type. */
function expectFamilies(e: Exposition, prefix: string, expected: Record<string, Kind>): void {
  const ours = Object.fromEntries([...e.types].filter(([name]) => name.startsWith(prefix)));
  expect(ours).toEqual(expected);
  for (const [name, kind] of Object.entries(PROCESS)) expect(e.types.get(name), name).toBe(kind);
  for (const [name, type] of Object.entries(ours)) if (name.endsWith("_total")) expect(type, name).toBe("counter");
}

describe("/metrics of both servers", () => {
  let stats: StatsService;
  let game: GameServer;
  const players: Player[] = [];
  beforeAll(async () => {
    stats = await startStats();
    // a generous stats deadline: on a loaded machine the default 60 ms can leave every fetch late,
    // and this test needs some answered (the ok counter, the last-known-good gauge)
    game = await startGame(stats.rpcUrl, { roundDeadlineMs: 2000 });
    players.push(await join(game, "Ann"));
    await waitFor("a few rounds", () => game.metrics.roundsTotal.get() >= 3, 20_000);
  });
  closeAfterAll(() => ({ players, game, stats }));

  it("game server: every series typed; gauges are gauges, counters counters, histograms histograms", async () => {
    const { contentType, exposition } = await scrape(game.httpUrl);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expectFamilies(exposition, "skirmish_", GAME);
    // the stats client's numbers that go up and down are gauges, not series of the counter
    const text = await (await fetch(`${game.httpUrl}/metrics`)).text();
    expect(text).not.toMatch(/^skirmish_stats_client_total\{counter="(inFlight|inFlightIds|lkgSize)"\}/m);
    expect(text).toMatch(/^skirmish_stats_client_total\{counter="ok"\} [1-9]\d*$/m);
    expect(text).toMatch(/^skirmish_stats_client_lkg_entries [1-9]\d*$/m);
  });

  it("stats service: every series typed, several labels on one counter", async () => {
    // an HTTP 400 and an RPC frame, so that labelled series exist
    expect((await fetch(`${stats.httpUrl}/players/bad%20id/stats`)).status).toBe(400);
    const { exposition } = await scrape(stats.httpUrl);
    expectFamilies(exposition, "stats_", STATS);
    const text = await (await fetch(`${stats.httpUrl}/metrics`)).text();
    expect(text).toMatch(/^stats_errors_total\{transport="http",status="400"\} 1$/m);
    expect(text).toMatch(/^stats_requests_total\{transport="rpc",op="(get|batch)"\} [1-9]\d*$/m);
    expect(text).toMatch(/^stats_rpc_connections 1$/m);
  });
});
