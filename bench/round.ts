/**
 * `npm run bench:round`: latency of one combat round (spawn -> join -> resolve -> encode of the
 * broadcast) with the real runtime, the real StatsClient (RPC) and the real stats service in a
 * child process that adds 50 ms to every answer, for N = 8, 64, 256, 1000 entities: concurrent
 * (the game's round: one child per entity, allSettled) next to sequential (one fetch at a time,
 * also through the runtime). Medians of --rounds rounds after a warm-up. Sequential rounds are
 * bounded by a time budget per N (--seq-budget-ms): beyond it the join is extrapolated from the fetches measured
 * (marked ~). Goal: at N = 1000 the concurrent join is about one latency, <= 1.2 x (50 ms + compute),
 * compute being resolve+encode plus the join's own work (the same join with no added latency).
 */
import { Packr } from "msgpackr";
import { call, run, type Operation } from "../server/runtime/index.ts";
import { createStatsClient, type StatsClient } from "../server/stats/client.ts";
import {
  callName,
  combatRound,
  lookUpFallbacks,
  resolvePlanned,
  roundMessage,
  type RoundOutcome,
  type RoundPlan,
  type RoundSources,
} from "../server/game/round/combat-round.ts";
import type { PlayerStats } from "../shared/stats.ts";
import { compareIds } from "../shared/combat.ts";
import { integer, type Command, type OptionValues } from "../shared/options.ts";
import { readCommandLine } from "./command-line.ts";
import { startServiceProcess, TOKEN } from "./stats.ts";
import { median } from "./median.ts";

const LATENCY_MS = 50;
const SIZES = [8, 64, 256, 1000];

const options = {
  rounds: integer({
    flag: "rounds",
    env: "BENCH_ROUND_ROUNDS",
    min: 1,
    max: 1000,
    default: 9,
    help: "concurrent rounds measured per N (after one warm-up), the medians' sample",
  }),
  seqBudgetMs: integer({
    flag: "seq-budget-ms",
    env: "BENCH_ROUND_SEQ_BUDGET_MS",
    min: 100,
    max: 600_000,
    default: 12_000,
    help: "time the sequential rounds may take per N; beyond it their join is extrapolated (~)",
  }),
};
export const ROUND_COMMAND: Command<typeof options> = { usage: "npm run bench:round -- [flags]", options };
export type RoundBenchOptions = OptionValues<typeof options>;
// room.broadcast encodes with msgpackr, records off: the same here
const packr = new Packr({ useRecords: false });

async function setLatency(httpUrl: string, latencyMs: number): Promise<void> {
  const res = await fetch(`${httpUrl}/admin/faults`, {
    method: "PUT",
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ latencyMs }),
  });
  if (res.status !== 200) throw new Error(`PUT /admin/faults: ${res.status} ${await res.text()}`);
}

function planFor(n: number, round: number): RoundPlan {
  const ids = Array.from({ length: n }, (_, i) => `p_bench_${String(i).padStart(4, "0")}`);
  return {
    seed: 0x5eed,
    round,
    deadlineMs: 5_000,
    entities: ids.map((id, i) => ({
      id,
      hp: 100,
      maxHp: 100,
      alive: true,
      respawnIn: 0,
      charge: 0,
      intent:
        i % 5 === 0
          ? { seq: round, action: "defend" as const }
          : { seq: round, action: "attack" as const, target: ids[(i + 1) % n] },
    })),
  };
}

function sourcesFor(client: StatsClient): RoundSources {
  return {
    fetch: (id, signal, deadlineMs) => client.get(id, { signal, deadlineMs }),
    lastKnownGood: (id) => client.lastKnownGood(id),
    now: () => performance.now(),
  };
}

/** The same round, fetching one entity at a time (at most `limit` fetches). */
function* sequentialRound(
  plan: RoundPlan,
  sources: RoundSources,
  limit: number,
): Operation<RoundOutcome & { fetchedCount: number }> {
  const started = sources.now();
  const fetched = new Map<string, PlayerStats>();
  const failures: { id: string; reason: string }[] = [];
  for (const e of plan.entities.slice(0, limit)) {
    try {
      fetched.set(
        e.id,
        yield* call(callName(e.id), (signal: AbortSignal) => sources.fetch(e.id, signal, plan.deadlineMs)),
      );
    } catch (err) {
      failures.push({ id: e.id, reason: (err as Error).name });
    }
  }
  const got = { fetched, failures, joinMs: sources.now() - started };
  const living = plan.entities.map((e) => e.id).sort(compareIds);
  const outcome = resolvePlanned(plan, got, yield* lookUpFallbacks(living, got, sources));
  return { ...outcome, fetchedCount: fetched.size };
}

function encodeBroadcast(o: RoundOutcome): Uint8Array {
  return packr.pack(roundMessage(o.input.round, o));
}

interface Row {
  n: number;
  /** the same concurrent round against the service without added latency: the join's own work */
  zeroJoin: number;
  concJoin: number;
  concRound: number;
  compute: number;
  seqJoin: number;
  seqRound: number;
  extrapolated: boolean;
  failures: number;
}

export async function benchRound({ rounds, seqBudgetMs }: RoundBenchOptions): Promise<string> {
  const svc = await startServiceProcess(["--latency-ms", String(LATENCY_MS)]);
  const httpUrl = `http://127.0.0.1:${svc.port}`;
  const client = createStatsClient(`ws://127.0.0.1:${svc.port}/rpc`, { token: TOKEN, deadlineMs: 5_000 });
  const sources = sourcesFor(client);
  const rows: Row[] = [];
  try {
    await client.get("p_bench_warmup");
    let round = 1;
    for (const n of SIZES) {
      let failures = 0;
      const concurrent = async (count: number) => {
        const joins: number[] = [];
        const totals: number[] = [];
        for (let r = 0; r < count + 1; r++) {
          const plan = planFor(n, round++);
          const t0 = performance.now();
          const outcome = await run(() => combatRound(plan, sources), { name: `bench:${n}:${r}` });
          encodeBroadcast(outcome);
          const total = performance.now() - t0;
          failures += outcome.failures.length;
          if (r === 0) continue; // warm-up
          joins.push(outcome.joinMs);
          totals.push(total);
        }
        return { joins, totals };
      };
      await setLatency(httpUrl, 0);
      const zero = await concurrent(rounds);
      await setLatency(httpUrl, LATENCY_MS);
      const { joins, totals } = await concurrent(rounds);
      const concJoin = median(joins);
      const concRound = median(totals);
      const compute = Math.max(0, concRound - concJoin);

      // sequential: whole rounds while they fit the budget, else a measured prefix, extrapolated
      const perFetchGuess = LATENCY_MS + 2;
      const limit = Math.max(4, Math.min(n, Math.floor(seqBudgetMs / perFetchGuess)));
      const seqRounds = n * perFetchGuess * 3 <= seqBudgetMs ? 3 : 1;
      const seqJoins: number[] = [];
      const seqTotals: number[] = [];
      for (let r = 0; r < seqRounds; r++) {
        const plan = planFor(n, round++);
        const t0 = performance.now();
        const outcome = await run(() => sequentialRound(plan, sources, limit), { name: `bench-seq:${n}:${r}` });
        encodeBroadcast(outcome);
        const total = performance.now() - t0;
        failures += outcome.failures.length;
        const scale = n / outcome.fetchedCount;
        seqJoins.push(outcome.joinMs * scale);
        seqTotals.push(total - outcome.joinMs + outcome.joinMs * scale);
      }
      rows.push({
        n,
        zeroJoin: median(zero.joins),
        concJoin,
        concRound,
        compute,
        seqJoin: median(seqJoins),
        seqRound: median(seqTotals),
        extrapolated: limit < n,
        failures,
      });
      process.stderr.write(`round bench: N=${n} done\n`);
    }
  } finally {
    await client.close();
    await svc.stop();
  }

  const f = (x: number) => x.toFixed(1);
  const lines = [
    `Round latency, stats service in a child process with ${LATENCY_MS} ms added latency; medians of ${rounds} rounds (ms).`,
    `round = spawn -> join -> resolve -> msgpackr encode of the broadcast; compute = round - join.`,
    ``,
    `| N | concurrent join | concurrent round | compute | join at 0 ms | sequential join | sequential round | seq/conc (round) | join / ${LATENCY_MS} ms |`,
    `|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
  ];
  for (const r of rows) {
    const t = r.extrapolated ? "~" : "";
    lines.push(
      `| ${r.n} | ${f(r.concJoin)} | ${f(r.concRound)} | ${f(r.compute)} | ${f(r.zeroJoin)} | ${t}${f(r.seqJoin)} | ${t}${f(r.seqRound)} | ${t}${(r.seqRound / r.concRound).toFixed(1)}x | ${(r.concJoin / LATENCY_MS).toFixed(2)} |`,
    );
  }
  const big = rows.find((r) => r.n === 1000);
  if (big) {
    const work = big.compute + big.zeroJoin;
    const bound = 1.2 * (LATENCY_MS + work);
    lines.push(
      ``,
      `Goal at N = 1000: concurrent join ${f(big.concJoin)} ms <= 1.2 x (${LATENCY_MS} + compute ${f(work)}) = ${f(bound)} ms: ${big.concJoin <= bound ? "met" : "NOT met"}`,
      `(compute = resolve+encode ${f(big.compute)} ms + the join's own work, i.e. the join against the service without added latency, ${f(big.zeroJoin)} ms:`,
      ` 1000 ids through the client, one batch frame, the service's lookups and reply, 1000 coroutines resumed).`,
    );
  }
  if (rows.some((r) => r.extrapolated))
    lines.push(`~ sequential join extrapolated from the fetches that fit a ${seqBudgetMs / 1000} s budget.`);
  const failed = rows.reduce((s, r) => s + r.failures, 0);
  if (failed > 0) lines.push(`${failed} fetches failed during the run (stale/absent in those rounds).`);
  return lines.join("\n");
}

if (import.meta.main) {
  console.log(await benchRound(readCommandLine(ROUND_COMMAND)));
}
