// The thin client's frames against the two packages that define the wire: what @colyseus/core's own
// encoder writes (JOIN_ROOM, ERROR, ROOM_DATA, ROOM_STATE) the codec reads back exactly, and the
// intents it writes are byte for byte what the real @colyseus/sdk Room sends over a real socket.
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { WebSocketServer, type WebSocket } from "ws";
import { getMessageBytes, Protocol, ProtocolModifier } from "@colyseus/core";
import { Room } from "@colyseus/sdk";
import { Encoder, Reflection, schema, t } from "@colyseus/schema";
import {
  CODE_MASK,
  JOIN_ACK,
  LEAVE,
  readDataType,
  readError,
  readJoin,
  readPayload,
  roomData,
  stateOffset,
  TIMED,
  UNRELIABLE,
} from "../../client-sim/thin/codec.ts";
import { readState, sameSchema } from "../../client-sim/thin/first-state.ts";
import { RoomView } from "../../client-sim/thin/room-view.ts";
import { ArenaState, Entity } from "../../shared/state.ts";
import type { RoundMessage } from "../../shared/protocol.ts";

const ROUND: RoundMessage = {
  round: 42,
  seed: 123456789,
  events: [
    { t: "attack", by: "npc_goblin_1", target: "p_abc", damage: 7, crit: false, hp: 13 },
    { t: "death", by: "p_abc", killer: "npc_goblin_1" },
  ],
  intents: [
    ["npc_goblin_1", 3],
    ["p_abc", 17],
  ],
  stale: [],
  absent: ["p_late"],
  joinMs: 1.25,
  hash: "0123456789abcdef",
};

describe("thin codec against @colyseus/core's encoder", () => {
  it("uses the protocol's codes and modifier bits", () => {
    expect(JOIN_ACK).toEqual(Uint8Array.of(Protocol.JOIN_ROOM));
    expect(LEAVE).toEqual(Uint8Array.of(Protocol.LEAVE_ROOM));
    expect([TIMED, UNRELIABLE]).toEqual([ProtocolModifier.TIMED, ProtocolModifier.UNRELIABLE]);
    for (const code of Object.values(Protocol)) expect(code & CODE_MASK).toBe(code);
    for (const bit of Object.values(ProtocolModifier)) expect(bit & CODE_MASK).toBe(0);
  });

  it("reads JOIN_ROOM: reconnection token, serializer, state reflection, trailing sections", () => {
    const reflection = Reflection.encode(new Encoder(new ArenaState()));
    const frame = getMessageBytes[Protocol.JOIN_ROOM]("rt-Xy_9", "schema", reflection);
    const join = readJoin(frame);
    expect(join).toMatchObject({ reconnectionToken: "rt-Xy_9", serializerId: "schema", sections: [] });
    expect(Buffer.from(join.reflection).equals(Buffer.from(reflection))).toBe(true);
    expect(sameSchema(join.reflection)).toBe(true);

    const bare = readJoin(
      getMessageBytes[Protocol.JOIN_ROOM]("t", "none", undefined, [
        { tag: 1, bytes: Uint8Array.of(9, 9, 9) },
        { tag: 7, bytes: new Uint8Array(300) },
      ]),
    );
    expect(bare).toMatchObject({ reconnectionToken: "t", serializerId: "none", sections: [1, 7] });
    expect(bare.reflection.byteLength).toBe(0);
    expect(() => readJoin(frame.subarray(0, frame.byteLength - 10))).toThrow(RangeError);
  });

  it("tells a changed schema's reflection from ArenaState's", () => {
    // what a server with one more field in its state would send
    const Changed = schema(
      { round: t.uint32(), phase: t.string(), entities: t.map(Entity), weather: t.string() },
      "ChangedArenaState",
    );
    expect(sameSchema(Reflection.encode(new Encoder(new Changed())))).toBe(false);
    expect(sameSchema(Reflection.encode(new Encoder(new Entity())))).toBe(false);
  });

  it("reads ERROR: code and message", () => {
    expect(readError(getMessageBytes[Protocol.ERROR](4217, "bad payload ✓"))).toEqual({
      code: 4217,
      message: "bad payload ✓",
    });
    expect(readError(getMessageBytes[Protocol.ERROR](524))).toEqual({ code: 524, message: "" });
  });

  it("reads ROOM_DATA: string and numeric types, msgpack payloads, no payload", () => {
    const round = getMessageBytes.raw(Protocol.ROOM_DATA, "round", ROUND);
    const { type, offset } = readDataType(round);
    expect(type).toBe("round");
    expect(readPayload(round, offset)).toEqual(ROUND);

    const numeric = getMessageBytes.raw(Protocol.ROOM_DATA, 99, { hello: ["world", 1.5] });
    const n = readDataType(numeric);
    expect(n.type).toBe(99);
    expect(readPayload(numeric, n.offset)).toEqual({ hello: ["world", 1.5] });

    const empty = getMessageBytes.raw(Protocol.ROOM_DATA, "error");
    expect(readPayload(empty, readDataType(empty).offset)).toBeUndefined();
  });

  it("reads a full state the room's schema encoder wrote, with or without the TIMED prefix", () => {
    const state = new ArenaState();
    state.round = 12;
    state.phase = "fighting";
    for (const [id, alive] of [
      ["p_a", true],
      ["npc_wolf_2", false],
    ] as const) {
      const e = new Entity();
      e.id = id;
      e.alive = alive;
      state.entities.set(id, e);
    }
    const body = new Encoder(state).encodeAll();
    const frame = Uint8Array.of(Protocol.ROOM_STATE, ...body);
    expect(stateOffset(frame)).toBe(1);
    expect(readState(frame, stateOffset(frame))).toEqual({
      round: 12,
      entities: new Map([
        ["p_a", true],
        ["npc_wolf_2", false],
      ]),
    });
    const timed = Uint8Array.of(Protocol.ROOM_STATE | ProtocolModifier.TIMED, 1, 2, 3, 4, 5, 6, 7, 8, ...body);
    expect(readState(timed, stateOffset(timed)).round).toBe(12);
  });

  it("reads a state whose room has not set its round yet as round -1 (the plain-Colyseus baseline's)", () => {
    const fresh = Uint8Array.of(Protocol.ROOM_STATE, ...new Encoder(new ArenaState()).encodeAll());
    expect(readState(fresh, 1)).toEqual({ round: -1, entities: new Map() });
  });
});

describe("a room's view decodes each round frame once", () => {
  it("a frame with the same bytes (another seat's copy) gives the decoded message back; events apply once", () => {
    const view = new RoomView();
    view.applyState({
      round: 41,
      entities: new Map([
        ["p_abc", true],
        ["npc_goblin_1", true],
      ]),
    });
    const frame = getMessageBytes.raw(Protocol.ROOM_DATA, "round", ROUND);
    const { offset } = readDataType(frame);
    const first = view.roundOf(Buffer.from(frame), offset);
    expect(first).toEqual(ROUND);
    expect(view.aliveOf("p_abc")).toBe(false); // its death in round 42
    // p_late sat the round out (absent): a living entity the view had not met yet
    expect(view.living()).toEqual(["npc_goblin_1", "p_late"]);
    // another seat's frame: other memory, same bytes
    expect(view.roundOf(Buffer.from(frame), offset)).toBe(first);
    const next = getMessageBytes.raw(Protocol.ROOM_DATA, "round", {
      ...ROUND,
      round: 43,
      events: [{ t: "respawn", by: "p_abc", hp: 100 }],
    });
    const second = view.roundOf(Buffer.from(next), offset);
    expect(second).not.toBe(first);
    expect(view.aliveOf("p_abc")).toBe(true);
    // a seat a round behind gets the older message back from the cache, and it changes nothing
    expect(view.roundOf(Buffer.from(frame), offset)).toBe(first);
    expect(view.aliveOf("p_abc")).toBe(true);
    expect(view.round).toBe(43);
  });
});

describe("thin intents against the SDK's bytes", () => {
  let wss: WebSocketServer;
  let room: Room;
  const received: Buffer[] = [];

  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await once(wss, "listening");
    const connected = once(wss, "connection") as Promise<[WebSocket]>;
    room = new Room("arena");
    room.connect(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/proc/room?sessionId=s1`, {});
    const [socket] = await connected;
    socket.on("message", (data: Buffer) => received.push(data));
    await vi.waitFor(() => expect(room.connection.isOpen).toBe(true));
  });
  afterAll(async () => {
    room?.connection?.close();
    for (const c of wss?.clients ?? []) c.terminate();
    await new Promise((done) => wss?.close(done));
  });

  it.each([
    ["attack", { seq: 1, action: "attack", target: "npc_goblin_1" }],
    ["defend", { seq: 4_294_967_295, action: "defend" }],
    ["focus", { seq: 300, action: "focus" }],
    ["garbage object", { seq: "7", action: "defend", extra: [1, null, { deep: true }] }],
    ["garbage scalar", 42],
    ["garbage null", null],
  ])("%s: the same bytes as room.send", async (_name, payload) => {
    const before = received.length;
    room.send("intent", payload);
    await expect.poll(() => received.length).toBe(before + 1);
    expect(Buffer.from(roomData("intent", payload)).equals(received[before])).toBe(true);
  });

  it("numeric and unknown message types, and no payload, match too", async () => {
    for (const [type, payload] of [
      [99, { hello: "world" }],
      ["teleport", { x: 1, y: 2 }],
      ["intent", undefined],
    ] as const) {
      const before = received.length;
      room.send(type as string, payload);
      await expect.poll(() => received.length).toBe(before + 1);
      expect(Buffer.from(roomData(type, payload)).equals(received[before])).toBe(true);
    }
  });
});
