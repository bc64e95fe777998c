// inOneWrite: a round's frames (patch + round message) leave in one socket write per client,
// over a real ws server and client on loopback.
import { once } from "node:events";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import type { Client } from "@colyseus/core";
import { inOneWrite } from "../../server/game/room/one-write.ts";

let server: WebSocketServer | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  if (server) await new Promise((done) => server!.close(done));
  server = undefined;
});

/** n connected pairs: the server side wrapped like Colyseus' WebSocketClient (`ref`), and each client's raw TCP chunks. */
async function connect(n: number): Promise<{ clients: Client[]; chunks: Buffer[][]; received: Buffer[][] }> {
  server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const clients: Client[] = [];
  const chunks: Buffer[][] = [];
  const received: Buffer[][] = [];
  for (let i = 0; i < n; i++) {
    const accepted = once(server, "connection");
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    sockets.push(ws);
    await once(ws, "open");
    const [serverSide] = (await accepted) as [WebSocket];
    sockets.push(serverSide);
    const mine: Buffer[] = [];
    const frames: Buffer[] = [];
    chunks.push(mine);
    received.push(frames);
    (ws as unknown as { _socket: Socket })._socket.prependListener("data", (c: Buffer) => mine.push(c));
    ws.on("message", (data: Buffer) => frames.push(data));
    clients.push({ ref: serverSide } as unknown as Client);
  }
  return { clients, chunks, received };
}

describe("inOneWrite", () => {
  it("holds every client's frames back until the sends are done, then delivers them in order in one TCP chunk", async () => {
    const { clients, chunks, received } = await connect(3);
    inOneWrite(clients, () => {
      for (const c of clients) {
        const ws = (c as unknown as { ref: WebSocket }).ref;
        ws.send(Buffer.from("patch"));
        ws.send(Buffer.from("round"));
        // nothing reached the kernel yet: both frames wait in the corked socket
        expect((ws as unknown as { _socket: Socket })._socket.writableCorked).toBe(1);
      }
    });
    await expect.poll(() => received.map((r) => r.length)).toEqual(clients.map(() => 2));
    for (let i = 0; i < clients.length; i++) {
      expect(received[i].map(String)).toEqual(["patch", "round"]);
      // one write, one segment: the client's single read holds both frames
      expect(chunks[i].length).toBe(1);
    }
  });

  it("uncorks when the sends throw, and skips a client whose socket is gone", async () => {
    const { clients, received } = await connect(2);
    const gone = { ref: { _socket: null } } as unknown as Client;
    expect(() =>
      inOneWrite([gone, ...clients], () => {
        (clients[0] as unknown as { ref: WebSocket }).ref.send(Buffer.from("before the throw"));
        throw new Error("boom");
      }),
    ).toThrow("boom");
    await expect.poll(() => received[0].length).toBe(1);
    expect(received[0].map(String)).toEqual(["before the throw"]);
    for (const c of clients) expect((c as unknown as { ref: { _socket: Socket } }).ref._socket.writableCorked).toBe(0);
  });
});
