/**
 * Colyseus's RedisDriver (@colyseus/redis-driver 0.18.3) with its room-listing read repaired.
 * Upstream's private `getRooms()` shares one HGETALL of the listing between concurrent callers and
 * forgets the shared read only when it succeeds: a read that fails once (Redis away for a moment)
 * is handed to every later query, join and stale-process sweep, so the process cannot matchmake
 * until it is restarted (issue 18). Here the shared read is forgotten however it settles; the
 * next caller reads again. Filtering and sorting stay upstream's (its Query); every other method
 * is upstream's. test/cluster/redis-room-driver.test.ts says when upstream no longer needs this.
 */
import type { Redis } from "ioredis";
import { initializeRoomCache, type IRoomCache, type SortOptions } from "@colyseus/core";
import { RedisDriver } from "@colyseus/redis-driver";
import { Query } from "@colyseus/redis-driver/Query";

/** the hash of room listings, named as RedisDriver names it */
const ROOM_CACHES = "roomcaches";

/** One HGETALL in flight and what its callers made of it so far (parsed once per room name). */
interface ListingRead {
  raw: Promise<Record<string, string>>;
  byName: Map<string | undefined, Promise<IRoomCache[]>>;
}

export class RedisRoomDriver extends RedisDriver {
  /** the driver's connection (upstream keeps it private): its error events are the cluster's to report */
  readonly connection: Redis;
  #reading: ListingRead | undefined;

  constructor(connection: Redis) {
    super(connection);
    this.connection = connection;
  }

  override async query(conditions: Partial<IRoomCache>, sortOptions?: SortOptions): Promise<IRoomCache[]> {
    const query = new Query<IRoomCache>(this.listing(), conditions);
    if (sortOptions) query.sort(sortOptions);
    return query.all();
  }

  override findOne(conditions: Partial<IRoomCache>, sortOptions?: SortOptions): Promise<IRoomCache> {
    // by id: upstream's single HGET, no listing involved
    if (conditions.roomId !== undefined) return super.findOne(conditions, sortOptions);
    const query = new Query<IRoomCache>(this.listing(conditions.name), conditions);
    if (sortOptions) query.sort(sortOptions);
    // as upstream: the Query is a thenable of its first match
    return query as unknown as Promise<IRoomCache>;
  }

  /** The listing (of `name`'s rooms only, when given), from the read in flight or a new one. */
  private listing(name?: string): Promise<IRoomCache[]> {
    let reading = this.#reading;
    if (reading === undefined) {
      const raw = this.connection.hgetall(ROOM_CACHES);
      const read: ListingRead = { raw, byName: new Map() };
      // success or failure, the next caller reads again (the callers see the failure through `raw`)
      const forget = () => {
        if (this.#reading === read) this.#reading = undefined;
      };
      raw.then(forget, forget);
      reading = this.#reading = read;
    }
    let rooms = reading.byName.get(name);
    if (rooms === undefined) {
      rooms = reading.raw.then((hash) => parseListing(hash, name));
      reading.byName.set(name, rooms);
    }
    return rooms;
  }
}

function parseListing(hash: Record<string, string>, name: string | undefined): IRoomCache[] {
  let values = Object.values(hash);
  // as upstream: skip parsing the other names' rooms
  if (name !== undefined) {
    const field = `"name":${JSON.stringify(name)}`;
    values = values.filter((v) => v.includes(field));
  }
  return values.map((v) => initializeRoomCache(JSON.parse(v)));
}
