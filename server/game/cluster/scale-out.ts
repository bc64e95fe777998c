/**
 * Scale-out on Colyseus's own pieces: with REDIS_URL set, the game server runs on `RedisPresence`
 * + `RedisDriver` (matchmaking, seat reservations and room listings shared by every process) and
 * advertises its `publicAddress`, so a seat reserved through any process sends the client
 * straight to the process holding the room. On top of that, this process's cluster membership:
 *
 * - the one-seat-per-player rule in Redis (RedisPlayerRegistry);
 * - Colyseus's stale-process cleanup run every SWEEP_EVERY_MS (it otherwise runs only at start-up
 *   and when a join happens to hit a dead process), so a killed process's rooms leave the listing
 *   within about SWEEP_EVERY_MS + Colyseus's 2 s IPC health-check timeout, and its seats are freed;
 * - a matchmaking gate: while Redis is away, joins are refused with a clear error (running rooms
 *   do not need Redis and keep playing); when it is back, this process's room listings, room
 *   count and seats are written again (a restarted Redis is empty);
 * - the state of its Redis connections (the registry's, the driver's, the presence's): every
 *   error counted, an outage logged once when it starts and once when it ends;
 * - a readiness probe that asks the driver for the room listing, as a join does.
 */
import { matchMaker, ServerError } from "@colyseus/core";
import { RedisPresence } from "@colyseus/redis-presence";
import type { Redis } from "ioredis";
import { ROOM_NAME } from "../../../shared/protocol.ts";
import { run, call, sleep, timeout, type Task } from "../../runtime/index.ts";
import { errorFields, type Logger } from "../../observability/log.ts";
import { limitLog } from "../../observability/log-limiter.ts";
import type { GameConfig } from "../config.ts";
import type { GameMetrics } from "../metrics.ts";
import { CONNECT_TIMEOUT_MS, maskRedisUrl, openRedis, probeRedis } from "./redis-connection.ts";
import { RedisPlayerRegistry } from "./redis-player-registry.ts";
import { RedisRoomDriver } from "./redis-room-driver.ts";

/** Period of the stale-process sweep. */
export const SWEEP_EVERY_MS = 2000;

export const MATCHMAKING_UNAVAILABLE =
  "matchmaking unavailable: the cluster's Redis is unreachable (running matches go on); try again shortly";

/** Longest the readiness probe waits for the room listing. */
export const PROBE_TIMEOUT_MS = CONNECT_TIMEOUT_MS;

/** What the Colyseus Server is built with in a cluster, and the connections it uses. */
export interface ScaleOut {
  url: string;
  presence: RedisPresence;
  driver: RedisRoomDriver;
  /** the presence's command connection and the driver's (the presence's subscriber is its own) */
  connections: Redis[];
  publicAddress: string;
}

/**
 * Checks a cluster process's configuration and that Redis answers, then builds Colyseus's
 * presence and driver. Errors: no AUTH_SECRET, PORT 0 without PUBLIC_ADDRESS, a bad or
 * unreachable REDIS_URL: each rejects with a message saying what to set (never hangs).
 */
export async function openScaleOut(config: GameConfig, redisUrl: string): Promise<ScaleOut> {
  if (!config.authSecret) {
    throw new Error(
      "REDIS_URL is set but AUTH_SECRET is not: every process of a cluster must verify the same tokens, and a random per-process secret would split it; set one AUTH_SECRET for all processes",
    );
  }
  if (config.port === 0 && !config.publicAddress) {
    throw new Error(
      "REDIS_URL is set with PORT 0: clients are sent to a process by its address; set PORT, or PUBLIC_ADDRESS",
    );
  }
  await probeRedis(redisUrl);
  const command = openRedis(redisUrl);
  const driver = new RedisRoomDriver(openRedis(redisUrl));
  return {
    url: redisUrl,
    presence: new RedisPresence(command),
    driver,
    connections: [command, driver.connection],
    publicAddress: config.publicAddress || `127.0.0.1:${config.port}`,
  };
}

/** This process in the cluster: its seat registry, whether Redis answers, and close(). */
export interface ClusterMember {
  readonly players: RedisPlayerRegistry;
  /** every connection of this process to Redis is up */
  redisUp(): boolean;
  /** MATCHMAKING_UNAVAILABLE while Redis is away, else null: what a route that needs Redis answers */
  unavailable(): string | null;
  /** null when the driver lists rooms (within PROBE_TIMEOUT_MS), else why matchmaking fails */
  probeMatchmaking(): Promise<string | null>;
  close(): Promise<void>;
}

/**
 * Joins the cluster once the matchmaker is ready (`processId` known). Never throws; Redis
 * failures afterwards are counted (`skirmish_cluster_errors_total`) and logged on each change
 * between up and down. close() stops the sweep, the gate and the registry's connection.
 */
export function joinCluster(scaleOut: ScaleOut, processId: string, metrics: GameMetrics, log: Logger): ClusterMember {
  const { url, driver } = scaleOut;
  const redis = openRedis(url);
  const players = new RedisPlayerRegistry(redis, processId, metrics, log);
  const isUp = watchConnections([redis, ...scaleOut.connections], url, metrics, log, () => restoreAfterOutage(players));
  const limited = limitLog(log);
  const restoreGate = gateMatchmaking(isUp, () => metrics.clusterErrors.inc("matchmaking_refused"));
  const sweep = startSweep(isUp, players, metrics, log);

  async function probeMatchmaking(): Promise<string | null> {
    if (!isUp()) return "redis: unreachable (running matches go on, joins are refused)";
    try {
      await run(() =>
        timeout(
          PROBE_TIMEOUT_MS,
          call("matchmaking-probe", () => driver.query({ name: ROOM_NAME })),
        ),
      );
      return null;
    } catch (err) {
      metrics.clusterErrors.inc("matchmaking_probe");
      limited("warn", "matchmaking_probe", "readiness probe: the room listing failed", errorFields(err));
      return `matchmaking: the room listing failed (${(err as Error).message})`;
    }
  }

  return {
    players,
    redisUp: isUp,
    unavailable: () => (isUp() ? null : MATCHMAKING_UNAVAILABLE),
    probeMatchmaking,
    async close() {
      await sweep.halt();
      restoreGate();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * Follows this process's Redis connections: every error counted, an outage logged once when it
 * starts and once when it ends, and `restore` run when the last connection is back. Returns
 * whether all are up.
 */
function watchConnections(
  connections: readonly Redis[],
  url: string,
  metrics: GameMetrics,
  log: Logger,
  restore: () => Promise<void>,
): () => boolean {
  // a connection is down from its first error or lost connection until it is ready again (all
  // start up: Redis answered the start-up probe a moment ago)
  const down = new Set<Redis>();
  const isUp = () => down.size === 0;

  const wentDown = (connection: Redis, fields: Record<string, unknown>) => {
    // logged when the outage starts, not per connection or reconnect attempt
    if (isUp())
      log.warn("Redis unreachable: refusing new joins, running matches go on", { redis: maskRedisUrl(url), ...fields });
    down.add(connection);
  };
  for (const connection of connections) {
    connection.on("error", (err: Error) => {
      // ioredis repeats this for every reconnect attempt of every connection: each one counted
      metrics.clusterErrors.inc("redis_connection");
      wentDown(connection, errorFields(err));
    });
    // 'reconnecting', not 'close': a connection closed on purpose (shutdown) ends without reconnecting
    connection.on("reconnecting", () => wentDown(connection, { err: "connection lost" }));
    connection.on("ready", () => {
      if (!down.delete(connection) || !isUp()) return;
      log.info("Redis is back: restoring this process's listings and seats", { redis: maskRedisUrl(url) });
      restore().catch((err) => {
        metrics.clusterErrors.inc("restore");
        log.error("restoring after a Redis outage failed", errorFields(err));
      });
    });
  }
  return isUp;
}

/** A restarted Redis is empty: this process's room listings, room count and seats are written again. */
async function restoreAfterOutage(players: RedisPlayerRegistry): Promise<void> {
  await matchMaker.restoreMissingRoomCaches();
  await matchMaker.stats.persist(true);
  await players.reconcile();
}

/** Every SWEEP_EVERY_MS while Redis is up and the matchmaker ready: dead processes' listings and seats go. */
function startSweep(isUp: () => boolean, players: RedisPlayerRegistry, metrics: GameMetrics, log: Logger): Task<void> {
  return run(
    function* () {
      for (;;) {
        yield* sleep(SWEEP_EVERY_MS);
        if (!isUp() || matchMaker.state !== matchMaker.MatchMakerState.READY) continue;
        try {
          // Colyseus's own cleanup: a process without its IPC channel that does not answer a health
          // check loses its room listings and its place in the room-count table
          yield* call("sweep", async () => {
            await players.sweepDead(await sweepStaleProcesses());
          });
        } catch (err) {
          metrics.clusterErrors.inc("sweep");
          log.warn("stale-process sweep failed", errorFields(err));
        }
      }
    },
    { name: "stale-process-sweep" },
  );
}

/**
 * Colyseus's own stale-process cleanup (`healthCheckProcessId`: no answer to an IPC health check
 * within 2 s, then its place in the room-count table and its room listings go) for every process
 * that has listings or a room count but no IPC channel. Colyseus's `healthCheckAllProcesses` looks
 * at the room-count table only, and a process dropped from it by a timed-out remote create keeps
 * its listings until a join happens to hit one of them. Resolves with the processes found dead.
 */
async function sweepStaleProcesses(): Promise<Set<string>> {
  const live = new Set((await matchMaker.presence.channels("p:*")).map((channel) => channel.slice(2)));
  const known = new Set((await matchMaker.driver.query({})).map((room) => room.processId));
  for (const stat of await matchMaker.stats.fetchAll()) known.add(stat.processId);
  const stale = [...known].filter((id) => id !== matchMaker.processId && !live.has(id));
  const answered = await Promise.all(stale.map((id) => matchMaker.healthCheckProcessId(id)));
  return new Set(stale.filter((_, i) => !answered[i]));
}

/**
 * Wraps Colyseus's matchmaking entry (process-global, like the matchmaker itself) so that a join
 * while Redis is away fails at once with MATCHMAKING_UNAVAILABLE (HTTP 503) instead of an ioredis
 * retry error. Returns the function that puts the original back.
 */
function gateMatchmaking(isUp: () => boolean, refused: () => void): () => void {
  const controller = matchMaker.controller;
  const original = controller.invokeMethod;
  const unavailable = () => {
    refused();
    return new ServerError(503, MATCHMAKING_UNAVAILABLE);
  };
  controller.invokeMethod = async function (this: typeof controller, ...args: Parameters<typeof original>) {
    if (!isUp()) throw unavailable();
    try {
      return await original.apply(this, args);
    } catch (err) {
      if (!isUp()) throw unavailable();
      throw err;
    }
  };
  return () => {
    controller.invokeMethod = original;
  };
}
