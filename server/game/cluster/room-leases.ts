/**
 * Room ownership in a cluster, kept in its Redis, so that exactly one process acts for a room:
 *
 *   skirmish:room:<id>:lease       hash {owner, epoch}, expiring after LEASE_MS unless renewed
 *   skirmish:room:<id>:epoch       counter: every claim of the room takes the next epoch
 *   skirmish:room:<id>:checkpoint  the room's checkpoint (room-checkpoint.ts), written under the lease
 *   skirmish:durable-rooms         set of the ids that have a checkpoint
 *
 * Every step is one Lua script (check and act at once): a claim succeeds only while nobody holds
 * the lease, and a renewal or a checkpoint write only for the holder of the current epoch, so a
 * process that lost its lease (paused past it, say) can never write over its adopter.
 */
import type { Redis } from "ioredis";

/** How long a lease lasts without renewal. */
export const LEASE_MS = 2000;

const lease = (id: string) => `skirmish:room:${id}:lease`;
const epochKey = (id: string) => `skirmish:room:${id}:epoch`;
const checkpointKey = (id: string) => `skirmish:room:${id}:checkpoint`;
const INDEX = "skirmish:durable-rooms";

// KEYS: lease, epoch. ARGV: me, ttl. The new epoch, or nil while someone holds the lease.
const CLAIM = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local e = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'epoch', e)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return e`;

// The holder check every write starts with. KEYS[1]: lease, KEYS[2]: epoch. ARGV[1]: me, ARGV[2]: epoch.
// A lease that expired while Redis was unreachable (or a Redis restarted empty) is taken back
// only if no claim came since: the epoch counter is still this holder's, or gone with the restart.
const HOLDER = `
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner then
  if owner ~= ARGV[1] or redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[2] then return false end
else
  local e = redis.call('GET', KEYS[2])
  if e and e ~= ARGV[2] then return false end
  redis.call('SET', KEYS[2], ARGV[2])
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'epoch', ARGV[2])
end`;

// KEYS: lease, epoch. ARGV: me, epoch, ttl. 1 renewed, nil lost.
const RENEW = `${HOLDER}
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

// KEYS: lease, epoch, checkpoint, index. ARGV: me, epoch, ttl, checkpoint, room id.
const CHECKPOINT = `${HOLDER}
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SET', KEYS[3], ARGV[4])
redis.call('SADD', KEYS[4], ARGV[5])
return 1`;

// KEYS: lease, epoch, checkpoint, index. ARGV: me, epoch, room id. The match is over.
const FINISH = `${HOLDER}
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('SREM', KEYS[4], ARGV[3])
return 1`;

// KEYS: lease, epoch, checkpoint, index. ARGV: me, epoch, ttl, checkpoint, room id. Last
// checkpoint, then the lease given up: another process may claim the room at once.
const HAND_OVER = `${HOLDER}
redis.call('SET', KEYS[3], ARGV[4])
redis.call('SADD', KEYS[4], ARGV[5])
redis.call('DEL', KEYS[1])
return 1`;

export class RoomLeases {
  private readonly redis: Redis;
  private readonly me: string;

  constructor(redis: Redis, processId: string) {
    this.redis = redis;
    this.me = processId;
  }

  /** The epoch this process now holds the room under, or null when another process holds it. */
  async claim(roomId: string): Promise<number | null> {
    const e = await this.redis.eval(CLAIM, 2, lease(roomId), epochKey(roomId), this.me, LEASE_MS);
    return e === null ? null : Number(e);
  }

  async renew(roomId: string, epoch: number): Promise<boolean> {
    return (await this.redis.eval(RENEW, 2, lease(roomId), epochKey(roomId), this.me, epoch, LEASE_MS)) === 1;
  }

  async checkpoint(roomId: string, epoch: number, blob: Uint8Array): Promise<boolean> {
    const keys = [lease(roomId), epochKey(roomId), checkpointKey(roomId), INDEX];
    return (await this.redis.eval(CHECKPOINT, 4, ...keys, this.me, epoch, LEASE_MS, Buffer.from(blob), roomId)) === 1;
  }

  async finish(roomId: string, epoch: number): Promise<boolean> {
    const keys = [lease(roomId), epochKey(roomId), checkpointKey(roomId), INDEX];
    return (await this.redis.eval(FINISH, 4, ...keys, this.me, epoch, roomId)) === 1;
  }

  async handOver(roomId: string, epoch: number, blob: Uint8Array): Promise<boolean> {
    const keys = [lease(roomId), epochKey(roomId), checkpointKey(roomId), INDEX];
    return (await this.redis.eval(HAND_OVER, 4, ...keys, this.me, epoch, LEASE_MS, Buffer.from(blob), roomId)) === 1;
  }

  /** Rooms with a checkpoint whose lease nobody holds: candidates for adoption. */
  async unowned(): Promise<string[]> {
    const ids = await this.redis.smembers(INDEX);
    if (ids.length === 0) return [];
    const held = await Promise.all(ids.map((id) => this.redis.exists(lease(id))));
    return ids.filter((_, i) => held[i] === 0);
  }

  async checkpointOf(roomId: string): Promise<Buffer | null> {
    return this.redis.getBuffer(checkpointKey(roomId));
  }
}
