/**
 * The game server's metrics in Prometheus text exposition format (GET /metrics). A tiny
 * registry: counters (optionally with one label), gauges read at scrape time, and fixed-bucket
 * histograms. Durations are observed in milliseconds and exposed in seconds.
 */

function fmt(n: number): string {
  return Number.isFinite(n) ? String(n) : n > 0 ? "+Inf" : "-Inf";
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

export class Counter {
  readonly name: string;
  readonly help: string;
  readonly label: string | undefined;
  private readonly values = new Map<string, number>();
  constructor(name: string, help: string, label?: string) {
    this.name = name;
    this.help = help;
    this.label = label;
  }
  inc(labelValue = "", by = 1): void {
    this.values.set(labelValue, (this.values.get(labelValue) ?? 0) + by);
  }
  get(labelValue = ""): number {
    return this.values.get(labelValue) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.label === undefined) {
      lines.push(`${this.name} ${fmt(this.get())}`);
    } else {
      for (const [k, v] of [...this.values].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        lines.push(`${this.name}{${this.label}="${escapeLabel(k)}"} ${fmt(v)}`);
      }
    }
    return lines.join("\n");
  }
}

export class Gauge {
  readonly name: string;
  readonly help: string;
  private readonly read: () => number;
  constructor(name: string, help: string, read: () => number) {
    this.name = name;
    this.help = help;
    this.read = read;
  }
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, `${this.name} ${fmt(this.read())}`].join("\n");
  }
}

export class Histogram {
  readonly name: string;
  readonly help: string;
  /** upper bounds in milliseconds */
  private readonly boundsMs: readonly number[];
  private readonly counts: number[];
  private sumMs = 0;
  private total = 0;
  constructor(name: string, help: string, boundsMs: readonly number[]) {
    this.name = name;
    this.help = help;
    this.boundsMs = boundsMs;
    this.counts = boundsMs.map(() => 0);
  }
  observe(ms: number): void {
    this.sumMs += ms;
    this.total++;
    for (let i = 0; i < this.boundsMs.length; i++) if (ms <= this.boundsMs[i]) this.counts[i]++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.boundsMs.forEach((b, i) => lines.push(`${this.name}_bucket{le="${b / 1000}"} ${this.counts[i]}`));
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.total}`);
    lines.push(`${this.name}_sum ${this.sumMs / 1000}`);
    lines.push(`${this.name}_count ${this.total}`);
    return lines.join("\n");
  }
}

const DURATION_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 75, 100, 150, 250, 500, 1000, 2500];

export interface MetricsSources {
  ccu(): number;
  rooms(): number;
  statsClientCounters(): Record<string, number>;
}

/** Every metric the game server exposes, in one place so /metrics and tests agree on names. */
export class GameMetrics {
  readonly roundsTotal = new Counter("skirmish_rounds_total", "Combat rounds resolved");
  readonly roundsCancelled = new Counter("skirmish_rounds_cancelled_total", "Combat rounds cancelled (shutdown, room disposed, internal error)");
  readonly ticksDropped = new Counter("skirmish_ticks_dropped_total", "Ticks skipped because the event loop fell more than a round behind");
  readonly overruns = new Counter("skirmish_round_overruns_total", "Round slots skipped because the previous round was still running");
  readonly roundDuration = new Histogram("skirmish_round_duration_seconds", "Round spawn to broadcast", DURATION_BUCKETS_MS);
  readonly joinWait = new Histogram("skirmish_stats_join_wait_seconds", "Time the round waited for its stats fetches", DURATION_BUCKETS_MS);
  readonly staleEntities = new Counter("skirmish_stale_entities_total", "Entity-rounds fought on last-known-good stats");
  readonly absentEntities = new Counter("skirmish_absent_entities_total", "Entity-rounds sat out without stats");
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
    const all = [
      ccu, rooms, this.roundsTotal, this.roundsCancelled, this.overruns, this.ticksDropped, this.roundDuration, this.joinWait,
      this.staleEntities, this.absentEntities, this.intentsAccepted, this.errors, this.authRejected,
      this.guestsIssued, this.journalRounds, statsCounters,
    ];
    return all.map((m) => m.render()).join("\n") + "\n";
  }
}
