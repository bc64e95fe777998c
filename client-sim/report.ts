/**
 * The final report: built from the merged metrics, printed as a table on stdout and written as
 * JSON (with the encoded histograms, so runs can be merged or re-analysed later) with --json.
 */
import { encodeHistogram, summarize, type LatencySummary } from "./histogram.ts";
import { HISTOGRAMS, perHistogram, sumValues, type HistogramName, type MergedMetrics } from "./metrics.ts";
import type { SimOptions } from "./options.ts";
import { SETTLE_MS } from "./steady-state.ts";

export interface Report {
  config: Omit<SimOptions, "httpUrl" | "verbose" | "allowRemote" | "json">;
  elapsedS: number;
  bots: {
    target: number;
    joined: number;
    withRounds: number;
    withResults: number;
    rejoins: number;
    reconnects: number;
    drops: number;
    left: number;
  };
  rooms: number;
  /** game process id -> rooms on it: a cluster's spread */
  roomsPerProcess: Record<string, number>;
  rounds: number;
  roundsPerS: number;
  /** epoch ms: the run's start, and the start of its steady state (every bot joined; null: never) */
  startAt: number;
  steadyAt: number | null;
  /** rounds per second in the steady state, when every room exists (0 without one) */
  roundsPerSSteady: number;
  intents: { sent: number; resolved: number; superseded: number; lost: number; abandoned: number };
  /** milliseconds */
  latency: Record<HistogramName, LatencySummary>;
  traffic: { messages: number; bytes: number; messagesPerS: number; bytesPerS: number; sdkLogLines: number };
  /**
   * the bot processes' CPU over the steady state (steady-cpu.ts): µs per client-round (a round
   * message reaching a bot) and % of one core; null without a steady state
   */
  botCpu: {
    seconds: number;
    cpuS: number;
    clientRounds: number;
    usPerClientRound: number;
    /** the kernel's part of it */
    systemUsPerClientRound: number;
    corePct: number;
  } | null;
  errors: { total: number; rate: number; byKind: Record<string, number> };
  /** provoked by the scenario on purpose: not part of the rate */
  expected: { total: number; byKind: Record<string, number> };
  /** error rate within --max-error-rate and every worker process finished */
  ok: boolean;
  /** HdrHistogram compressed base64, microseconds */
  histograms: Record<HistogramName, string>;
}

export function buildReport(
  opts: SimOptions,
  m: MergedMetrics,
  startAt: number,
  elapsedS: number,
  steadyAt: number | null,
): Report {
  const c = m.counters;
  const errorsTotal = sumValues(m.errors);
  const rate = errorsTotal / Math.max(1, c.intentsSent + c.joinAttempts);
  const perS = (n: number) => n / Math.max(1e-9, elapsedS);
  const { url, bots, durationS, rampS, rooms, seed, workers, scenario, client, maxErrorRate } = opts;
  return {
    config: { url, bots, durationS, rampS, rooms, seed, workers, scenario, client, maxErrorRate },
    elapsedS,
    bots: {
      target: bots,
      joined: c.joins,
      withRounds: c.botsWithRounds,
      withResults: c.botsWithResults,
      rejoins: c.rejoins,
      reconnects: c.reconnects,
      drops: c.drops,
      left: c.left,
    },
    rooms: m.rooms,
    roomsPerProcess: m.roomsPerProcess,
    rounds: m.rounds,
    roundsPerS: perS(m.rounds),
    startAt,
    steadyAt,
    // the steady state lasts until the bots stop, at the run's end (not while they leave)
    roundsPerSSteady:
      steadyAt === null
        ? 0
        : m.roundsSteady / Math.max(1e-9, Math.min(elapsedS, durationS) - (steadyAt - startAt) / 1000),
    intents: {
      sent: c.intentsSent,
      resolved: c.intentsResolved,
      superseded: c.intentsSuperseded,
      lost: c.intentsLost,
      abandoned: c.intentsAbandoned,
    },
    latency: perHistogram((h) => summarize(m.histograms[h])),
    traffic: {
      messages: c.messages,
      bytes: c.bytes,
      messagesPerS: perS(c.messages),
      bytesPerS: perS(c.bytes),
      sdkLogLines: c.sdkLogLines,
    },
    botCpu:
      m.cpu === null
        ? null
        : {
            seconds: m.cpu.seconds,
            cpuS: m.cpu.cpuUs / 1e6,
            clientRounds: m.cpu.clientRounds,
            usPerClientRound: m.cpu.cpuUs / Math.max(1, m.cpu.clientRounds),
            systemUsPerClientRound: m.cpu.systemUs / Math.max(1, m.cpu.clientRounds),
            corePct: m.cpu.cpuUs / 1e4 / Math.max(1e-9, m.cpu.seconds),
          },
    errors: { total: errorsTotal, rate, byKind: m.errors },
    expected: { total: sumValues(m.expected), byKind: m.expected },
    // a lost worker process lost its share of the measurements: whatever the rate, the run failed
    ok: rate <= maxErrorRate && !Object.keys(m.errors).some((k) => k.startsWith("worker:")),
    histograms: perHistogram((h) => encodeHistogram(m.histograms[h])),
  };
}

const LABELS: Record<HistogramName, string> = {
  latency: "intent -> result",
  steady: "  steady state",
  auth: "guest auth",
  connect: "connect (ws open)",
  join: "join (joined)",
  interval: "round interval",
};

function kinds(r: Record<string, number>): string {
  const entries = Object.entries(r).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? "-" : entries.map(([k, v]) => `${k}=${v}`).join(" ");
}

function bytes(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
}

export function formatReport(r: Report): string {
  const cfg = r.config;
  const num = (x: number) => x.toFixed(1).padStart(9);
  const lines = [
    `client-sim: ${cfg.bots} ${cfg.client} bots, scenario ${cfg.scenario}, ${cfg.durationS}s (ramp ${cfg.rampS}s), rooms ${cfg.rooms}, workers ${cfg.workers}, seed ${cfg.seed}`,
    `target ${cfg.url}   elapsed ${r.elapsedS.toFixed(1)}s`,
    "",
    `bots      joined ${r.bots.joined}/${r.bots.target}  got rounds ${r.bots.withRounds}  got results ${r.bots.withResults}  rejoins ${r.bots.rejoins}  sdk reconnects ${r.bots.reconnects}  drops ${r.bots.drops}  left ${r.bots.left}`,
    `rounds    rooms ${r.rooms}  rounds ${r.rounds}  rounds/s ${r.roundsPerS.toFixed(1)} (steady state ${r.roundsPerSSteady.toFixed(1)})`,
    r.steadyAt === null
      ? `steady    none: not every bot joined, so no intent counts as steady state`
      : `steady    from ${((r.steadyAt - r.startAt) / 1000).toFixed(1)}s (every bot joined, plus ${SETTLE_MS / 1000} s; ramp ${cfg.rampS}s)`,
    `processes ${Object.keys(r.roomsPerProcess).length}  rooms per process ${
      Object.entries(r.roomsPerProcess)
        .map(([p, n]) => `${p} ${n}`)
        .join(", ") || "-"
    }`,
    `intents   sent ${r.intents.sent}  resolved ${r.intents.resolved}  superseded ${r.intents.superseded}  lost ${r.intents.lost}  abandoned ${r.intents.abandoned}`,
    r.botCpu === null
      ? `bots cpu  not measured (no steady state)`
      : `bots cpu  ${r.botCpu.usPerClientRound.toFixed(1)} µs per client-round, ${r.botCpu.systemUsPerClientRound.toFixed(1)} of them in the kernel (${r.botCpu.corePct.toFixed(0)} % of a core over ${r.botCpu.seconds.toFixed(1)} s of steady state, ${r.botCpu.clientRounds} client-rounds)`,
    `traffic   ${r.traffic.messages} messages (${r.traffic.messagesPerS.toFixed(0)}/s)  ${bytes(r.traffic.bytes)} (${bytes(r.traffic.bytesPerS)}/s)`,
    "",
    `${"ms".padEnd(20)}${"count".padStart(9)}${"p50".padStart(9)}${"p90".padStart(9)}${"p99".padStart(9)}${"max".padStart(9)}${"mean".padStart(9)}${"stddev".padStart(9)}`,
    ...HISTOGRAMS.map((h) => {
      const s = r.latency[h];
      return `${LABELS[h].padEnd(20)}${String(s.count).padStart(9)}${num(s.p50)}${num(s.p90)}${num(s.p99)}${num(s.max)}${num(s.mean)}${num(s.stddev)}`;
    }),
    "",
    `errors    ${r.errors.total}  rate ${r.errors.rate.toFixed(4)} (max ${cfg.maxErrorRate})  ${r.ok ? "OK" : "FAIL"}`,
    `          ${kinds(r.errors.byKind)}`,
    `expected  ${r.expected.total}  ${kinds(r.expected.byKind)}`,
  ];
  return lines.join("\n") + "\n";
}
