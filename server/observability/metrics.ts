/**
 * Metrics of the server processes, on prom-client. Each server (game, stats) owns one
 * MetricsRegistry (one per process in production; tests run several servers in one process, hence
 * not prom-client's global registry), and /metrics serves it together with the process's default
 * metrics (CPU, RSS, heap, event-loop lag, GC), collected once per process.
 *
 * The wrappers keep call sites short (`errors.inc("code")` for a one-label counter, `{ a, b }` for
 * several labels) and add a synchronous `get()` for logs and tests; prom-client's own get() is
 * async. Durations are observed in milliseconds and exposed in seconds, as Prometheus wants.
 * Costs on a hot path: a Counter's inc() is prom-client's (a label hash and a map update); a Gauge
 * costs nothing until a scrape reads it.
 */
import {
  collectDefaultMetrics,
  Counter as PromCounter,
  Gauge as PromGauge,
  Histogram as PromHistogram,
  Registry,
} from "prom-client";

/** The value of the only label, or every label by name. */
export type Labels = string | Readonly<Record<string, string>>;

/** One counter as a declaration table declares it: name, help line, label names (none: one series). */
export type CounterDeclaration = readonly [name: string, help: string, labelNames?: readonly string[]];

let processRegistry: Registry | undefined;

/** The process's default metrics, started on first use (they run an event-loop monitor and a GC observer). */
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

interface Series {
  labels: Record<string, string | number>;
  value: number;
}

export class MetricsRegistry {
  readonly registry = new Registry();
  private constantLabels: Record<string, string> = {};

  /** Labels added to every series of the exposition, default metrics included (a cluster's `process`). */
  labelEverySeries(labels: Record<string, string>): void {
    this.constantLabels = { ...labels };
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return new Counter(new PromCounter({ name, help, labelNames, registers: [this.registry] }), labelNames);
  }

  /** The counters of a declaration table, under its keys: one row per counter, `[name, help, labelNames?]`. */
  counters<const T extends Readonly<Record<string, CounterDeclaration>>>(
    table: T,
  ): { readonly [K in keyof T]: Counter } {
    const entries = Object.entries(table).map(([key, [name, help, labelNames]]) => [
      key,
      this.counter(name, help, labelNames),
    ]);
    return Object.fromEntries(entries) as { readonly [K in keyof T]: Counter };
  }

  /** Read at scrape time: costs nothing between scrapes. */
  gauge(name: string, help: string, read: () => number): void {
    new PromGauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /**
   * Counters another object keeps (the stats client's tally), one series per key of `read()`'s
   * result under `labelName`, read at scrape time.
   */
  countersOf(name: string, help: string, labelName: string, read: () => Readonly<Record<string, number>>): void {
    new PromCounter({
      name,
      help,
      labelNames: [labelName],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [key, value] of Object.entries(read())) this.inc({ [labelName]: key }, value);
      },
    });
  }

  /** A counter another module keeps (the logger's dropped lines), read at scrape time. */
  counterOf(name: string, help: string, read: () => number): void {
    new PromCounter({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }

  histogram(name: string, help: string, bucketsMs: readonly number[], labelNames: readonly string[] = []): Histogram {
    const buckets = bucketsMs.map((ms) => ms / 1000);
    return new Histogram(
      new PromHistogram({ name, help, buckets, labelNames, registers: [this.registry] }),
      labelNames,
    );
  }

  /** The Prometheus text exposition: the process's default metrics, then this registry's. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    const merged = Registry.merge([processMetrics(), this.registry]);
    merged.setDefaultLabels(this.constantLabels);
    return { contentType: merged.contentType, text: await merged.metrics() };
  }
}

function labelObject(labelNames: readonly string[], labels: Labels): Record<string, string> {
  return typeof labels === "string" ? { [labelNames[0]]: labels } : labels;
}

export class Counter {
  private readonly metric: PromCounter<string>;
  private readonly labelNames: readonly string[];
  constructor(metric: PromCounter<string>, labelNames: readonly string[]) {
    this.metric = metric;
    this.labelNames = labelNames;
  }

  inc(labels?: Labels, by = 1): void {
    if (labels === undefined) this.metric.inc(by);
    else this.metric.inc(labelObject(this.labelNames, labels), by);
  }

  /** The current value of one series (0 before its first inc). */
  get(labels?: Labels): number {
    const want = labels === undefined ? {} : labelObject(this.labelNames, labels);
    // prom-client keeps one entry per label set in `hashMap`; reading it here spares logs and tests an await
    const series = Object.values((this.metric as unknown as { hashMap: Record<string, Series> }).hashMap);
    const keys = Object.keys(want);
    const found = series.find(
      (s) => Object.keys(s.labels).length === keys.length && keys.every((k) => String(s.labels[k]) === want[k]),
    );
    return found?.value ?? 0;
  }
}

export class Histogram {
  private readonly metric: PromHistogram<string>;
  private readonly labelNames: readonly string[];
  constructor(metric: PromHistogram<string>, labelNames: readonly string[]) {
    this.metric = metric;
    this.labelNames = labelNames;
  }

  observe(ms: number, labels?: Labels): void {
    if (labels === undefined) this.metric.observe(ms / 1000);
    else this.metric.observe(labelObject(this.labelNames, labels), ms / 1000);
  }
}
