/**
 * `npm run start:cluster -- --processes N`: scale-out on one machine. Starts a throwaway
 * redis-server (PATH, a free port, no persistence) unless REDIS_URL is given, then, under the
 * supervisor of `npm start` (server/process/supervisor.ts: restart with backoff, prefixed logs,
 * no orphans), the stats service and N game processes on consecutive ports from PORT, each with
 * its own PUBLIC_ADDRESS, all on that Redis with one AUTH_SECRET. Ctrl-C / SIGTERM stops the game
 * processes, then the stats service, then the redis-server it started. SIGHUP is a rolling
 * restart (a deploy): the game processes one at a time, each handing its matches to the others
 * before it stops, the next only once its replacement is up.
 *
 * Errors: a bad flag exits 2; no redis-server binary (and no REDIS_URL), ports that overlap, or a
 * child that cannot be kept up: one clear line, everything started is stopped, exit 1.
 */
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { Backoff } from "../shared/backoff.ts";
import { integer, parseCommandLine, renderHelp, UsageError, type Command } from "../shared/options.ts";
import { createLogger, writeStdout } from "./observability/log.ts";
import { announceReady } from "./process/ready-message.ts";
import { stopOnSignals } from "./process/stop-on-signals.ts";
import { DEFAULT_RESTART_POLICY, supervise, type ChildSpec } from "./process/supervisor.ts";
import { startRedisServer, type RedisServer } from "./process/redis-server.ts";
import { GAME_COMMAND } from "./game/config.ts";
import { STATS_COMMAND } from "./stats/config.ts";

const options = {
  processes: integer({
    flag: "processes",
    env: "CLUSTER_PROCESSES",
    min: 1,
    max: 256,
    default: null,
    defaultText: "one per core",
    help: "game processes, on consecutive ports from PORT",
  }),
  statsReplicas: integer({
    flag: "stats-replicas",
    env: "CLUSTER_STATS_REPLICAS",
    min: 1,
    max: 64,
    default: 1,
    help: "stats service replicas, on consecutive ports from STATS_PORT; more than 1 needs a shared STATS_DB=postgres://…",
  }),
};

export const CLUSTER_COMMAND: Command<typeof options> = {
  usage: "npm run start:cluster -- [--processes N] [--stats-replicas M]     (node server/cluster-main.ts)",
  options,
  notes: [
    "Every game and stats variable (README: Configuration) passes through to the processes. REDIS_URL given: that Redis is used and none is started; unset: a redis-server on a free port, no persistence. AUTH_SECRET unset: one random secret shared by this run's processes.",
  ],
};

const log = createLogger("info", (line) => writeStdout(`[cluster] ${line}`));

/**
 * The stats side of the cluster: `replicas` services on consecutive ports from STATS_PORT
 * (`stats`, or `stats-1` … `stats-M`), started before the game processes, and the STATS_URL the
 * game processes are given (every replica, comma-separated: the stats client balances over them).
 * Replicas are stateless only over one shared database, so more than one needs PostgreSQL.
 * @throws Error when replicas > 1 and STATS_DB is not a postgres:// URL
 */
export function statsChildren(
  env: Record<string, string | undefined>,
  replicas: number,
): { children: ChildSpec[]; statsUrl: string } {
  if (replicas > 1 && !/^postgres(ql)?:\/\//.test(env.STATS_DB ?? "")) {
    throw new Error(
      `--stats-replicas ${replicas} needs STATS_DB=postgres://… (one database the replicas share); with SQLite each replica would keep its own file`,
    );
  }
  const base = Number(env.STATS_PORT);
  const ports = Array.from({ length: replicas }, (_, i) => base + i);
  return {
    children: ports.map((port, i) => ({
      name: replicas === 1 ? "stats" : `stats-${i + 1}`,
      entry: "server/stats/main.ts",
      env: { ...env, STATS_PORT: String(port) },
    })),
    statsUrl: env.STATS_URL ?? ports.map((port) => `ws://127.0.0.1:${port}/rpc`).join(","),
  };
}

/** The game processes: `game-1` … `game-N` on consecutive ports, each advertising its own address. */
export function gameChildren(env: Record<string, string | undefined>, count: number, basePort: number): ChildSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `game-${i + 1}`,
    entry: "server/game/main.ts",
    env: { ...env, PORT: String(basePort + i), PUBLIC_ADDRESS: `127.0.0.1:${basePort + i}` },
  }));
}

let line;
try {
  line = parseCommandLine(CLUSTER_COMMAND, process.argv.slice(2), process.env, parseArgs);
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`${err.message}\n\n${renderHelp(CLUSTER_COMMAND)}`);
  process.exit(2);
}
if (line.help) {
  process.stdout.write(renderHelp(CLUSTER_COMMAND));
  process.exit(0);
}
const count = line.values.processes ?? availableParallelism();

const env: Record<string, string | undefined> = { ...process.env };
env.STATS_PORT ??= String(STATS_COMMAND.options.port.default);
const basePort = Number(env.PORT ?? GAME_COMMAND.options.port.default);
const statsPort = Number(env.STATS_PORT);
const replicas = line.values.statsReplicas;
if (statsPort < basePort + count && basePort < statsPort + replicas) {
  log.error("ports overlap", {
    why: `the game processes take ports ${basePort}..${basePort + count - 1} and the stats replicas ${statsPort}..${statsPort + replicas - 1}; set PORT or STATS_PORT`,
  });
  process.exit(1);
}
let stats: ReturnType<typeof statsChildren>;
try {
  stats = statsChildren(env, replicas);
} catch (err) {
  log.error("cannot start the stats replicas", { why: (err as Error).message });
  process.exit(1);
}
if (!env.AUTH_SECRET) {
  // one cluster, one secret: tokens from any process work on every process
  env.AUTH_SECRET = randomBytes(32).toString("hex");
  log.warn("AUTH_SECRET not set: one random secret for this run's processes (tokens die with it)");
}

let redis: RedisServer | undefined;
if (!env.REDIS_URL) {
  try {
    redis = await startRedisServer();
  } catch (err) {
    log.error("cannot start redis-server", { why: (err as Error).message });
    process.exit(1);
  }
  env.REDIS_URL = redis.url;
  log.info("redis-server started", { url: redis.url, pid: redis.proc.pid });
}

env.STATS_URL = stats.statsUrl;
const supervisor = supervise([...stats.children, ...gameChildren(env, count, basePort)], { log });
const signalled = stopOnSignals(supervisor, log);
// supervision over (stopped or given up): the redis-server we stop next is not to be restarted
let finished = false;
const stopping = () => finished || signalled();

// a redis-server of ours that dies is started again on its port, after the supervisor's backoff
// (full jitter, doubling per failed start, reset once it stayed up); meanwhile the game processes
// keep their rooms playing and refuse joins, and restore their listings when it is back
async function keepRedisUp(first: RedisServer): Promise<void> {
  const backoff = new Backoff(DEFAULT_RESTART_POLICY);
  let server = first;
  for (;;) {
    const upSince = Date.now();
    await server.exited;
    if (stopping()) return;
    if (Date.now() - upSince >= DEFAULT_RESTART_POLICY.minUptimeMs) backoff.reset();
    let delay = backoff.next();
    log.error("redis-server exited; starting it again", { port: server.port, restartInMs: delay });
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (stopping()) return;
      try {
        server = redis = await startRedisServer({ port: server.port });
        log.info("redis-server started", { url: server.url, pid: server.proc.pid });
        break;
      } catch (err) {
        if (stopping()) return;
        delay = backoff.next();
        log.error("redis-server restart failed", { why: (err as Error).message, retryInMs: delay });
      }
    }
  }
}
if (redis) void keepRedisUp(redis);

// SIGHUP: a deploy without ending a match. Each game process stops gracefully (its rooms handed
// over to the others, their players told to reconnect), is started again, and said ready before
// the next one goes; a second SIGHUP meanwhile is ignored.
let rolling = false;
process.on("SIGHUP", () => {
  if (rolling || stopping()) return;
  rolling = true;
  void (async () => {
    const names = gameChildren(env, count, basePort).map((c) => c.name);
    log.info("rolling restart", { processes: names.length });
    try {
      for (const name of names) {
        await supervisor.restart(name);
        log.info("rolling restart: process back", { child: name });
      }
      log.info("rolling restart done", { processes: names.length });
    } catch (err) {
      log.error("rolling restart stopped", { why: (err as Error).message });
    } finally {
      rolling = false;
    }
  })();
});

supervisor.ready.then(
  (ports) => {
    const games = Object.entries(ports).filter(([name]) => name.startsWith("game-"));
    log.info("skirmish cluster is up", {
      redis: env.REDIS_URL,
      stats: env.STATS_URL,
      games: games.map(([, port]) => `ws://127.0.0.1:${port}`),
      play: `http://127.0.0.1:${games[0][1]}/`,
      bots: `npm run sim -- --url ws://127.0.0.1:${games[0][1]} --bots 200 --duration 30`,
    });
    announceReady(games[0][1]);
  },
  () => {}, // supervision ended first: `done` says why
);

let code = 0;
try {
  await supervisor.done;
} catch (err) {
  log.error("gave up", { why: (err as Error).message });
  code = 1;
}
finished = true;
await redis?.stop();
log.info("stopped");
process.exit(code);
