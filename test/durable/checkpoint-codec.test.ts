import { Packr } from "msgpackr";
import { describe, expect, it } from "vitest";
import { CHECKPOINT_VERSION, decodeCheckpoint, encodeCheckpoint } from "../../server/game/cluster/room-checkpoint.ts";
import type { RoomCheckpoint } from "../../server/game/room/room-durability.ts";

const checkpoint: RoomCheckpoint = {
  room: { room: "r1", nonce: new Uint8Array([1, 2, 3]), openedAtMs: 5, refBase: 9 },
  last: null,
  members: [
    { event: "join", afterRound: 0, entity: "p_a", name: "A", kind: "player", sessionId: "s", credential: "c" },
  ],
};

describe("a room's checkpoint in Redis", () => {
  it("round-trips with its owner, epoch and hand-over mark", () => {
    const back = decodeCheckpoint(encodeCheckpoint("proc1", 7, checkpoint, true));
    expect(back).toMatchObject({
      v: CHECKPOINT_VERSION,
      owner: "proc1",
      epoch: 7,
      handedOver: true,
      members: checkpoint.members,
    });
    expect(Uint8Array.from(back.room.nonce)).toEqual(checkpoint.room.nonce);
  });

  it("refuses another version, or bytes that are not a checkpoint, saying why", () => {
    const other = new Packr({ useRecords: false }).pack({
      v: CHECKPOINT_VERSION + 1,
      owner: "p",
      epoch: 1,
      room: {},
      members: [],
    });
    expect(() => decodeCheckpoint(other)).toThrow(/version 2; this build reads version 1/);
    expect(() => decodeCheckpoint(new Packr().pack("hello"))).toThrow(/not a checkpoint/);
    expect(() => decodeCheckpoint(new Packr().pack({ v: CHECKPOINT_VERSION }))).toThrow(/without its owner/);
  });
});
