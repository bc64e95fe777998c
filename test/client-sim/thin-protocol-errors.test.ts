// What the thin client does with a wire it does not know (what a Colyseus upgrade could bring): a
// room whose frames are written by @colyseus/core's own encoder but carry an unknown protocol
// code, an unknown modifier bit, another serializer, a changed state schema or a handshake
// section. Each is counted as a protocol:* error that the report rates (the run fails), never
// ignored; the seat still acknowledges the join and goes on delivering round messages.
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { getMessageBytes, Protocol } from "@colyseus/core";
import { Encoder, Reflection, schema, t } from "@colyseus/schema";
import { Metrics, mergeSnapshots } from "../../client-sim/metrics.ts";
import { parseOptions } from "../../client-sim/options.ts";
import { buildReport } from "../../client-sim/report.ts";
import type { Seat } from "../../client-sim/seat.ts";
import { thinSeats } from "../../client-sim/thin/thin-seats.ts";
import { NO_EVENTS } from "../../client-sim/thin/thin-seat.ts";
import type { RoundMessage } from "../../shared/protocol.ts";
import { ArenaState, Entity } from "../../shared/state.ts";

const ROUND: RoundMessage = {
  round: 1,
  seed: 1,
  events: [{ t: "defend", by: "npc_goblin_1" }],
  intents: [["npc_goblin_1", 1]],
  stale: [],
  absent: [],
  joinMs: 0,
  hash: "00",
};
const reflectionOf = (root: object) => Reflection.encode(new Encoder(root as InstanceType<typeof ArenaState>));
const REFLECTION = reflectionOf(new ArenaState());

interface FakeRoom {
  httpUrl: string;
  wsUrl: string;
  /** what the client sent after the join */
  received: Buffer[];
}

/** Matchmaking that grants one seat, and a room that sends `join`, then `after` once acknowledged. */
async function fakeRoom(join: Uint8Array, after: Uint8Array[]): Promise<FakeRoom> {
  const http = createServer((req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ name: "arena", roomId: "room1", sessionId: "sess1", processId: "proc1" }));
  });
  servers.push(http);
  const wss = new WebSocketServer({ server: http });
  const received: Buffer[] = [];
  wss.on("connection", (ws) => {
    ws.send(join);
    ws.on("message", (data: Buffer) => {
      received.push(data);
      if (received.length === 1)
        for (const frame of [...after, getMessageBytes.raw(Protocol.ROOM_DATA, "round", ROUND)]) ws.send(frame);
    });
  });
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  const { port } = http.address() as AddressInfo;
  return { httpUrl: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}`, received };
}

const servers: Server[] = [];
const seats: Seat[] = [];
afterEach(async () => {
  for (const s of seats.splice(0)) s.close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((done) => s.close(done));
  }
});

const Changed = schema(
  { round: t.uint32(), phase: t.string(), entities: t.map(Entity), weather: t.string() },
  "ChangedArenaState",
);

describe("thin client: a wire it does not know is counted, never ignored", () => {
  it.each([
    [
      "an unknown protocol code",
      getMessageBytes[Protocol.JOIN_ROOM]("tok", "schema", REFLECTION),
      [Uint8Array.of(25, 1, 2)],
      "protocol:code:25",
    ],
    [
      "an unknown modifier bit",
      getMessageBytes[Protocol.JOIN_ROOM]("tok", "schema", REFLECTION),
      [Uint8Array.of(0x20 | Protocol.ROOM_STATE_PATCH, 0)],
      "protocol:modifier:32",
    ],
    [
      "another serializer",
      getMessageBytes[Protocol.JOIN_ROOM]("tok", "fossil", REFLECTION),
      [],
      "protocol:serializer:fossil",
    ],
    [
      "a changed state schema",
      getMessageBytes[Protocol.JOIN_ROOM]("tok", "schema", reflectionOf(new Changed())),
      [],
      "protocol:schema_reflection",
    ],
    [
      "a handshake section",
      getMessageBytes[Protocol.JOIN_ROOM]("tok", "schema", REFLECTION, [{ tag: 1, bytes: Uint8Array.of(1) }]),
      [],
      "protocol:handshake_section:1",
    ],
  ])("%s", async (_what, join, after, error) => {
    const room = await fakeRoom(join, after);
    const metrics = new Metrics();
    const source = thinSeats(room.httpUrl, room.wsUrl, metrics, () => {})({ opened() {}, received() {} });
    const seat = await source.joinOrCreate("token", new AbortController().signal);
    seats.push(seat);
    const rounds: RoundMessage[] = [];
    seat.listen({ ...NO_EVENTS, round: (m) => rounds.push(m) });
    await expect.poll(() => rounds.length).toBe(1);
    expect(rounds[0]).toEqual(ROUND);
    expect(seat.reconnectionToken).toBe("room1:tok");
    expect(room.received[0]).toEqual(Buffer.of(Protocol.JOIN_ROOM));

    const report = buildReport(parseOptions([])!, mergeSnapshots([metrics.snapshot(true)]), 0, 1, null);
    expect(report.errors.byKind).toEqual({ [error]: 1 });
    expect(report.ok).toBe(false);
  });

  it("the wire this client knows counts nothing", async () => {
    const room = await fakeRoom(getMessageBytes[Protocol.JOIN_ROOM]("tok", "schema", REFLECTION), [
      Uint8Array.of(Protocol.ROOM_STATE_PATCH, 0),
    ]);
    const metrics = new Metrics();
    const source = thinSeats(room.httpUrl, room.wsUrl, metrics, () => {})({ opened() {}, received() {} });
    const seat = await source.joinOrCreate("token", new AbortController().signal);
    seats.push(seat);
    let rounds = 0;
    seat.listen({ ...NO_EVENTS, round: () => rounds++ });
    await expect.poll(() => rounds).toBe(1);
    expect(metrics.snapshot(false).errors).toEqual({});
  });
});
