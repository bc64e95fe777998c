import { Agent, request } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import type { ReplayPage } from "../../shared/replay.ts";
import { guest, leaveAll, startGame, startStats, track, waitFor, type Player } from "./helpers.ts";
import { Client } from "@colyseus/sdk";
import { ROOM_NAME } from "../../shared/protocol.ts";

interface Answer {
  status: number;
  body: Buffer;
  reusedSocket: boolean;
}

function get(agent: Agent, url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode!, body: Buffer.concat(chunks), reusedSocket: req.reusedSocket }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * Large router answers on keep-alive connections, over real sockets: the answer must end (so the
 * connection can carry the next request), and an idle connection is closed by the server.
 */
describe("HTTP keep-alive and large answers", () => {
  let stats: StatsService;
  let game: GameServer;
  let ann: Player;
  let token: string;

  beforeAll(async () => {
    stats = await startStats();
    // 13 entities a round and short rounds: a page of 100 rounds is several hundred KiB, soon;
    // the idle timeout is above the 1 s Node's Agent keeps in reserve before a server's keep-alive ends
    game = await startGame(stats.rpcUrl, { tickHz: 50, roundTicks: 2, npcs: 12, httpIdleTimeoutMs: 2000 });
    const g = await guest(game, "Ann");
    token = g.token;
    ann = track(await new Client(game.url).joinOrCreate(ROOM_NAME, { token }), g.playerId);
    await waitFor("101 journaled rounds", () => game.journal.count(ann.room.roomId) > 100, 30_000);
  }, 60_000);
  afterAll(async () => {
    await leaveAll(ann ? [ann] : []);
    await game?.close();
    await stats?.close();
  });

  const pageUrl = () => `${game.httpUrl}/replay/rounds?room=${ann.room.roomId}&limit=100`;

  it("answers a second request on the connection that carried a page of several hundred KiB", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(agent, pageUrl(), { authorization: `Bearer ${token}` });
      expect(first.status).toBe(200);
      expect(first.body.length).toBeGreaterThan(256 * 1024);
      expect((JSON.parse(first.body.toString()) as ReplayPage).rounds).toHaveLength(100);
      const second = await get(agent, `${game.httpUrl}/healthz`);
      expect(second.status).toBe(200);
      expect(second.reusedSocket).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it("closes a keep-alive connection that stays idle after its answer", async () => {
    const socket = connect(game.port, "127.0.0.1");
    const received: Buffer[] = [];
    socket.on("data", (c: Buffer) => received.push(c));
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.write(
      `GET /replay/rounds?room=${ann.room.roomId}&limit=100 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nConnection: keep-alive\r\n\r\n`,
    );
    // the server ends the answer, then closes the idle connection by itself (HTTP_IDLE_TIMEOUT_MS)
    await closed;
    const text = Buffer.concat(received).toString("latin1");
    expect(text.startsWith("HTTP/1.1 200")).toBe(true);
    const length = Number(/\r\ncontent-length: (\d+)\r\n/i.exec(text)![1]);
    expect(Buffer.byteLength(text, "latin1") - (text.indexOf("\r\n\r\n") + 4)).toBe(length);
  });
});
