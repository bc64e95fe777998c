// Prometheus text-format metrics of the stats service: counters, one latency histogram per
// transport, gauges, and the process's own CPU (so that benchmarks can read the service's CPU).
const BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

class Histogram {
  readonly counts = new Array<number>(BUCKETS_S.length).fill(0);
  count = 0;
  sum = 0;
  observe(seconds: number): void {
    this.count++;
    this.sum += seconds;
    for (let i = 0; i < BUCKETS_S.length; i++) {
      if (seconds <= BUCKETS_S[i]) {
        this.counts[i]++;
        return;
      }
    }
  }
}

export class ServiceMetrics {
  /** "name{labels}" -> value */
  private readonly counters = new Map<string, number>();
  private readonly histograms = new Map<string, Histogram>();
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

  observe(transport: string, seconds: number): void {
    let h = this.histograms.get(transport);
    if (h === undefined) this.histograms.set(transport, (h = new Histogram()));
    h.observe(seconds);
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
    lines.push("# HELP stats_request_duration_seconds time from a request's arrival to its answer, injected latency included");
    lines.push("# TYPE stats_request_duration_seconds histogram");
    for (const [transport, h] of this.histograms) {
      let cumulative = 0;
      for (let i = 0; i < BUCKETS_S.length; i++) {
        cumulative += h.counts[i];
        lines.push(`stats_request_duration_seconds_bucket{transport="${transport}",le="${BUCKETS_S[i]}"} ${cumulative}`);
      }
      lines.push(`stats_request_duration_seconds_bucket{transport="${transport}",le="+Inf"} ${h.count}`);
      lines.push(`stats_request_duration_seconds_sum{transport="${transport}"} ${h.sum}`);
      lines.push(`stats_request_duration_seconds_count{transport="${transport}"} ${h.count}`);
    }
    const cpu = process.cpuUsage();
    lines.push(
      "# TYPE stats_rpc_connections gauge", `stats_rpc_connections ${this.connections}`,
      "# TYPE stats_in_flight_ids gauge", `stats_in_flight_ids ${this.inFlightIds}`,
      "# TYPE stats_in_flight_ids_peak gauge", `stats_in_flight_ids_peak ${this.inFlightPeak}`,
      "# TYPE process_cpu_user_seconds_total counter", `process_cpu_user_seconds_total ${cpu.user / 1e6}`,
      "# TYPE process_cpu_system_seconds_total counter", `process_cpu_system_seconds_total ${cpu.system / 1e6}`,
      "# TYPE process_resident_memory_bytes gauge", `process_resident_memory_bytes ${process.memoryUsage.rss()}`,
    );
    return lines.join("\n") + "\n";
  }
}
