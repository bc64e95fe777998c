/**
 * What one process's bots measured: counters, errors by kind, latency histograms and the rounds
 * seen per room. A snapshot is plain JSON so worker processes can send it over IPC; snapshots from
 * several processes are merged with `mergeSnapshots`.
 */
import type { Histogram } from "hdr-histogram-js";
import { encodeHistogram, mergeEncoded, newHistogram, recordMs } from "./histogram.ts";
import type { BotCpu } from "./steady-cpu.ts";

export const COUNTERS = [
  "botsStarted",
  "joinAttempts",
  /** bots that received at least one round / had at least one intent resolved */
  "botsWithRounds",
  "botsWithResults",
  "joins",
  "rejoins",
  "reconnects",
  "drops",
  "left",
  "intentsSent",
  "intentsResolved",
  "intentsSuperseded",
  "intentsLost",
  /** pending when their session ended (the bot took a new seat): neither resolved nor lost */
  "intentsAbandoned",
  "garbageSent",
  "roundsReceived",
  "roundsMissed",
  "messages",
  "bytes",
  "sdkLogLines",
] as const;
export type CounterName = (typeof COUNTERS)[number];

/**
 * intent -> result latency (whole run, and only intents sent in the steady state: steady-state.ts),
 * guest auth, WebSocket open, joined, and the round interval as clients see it
 */
export const HISTOGRAMS = ["latency", "steady", "auth", "connect", "join", "interval"] as const;
export type HistogramName = (typeof HISTOGRAMS)[number];

/** One value per histogram name. */
export function perHistogram<T>(value: (h: HistogramName) => T): Record<HistogramName, T> {
  return Object.fromEntries(HISTOGRAMS.map((h) => [h, value(h)])) as Record<HistogramName, T>;
}

function zeroCounters(): Record<CounterName, number> {
  return Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<CounterName, number>;
}

/** What a snapshot and the merge of several have in common. */
interface Totals {
  /** bots currently in a room */
  connected: number;
  counters: Record<CounterName, number>;
  /** unexpected: count toward the error rate */
  errors: Record<string, number>;
  /** provoked on purpose by the scenario (garbage, self-inflicted drops): reported, not rated */
  expected: Record<string, number>;
}

export interface MetricsSnapshot extends Totals {
  /** cumulative, encoded; empty strings in interim snapshots (only `window` travels then) */
  histograms: Record<HistogramName, string>;
  /** intent -> result latencies recorded since the previous snapshot */
  window: string;
  /** roomKey(process, room) -> [distinct rounds seen in it, of which in the steady state] */
  rounds: Record<string, [number, number]>;
  /** the process's CPU over the steady state (final snapshots; null: none measured) */
  cpu: BotCpu | null;
}

/**
 * A room as the report counts it: the game process holding it (from the seat reservation's
 * address, `ws://host:port/<processId>/<roomId>`) and its id.
 */
export function roomKey(connectionUrl: string | undefined, roomId: string): string {
  let processId = "?";
  try {
    processId = new URL(connectionUrl ?? "").pathname.split("/")[1] || "?";
  } catch {
    // no URL: counted under "?"
  }
  return `${processId}/${roomId}`;
}

export class Metrics {
  connected = 0;
  readonly counters = zeroCounters();
  private readonly errors = new Map<string, number>();
  private readonly expected = new Map<string, number>();
  private readonly histograms = perHistogram(newHistogram);
  private window = newHistogram();
  private readonly lastRound = new Map<string, number>();
  private readonly rounds = new Map<string, [number, number]>();

  count(name: CounterName, n = 1): void {
    this.counters[name] += n;
  }

  error(kind: string, expected = false): void {
    const m = expected ? this.expected : this.errors;
    m.set(kind, (m.get(kind) ?? 0) + 1);
  }

  record(name: HistogramName, ms: number): void {
    recordMs(this.histograms[name], ms);
    if (name === "latency") recordMs(this.window, ms);
  }

  /** Counts a round once per room (`roomKey`) however many local bots receive it. */
  roundSeen(room: string, round: number, steady: boolean): void {
    const last = this.lastRound.get(room);
    if (last !== undefined && round <= last) return;
    this.lastRound.set(room, round);
    let counts = this.rounds.get(room);
    if (counts === undefined) this.rounds.set(room, (counts = [0, 0]));
    counts[0]++;
    if (steady) counts[1]++;
  }

  snapshot(final: boolean): MetricsSnapshot {
    const window = encodeHistogram(this.window);
    this.window = newHistogram();
    return {
      connected: this.connected,
      counters: { ...this.counters },
      errors: Object.fromEntries(this.errors),
      expected: Object.fromEntries(this.expected),
      histograms: perHistogram((h) => (final ? encodeHistogram(this.histograms[h]) : "")),
      window,
      rounds: Object.fromEntries(this.rounds),
      cpu: null,
    };
  }
}

/** A snapshot with nothing in it (a worker process that died before its first one). */
export function emptySnapshot(): MetricsSnapshot {
  return {
    connected: 0,
    counters: zeroCounters(),
    errors: {},
    expected: {},
    histograms: perHistogram(() => ""),
    window: "",
    rounds: {},
    cpu: null,
  };
}

export interface MergedMetrics extends Totals {
  histograms: Record<HistogramName, Histogram>;
  rooms: number;
  /** game process id -> rooms seen on it (one entry per process of a cluster) */
  roomsPerProcess: Record<string, number>;
  /** sum over rooms of distinct rounds (a room seen by two processes counts its rounds once) */
  rounds: number;
  /** the same, in the steady state */
  roundsSteady: number;
  /** the bot processes' CPU over the steady state, summed (null: no process measured one) */
  cpu: BotCpu | null;
}

function addInto(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

export function mergeSnapshots(snaps: readonly MetricsSnapshot[]): MergedMetrics {
  const counters = zeroCounters();
  const errors: Record<string, number> = {};
  const expected: Record<string, number> = {};
  const rounds = new Map<string, [number, number]>();
  let connected = 0;
  let cpu: BotCpu | null = null;
  for (const s of snaps) {
    if (s.cpu) {
      cpu ??= { cpuUs: 0, systemUs: 0, clientRounds: 0, seconds: 0 };
      cpu.cpuUs += s.cpu.cpuUs;
      cpu.systemUs += s.cpu.systemUs;
      cpu.clientRounds += s.cpu.clientRounds;
      cpu.seconds = Math.max(cpu.seconds, s.cpu.seconds);
    }
    connected += s.connected;
    addInto(counters, s.counters);
    addInto(errors, s.errors);
    addInto(expected, s.expected);
    for (const [room, [n, steady]] of Object.entries(s.rounds)) {
      const seen = rounds.get(room) ?? [0, 0];
      rounds.set(room, [Math.max(seen[0], n), Math.max(seen[1], steady)]);
    }
  }
  let totalRounds = 0;
  let steadyRounds = 0;
  const roomsPerProcess: Record<string, number> = {};
  for (const [room, [n, steady]] of rounds) {
    totalRounds += n;
    steadyRounds += steady;
    const slash = room.indexOf("/");
    const processId = slash < 0 ? "?" : room.slice(0, slash);
    roomsPerProcess[processId] = (roomsPerProcess[processId] ?? 0) + 1;
  }
  const histograms = perHistogram((h) => mergeEncoded(snaps.map((s) => s.histograms[h])));
  return {
    connected,
    counters,
    errors,
    expected,
    histograms,
    rooms: rounds.size,
    roomsPerProcess,
    rounds: totalRounds,
    roundsSteady: steadyRounds,
    cpu,
  };
}

export function sumValues(r: Record<string, number>): number {
  let n = 0;
  for (const v of Object.values(r)) n += v;
  return n;
}
