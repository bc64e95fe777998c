// `npm start` (server/main.ts) as a real process supervising the real stats service and game
// server: crashed children come back, a dead supervisor leaves no orphans, repeated fast crashes
// end it loudly. Children are found through the supervisor's "child ready" lines (pid, port);
// readiness itself is the IPC ready message (spawnReady), never a log line.
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join as pathJoin } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../../server/observability/log.ts";
import { spawnReady } from "../../server/process/spawn-ready.ts";
import { DEFAULT_RESTART_POLICY, supervise } from "../../server/process/supervisor.ts";
import {
  AUTH_SECRET,
  freePort,
  isRunning,
  join,
  leaveAll,
  repoFile,
  spawnEntry,
  stop,
  waitFor,
  type ChildService,
  type Player,
} from "../game/helpers.ts";
import { childReadyRecords, latestChildReady } from "./child-ready-records.ts";

const dir = mkdtempSync(pathJoin(tmpdir(), "skirmish-npm-start-"));
const started: ChildService[] = [];
afterAll(async () => {
  for (const c of started) await stop(c, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const latest = (start: ChildService, child: string) => latestChildReady(start.lines, child);

async function healthz(port: number): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
  } catch {
    return 0;
  }
}

async function npmStart(env: Record<string, string>): Promise<ChildService> {
  const start = await spawnEntry("server/main.ts", {
    STATS_DB: ":memory:",
    JOURNAL_PATH: pathJoin(dir, `journal-${started.length}.db`),
    AUTH_SECRET,
    // 100 ms rounds: an outage and a recovery show within a few seconds
    TICK_HZ: "50",
    ROUND_TICKS: "5",
    ROUND_DEADLINE_MS: "80",
    ...env,
  });
  started.push(start);
  return start;
}

describe("npm start keeps its children up", () => {
  let start: ChildService;
  let port: number;
  const players: Player[] = [];
  afterAll(() => leaveAll(players));

  it("a SIGKILLed stats service is restarted; a connected SDK client plays on stale stats, then gets fresh rounds", async () => {
    port = await freePort();
    start = await npmStart({ PORT: String(port), STATS_PORT: String(await freePort()) });
    expect(start.port).toBe(port);
    const ann = await join({ url: `ws://127.0.0.1:${port}`, httpUrl: `http://127.0.0.1:${port}` }, "Ann");
    players.push(ann);
    const fresh = (from: number) => ann.rounds.slice(from).find((r) => r.stale.length === 0 && r.absent.length === 0);
    await waitFor("a fresh round", () => fresh(0), 15_000);

    const stats = latest(start, "stats");
    process.kill(stats.pid, "SIGKILL");
    const killedAt = ann.rounds.length;
    await waitFor(
      "a round fought on Ann's last-known-good stats",
      () => ann.rounds.slice(killedAt).find((r) => r.stale.includes(ann.id)),
      15_000,
    );
    await waitFor("the stats service restarted", () => latest(start, "stats").restarts === 1, 20_000);
    const back = latest(start, "stats");
    expect(back.pid).not.toBe(stats.pid);
    expect(back.port).toBe(stats.port);
    const restartedAt = ann.rounds.length;
    await waitFor("a fresh round after the restart", () => fresh(restartedAt), 20_000);
    expect(ann.left).toBeNull(); // the same connection all along
    expect(
      start.lines.some(
        (l) =>
          l.startsWith("[main]") && l.includes('"msg":"child crashed; restarting"') && l.includes('"child":"stats"'),
      ),
    ).toBe(true);
  }, 60_000);

  it("a child killed again and again after it was up is always restarted (only fast crashes count toward giving up)", async () => {
    // npm start gives up after 5 fast crashes in a row; these 5 kills each come once the child has
    // been up minUptimeMs (from its "child ready" record), so none is fast
    const { minUptimeMs } = DEFAULT_RESTART_POLICY;
    for (let i = 2; i <= 6; i++) {
      const up = latest(start, "stats");
      await expect
        .poll(() => Date.now() - Date.parse(up.time), { timeout: 2 * minUptimeMs, interval: 50 })
        .toBeGreaterThan(minUptimeMs + 100);
      process.kill(up.pid, "SIGKILL");
      await waitFor(`stats restart ${i}`, () => latest(start, "stats").restarts === i, 20_000);
    }
    expect(start.proc.exitCode).toBeNull();
    expect(start.lines.some((l) => l.includes('"msg":"gave up"'))).toBe(false);
  }, 120_000);

  it("a SIGKILLed game server is restarted and its port serves again", async () => {
    await leaveAll(players); // a dropped SDK client would keep retrying its reconnection
    const game = latest(start, "game");
    process.kill(game.pid, "SIGKILL");
    await waitFor("the game server restarted", () => latest(start, "game").restarts === 1, 20_000);
    expect(latest(start, "game").pid).not.toBe(game.pid);
    expect(await healthz(port)).toBe(200);
    expect(isRunning(latest(start, "stats").pid)).toBe(true);
  }, 30_000);

  it("SIGKILL of npm start itself: both children exit by themselves (no orphans)", async () => {
    const pids = [latest(start, "stats").pid, latest(start, "game").pid];
    expect(pids.every(isRunning)).toBe(true);
    expect(await stop(start, "SIGKILL")).toBeNull();
    // the game finishes or cancels its round and closes its journal first: a graceful stop, bounded
    await waitFor("both children gone", () => !pids.some(isRunning), 20_000);
    expect(await healthz(port)).toBe(0);
  }, 30_000);
});

describe("npm start gives up loudly", () => {
  it("after repeated fast crashes (the game's port is taken): a clear error naming the child, the other child stopped", async () => {
    // the supervisor module itself, with a smaller crash budget than npm start's 5 in a row
    const blocker = createServer().listen(0, "127.0.0.1");
    await new Promise((resolve) => blocker.once("listening", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const lines: string[] = [];
      const env = {
        PORT: String(port),
        STATS_PORT: String(await freePort()),
        STATS_DB: ":memory:",
        JOURNAL_PATH: ":memory:",
      };
      const supervisor = supervise(
        [
          { name: "stats", entry: "server/stats/main.ts", env },
          { name: "game", entry: "server/game/main.ts", env },
        ],
        {
          log: createLogger("info", (line) => lines.push(`[main] ${line.trimEnd()}`)),
          output: (name, line) => lines.push(`[${name}] ${line}`),
          policy: { minMs: 100, maxMs: 1000, minUptimeMs: 2000, maxFastCrashes: 3 },
        },
      );
      const gaveUp =
        /^game crashed 3 times in a row, each before it was up 2 s \(last: exited \(code 1, signal null\) before it was ready\); giving up$/;
      await expect(supervisor.ready).rejects.toThrow(gaveUp);
      await expect(supervisor.done).rejects.toThrow(gaveUp);
      expect(lines.filter((l) => l.startsWith("[game]") && l.includes('"msg":"game failed to start"'))).toHaveLength(3);
      expect(
        lines.filter((l) => l.startsWith("[main]") && l.includes('"msg":"child crashed; restarting"')),
      ).toHaveLength(2);
      expect(lines.some((l) => l.startsWith("[stats]") && l.includes('"msg":"stats stopped"'))).toBe(true);
      expect(isRunning(childReadyRecords(lines).find((r) => r.child === "stats")!.pid)).toBe(false);
    } finally {
      blocker.close();
    }
  }, 60_000);

  it("npm start: a child that refuses its configuration (exit 2) is not restarted; a clear error, exit 1", async () => {
    const lines: string[] = [];
    // no AUTH_SECRET: npm start keeps one beside the journal, so the journal goes to the temp dir,
    // never the repository's data/
    const dataDir = pathJoin(dir, "refused");
    const repoData = () => (existsSync(repoFile("data")) ? readdirSync(repoFile("data")) : []);
    const repoDataBefore = repoData();
    const failed = await spawnReady("server/main.ts", {
      env: {
        PORT: String(await freePort()),
        STATS_PORT: String(await freePort()),
        STATS_DB: ":memory:",
        JOURNAL_PATH: pathJoin(dataDir, "journal.db"),
        TICK_HZ: "zero",
      },
      onLine: (l) => lines.push(l),
    }).then(
      () => "ready",
      (err: Error) => err.message,
    );
    expect(failed).toMatch(/exited \(code 1/);
    expect(lines.find((l) => l.includes('"msg":"gave up"'))).toMatch(
      /game exited \(code 2, signal null\).*not restarted/,
    );
    expect(
      lines.filter((l) => l.startsWith("[game]") && l.includes("TICK_HZ (--tick-hz): expected an integer")),
    ).toHaveLength(1);
    expect(readdirSync(dataDir)).toEqual(["auth-secret"]);
    expect(repoData()).toEqual(repoDataBefore);
  }, 60_000);
});
