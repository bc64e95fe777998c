import { beforeAll, describe, expect, it, vi } from "vitest";
import type WebSocket from "ws";
import { rawSeat, UNDECODABLE_TYPE_FRAME } from "../../client-sim/attacks/raw-seat.ts";
import { undecodableType } from "../../server/game/room/frame-check.ts";
import { createLogger } from "../../server/observability/log.ts";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import { closeAfterAll, guest, join, startGame, startStats, waitFor, type Player } from "./helpers.ts";

describe("frame check", () => {
  it("passes decodable message types and names what is wrong with the others", () => {
    const enc = (s: string) => [0xa0 | Buffer.byteLength(s), ...Buffer.from(s)];
    expect(undecodableType(Uint8Array.of(13, ...enc("intent"), 0x80))).toBeNull();
    expect(undecodableType(Uint8Array.of(13, 7))).toBeNull(); // numeric type
    expect(undecodableType(Uint8Array.of(21, 5, ...enc("intent")))).toBeNull(); // request id, then type
    expect(undecodableType(Uint8Array.of(10))).toBeNull(); // not a data frame
    expect(undecodableType(UNDECODABLE_TYPE_FRAME)).toMatch(/not valid UTF-8/);
    expect(undecodableType(Uint8Array.of(13, 0xdb, 0xff, 0xff, 0xff, 0xff, 0x61))).toMatch(/past the end/);
    expect(undecodableType(Uint8Array.of(13, 0xc0))).toMatch(/neither a string nor a number/);
    expect(undecodableType(Uint8Array.of(21, 0xc0))).toMatch(/request id/);
  });
});

describe("a client sending undecodable frames", () => {
  let stats: StatsService;
  let game: GameServer;
  const lines: string[] = [];
  const players: Player[] = [];
  beforeAll(async () => {
    stats = await startStats();
    game = await startGame(stats.rpcUrl, { log: createLogger("warn", (line) => lines.push(line)) });
  });
  closeAfterAll(() => ({ players, game, stats }));

  it("is counted and dropped, the log stays bounded, and another client keeps playing", async () => {
    const good = await join(game, "Good");
    players.push(good);
    await waitFor("first rounds", () => good.rounds.length >= 2);
    const consoleError = vi.spyOn(console, "error");
    const ws: WebSocket = await rawSeat(game.httpUrl, (await guest(game)).token);
    const closed = new Promise<number>((resolve) => ws.once("close", (code: number) => resolve(code)));
    let sent = 0;
    for (; sent < 300 && ws.readyState === ws.OPEN; sent++) {
      const counted = game.metrics.errors.get("undecodable_frame");
      ws.send(UNDECODABLE_TYPE_FRAME);
      // the next frame once the server has read this one: counted, or the connection dropped
      await expect
        .poll(() => game.metrics.errors.get("undecodable_frame") > counted || ws.readyState !== ws.OPEN, {
          interval: 1,
        })
        .toBe(true);
    }
    expect(await closed).toBe(4002);
    const roundsAtDrop = good.rounds.length;
    await waitFor("rounds after the drop", () => good.rounds.length >= roundsAtDrop + 3);
    const raw = consoleError.mock.calls.length;
    consoleError.mockRestore();
    expect(raw).toBe(0);
    expect(sent).toBeLessThan(300);
    expect(game.metrics.errors.get("undecodable_frame")).toBeGreaterThanOrEqual(10);
    expect(game.metrics.errors.get("undecodable_drop")).toBe(1);
    const logged = lines.filter((l) => l.includes("undecodable client frame"));
    expect(logged.length).toBeGreaterThanOrEqual(1);
    expect(logged.length).toBeLessThanOrEqual(3);
    expect(good.left).toBeNull();
  });
});
