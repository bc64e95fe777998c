/**
 * Shared by the cluster suites: a real redis-server (skipped, with one line naming the Debian
 * package, when the binary is missing; a failure under CI), real game processes
 * (server/game/main.ts) and seat reservations taken through a chosen process with the real SDK.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { afterAll, beforeAll, describe } from "vitest";
import { Client, type Room } from "@colyseus/sdk";
import { Redis } from "ioredis";
import { ROOM_NAME } from "../../shared/protocol.ts";
import type { StatsService } from "../../server/stats/service.ts";
import { freePort } from "../../server/process/free-port.ts";
import {
  findRedisServer,
  REDIS_PACKAGE,
  startRedisServer,
  type RedisServer,
} from "../../server/process/redis-server.ts";
import { spawnReady, type ExitStatus } from "../../server/process/spawn-ready.ts";
import { DEFAULT_CONFIG } from "../../server/game/config.ts";
import { journalPathOf } from "../../server/game/journal/round-journal.ts";
import { AUTH_SECRET, STATS_TOKEN, startStats } from "../game/helpers.ts";
import { prerequisite } from "../prerequisite.ts";

/** `describe`, or `describe.skip` with one line naming the package when redis-server is missing (a failure under CI). */
export function describeWithRedis(name: string, body: () => void): void {
  const here = prerequisite(
    findRedisServer() !== undefined,
    `"${name}": redis-server not found (Debian package ${REDIS_PACKAGE})`,
  );
  describe.skipIf(!here)(name, body);
}

export interface GameProc {
  child: ChildProcess;
  port: number;
  processId: string;
  url: string;
  httpUrl: string;
  journal: string;
  lines: string[];
  exited: Promise<ExitStatus>;
}

/** Fast rounds (80 ms) and quiet logs; `env` adds to / overrides them. */
export function gameEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AUTH_SECRET,
    STATS_TOKEN,
    TICK_HZ: "50",
    ROUND_TICKS: "4",
    ROUND_DEADLINE_MS: "60",
    LOG_LEVEL: "info",
    SUMMARY_EVERY_S: "0",
    ...env,
  };
}

/**
 * Starts server/game/main.ts and waits for its ready message; its process id comes from its
 * /healthz, and its journal is the file a clustered process writes (`journalPathOf`).
 */
export async function startGameProc(env: NodeJS.ProcessEnv, children: ChildProcess[]): Promise<GameProc> {
  const lines: string[] = [];
  const ready = await spawnReady("server/game/main.ts", { env, onLine: (line) => lines.push(line), timeoutMs: 90_000 });
  children.push(ready.proc);
  const httpUrl = `http://127.0.0.1:${ready.port}`;
  const { process: processId } = (await (await fetch(`${httpUrl}/healthz`)).json()) as { process: string };
  return {
    child: ready.proc,
    port: ready.port,
    processId,
    url: `ws://127.0.0.1:${ready.port}`,
    httpUrl,
    journal: journalPathOf(env.JOURNAL_PATH ?? DEFAULT_CONFIG.journalPath, processId),
    lines,
    exited: ready.exited,
  };
}

export interface SeatReservation {
  name: string;
  sessionId: string;
  roomId: string;
  processId: string;
  publicAddress?: string;
}

/** Asks `via` for a seat (the SDK's own HTTP call); rejects with the server's message. */
export async function reserve(
  via: { url: string },
  token: string,
  method: "joinOrCreate" | "create" | "joinById" = "joinOrCreate",
  roomId?: string,
): Promise<SeatReservation> {
  const client = new Client(via.url);
  const path = method === "joinById" ? `/matchmake/joinById/${roomId}` : `/matchmake/${method}/${ROOM_NAME}`;
  const res = await client.http.post(path, {
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    body: { token },
  });
  return res.data as unknown as SeatReservation;
}

/** Takes a reserved seat: the SDK connects to the reservation's publicAddress, wherever the room lives. */
export function consume(via: { url: string }, reservation: SeatReservation): Promise<Room> {
  return new Client(via.url).consumeSeatReservation(reservation as never);
}

/** SIGTERM to every child still running, then waits for all of them to exit. */
export async function stopChildren(children: ChildProcess[]): Promise<void> {
  const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
  for (const c of running) c.kill("SIGTERM");
  await Promise.all(
    running.map((c) =>
      c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once("exit", r)) : undefined,
    ),
  );
}

/** What a cluster suite runs on; the fields are set once its beforeAll has run. */
export interface Cluster {
  /** a temp dir for the processes' journals (`journalPath`), deleted at the end */
  readonly dir: string;
  readonly journalPath: string;
  readonly children: ChildProcess[];
  redis: RedisServer;
  stats: StatsService;
  /** a Redis client of the test's own, for reading and writing what the processes keep there */
  probe: Redis;
  /** a game process on this Redis, stats service and journal path, on a free port; `env` adds to / overrides gameEnv */
  startGame(env?: Record<string, string>): Promise<GameProc>;
  /** redis-server again on its port (after `redis.kill()`), with a new probe */
  restartRedis(): Promise<void>;
  /** the rooms of every process, as each last wrote its count to Redis (Colyseus: at most once a second) */
  roomsCounted(): Promise<number>;
}

/**
 * Registers a cluster suite's setup and teardown (call it inside describeWithRedis's body, before
 * the suite's own hooks): a redis-server, an in-process stats service and a probe before, and after
 * (once the suite's own afterAll hooks ran) every game process stopped, Redis and stats stopped,
 * the temp dir deleted.
 */
export function clusterFixture(name: string): Cluster {
  const dir = mkdtempSync(joinPath(tmpdir(), `skirmish-${name}-`));
  const connect = (url: string) => {
    const probe = new Redis(url, { maxRetriesPerRequest: 1 });
    probe.on("error", () => {}); // the tests kill Redis on purpose; a failed command still rejects
    return probe;
  };
  const cluster: Cluster = {
    dir,
    journalPath: joinPath(dir, "journal.db"),
    children: [],
    redis: undefined as unknown as RedisServer,
    stats: undefined as unknown as StatsService,
    probe: undefined as unknown as Redis,
    startGame: async (env = {}) =>
      startGameProc(
        gameEnv({
          REDIS_URL: cluster.redis.url,
          PORT: String(await freePort()),
          STATS_URL: cluster.stats.rpcUrl,
          JOURNAL_PATH: cluster.journalPath,
          ...env,
        }),
        cluster.children,
      ),
    restartRedis: async () => {
      cluster.redis = await startRedisServer({ port: cluster.redis.port });
      cluster.probe.disconnect();
      cluster.probe = connect(cluster.redis.url);
    },
    roomsCounted: async () =>
      Object.values(await cluster.probe.hgetall("roomcount")).reduce((n, v) => n + Number(v.split(",")[0]), 0),
  };
  beforeAll(async () => {
    cluster.redis = await startRedisServer();
    cluster.stats = await startStats();
    cluster.probe = connect(cluster.redis.url);
  }, 60_000);
  afterAll(async () => {
    cluster.probe?.disconnect();
    await stopChildren(cluster.children);
    await cluster.stats?.close();
    await cluster.redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);
  return cluster;
}
