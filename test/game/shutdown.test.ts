import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as pathJoin } from "node:path";
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { RoundJournal } from "../../server/game/journal/round-journal.ts";
import { replayJournal } from "../../server/game/journal/replay-cli.ts";
import {
  AUTH_SECRET,
  freePort,
  join,
  repoFile,
  spawnEntry,
  spawnStats,
  stop,
  STATS_TOKEN,
  waitFor,
  type ChildService,
} from "./helpers.ts";

const dir = mkdtempSync(pathJoin(tmpdir(), "skirmish-shutdown-"));
const children: ChildService[] = [];
afterAll(async () => {
  for (const c of children) await stop(c, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("server/game/main.ts as a real process", () => {
  it("prints its flags with --help; refuses bad values and a busy port with exit codes", async () => {
    const r = spawnSync(process.execPath, [repoFile("server/game/main.ts"), "--help"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    for (const v of [
      "PORT",
      "STATS_URL",
      "AUTH_SECRET",
      "JOURNAL_PATH",
      "TICK_HZ",
      "ROUND_TICKS",
      "ROUND_DEADLINE_MS",
      "MAX_PLAYERS",
    ]) {
      expect(r.stdout).toContain(v);
    }
    // a busy port is a clear startup error, not a process hanging in listen()
    const blocker = createServer().listen(0, "127.0.0.1");
    await new Promise((resolve) => blocker.once("listening", resolve));
    const busy = spawnSync(process.execPath, [repoFile("server/game/main.ts")], {
      encoding: "utf8",
      timeout: 15_000,
      env: { ...process.env, PORT: String((blocker.address() as AddressInfo).port), JOURNAL_PATH: ":memory:" },
    });
    blocker.close();
    expect(busy.status).toBe(1);
    expect(busy.stdout).toMatch(/"msg":"game failed to start".*EADDRINUSE/);
    const bad = spawnSync(process.execPath, [repoFile("server/game/main.ts"), "--tick-hz", "zero"], {
      encoding: "utf8",
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--tick-hz/);
  }, 90_000); // four Node starts: ~10 s each on the shared machine at load 25

  it("SIGTERM mid-match: finishes or cancels the round in flight, closes the journal, exits 0", async () => {
    const stats = await spawnStats(0);
    children.push(stats);
    // slow stats (60 ms) against 80 ms round slots: a round is almost always in flight
    const faults = await fetch(`http://127.0.0.1:${stats.port}/admin/faults`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${STATS_TOKEN}` },
      body: JSON.stringify({ latencyMs: 60 }),
    });
    expect(faults.status).toBe(200);
    const journalPath = pathJoin(dir, "journal.db");
    const game = await spawnEntry("server/game/main.ts", {
      PORT: "0",
      STATS_URL: `ws://127.0.0.1:${stats.port}/rpc`,
      STATS_TOKEN,
      AUTH_SECRET,
      JOURNAL_PATH: journalPath,
      TICK_HZ: "50",
      ROUND_TICKS: "4",
      ROUND_DEADLINE_MS: "200",
      LOG_LEVEL: "info",
    });
    children.push(game);
    const url = { url: `ws://127.0.0.1:${game.port}`, httpUrl: `http://127.0.0.1:${game.port}` };
    const ann = await join(url, "Ann");
    await waitFor("rounds", () => ann.rounds.length >= 5, 10_000);

    const code = await stop(game, "SIGTERM");
    expect(code).toBe(0);
    await waitFor("Ann told the server shut down", () => ann.left !== null, 3000);
    // every line has been read once it exited (the ready message came over IPC, apart from them)
    const records = game.lines.map((l) => JSON.parse(l));
    expect(records.find((r) => r.msg === "game listening")).toMatchObject({ level: "info", port: game.port });
    const stopped = records.find((r) => r.msg === "game stopped");
    expect(stopped).toBeDefined();
    for (const line of game.lines) expect(JSON.parse(line).level).not.toBe("error");

    const journal = new RoundJournal(journalPath, { readOnly: true });
    const count = journal.count();
    journal.close();
    expect(count).toBe(stopped.journalRounds);
    expect(count).toBeGreaterThanOrEqual(ann.rounds.length);
    expect(Math.min(...ann.rounds.map((r) => r.joinMs))).toBeGreaterThanOrEqual(55);
    const out: string[] = [];
    expect(await replayJournal({ paths: [journalPath] }, (l) => out.push(l))).toBe(0);
    expect(out.filter((l) => l.startsWith("OK"))).toHaveLength(count);
  });
});

describe("npm start (server/main.ts)", () => {
  it("runs the stats service and the game server, prefixes their logs; Ctrl-C stops both, the game first", async () => {
    const [port, statsPort] = [await freePort(), await freePort()];
    const start = await spawnEntry("server/main.ts", {
      PORT: String(port),
      STATS_PORT: String(statsPort),
      STATS_DB: ":memory:",
      JOURNAL_PATH: pathJoin(dir, "start-journal.db"),
      AUTH_SECRET,
    });
    children.push(start);
    expect(start.port).toBe(port);
    const ann = await join({ url: `ws://127.0.0.1:${port}`, httpUrl: `http://127.0.0.1:${port}` }, "Ann");
    await waitFor(
      "a round from the game server, fed by the stats service",
      () => ann.rounds.find((r) => r.absent.length === 0),
      10_000,
    );

    // Ctrl-C: SIGINT to the terminal's process group, which holds npm start but not its children
    process.kill(-start.proc.pid!, "SIGINT");
    expect(await start.exited).toBe(0);
    // every line has been read once it exited: the banner, and each child's listening line prefixed
    expect(start.lines.some((l) => l.startsWith("[main]") && l.includes('"skirmish is up"'))).toBe(true);
    expect(start.lines.some((l) => l.startsWith("[stats]") && l.includes(`"port":${statsPort}`))).toBe(true);
    expect(start.lines.some((l) => l.startsWith("[game]") && l.includes(`"port":${port}`))).toBe(true);
    const at = (prefix: string, msg: string) =>
      start.lines.findIndex((l) => l.startsWith(prefix) && l.includes(`"msg":"${msg}"`));
    const [game, stats, main] = [at("[game]", "game stopped"), at("[stats]", "stats stopped"), at("[main]", "stopped")];
    expect(game).toBeGreaterThanOrEqual(0);
    // the game's last round and journal flush could still reach the stats service
    expect(stats).toBeGreaterThan(game);
    expect(main).toBeGreaterThan(stats);
    for (const p of [port, statsPort]) await expect(fetch(`http://127.0.0.1:${p}/healthz`)).rejects.toThrow();
  });
});
