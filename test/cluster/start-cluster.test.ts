// `npm run start:cluster` (server/cluster-main.ts) as a real process: its own redis-server, the
// stats service and two game processes on consecutive ports, one matchmaking over both, logs
// prefixed per process, SIGINT stopping every one of them, a SIGKILLed redis-server started again,
// and a SIGKILL of start:cluster itself leaving nothing running.
import { prerequisite } from "../prerequisite.ts";
import { afterAll, expect, it, vi } from "vitest";
import { freePortRange } from "../../server/process/free-port.ts";
import { spawnReady, type ReadyProcess } from "../../server/process/spawn-ready.ts";
import { findSetpriv, SETPRIV_PACKAGE } from "../../server/process/redis-server.ts";
import { guest, isRunning, waitFor } from "../game/helpers.ts";
import { consume, describeWithRedis, reserve } from "./helpers.ts";
import { postgresForTests, startPostgres, type PostgresServer } from "../postgres-server.ts";

/** The pid of every `redis-server started` line so far, in order. */
function redisPids(lines: string[]): number[] {
  return lines
    .filter((l) => l.includes('"msg":"redis-server started"'))
    .map((l) => (JSON.parse(l.slice("[cluster] ".length)) as { pid: number }).pid);
}

/**
 * The `child ready` records of the cluster's log, in order, once it names `children`: the lines
 * (stdout) and the cluster's own ready message (IPC) travel apart, so the lines may come later.
 */
function readyChildren(lines: string[], children: string[]): Promise<{ child: string; pid: number }[]> {
  return vi.waitFor(() => {
    const ready = lines
      .filter((l) => l.includes('"msg":"child ready"'))
      .map((l) => JSON.parse(l.slice(l.indexOf("{"))) as { child: string; pid: number });
    expect(ready.map((c) => c.child)).toEqual(children);
    return ready;
  }, 10_000);
}

/**
 * start:cluster with `args` on one range of free consecutive ports (the game processes from PORT,
 * then the stats replicas from STATS_PORT), in-memory stores unless `env` says otherwise, its own
 * redis-server and secret; its log lines go to `lines`.
 */
async function startCluster(args: string[], lines: string[], env: Record<string, string> = {}) {
  const processes = Number(args[args.indexOf("--processes") + 1]);
  const replicas = args.includes("--stats-replicas") ? Number(args[args.indexOf("--stats-replicas") + 1]) : 1;
  const port = await freePortRange(processes + replicas);
  const statsPort = port + processes;
  const cluster = await spawnReady("server/cluster-main.ts", {
    args,
    env: {
      PORT: String(port),
      STATS_PORT: String(statsPort),
      STATS_DB: ":memory:",
      JOURNAL_PATH: ":memory:",
      REDIS_URL: undefined,
      AUTH_SECRET: undefined,
      STATS_URL: undefined,
      LOG_LEVEL: "info",
      SUMMARY_EVERY_S: "0",
      ...env,
    },
    onLine: (line) => lines.push(line),
    timeoutMs: 120_000,
  });
  return { cluster, port, statsPort };
}

/** `it`, or `it.skip` with one line naming the package when setpriv is missing (a failure under CI). */
function itWithSetpriv(name: string, body: () => Promise<void>, timeoutMs: number): void {
  const here = prerequisite(Boolean(findSetpriv()), `"${name}": setpriv not found (Debian package ${SETPRIV_PACKAGE})`);
  it.skipIf(!here)(name, body, timeoutMs);
}

describeWithRedis("npm run start:cluster", () => {
  let cluster: ReadyProcess | undefined;
  const lines: string[] = [];
  afterAll(async () => {
    await cluster?.stop("SIGKILL");
  });

  it("--processes 2: redis, stats and two game processes; a seat reserved through one is played on either; SIGINT stops all", async () => {
    const started = await startCluster(["--processes", "2"], lines);
    cluster = started.cluster;
    const { port } = started;
    expect(cluster.port).toBe(port);
    const pids = await readyChildren(lines, ["stats", "game-1", "game-2"]);
    const [redisPid] = redisPids(lines);

    const games = [port, port + 1].map((p) => ({ url: `ws://127.0.0.1:${p}`, httpUrl: `http://127.0.0.1:${p}` }));
    const health = await Promise.all(
      games.map(
        async (g) => (await (await fetch(`${g.httpUrl}/healthz`)).json()) as { process: string; redis: string },
      ),
    );
    expect(health.map((h) => h.redis)).toEqual(["up", "up"]);
    expect(health[0].process).not.toBe(health[1].process);

    // the token of game-1, a seat through game-2: one AUTH_SECRET, one matchmaking
    const g = await guest(games[0]);
    const seat = await reserve(games[1], g.token);
    expect(health.map((h) => h.process)).toContain(seat.processId);
    const room = await consume(games[1], seat);
    let rounds = 0;
    room.onMessage("round", () => rounds++);
    await waitFor("rounds", () => rounds >= 1, 20_000);
    await room.leave();

    cluster.proc.kill("SIGINT");
    const exit = await cluster.exited;
    expect(exit.code).toBe(0);
    // every line has been read once it exited: each child's are prefixed with its name
    expect(lines.some((l) => l.startsWith("[game-2] ") && l.includes('"msg":"game listening"'))).toBe(true);
    for (const { pid } of pids) expect(isRunning(pid), `child ${pid}`).toBe(false);
    expect(isRunning(redisPid), "redis-server").toBe(false);
  }, 180_000);

  itWithSetpriv(
    "a SIGKILLed redis-server is started again; SIGKILL of start:cluster leaves no child and no redis-server running",
    async () => {
      const seen: string[] = [];
      const { cluster: killed } = await startCluster(["--processes", "1"], seen);
      try {
        const children = (await readyChildren(seen, ["stats", "game-1"])).map((c) => c.pid);
        process.kill(redisPids(seen)[0], "SIGKILL");
        const [, restarted] = await waitFor(
          "redis-server started again",
          () => redisPids(seen).length > 1 && redisPids(seen),
          30_000,
        );
        expect(isRunning(restarted)).toBe(true);

        killed.proc.kill("SIGKILL");
        await killed.exited;
        // nobody is left to stop them: the children see their IPC channel close, redis-server its parent die
        for (const pid of [...children, restarted]) {
          await waitFor(`pid ${pid} gone after its parent's SIGKILL`, () => !isRunning(pid), 20_000);
        }
      } finally {
        for (const pid of redisPids(seen)) if (isRunning(pid)) process.kill(pid, "SIGKILL");
      }
    },
    180_000,
  );

  it("--stats-replicas 2 over one PostgreSQL: two stats replicas the game balances over; SQLite with replicas is refused", async () => {
    const refused = await spawnReady("server/cluster-main.ts", {
      args: ["--processes", "1", "--stats-replicas", "2"],
      env: { STATS_DB: ":memory:", REDIS_URL: undefined, STATS_URL: undefined },
      timeoutMs: 60_000,
    }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(refused?.message).toMatch(/--stats-replicas 2 needs STATS_DB=postgres/);

    const bin = postgresForTests();
    if (!bin) return;
    let pg: PostgresServer | undefined;
    let replicated: ReadyProcess | undefined;
    try {
      pg = await startPostgres(bin);
      const seen: string[] = [];
      const started = await startCluster(["--processes", "1", "--stats-replicas", "2"], seen, { STATS_DB: pg.url });
      replicated = started.cluster;
      const { port, statsPort } = started;
      await readyChildren(seen, ["stats-1", "stats-2", "game-1"]);
      for (const p of [statsPort, statsPort + 1])
        expect((await fetch(`http://127.0.0.1:${p}/healthz`)).status).toBe(200);
      const game = { url: `ws://127.0.0.1:${port}`, httpUrl: `http://127.0.0.1:${port}` };
      const g = await guest(game);
      const room = await consume(game, await reserve(game, g.token));
      let fresh = 0;
      room.onMessage("round", (m: { stale: string[]; absent: string[] }) => {
        if (m.stale.length === 0 && m.absent.length === 0) fresh++;
      });
      await waitFor("fresh rounds through the replicas", () => fresh >= 2, 20_000);
      await room.leave();
    } finally {
      await replicated?.stop("SIGINT");
      await pg?.stop();
    }
  }, 240_000);
});
