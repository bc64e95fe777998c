/**
 * A tiny Prometheus text-exposition registry shared by the server processes: counters and
 * histograms with at most one label, and gauges read at scrape time. Durations are observed in
 * milliseconds and exposed in seconds.
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
  readonly label: string | undefined;
  /** upper bounds in milliseconds */
  private readonly boundsMs: readonly number[];
  /** per label value: cumulative bucket counts, then sum (ms) and count */
  private readonly series = new Map<string, { counts: number[]; sumMs: number; total: number }>();
  constructor(name: string, help: string, boundsMs: readonly number[], label?: string) {
    this.name = name;
    this.help = help;
    this.boundsMs = boundsMs;
    this.label = label;
  }
  observe(ms: number, labelValue = ""): void {
    let s = this.series.get(labelValue);
    if (s === undefined) this.series.set(labelValue, (s = { counts: this.boundsMs.map(() => 0), sumMs: 0, total: 0 }));
    s.sumMs += ms;
    s.total++;
    for (let i = 0; i < this.boundsMs.length; i++) if (ms <= this.boundsMs[i]) s.counts[i]++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    // an unlabelled histogram shows its empty buckets before the first observation
    const series = this.label === undefined && this.series.size === 0 ? [["", { counts: this.boundsMs.map(() => 0), sumMs: 0, total: 0 }] as const] : [...this.series];
    for (const [value, s] of series) {
      const tag = this.label === undefined ? "" : `${this.label}="${escapeLabel(value)}",`;
      const only = this.label === undefined ? "" : `{${this.label}="${escapeLabel(value)}"}`;
      this.boundsMs.forEach((b, i) => lines.push(`${this.name}_bucket{${tag}le="${b / 1000}"} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket{${tag}le="+Inf"} ${s.total}`);
      lines.push(`${this.name}_sum${only} ${s.sumMs / 1000}`);
      lines.push(`${this.name}_count${only} ${s.total}`);
    }
    return lines.join("\n");
  }
}
