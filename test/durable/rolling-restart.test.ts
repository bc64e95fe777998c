// A deploy without ending a match: SIGHUP to `npm run start:cluster` restarts its game processes
// one at a time; each hands its rooms to the others before it stops. The match goes on: both
// players get back into their entities with client.reconnect(token), no round is fought twice, and
// the journals of every process replay as one chain.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { Client } from "@colyseus/sdk";
import { afterAll, expect, it, vi } from "vitest";
import type { RoundMessage } from "../../shared/protocol.ts";
import { replayJournal } from "../../server/game/journal/replay-cli.ts";
import { spawnReady, type ReadyProcess } from "../../server/process/spawn-ready.ts";
import { freePortRange } from "../../server/process/free-port.ts";
import { entitiesOf, join, leaveAll, track, waitFor, type Player } from "../game/helpers.ts";
import { describeWithRedis } from "../cluster/helpers.ts";

const dir = mkdtempSync(joinPath(tmpdir(), "skirmish-rolling-"));

async function processOf(port: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    return res.status === 200 ? ((await res.json()) as { process: string }).process : undefined;
  } catch {
    return undefined;
  }
}

describeWithRedis("npm run start:cluster: SIGHUP is a rolling restart that keeps matches", () => {
  let cluster: ReadyProcess | undefined;
  const players: Player[] = [];
  afterAll(async () => {
    await leaveAll(players);
    await cluster?.stop("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  it("restarts every game process one at a time; the match goes on from the next round", async () => {
    const port = await freePortRange(3);
    cluster = await spawnReady("server/cluster-main.ts", {
      args: ["--processes", "2"],
      env: {
        PORT: String(port),
        STATS_PORT: String(port + 2),
        STATS_DB: ":memory:",
        JOURNAL_PATH: joinPath(dir, "journal.db"),
        REDIS_URL: undefined,
        AUTH_SECRET: undefined,
        STATS_URL: undefined,
        TICK_HZ: "50",
        ROUND_TICKS: "5",
        ROUND_DEADLINE_MS: "80",
        RECONNECT_GRACE_S: "60",
        LOG_LEVEL: "info",
        SUMMARY_EVERY_S: "0",
      },
      timeoutMs: 120_000,
    });
    const game = { url: `ws://127.0.0.1:${port}`, httpUrl: `http://127.0.0.1:${port}` };
    const seen: RoundMessage[] = [];
    const joined = [await join(game, "Ann"), await join(game, "Bob")];
    for (const p of joined) {
      players.push(p);
      // these players come back with client.reconnect(token), not the SDK's retries to the old address
      p.room.reconnection.enabled = false;
      p.room.onMessage("round", (m: RoundMessage) => seen.push(m));
    }
    const roomId = joined[0].room.roomId;
    expect(joined[1].room.roomId).toBe(roomId);
    await waitFor("rounds", () => seen.length >= 10, 20_000);
    const before = await Promise.all([processOf(port), processOf(port + 1)]);

    cluster.proc.kill("SIGHUP");
    // both processes replaced (new process ids answering on both ports)
    await vi.waitFor(
      async () => {
        const now = await Promise.all([processOf(port), processOf(port + 1)]);
        expect(now.every((id, i) => id !== undefined && id !== before[i])).toBe(true);
      },
      { timeout: 90_000, interval: 250 },
    );
    const lastSeen = Math.max(...seen.map((r) => r.round));
    const from = seen.length;
    for (const old of joined) {
      const room = await vi.waitFor(() => new Client(game.url).reconnect(old.room.reconnectionToken), {
        timeout: 30_000,
        interval: 250,
      });
      const p = track(room, old.id);
      room.onMessage("round", (m: RoundMessage) => seen.push(m));
      players.push(p);
      expect(room.roomId).toBe(roomId);
      await waitFor(`${old.id}'s entity`, () => entitiesOf(room).get(old.id));
    }
    await waitFor("rounds again", () => seen.length - from >= 4, 20_000);
    expect(Math.min(...seen.slice(from).map((r) => r.round)) - lastSeen).toBeOneOf([1, 2]);
    const hashOf = new Map<number, string>();
    for (const r of seen) {
      expect(hashOf.get(r.round) ?? r.hash, `round ${r.round} seen with two results`).toBe(r.hash);
      hashOf.set(r.round, r.hash);
    }
    const journals = readdirSync(dir)
      .filter((f) => /^journal-.*\.db$/.test(f))
      .map((f) => joinPath(dir, f));
    expect(journals.length).toBeGreaterThanOrEqual(3);
    const out: string[] = [];
    expect(await replayJournal({ paths: journals }, (l) => out.push(l)), out.slice(-3).join("\n")).toBe(0);
  }, 180_000);
});
