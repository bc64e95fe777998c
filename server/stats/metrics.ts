// Prometheus text-format metrics of the stats service: counters, one latency histogram per
// transport, gauges, and the process's own CPU (so that benchmarks can read the service's CPU).
import { Gauge, Histogram } from "../metrics.ts";

const BUCKETS_MS = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

export class ServiceMetrics {
  /** "name{labels}" -> value */
  private readonly counters = new Map<string, number>();
  private readonly duration = new Histogram(
    "stats_request_duration_seconds",
    "time from a request's arrival to its answer, injected latency included",
    BUCKETS_MS,
    "transport",
  );
  connections = 0;
  inFlightIds = 0;
  inFlightPeak = 0;

  inc(name: string, labels: string, by = 1): void {
    const key = `${name}{${labels}}`;
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
  }

  counter(name: string, labels: string): number {
    return this.counters.get(`${name}{${labels}}`) ?? 0;
  }

  observe(transport: string, ms: number): void {
    this.duration.observe(ms, transport);
  }

  enter(n: number): void {
    this.inFlightIds += n;
    if (this.inFlightIds > this.inFlightPeak) this.inFlightPeak = this.inFlightIds;
  }

  leave(n: number): void {
    this.inFlightIds -= n;
  }

  render(): string {
    const lines: string[] = [];
    const byName = new Map<string, string[]>();
    for (const [key, v] of this.counters) {
      const name = key.slice(0, key.indexOf("{"));
      if (!byName.has(name)) byName.set(name, []);
      byName.get(name)!.push(`${key.endsWith("{}") ? name : key} ${v}`);
    }
    for (const [name, series] of [...byName].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      lines.push(`# TYPE ${name} counter`, ...series.sort());
    }
    const cpu = process.cpuUsage();
    const gauges = [
      new Gauge("stats_rpc_connections", "open RPC connections", () => this.connections),
      new Gauge("stats_in_flight_ids", "ids being answered now", () => this.inFlightIds),
      new Gauge("stats_in_flight_ids_peak", "most ids in flight at once", () => this.inFlightPeak),
      new Gauge("process_resident_memory_bytes", "resident set size", () => process.memoryUsage.rss()),
    ];
    lines.push(
      this.duration.render(),
      ...gauges.map((g) => g.render()),
      "# TYPE process_cpu_user_seconds_total counter", `process_cpu_user_seconds_total ${cpu.user / 1e6}`,
      "# TYPE process_cpu_system_seconds_total counter", `process_cpu_system_seconds_total ${cpu.system / 1e6}`,
    );
    return lines.join("\n") + "\n";
  }
}
