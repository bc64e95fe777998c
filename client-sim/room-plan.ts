/**
 * How a bot gets a seat: `auto` asks the matchmaker (joinOrCreate, rooms fill up to the server's
 * MAX_PLAYERS); a fixed N spreads bots round-robin over N rooms that this process creates itself
 * (the first bot of a group creates, the rest join by id). Either client kind (seat.ts).
 */
import { ErrorCode } from "@colyseus/sdk";
import type { Seat, SeatSource } from "./seat.ts";

export interface RoomPlan {
  join(seats: SeatSource, token: string, botIndex: number, signal: AbortSignal): Promise<Seat>;
}

export function autoRooms(): RoomPlan {
  return {
    join: (seats, token, _botIndex, signal) => seats.joinOrCreate(token, signal),
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
    async join(seats, token, botIndex, signal) {
      const key = botIndex % count;
      let group = groups.get(key);
      if (group === undefined) groups.set(key, (group = {}));
      if (group.roomId === undefined && group.creating === undefined) {
        const created = seats.create(token, signal);
        // followers only wait for the outcome; the creator itself sees and counts the failure
        group.creating = created.then(
          () => undefined,
          () => undefined,
        );
        try {
          const seat = await created;
          group.roomId = seat.roomId;
          return seat;
        } finally {
          group.creating = undefined;
        }
      }
      if (group.roomId === undefined) await group.creating;
      if (group.roomId === undefined) throw new Error(`room of group ${key} could not be created`);
      try {
        return await seats.joinById(group.roomId, token, signal);
      } catch (err) {
        // the room is gone (disposed when it emptied): the next bot of the group creates a new one
        if ((err as { code?: number }).code === ErrorCode.MATCHMAKE_INVALID_ROOM_ID) group.roomId = undefined;
        throw err;
      }
    },
  };
}
