/**
 * How a bot gets a seat: `auto` asks the matchmaker (joinOrCreate, rooms fill up to the server's
 * MAX_PLAYERS); a fixed N spreads bots round-robin over N rooms that this process creates itself
 * (the first bot of a group creates, the rest join by id).
 */
import { ErrorCode, type Client, type Room } from "@colyseus/sdk";
import { ROOM_NAME } from "../shared/protocol.ts";
import { ArenaState } from "../shared/state.ts";

export type ArenaRoom = Room<any, ArenaState>;

export interface RoomPlan {
  join(client: Client, token: string, botIndex: number): Promise<ArenaRoom>;
}

export function autoRooms(): RoomPlan {
  return {
    join: (client, token) => client.joinOrCreate<ArenaState>(ROOM_NAME, { token }, ArenaState),
  };
}

interface Group {
  roomId?: string;
  /** the group's room being created by its first bot */
  creating?: Promise<unknown>;
}

export function fixedRooms(count: number): RoomPlan {
  const groups = new Map<number, Group>();
  return {
    async join(client, token, botIndex) {
      const key = botIndex % count;
      let group = groups.get(key);
      if (group === undefined) groups.set(key, (group = {}));
      if (group.roomId === undefined && group.creating === undefined) {
        const created = client.create<ArenaState>(ROOM_NAME, { token }, ArenaState);
        // followers only wait for the outcome; the creator itself sees and counts the failure
        group.creating = created.then(
          () => undefined,
          () => undefined,
        );
        try {
          const room = await created;
          group.roomId = room.roomId;
          return room;
        } finally {
          group.creating = undefined;
        }
      }
      if (group.roomId === undefined) await group.creating;
      if (group.roomId === undefined) throw new Error(`room of group ${key} could not be created`);
      try {
        return await client.joinById<ArenaState>(group.roomId, { token }, ArenaState);
      } catch (err) {
        // the room is gone (disposed when it emptied): the next bot of the group creates a new one
        if ((err as { code?: number }).code === ErrorCode.MATCHMAKE_INVALID_ROOM_ID) group.roomId = undefined;
        throw err;
      }
    },
  };
}
