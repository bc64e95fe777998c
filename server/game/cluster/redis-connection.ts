/**
 * Connects to the cluster's Redis (REDIS_URL) and proves it answers, before any Colyseus piece
 * touches it: ioredis retries a dead address forever by default, which would leave a starting
 * game server hanging in `listen()` with nothing said.
 *
 * Errors: a URL that is not `redis://` / `rediss://`, a refused or timed-out connection, a
 * rejected password: each rejects with a message naming the URL (password masked) and the cause,
 * within CONNECT_TIMEOUT_MS. Cancellation: none needed; the probe connection is always closed.
 */
import { Redis, type RedisOptions } from "ioredis";

/** A connect attempt (TCP + handshake) that takes longer than this counts as failed. */
export const CONNECT_TIMEOUT_MS = 3000;

/**
 * Options of every long-lived connection: reconnect with a capped backoff while Redis is away,
 * and fail a command after one retry instead of queueing it for minutes, so a join during an
 * outage gets an answer (the matchmaking gate words it) rather than a hang.
 */
export const CLUSTER_REDIS_OPTIONS: RedisOptions = {
  connectTimeout: CONNECT_TIMEOUT_MS,
  maxRetriesPerRequest: 1,
  retryStrategy: (times) => Math.min(100 * times, 1000),
};

/** The URL as it may be logged: the password replaced by `***`. */
export function maskRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return JSON.stringify(url);
  }
}

/** Throws a clear error unless `url` is a redis:// or rediss:// URL with a host. */
export function checkRedisUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`REDIS_URL ${JSON.stringify(url)} is not a URL; expected redis://host:port[/db]`);
  }
  if ((u.protocol !== "redis:" && u.protocol !== "rediss:") || u.hostname === "") {
    throw new Error(`REDIS_URL ${maskRedisUrl(url)} must be redis://host:port[/db] or rediss://…`);
  }
}

/** Resolves once Redis at `url` answered PING on a connection of its own (closed again). */
export async function probeRedis(url: string): Promise<void> {
  checkRedisUrl(url);
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // without a listener ioredis prints "Unhandled error event" for the failure we are reporting
  probe.on("error", () => {});
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    probe.disconnect();
    throw new Error(`cannot use Redis at ${maskRedisUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
  await probe.quit();
}

/** A long-lived connection with the cluster's options (connects in the background). */
export function openRedis(url: string): Redis {
  return new Redis(url, CLUSTER_REDIS_OPTIONS);
}
