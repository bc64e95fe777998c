/**
 * `npm run bench:scale-out`: the same fixed load (--bots, default 400, for --seconds, default 15;
 * or BENCH_SCALE_CCU, BENCH_SCALE_S) against three set-ups, side by side in one run:
 *
 *   local    one game process, local presence (today's `npm start`)
 *   redis-1  one game process on Redis (RedisPresence + RedisDriver)
 *   redis-2  two game processes on Redis; the bots ask process 1, matchmaking spreads the rooms
 *
 * Per set-up: CPU % and rooms of each game process (process_cpu_seconds_total from its /metrics,
 * rooms from the bots' seats), p50/p99 intent -> result in the steady state (every bot joined), and join latency (the
 * SDK's joinOrCreate: matchmaking + connect), local vs through Redis. Bots share the machine's
 * cores with the servers: on a 2-core machine the per-process CPU, not the latency, is the figure.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../server/process/free-port.ts";
import { spawnReady, type ReadyProcess } from "../server/process/spawn-ready.ts";
import { startRedisServer, type RedisServer } from "../server/process/redis-server.ts";
import { CLIENT_KINDS } from "../client-sim/seat.ts";
import { integer, oneOf, type Command, type OptionValues } from "../shared/options.ts";
import { runSim } from "./capacity.ts";
import { readCommandLine } from "./command-line.ts";

const options = {
  bots: integer({
    flag: "bots",
    env: "BENCH_SCALE_CCU",
    min: 1,
    max: 100_000,
    default: 400,
    help: "bots of the fixed load each set-up carries",
  }),
  seconds: integer({
    flag: "seconds",
    env: "BENCH_SCALE_S",
    min: 1,
    max: 3600,
    default: 15,
    help: "how long each set-up carries the load, ramp included",
  }),
  client: oneOf(CLIENT_KINDS, {
    flag: "client",
    env: "BENCH_SCALE_CLIENT",
    default: "sdk",
    help: "the bots' client (client-sim --client sdk|thin)",
  }),
};
export const SCALE_OUT_COMMAND: Command<typeof options> = { usage: "npm run bench:scale-out -- [flags]", options };
export type ScaleOutOptions = OptionValues<typeof options>;

/** joins are the expensive part: at most 200 bots start per second */
const rampOf = (bots: number) => Math.max(4, Math.ceil(bots / 200));
const STATS_TOKEN = "scale-out-bench-token";
const AUTH_SECRET = "scale-out-bench-secret";

interface Setup {
  name: string;
  processes: number;
  redis: boolean;
}

const SETUPS: Setup[] = [
  { name: "local", processes: 1, redis: false },
  { name: "redis-1", processes: 1, redis: true },
  { name: "redis-2", processes: 2, redis: true },
];

interface Row {
  setup: string;
  ccu: number;
  perProcess: { cpuPct: number; rooms: number }[];
  p50: number;
  p99: number;
  joinP50: number;
  joinP99: number;
  errors: number;
}

/** process_cpu_seconds_total of one game process (prom-client's default metric). */
async function cpuSeconds(httpUrl: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const m = /^process_cpu_seconds_total(?:\{[^}]*\})? ([0-9.e+-]+)$/m.exec(text);
  return m ? Number(m[1]) : NaN;
}

async function measure(
  setup: Setup,
  statsUrl: string,
  redis: RedisServer | undefined,
  dir: string,
  { bots, seconds, client }: ScaleOutOptions,
): Promise<Row> {
  const games: ReadyProcess[] = [];
  try {
    for (let i = 0; i < setup.processes; i++) {
      const port = await freePort();
      games.push(
        await spawnReady("server/game/main.ts", {
          env: {
            PORT: String(port),
            STATS_URL: statsUrl,
            STATS_TOKEN,
            AUTH_SECRET,
            LOG_LEVEL: "warn",
            SUMMARY_EVERY_S: "0",
            JOURNAL_PATH: join(dir, `${setup.name}-${i}.db`),
            REDIS_URL: setup.redis ? redis!.url : undefined,
          },
        }),
      );
    }
    const urls = games.map((g) => `http://127.0.0.1:${g.port}`);
    const cpuBefore = await Promise.all(urls.map(cpuSeconds));
    const t0 = performance.now();
    const run = await runSim(
      [
        "--url",
        `ws://127.0.0.1:${games[0].port}`,
        "--bots",
        String(bots),
        "--duration",
        String(seconds),
        "--ramp",
        String(rampOf(bots)),
        "--client",
        client,
      ],
      (seconds + 120) * 1000,
    );
    const elapsedS = (performance.now() - t0) / 1000;
    const cpuAfter = await Promise.all(urls.map(cpuSeconds));
    const r = run.report;
    if (!r) throw new Error(`client-sim wrote no report (exit ${run.code}):\n${run.stderr.slice(-2000)}`);
    // the sim names processes by id; the bench knows them by start order: match through /healthz
    const ids = await Promise.all(
      urls.map(async (u) => ((await (await fetch(`${u}/healthz`)).json()) as { process: string }).process),
    );
    return {
      setup: setup.name,
      ccu: r.bots.joined,
      perProcess: ids.map((id, i) => ({
        cpuPct: (100 * (cpuAfter[i] - cpuBefore[i])) / elapsedS,
        rooms: r.roomsPerProcess[id] ?? 0,
      })),
      p50: r.latency.steady.p50,
      p99: r.latency.steady.p99,
      joinP50: r.latency.join.p50,
      joinP99: r.latency.join.p99,
      errors: r.errors.total,
    };
  } finally {
    for (const g of games.reverse()) await g.stop("SIGTERM", 10_000);
  }
}

function formatTable(rows: Row[], { bots, seconds, client }: ScaleOutOptions): string {
  const local = rows.find((r) => r.setup === "local");
  const lines = [
    `${bots} ${client} bots (client-sim --client ${client}) for ${seconds} s (ramp ${rampOf(bots)} s) per set-up; bots and servers share this machine's cores`,
    "",
    "| set-up | CCU | CPU % per game process | rooms per game process | p50 ms | p99 ms | join p50 ms | join p99 ms | join p50 vs local | errors |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const ratio = local && local.joinP50 > 0 ? `${(r.joinP50 / local.joinP50).toFixed(2)}x` : "-";
    lines.push(
      `| ${r.setup} | ${r.ccu} | ${r.perProcess.map((p) => p.cpuPct.toFixed(0)).join(" / ")} | ${r.perProcess.map((p) => p.rooms).join(" / ")} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.joinP50.toFixed(1)} | ${r.joinP99.toFixed(1)} | ${ratio} | ${r.errors} |`,
    );
  }
  return lines.join("\n");
}

export async function benchScaleOut(load: ScaleOutOptions): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "skirmish-scale-out-"));
  let redis: RedisServer | undefined;
  let stats: ReadyProcess | undefined;
  try {
    redis = await startRedisServer();
    stats = await spawnReady("server/stats/main.ts", {
      env: { STATS_PORT: "0", STATS_DB: join(dir, "stats.db"), STATS_TOKEN },
    });
    const statsUrl = `ws://127.0.0.1:${stats.port}/rpc`;
    const rows: Row[] = [];
    for (const setup of SETUPS) {
      process.stderr.write(`scale-out: ${setup.name}...\n`);
      rows.push(await measure(setup, statsUrl, redis, dir, load));
    }
    return formatTable(rows, load);
  } finally {
    await stats?.stop("SIGTERM", 10_000);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  process.stdout.write((await benchScaleOut(readCommandLine(SCALE_OUT_COMMAND))) + "\n");
}
