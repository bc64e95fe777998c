/**
 * Durable rooms in a cluster: every room this process owns is held under a lease in Redis and
 * checkpointed under it (room-leases.ts, room-checkpoint.ts); when a process dies, is paused past
 * its leases, or stops (SIGTERM hands its rooms over), exactly one surviving process adopts each
 * of its rooms: the one the rendezvous hash of the room id ranks first among the live processes
 * other than the old owner, so survivors never race for it (and the claim's Lua script would
 * settle it if they did). The adopter restores the room from its checkpoint (room/restore-plan.ts)
 * under the same id, which re-lists it with this process's address, so `client.reconnect(token)`
 * through any process lands each player back in the same entity.
 *
 * Fencing: a room acts (starts a round, broadcasts one) only while its lease is known to hold
 * (`owns`), or while Redis is unreachable (then nobody can adopt it either, and matches go on); a
 * renewal or checkpoint the lease refuses drops the room here at once (`drop`). An old owner that
 * wakes up after losing its lease therefore neither broadcasts nor writes nor re-lists.
 */
import { matchMaker } from "@colyseus/core";
import type { Redis } from "ioredis";
import { fnv1a32 } from "../../../shared/hash.ts";
import { run, call, sleep, type Task } from "../../runtime/index.ts";
import { errorFields, type Logger } from "../../observability/log.ts";
import type { LimitedLog } from "../../observability/log-limiter.ts";
import type { GameMetrics } from "../metrics.ts";
import type { RoomCheckpoint, RoomDurability } from "../room/room-durability.ts";
import { planRestore, type RestorePlan } from "../room/restore-plan.ts";
import { decodeCheckpoint, encodeCheckpoint, type StoredCheckpoint } from "./room-checkpoint.ts";
import { LEASE_MS, RoomLeases } from "./room-leases.ts";
import { openRedis } from "./redis-connection.ts";

/** Period of lease renewals and of the look for rooms to adopt. */
export const ADOPT_EVERY_MS = 500;
/** A lease counts as held until this long before it would expire (the renewal's round trip, clock drift). */
const SAFETY_MS = 300;
/** An owner found dead is not health-checked again for this long (a check of a dead one takes Colyseus ~2 s). */
const DEAD_FOR_MS = 10_000;

export interface AdoptionHooks {
  /** restore a room in this process from its plan (room/restore-rooms.ts restoreRoom) */
  adopt(plan: RestorePlan): Promise<void>;
  /** stop acting for a local room whose lease is lost */
  drop(roomId: string): void;
}

export class ClusterRooms implements RoomDurability {
  private readonly leases: RoomLeases;
  private readonly me: string;
  private readonly metrics: GameMetrics;
  private readonly log: Logger;
  private readonly limited: LimitedLog;
  private readonly redisUp: () => boolean;
  /** the rooms this process owns: epoch, and until when the lease is known to hold (performance.now) */
  private readonly held = new Map<string, { epoch: number; until: number }>();
  private readonly deadOwners = new Map<string, number>();
  /** checkpoints refused once (unknown version, unreadable): said once, not retried */
  private readonly refused = new Set<string>();
  private loop: Task<void> | undefined;
  private readonly redis: Redis;

  constructor(
    redis: Redis,
    processId: string,
    deps: { metrics: GameMetrics; log: Logger; limited: LimitedLog; redisUp(): boolean },
  ) {
    this.redis = redis;
    this.leases = new RoomLeases(redis, processId);
    this.me = processId;
    this.metrics = deps.metrics;
    this.log = deps.log;
    this.limited = deps.limited;
    this.redisUp = deps.redisUp;
  }

  async opened(roomId: string): Promise<void> {
    const sent = performance.now();
    const epoch = await this.leases.claim(roomId);
    if (epoch === null) throw new Error(`room ${roomId} is held by another process`);
    this.held.set(roomId, { epoch, until: sent + LEASE_MS - SAFETY_MS });
  }

  owns(roomId: string): boolean {
    const lease = this.held.get(roomId);
    return lease !== undefined && (!this.redisUp() || performance.now() < lease.until);
  }

  async checkpoint(roomId: string, checkpoint: RoomCheckpoint): Promise<boolean> {
    const lease = this.held.get(roomId);
    if (!lease) return false;
    const sent = performance.now();
    try {
      const ok = await this.leases.checkpoint(roomId, lease.epoch, encodeCheckpoint(this.me, lease.epoch, checkpoint));
      if (ok) lease.until = sent + LEASE_MS - SAFETY_MS;
      else if (this.held.get(roomId) === lease) this.lost(roomId);
      return ok;
    } catch (err) {
      // Redis away: nobody can adopt the room meanwhile, so it plays on; the checkpoint is late
      this.metrics.clusterErrors.inc("checkpoint");
      this.limited("warn", "checkpoint", "room checkpoint not written (Redis unreachable); the match goes on", {
        room: roomId,
        ...errorFields(err),
      });
      return true;
    }
  }

  finished(roomId: string): void {
    const lease = this.held.get(roomId);
    this.held.delete(roomId);
    if (!lease) return;
    this.leases.finish(roomId, lease.epoch).catch((err) => {
      this.metrics.clusterErrors.inc("room_finish");
      this.log.warn("finished room's lease not released; it expires", { room: roomId, ...errorFields(err) });
    });
  }

  async handOver(roomId: string, checkpoint: RoomCheckpoint): Promise<void> {
    const lease = this.held.get(roomId);
    this.held.delete(roomId);
    if (!lease) return;
    const blob = encodeCheckpoint(this.me, lease.epoch, checkpoint, true);
    try {
      if (await this.leases.handOver(roomId, lease.epoch, blob)) this.metrics.roomsHandedOver.inc();
    } catch (err) {
      this.metrics.clusterErrors.inc("hand_over");
      this.log.warn("room not handed over; it is adopted once its lease expires", {
        room: roomId,
        ...errorFields(err),
      });
    }
  }

  /** Renewals and adoptions every ADOPT_EVERY_MS until close(). */
  start(hooks: AdoptionHooks): void {
    const self = this;
    this.loop = run(
      function* () {
        for (;;) {
          yield* sleep(ADOPT_EVERY_MS);
          if (!self.redisUp() || matchMaker.state !== matchMaker.MatchMakerState.READY) continue;
          try {
            yield* call("renew", () => self.renewAll(hooks));
            yield* call("adopt", () => self.adoptOrphans(hooks));
          } catch (err) {
            self.metrics.clusterErrors.inc("adoption");
            self.limited("warn", "adoption", "lease renewal or adoption failed", errorFields(err));
          }
        }
      },
      { name: "room-adoption" },
    );
  }

  /** Stops renewing and adopting (a stopping process hands its rooms over instead). */
  async stopAdopting(): Promise<void> {
    await this.loop?.halt();
  }

  /** Stops renewing and adopting, and closes the connection (leases still held expire, or were handed over). */
  async close(): Promise<void> {
    await this.stopAdopting();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private lost(roomId: string): void {
    this.held.delete(roomId);
    this.metrics.roomsDropped.inc();
    this.log.warn("room lease lost: another process owns the room now; dropping it here", { room: roomId });
  }

  private async renewAll(hooks: AdoptionHooks): Promise<void> {
    for (const [roomId, lease] of [...this.held]) {
      const sent = performance.now();
      if (await this.leases.renew(roomId, lease.epoch)) {
        lease.until = sent + LEASE_MS - SAFETY_MS;
      } else if (this.held.get(roomId) === lease) {
        this.lost(roomId);
        hooks.drop(roomId);
      }
    }
  }

  private async adoptOrphans(hooks: AdoptionHooks): Promise<void> {
    for (const roomId of await this.leases.unowned()) {
      if (this.held.has(roomId) || this.refused.has(roomId)) continue;
      const bytes = await this.leases.checkpointOf(roomId);
      if (bytes === null) continue;
      let stored: StoredCheckpoint;
      try {
        stored = decodeCheckpoint(bytes);
      } catch (err) {
        this.refuse(roomId, "unreadable", (err as Error).message);
        continue;
      }
      if (!(await this.isAdopter(roomId, stored))) continue;
      const sent = performance.now();
      const epoch = await this.leases.claim(roomId);
      if (epoch === null) continue; // another process was first after all
      this.held.set(roomId, { epoch, until: sent + LEASE_MS - SAFETY_MS });
      await this.adopt(roomId, stored, hooks);
    }
  }

  private async adopt(roomId: string, stored: StoredCheckpoint, hooks: AdoptionHooks): Promise<void> {
    const started = performance.now();
    const verdict = await planRestore({
      room: stored.room,
      last: () => stored.last ?? undefined,
      members: () => stored.members,
    });
    if (!verdict.ok) {
      this.held.delete(roomId);
      return this.refuse(roomId, verdict.kind, verdict.reason);
    }
    try {
      await hooks.adopt(verdict.plan);
    } catch (err) {
      this.held.delete(roomId);
      return this.refuse(roomId, "create_failed", (err as Error).message);
    }
    this.metrics.roomsRestored.inc("adopted");
    this.metrics.restoreDuration.observe(performance.now() - started);
    this.log.info("room adopted", {
      room: roomId,
      from: stored.owner,
      round: verdict.plan.round,
      players: verdict.plan.seats.length,
    });
  }

  private refuse(roomId: string, kind: string, reason: string): void {
    this.refused.add(roomId);
    this.metrics.roomsRefused.inc(kind);
    this.log.error("room not adopted", { room: roomId, reason });
  }

  /**
   * Whether this process is the one to adopt: the old owner handed the room over or is dead (no
   * answer to Colyseus's IPC health check: crashed, or paused past its lease), and among the live
   * processes other than the old owner this one ranks first by rendezvous hash.
   */
  private async isAdopter(roomId: string, stored: StoredCheckpoint): Promise<boolean> {
    const live = (await matchMaker.presence.channels("p:*")).map((channel) => channel.slice(2));
    const candidates = live.filter((id) => id !== stored.owner);
    if (!candidates.includes(this.me)) candidates.push(this.me);
    const ranked = candidates.sort((a, b) => rank(roomId, b) - rank(roomId, a) || (a < b ? -1 : 1));
    if (ranked[0] !== this.me) return false;
    // handed over, or no IPC channel left (a killed process's connections are gone at once): no
    // health check needed; a channel still there may be a paused process, which does not answer one
    if (stored.handedOver || !live.includes(stored.owner)) return true;
    return this.isDead(stored.owner);
  }

  private async isDead(owner: string): Promise<boolean> {
    const seen = this.deadOwners.get(owner);
    if (seen !== undefined && performance.now() - seen < DEAD_FOR_MS) return true;
    if (await matchMaker.healthCheckProcessId(owner)) return false;
    this.deadOwners.set(owner, performance.now());
    return true;
  }
}

/** Rendezvous (highest random weight) score of a process for a room. */
function rank(roomId: string, processId: string): number {
  return fnv1a32(`${roomId}|${processId}`);
}

/**
 * This process's durable rooms on a connection of their own to the cluster's Redis (its outages
 * are counted here and said by the cluster member's log, server/game/cluster/scale-out.ts).
 */
export function openClusterRooms(
  url: string,
  processId: string,
  deps: { metrics: GameMetrics; log: Logger; limited: LimitedLog; redisUp(): boolean },
): ClusterRooms {
  const redis = openRedis(url);
  redis.on("error", () => deps.metrics.clusterErrors.inc("redis_connection"));
  return new ClusterRooms(redis, processId, deps);
}
