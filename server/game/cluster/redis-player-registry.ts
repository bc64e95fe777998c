/**
 * The one-seat-per-player rule across a cluster, kept in the cluster's Redis:
 *
 *   skirmish:seat:<player>        "<processId> <roomId>"   the seat, owned by a process
 *   skirmish:seats-of:<processId> set of players            what to free when that process dies
 *   skirmish:seat-owners          set of process ids        whose seats to watch
 *
 * Claims and releases are Lua scripts (check-and-set in one step: two processes claiming the
 * same player at once cannot both win). Within a process, a player's claim is marked before the
 * script is awaited, so two joins of one player (one token, two clients) never both reach Redis;
 * that makes a seat in Redis owned by this process but held by none of its rooms a leftover (a
 * release on its way, or lost in an outage), which a claim may take over. A process is dead when Colyseus says so: its process
 * channel (`p:<processId>`) has no subscriber and it does not answer Colyseus's own IPC health
 * check (`matchMaker.healthCheckProcessId`, which also drops its room listings). Then its seats
 * are freed at once, by the first process that needs one of them or by the periodic sweep
 * (stale-process-sweep.ts), so a crashed process never locks a player out.
 *
 * This process also remembers the seats it holds. When Redis comes back after an outage (maybe
 * restarted empty) `reconcile()` writes them again and frees the ones released meanwhile.
 */
import { matchMaker } from "@colyseus/core";
import type { Redis } from "ioredis";
import { errorFields, type Logger } from "../../observability/log.ts";
import type { GameMetrics } from "../metrics.ts";
import type { PlayerRegistry } from "../room/player-registry.ts";

const SEAT_PREFIX = "skirmish:seat:";
const seatsOf = (processId: string) => `skirmish:seats-of:${processId}`;
const OWNERS = "skirmish:seat-owners";
/** Colyseus's per-process IPC channel (MatchMaker.getProcessChannel, not exported) */
const processChannel = (processId: string) => `p:${processId}`;

// KEYS: seat, seats-of(me), owners. ARGV: "<me> <room>", player, me, "prefix" | "suffix", mark.
// Takes the seat when it is free or its value starts (prefix) or ends (suffix) with `mark`; else
// returns the holder. See TakeRule.
const TAKE = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local part = ARGV[4] == 'prefix' and string.sub(cur, 1, #ARGV[5]) or string.sub(cur, -#ARGV[5])
  if part ~= ARGV[5] then return cur end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[3])
return false`;

// KEYS: seat, seats-of(owner). ARGV: "<owner> <room>", player.
const RELEASE = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('DEL', KEYS[1]) end
if cur == ARGV[1] or not cur then redis.call('SREM', KEYS[2], ARGV[2]) end
return 0`;

// KEYS: seats-of(dead), owners. ARGV: dead process id, seat key prefix. Returns seats freed.
// (Touches seat keys it was not given: fine on one Redis, not on Redis Cluster.)
const SWEEP = `
local freed = 0
for _, player in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local k = ARGV[2] .. player
  local v = redis.call('GET', k)
  if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. ' ' then
    redis.call('DEL', k)
    freed = freed + 1
  end
end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return freed`;

/**
 * Which held seat a take overwrites. `claim`: one of this process ("<me> …"): the caller holds
 * none (claim's mark), so it is a leftover. `adopt`: one held for the same room ("… <room>"), by
 * the process that owned the room before.
 */
type TakeRule = "claim" | "adopt";

export class RedisPlayerRegistry implements PlayerRegistry {
  readonly processId: string;
  private readonly redis: Redis;
  private readonly metrics: GameMetrics;
  private readonly log: Logger;
  /** the seats this process holds: player -> room (the truth a reconcile restores) */
  private readonly held = new Map<string, string>();
  /** players whose claim is waiting for Redis: another claim of theirs is refused meanwhile */
  private readonly claiming = new Set<string>();

  constructor(redis: Redis, processId: string, metrics: GameMetrics, log: Logger) {
    this.redis = redis;
    this.processId = processId;
    this.metrics = metrics;
    this.log = log;
  }

  async where(playerId: string): Promise<string | undefined> {
    const local = this.held.get(playerId);
    if (local !== undefined) return local;
    const value = await this.redis.get(SEAT_PREFIX + playerId);
    if (value === null) return undefined;
    const [owner, room] = value.split(" ");
    // a leftover of this process (not in `held`) is taken over by claim(), a seat of a process that
    // died is freed by it: neither refuses anyone
    if (owner === this.processId || !(await this.channelAlive(owner))) return undefined;
    return `${room} on process ${owner}`;
  }

  async claim(playerId: string, roomId: string): Promise<boolean> {
    // checked and marked before any await: of two joins of one player in this process, the second is refused here
    if (this.held.has(playerId) || this.claiming.has(playerId)) return false;
    this.claiming.add(playerId);
    try {
      for (let attempt = 0; ; attempt++) {
        const holder = await this.take(playerId, roomId, "claim");
        if (holder === null) {
          this.held.set(playerId, roomId);
          return true;
        }
        const owner = holder.split(" ")[0];
        if (attempt > 0 || !(await this.isDead(owner))) return false;
        await this.sweep(owner);
      }
    } finally {
      this.claiming.delete(playerId);
    }
  }

  async adopt(playerId: string, roomId: string): Promise<boolean> {
    const holder = await this.take(playerId, roomId, "adopt");
    if (holder !== null) return false;
    this.held.set(playerId, roomId);
    return true;
  }

  release(playerId: string, roomId: string): void {
    if (this.held.get(playerId) !== roomId) return;
    this.held.delete(playerId);
    this.runRelease(playerId, roomId).catch((err) => {
      // reconcile() frees it when Redis is back
      this.metrics.clusterErrors.inc("seat_release");
      this.log.warn("seat release failed; retried when Redis is back", {
        pid: playerId,
        room: roomId,
        ...errorFields(err),
      });
    });
  }

  /** Frees the seats of every seat-owning process that is dead (`knownDead`: just found so, no second health check). */
  async sweepDead(knownDead: ReadonlySet<string>): Promise<void> {
    const owners = await this.redis.smembers(OWNERS);
    for (const owner of owners) {
      if (owner !== this.processId && (knownDead.has(owner) || (await this.isDead(owner)))) await this.sweep(owner);
    }
  }

  /**
   * After Redis was away: the seats this process holds are written again (a restarted Redis
   * lost them) and the ones released during the outage are freed. A seat someone else took
   * meanwhile is a conflict: counted and logged, the other holder keeps it.
   */
  async reconcile(): Promise<void> {
    for (const [playerId, roomId] of this.held) {
      const holder = await this.take(playerId, roomId, "claim");
      if (holder !== null) {
        this.metrics.clusterErrors.inc("seat_conflict");
        this.log.warn("seat taken elsewhere while Redis was away", { pid: playerId, room: roomId, holder });
      }
    }
    for (const playerId of await this.redis.smembers(seatsOf(this.processId))) {
      const value = await this.redis.get(SEAT_PREFIX + playerId);
      const [owner, room] = (value ?? "").split(" ");
      if (owner === this.processId && this.held.get(playerId) !== room) await this.runRelease(playerId, room);
      else if (value === null) await this.redis.srem(seatsOf(this.processId), playerId);
    }
  }

  /** Writes the seat unless another holds it (`rule`: which held seats it overwrites); null, or the holder. */
  private take(playerId: string, roomId: string, rule: TakeRule): Promise<string | null> {
    const [side, mark] = rule === "claim" ? ["prefix", `${this.processId} `] : ["suffix", ` ${roomId}`];
    return this.redis.eval(
      TAKE,
      3,
      SEAT_PREFIX + playerId,
      seatsOf(this.processId),
      OWNERS,
      `${this.processId} ${roomId}`,
      playerId,
      this.processId,
      side,
      mark,
    ) as Promise<string | null>;
  }

  private async runRelease(playerId: string, roomId: string): Promise<void> {
    await this.redis.eval(
      RELEASE,
      2,
      SEAT_PREFIX + playerId,
      seatsOf(this.processId),
      `${this.processId} ${roomId}`,
      playerId,
    );
  }

  private async sweep(owner: string): Promise<void> {
    const freed = (await this.redis.eval(SWEEP, 2, seatsOf(owner), OWNERS, owner, SEAT_PREFIX)) as number;
    this.metrics.seatsFreed.inc(undefined, freed);
    this.log.info("freed the seats of a dead process", { deadProcess: owner, seats: freed });
  }

  private async channelAlive(owner: string): Promise<boolean> {
    const reply = (await this.redis.pubsub("NUMSUB", processChannel(owner))) as [string, number];
    return Number(reply[1]) > 0;
  }

  /** Dead = no process channel AND no answer to Colyseus's health check (up to ~2 s). */
  private async isDead(owner: string): Promise<boolean> {
    if (await this.channelAlive(owner)) return false;
    return !(await matchMaker.healthCheckProcessId(owner));
  }
}
