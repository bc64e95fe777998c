import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendBody } from "../../client-sim/attacks/http-body.ts";
import { sendOversizedBodies } from "../../client-sim/attacks/oversized-bodies.ts";
import type { GameServer } from "../../server/game/server.ts";
import { AUTH_SECRET, guest, spawnEntry, startGame, stop, type ChildService } from "./helpers.ts";

/** Oversized and slow HTTP bodies, sent on raw sockets to a real game server. */
describe("HTTP request bodies", () => {
  let game: GameServer;
  beforeAll(async () => {
    // no stats service: these requests never reach a room
    game = await startGame("ws://127.0.0.1:9/rpc", { httpRequestTimeoutMs: 1000 });
  });
  afterAll(() => game?.close());
  const target = () => ({ host: "127.0.0.1", port: game.port });

  it("answers 413 and closes for a declared 1 MB body, on the guest route and on matchmaking", async () => {
    for (const path of ["/auth/guest", "/matchmake/joinOrCreate/arena", "/matchmake/create/arena"]) {
      const r = await sendBody({ ...target(), path, bytes: 1024 * 1024, chunked: false });
      expect(r, path).toMatchObject({ status: 413, closedByServer: true });
    }
  });

  it("answers 413 and closes once a chunked body passes the cap", async () => {
    const r = await sendBody({
      ...target(),
      path: "/auth/guest",
      bytes: 64 << 20,
      chunked: true,
      chunkBytes: 64 * 1024,
    });
    expect(r).toMatchObject({ status: 413, closedByServer: true });
    expect(game.metrics.errors.get("http_body_too_large")).toBe(4);
  });

  it("cuts a slow body off at the request timeout (408)", async () => {
    // 100 bytes at one per 100 ms would take 10 s; the server allows 1 s for the whole request
    const r = await sendBody({
      ...target(),
      path: "/auth/guest",
      bytes: 100,
      chunked: false,
      chunkBytes: 1,
      delayMs: 100,
      timeoutMs: 20_000,
    });
    expect(r).toMatchObject({ status: 408, closedByServer: true });
    expect(r.sentBytes).toBeLessThan(100);
    expect(game.metrics.errors.get("http_request_timeout")).toBe(1);
  });

  it("still serves a small body", async () => {
    expect((await guest(game, "Ann")).name).toBe("Ann");
  });
});

describe("memory under oversized bodies", () => {
  let game: ChildService;
  beforeAll(async () => {
    game = await spawnEntry("server/game/main.ts", {
      PORT: "0",
      HOST: "127.0.0.1",
      STATS_URL: "ws://127.0.0.1:9/rpc",
      AUTH_SECRET,
      JOURNAL_PATH: ":memory:",
      LOG_LEVEL: "info",
      SUMMARY_EVERY_S: "0",
    });
  });
  afterAll(() => game && stop(game));

  it("the game process's RSS does not follow 8 concurrent 32 MB bodies", async () => {
    // warm both routes first: their first request loads and compiles code, which is not a body
    for (const path of ["/auth/guest", "/matchmake/joinOrCreate/arena"])
      await sendBody({
        host: "127.0.0.1",
        port: game.port,
        path,
        bytes: 1 << 20,
        chunked: false,
        chunkBytes: 64 * 1024,
      });
    const { results, rssBeforeMb, rssPeakMb } = await sendOversizedBodies({
      host: "127.0.0.1",
      port: game.port,
      pid: game.proc.pid!,
      count: 8,
      bytes: 32 << 20,
    });
    for (const r of results) expect(r.status).toBe(413);
    // 256 MB were offered; what the process holds must stay a small fraction of it (a process
    // that buffered them grew by all of it; 8 sockets' kernel and stream buffers grow it a little)
    expect(rssPeakMb - rssBeforeMb).toBeLessThan(96);
  });
});
