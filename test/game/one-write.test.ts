// inOneWrite: a round's frames (patch + round message) leave in one socket write per client,
// framed once, over real ws servers and clients on loopback and Colyseus' own WebSocketClient.
import { once } from "node:events";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import type { Client } from "@colyseus/core";
import { WebSocketClient } from "@colyseus/ws-transport";
import { inOneWrite } from "../../server/game/room/one-write.ts";

const servers: WebSocketServer[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  for (const server of servers.splice(0)) await new Promise((done) => server.close(done));
});

interface Pair {
  client: Client;
  /** the raw TCP chunks the browser side read */
  chunks: Buffer[];
  /** the messages it decoded */
  received: Buffer[];
}

/** n connected pairs: the server side as Colyseus' WebSocketClient, the other side a plain ws client. */
async function connect(n: number): Promise<Pair[]> {
  const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  servers.push(server);
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const pairs: Pair[] = [];
  for (let i = 0; i < n; i++) {
    const accepted = once(server, "connection");
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    sockets.push(ws);
    await once(ws, "open");
    const [serverSide] = (await accepted) as [WebSocket];
    sockets.push(serverSide);
    const pair: Pair = {
      client: new WebSocketClient(`c${i}`, serverSide) as unknown as Client,
      chunks: [],
      received: [],
    };
    (ws as unknown as { _socket: Socket })._socket.prependListener("data", (c: Buffer) => pair.chunks.push(c));
    ws.on("message", (data: Buffer) => pair.received.push(data));
    pairs.push(pair);
  }
  return pairs;
}

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe("inOneWrite", () => {
  it("sends every client the very bytes ws would, each client's frames in one write", async () => {
    // three sizes: the 7-bit, 16-bit and 64-bit length forms of a frame header
    const payloads = [bytes(5, 1), bytes(300, 2), bytes(70_000, 3)];
    const [reference] = await connect(1);
    for (const p of payloads) reference.client.raw(p);
    await expect.poll(() => reference.received.length).toBe(3);

    const pairs = await connect(3);
    inOneWrite(
      pairs.map((p) => p.client),
      () => {
        for (const pair of pairs) for (const p of payloads) pair.client.raw(p);
      },
    );
    await expect.poll(() => pairs.map((p) => p.received.length)).toEqual([3, 3, 3]);
    const wire = Buffer.concat(reference.chunks);
    for (const pair of pairs) {
      expect(pair.received).toEqual(payloads.map((p) => Buffer.from(p)));
      expect(Buffer.concat(pair.chunks)).toEqual(wire);
    }
    // one write per client: its first read already holds the small frames that came first
    for (const pair of pairs) expect(pair.chunks[0].subarray(0, 7)).toEqual(wire.subarray(0, 7));
    for (const pair of pairs) expect(Object.hasOwn(pair.client, "raw")).toBe(false);
  });

  it("holds a client's frames until the sends are done, and two small frames arrive in one read", async () => {
    const pairs = await connect(2);
    inOneWrite(
      pairs.map((p) => p.client),
      () => {
        for (const pair of pairs) {
          pair.client.raw(Buffer.from("patch"));
          pair.client.raw(Buffer.from("round"));
          // nothing reached ws yet
          expect((pair.client as unknown as { ref: { _socket: Socket } }).ref._socket.writableLength).toBe(0);
        }
      },
    );
    await expect.poll(() => pairs.map((p) => p.received.length)).toEqual([2, 2]);
    for (const pair of pairs) {
      expect(pair.received.map(String)).toEqual(["patch", "round"]);
      expect(pair.chunks.length).toBe(1);
    }
  });

  it("a send with a callback goes through ws, after what was held back and before what follows", async () => {
    const [pair] = await connect(1);
    let called = false;
    inOneWrite([pair.client], () => {
      pair.client.raw(Buffer.from("one"));
      pair.client.raw(Buffer.from("two"), undefined, () => (called = true));
      pair.client.raw(Buffer.from("three"));
    });
    await expect.poll(() => pair.received.length).toBe(3);
    expect(pair.received.map(String)).toEqual(["one", "two", "three"]);
    expect(called).toBe(true);
  });

  it("delivers what was sent when the sends throw, and leaves a client without an open socket to ws", async () => {
    const pairs = await connect(2);
    const ws = (pairs[1].client as unknown as { ref: WebSocket }).ref;
    ws.close();
    await once(ws, "close");
    expect(() =>
      inOneWrite(
        pairs.map((p) => p.client),
        () => {
          pairs[0].client.raw(Buffer.from("before the throw"));
          throw new Error("boom");
        },
      ),
    ).toThrow("boom");
    await expect.poll(() => pairs[0].received.length).toBe(1);
    expect(pairs[0].received.map(String)).toEqual(["before the throw"]);
    for (const pair of pairs) expect(Object.hasOwn(pair.client, "raw")).toBe(false);
  });
});
