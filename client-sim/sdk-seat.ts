/**
 * `--client sdk` (the default): seats held by the real @colyseus/sdk, one Client per bot
 * (observed-client.ts) and a Room whose synced ArenaState is the bot's view. A drop is the SDK's to
 * reconnect (a few quick retries); it gives the seat up with `onLeave`.
 */
import { CloseCode, type Room } from "@colyseus/sdk";
import { Msg, ROOM_NAME } from "../shared/protocol.ts";
import { ArenaState } from "../shared/state.ts";
import { roomKey } from "./metrics.ts";
import { ObservedClient } from "./observed-client.ts";
import type { Seat, SeatEvents, SeatSourceFor } from "./seat.ts";

type ArenaRoom = Room<any, ArenaState>;

const RECONNECT_RETRIES = 4;
const RECONNECT_MAX_DELAY_MS = 2_000;

class SdkSeat implements Seat {
  readonly key: string;
  private readonly room: ArenaRoom;

  constructor(room: ArenaRoom) {
    this.room = room;
    this.key = roomKey(room.connection.url, room.roomId);
    room.reconnection.maxRetries = RECONNECT_RETRIES;
    room.reconnection.maxDelay = RECONNECT_MAX_DELAY_MS;
  }

  get roomId(): string {
    return this.room.roomId;
  }

  get isOpen(): boolean {
    return this.room.connection?.isOpen === true;
  }

  get reconnectionToken(): string {
    return this.room.reconnectionToken;
  }

  listen(events: SeatEvents): () => void {
    const room = this.room;
    const stopRound = room.onMessage(Msg.round, events.round);
    const stopError = room.onMessage(Msg.error, events.error);
    const stopOther = room.onMessage("*", (type: string | number) => events.unexpected(type));
    const { roomError, dropped, reconnected, ended } = events;
    room.onError(roomError);
    room.onDrop(dropped);
    room.onReconnect(reconnected);
    room.onLeave(ended);
    return () => {
      stopRound();
      stopError();
      stopOther();
      room.onError.remove(roomError);
      room.onDrop.remove(dropped);
      room.onReconnect.remove(reconnected);
      room.onLeave.remove(ended);
    };
  }

  inView(id: string): boolean {
    return this.room.state?.entities?.has(id) === true;
  }

  aliveOf(id: string): boolean | undefined {
    return this.room.state?.entities?.get(id)?.alive;
  }

  living(): readonly string[] {
    const ids: string[] = [];
    this.room.state?.entities?.forEach((e, id) => {
      if (e.alive) ids.push(id);
    });
    return ids;
  }

  // the synced state has already dropped it
  targetRefused(): void {}

  send(type: string | number, payload: unknown): void {
    this.room.send(type as string, payload);
  }

  drop(reason: string): void {
    this.room.connection.close(CloseCode.MAY_TRY_RECONNECT, reason);
  }

  async leave(): Promise<void> {
    await this.room.leave(true);
  }

  close(): void {
    this.room.reconnection.enabled = false;
    this.room.connection?.close();
  }
}

export function sdkSeats(wsUrl: string): SeatSourceFor {
  return (observer) => {
    const client = new ObservedClient(wsUrl, observer);
    const seat = (room: ArenaRoom): Seat => new SdkSeat(room);
    return {
      joinOrCreate: (token) => client.joinOrCreate<ArenaState>(ROOM_NAME, { token }, ArenaState).then(seat),
      create: (token) => client.create<ArenaState>(ROOM_NAME, { token }, ArenaState).then(seat),
      joinById: (roomId, token) => client.joinById<ArenaState>(roomId, { token }, ArenaState).then(seat),
      reconnect: (reconnectionToken) => client.reconnect<ArenaState>(reconnectionToken, ArenaState).then(seat),
    };
  };
}
