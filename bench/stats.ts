/**
 * `npm run bench:stats`: stat fetches per second and p50/p99 latency of the real StatsClient
 * against the real stats service running in a separate child process, at concurrency 1, 64 and
 * 512, for RPC with batching, RPC without batching, and HTTP keep-alive (Node's fetch), side by
 * side in one run. Each cell runs SLICES slices of --slice-ms after a warm-up; fetches/s is the
 * median slice, latencies are over all samples of the cell. CPU is measured for both processes:
 * this one through process.cpuUsage(), the service through its /metrics.
 *
 * Then, in the same run, the stores and replicas: RPC batched at concurrency 64 and 512 against
 * the SQLite store, the PostgreSQL store behind one replica, and behind two replicas (one client
 * balancing over both), PostgreSQL started for the run (test/postgres-server.ts; skipped with one
 * line when it is not installed).
 */
import { createStatsClient, type StatsClient } from "../server/stats/client.ts";
import { POSTGRES_MISSING, postgresBinDir, startPostgres } from "../test/postgres-server.ts";
import { median } from "./median.ts";
import { spawnReady, type ReadyProcess } from "../server/process/spawn-ready.ts";
import { integer, type Command, type OptionValues } from "../shared/options.ts";
import { readCommandLine } from "./command-line.ts";

const SLICES = 3;
const WARMUP_MS = 300;
const CONCURRENCY = [1, 64, 512];
const STORE_CONCURRENCY = [64, 512];
const IDS = Array.from({ length: 10_000 }, (_, i) => `p_bench_${i}`);
export const TOKEN = "bench-token";

interface Mode {
  name: string;
  url: (svc: ReadyProcess) => string;
  batch: boolean;
}
/** One column of the stores table: the replicas it runs on and the client's STATS_URL over them. */
interface Setup {
  name: string;
  services: ReadyProcess[];
  url: string;
}
interface Cell {
  mode: string;
  concurrency: number;
  perSec: number;
  p50: number;
  p99: number;
  clientCpuUs: number; // per fetch
  serviceCpuUs: number; // per fetch
  errors: number;
}

/** The stats service as a child process (in-memory store, TOKEN); `extraArgs` go to its command line. */
export function startServiceProcess(extraArgs: string[] = []): Promise<ReadyProcess> {
  return spawnReady("server/stats/main.ts", {
    args: ["--port", "0", "--db", ":memory:", "--token", TOKEN, ...extraArgs],
    onLine: (line, stream) => {
      if (stream === "stderr") process.stderr.write(line + "\n");
    },
  });
}

async function serviceCpuSeconds(svc: ReadyProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${svc.port}/metrics`)).text();
  let total = 0;
  for (const m of text.matchAll(/^process_cpu_(?:user|system)_seconds_total ([0-9.e+-]+)$/gm)) total += Number(m[1]);
  return total;
}

/** `concurrency` loops, each awaiting one get after another, until `ms` has passed. */
async function drive(client: StatsClient, concurrency: number, ms: number, samples: number[] | undefined) {
  let next = 0;
  let done = 0;
  let errors = 0;
  const end = performance.now() + ms;
  const worker = async () => {
    while (performance.now() < end) {
      const id = IDS[next++ % IDS.length];
      const t0 = performance.now();
      try {
        await client.get(id, { deadlineMs: 5000 });
        samples?.push(performance.now() - t0);
        done++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { done, errors };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

async function serviceCpu(services: ReadyProcess[]): Promise<number> {
  let total = 0;
  for (const s of services) total += await serviceCpuSeconds(s);
  return total;
}

/** Waits for /healthz 200: a PostgreSQL replica is ready (listening) before its store is open. */
async function storeReady(svc: ReadyProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await fetch(`http://127.0.0.1:${svc.port}/healthz`)).status === 200) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`stats replica on port ${svc.port} not ready within 30 s`);
}

async function runCell(
  services: ReadyProcess[],
  url: string,
  name: string,
  batch: boolean,
  concurrency: number,
  sliceMs: number,
): Promise<Cell> {
  const client = createStatsClient(url, { token: TOKEN, batch, deadlineMs: 5000 });
  try {
    await drive(client, concurrency, WARMUP_MS, undefined);
    const samples: number[] = [];
    const rates: number[] = [];
    let errors = 0;
    let fetches = 0;
    const cpu0 = process.cpuUsage();
    const svcCpu0 = await serviceCpu(services);
    for (let i = 0; i < SLICES; i++) {
      const t0 = performance.now();
      const r = await drive(client, concurrency, sliceMs, samples);
      rates.push(r.done / ((performance.now() - t0) / 1000));
      errors += r.errors;
      fetches += r.done;
    }
    const cpu = process.cpuUsage(cpu0);
    const svcCpu = (await serviceCpu(services)) - svcCpu0;
    const sorted = Float64Array.from(samples).sort();
    return {
      mode: name,
      concurrency,
      perSec: median(rates),
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      clientCpuUs: (cpu.user + cpu.system) / Math.max(1, fetches),
      serviceCpuUs: (svcCpu * 1e6) / Math.max(1, fetches),
      errors,
    };
  } finally {
    await client.close();
  }
}

const MODES: Mode[] = [
  { name: "RPC batched", url: (s) => `ws://127.0.0.1:${s.port}/rpc`, batch: true },
  { name: "RPC single", url: (s) => `ws://127.0.0.1:${s.port}/rpc`, batch: false },
  { name: "HTTP keep-alive", url: (s) => `http://127.0.0.1:${s.port}`, batch: false },
];

const options = {
  sliceMs: integer({
    flag: "slice-ms",
    env: "BENCH_SLICE_MS",
    min: 50,
    max: 60_000,
    default: 1000,
    help: "length of one measured slice (each cell: a warm-up, then 3 slices)",
  }),
};
export const STATS_BENCH_COMMAND: Command<typeof options> = { usage: "npm run bench:stats -- [flags]", options };
export type StatsBenchOptions = OptionValues<typeof options>;

export async function benchStats({ sliceMs }: StatsBenchOptions): Promise<string> {
  const svc = await startServiceProcess();
  const cells: Cell[] = [];
  try {
    // fill the service's store and cache once, so every mode reads the same warm data
    const filler = createStatsClient(`ws://127.0.0.1:${svc.port}/rpc`, { token: TOKEN });
    await Promise.all(IDS.map((id) => filler.get(id, { deadlineMs: 10_000 })));
    await filler.close();
    for (const concurrency of CONCURRENCY) {
      for (const mode of MODES) {
        const cell = await runCell([svc], mode.url(svc), mode.name, mode.batch, concurrency, sliceMs);
        cells.push(cell);
        console.error(
          `  ${mode.name.padEnd(16)} c=${String(concurrency).padEnd(4)} ${Math.round(cell.perSec)} fetches/s`,
        );
      }
    }
  } finally {
    await svc.stop();
  }
  const lines = [
    `Stats fetches: real StatsClient -> stats service (separate process, :memory: store, warm cache), ` +
      `${SLICES} x ${sliceMs} ms per cell after ${WARMUP_MS} ms warm-up; fetches/s = median slice.`,
    ``,
    ...cellTable("transport", cells),
    ``,
    `Ratios (fetches/s vs HTTP keep-alive at the same concurrency):`,
    ``,
    `| concurrency | RPC batched / HTTP | RPC single / HTTP | RPC batched / RPC single |`,
    `| ---: | ---: | ---: | ---: |`,
  ];
  for (const c of CONCURRENCY) {
    const rate = (m: string) => cells.find((x) => x.mode === m && x.concurrency === c)!.perSec;
    const b = rate("RPC batched");
    const s = rate("RPC single");
    const h = rate("HTTP keep-alive");
    lines.push(`| ${c} | ${fixed(b / h, 1)}x | ${fixed(s / h, 1)}x | ${fixed(b / s, 1)}x |`);
  }
  lines.push("", await benchStores(sliceMs));
  return lines.join("\n");
}

const fixed = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : "-");

/** One markdown row per cell, under a header naming the first column. */
function cellTable(first: string, cells: Cell[]): string[] {
  return [
    `| ${first} | concurrency | fetches/s | p50 ms | p99 ms | client CPU µs/fetch | service CPU µs/fetch | errors |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ...cells.map(
      (c) =>
        `| ${c.mode} | ${c.concurrency} | ${Math.round(c.perSec).toLocaleString("en-US")} | ${fixed(c.p50, 3)} | ${fixed(c.p99, 3)} | ` +
        `${fixed(c.clientCpuUs, 1)} | ${fixed(c.serviceCpuUs, 1)} | ${c.errors} |`,
    ),
  ];
}

/** The stores table: SQLite vs PostgreSQL behind 1 and 2 replicas, RPC batched. */
async function benchStores(sliceMs: number): Promise<string> {
  const bin = postgresBinDir();
  if (bin === undefined) return `Stores: PostgreSQL rows skipped: ${POSTGRES_MISSING}`;
  const pg = await startPostgres(bin);
  const started: ReadyProcess[] = [];
  const cells: Cell[] = [];
  try {
    const sqlite = await startServiceProcess();
    started.push(sqlite);
    const [a, b] = await Promise.all([0, 1].map(() => startServiceProcess(["--db", pg.url, "--pool-size", "10"])));
    started.push(a, b);
    await Promise.all([a, b].map(storeReady));
    const rpc = (s: ReadyProcess) => `ws://127.0.0.1:${s.port}/rpc`;
    const setups: Setup[] = [
      { name: "SQLite (:memory:, cache)", services: [sqlite], url: rpc(sqlite) },
      { name: "PostgreSQL, 1 replica", services: [a], url: rpc(a) },
      { name: "PostgreSQL, 2 replicas", services: [a, b], url: `${rpc(a)},${rpc(b)}` },
    ];
    for (const setup of setups.slice(0, 2)) {
      // every id exists before timing: reads, not first-read inserts
      // in chunks, retried: on a busy machine a first PostgreSQL connect can exceed its bound
      const filler = createStatsClient(setup.url, { token: TOKEN });
      for (let at = 0; at < IDS.length; at += 1000) {
        const chunk = IDS.slice(at, at + 1000);
        for (let attempt = 1; ; attempt++) {
          const failed = (await Promise.allSettled(chunk.map((id) => filler.get(id, { deadlineMs: 30_000 })))).filter(
            (r) => r.status === "rejected",
          );
          if (failed.length === 0) break;
          if (attempt === 5) throw (failed[0] as PromiseRejectedResult).reason;
        }
      }
      await filler.close();
    }
    for (const concurrency of STORE_CONCURRENCY) {
      for (const setup of setups) {
        const cell = await runCell(setup.services, setup.url, setup.name, true, concurrency, sliceMs);
        cells.push(cell);
        console.error(
          `  ${setup.name.padEnd(24)} c=${String(concurrency).padEnd(4)} ${Math.round(cell.perSec)} fetches/s`,
        );
      }
    }
  } finally {
    for (const s of started) await s.stop();
    await pg.stop();
  }
  const rate = (m: string, c: number) => cells.find((x) => x.mode === m && x.concurrency === c)!.perSec;
  return [
    `Stores and replicas: RPC batched, same client and ids; PostgreSQL local to this run (fsync off), ` +
      `pool 10 per replica, no cache in front; service CPU sums the replicas (PostgreSQL's own CPU not counted).`,
    ``,
    ...cellTable("store", cells),
    ``,
    `| concurrency | PostgreSQL / SQLite | 2 replicas / 1 replica |`,
    `| ---: | ---: | ---: |`,
    ...STORE_CONCURRENCY.map((c) => {
      const one = rate("PostgreSQL, 1 replica", c);
      return `| ${c} | ${fixed(one / rate("SQLite (:memory:, cache)", c))}x | ${fixed(rate("PostgreSQL, 2 replicas", c) / one)}x |`;
    }),
  ].join("\n");
}

if (import.meta.main) {
  console.log(await benchStats(readCommandLine(STATS_BENCH_COMMAND)));
}
