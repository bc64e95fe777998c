// client-sim as a real process against a real game server and a real stats service (each its
// own process, random loopback ports), plus its command-line failure modes.
import { readFileSync } from "node:fs";
import { freePort } from "../../server/process/free-port.ts";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runSim, startStack, type Stack } from "../../bench/capacity.ts";
import { decodeHistogram } from "../../client-sim/histogram.ts";

/** short rounds (200 ms) keep the runs quick; --rooms N creates its rooms and joins them by id */
const GAME_ENV = { TICK_HZ: "20", ROUND_TICKS: "4", CLIENT_ROOM_CHOICE: "1" };

describe("client-sim command line", () => {
  it("--help lists the flags and exits 0", async () => {
    const run = await runSim(["--help"], 20_000);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("--max-error-rate");
    expect(run.stdout).toContain("--allow-remote");
  });

  it("a wrong flag is a clear error with exit 2", async () => {
    const run = await runSim(["--bots", "3", "--frobnicate"], 20_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown flag --frobnicate");
    expect(run.report).toBeNull();
  });

  it("a bad value is a clear error with exit 2", async () => {
    const run = await runSim(["--bots", "-4"], 20_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--bots: expected an integer/);
  });

  it("refuses a non-loopback URL without --allow-remote (exit 2, nothing contacted)", async () => {
    const run = await runSim(["--url", "ws://192.0.2.1:2567", "--duration", "1", "--ramp", "0"], 20_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("not a loopback address");
  });

  it("an unreachable server is one clear error and a non-zero exit", async () => {
    const port = await freePort();
    const run = await runSim(
      ["--url", `ws://127.0.0.1:${port}`, "--bots", "5", "--duration", "2", "--ramp", "0"],
      20_000,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot reach the game server at http://127.0.0.1:${port}`);
    expect(run.stderr).toContain("ECONNREFUSED");
    expect(run.report).toBeNull();
  });
});

describe("client-sim against a real game server", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(GAME_ENV);
  }, 40_000);
  afterAll(async () => {
    await stack?.close();
  }, 20_000);

  /** Players seated in the game's arenas now, as its lobby lists them. */
  async function playersSeated(): Promise<number> {
    const res = await fetch(`${stack.url.replace("ws:", "http:")}/rooms`);
    const { rooms } = (await res.json()) as { rooms: { players: number }[] };
    return rooms.reduce((n, r) => n + r.players, 0);
  }

  function expectSaneRun(run: Awaited<ReturnType<typeof runSim>>, bots: number) {
    if (run.code !== 0) {
      throw new Error(
        `sim exited ${run.code}:\n${run.stdout}\n${run.stderr}\n--- game server ---\n${stack.game.tail()}`,
      );
    }
    const r = run.report!;
    expect(r).not.toBeNull();
    expect(r.bots.joined).toBe(bots);
    expect(r.bots.withRounds).toBe(bots);
    expect(r.bots.withResults).toBe(bots);
    expect(r.bots.left).toBe(bots);
    expect(r.rounds).toBeGreaterThan(0);
    // the steady state began after the ramp, once every bot had joined; fewer intents count in it
    expect(r.steadyAt).not.toBeNull();
    expect(r.steadyAt!).toBeGreaterThanOrEqual(r.startAt + r.config.rampS * 1000);
    expect(r.latency.steady.count).toBeGreaterThan(0);
    expect(r.latency.steady.count).toBeLessThan(r.latency.latency.count);
    // every room keeps resolving rounds, never faster than the server's clock. The timing bounds
    // here are an order of magnitude wide: they catch a report that counts or converts wrongly;
    // the pace on a loaded machine is bench:capacity's figure, not a test's
    expect(r.roundsPerSSteady).toBeGreaterThan((0.1 * r.rooms * 1000) / stack.roundIntervalMs);
    expect(r.roundsPerSSteady).toBeLessThan((1.2 * r.rooms * 1000) / stack.roundIntervalMs);
    expect(r.intents.resolved).toBeGreaterThan(bots);
    const lat = r.latency.latency;
    expect(lat.count).toBe(r.intents.resolved);
    expect(lat.p50).toBeGreaterThan(0);
    expect(lat.p50).toBeLessThanOrEqual(lat.p99);
    expect(lat.p99).toBeLessThanOrEqual(lat.max);
    expect(lat.p99).toBeLessThan(30 * stack.roundIntervalMs);
    // the JSON carries the merged histogram itself, not just its summary
    const h = decodeHistogram(r.histograms.latency);
    expect(h.totalCount).toBe(lat.count);
    expect(h.maxValue / 1000).toBeCloseTo(lat.max, 0);
    // bots see rounds at the server's pace, never faster
    expect(r.latency.interval.p50).toBeGreaterThan(0.5 * stack.roundIntervalMs);
    expect(r.latency.interval.p50).toBeLessThan(10 * stack.roundIntervalMs);
    for (const h of ["auth", "connect", "join"] as const) expect(r.latency[h].count).toBeGreaterThanOrEqual(bots);
    expect(r.traffic.messages).toBeGreaterThan(r.rounds);
    expect(r.traffic.bytes).toBeGreaterThan(0);
    expect(r.errors.total).toBe(0);
    expect(r.ok).toBe(true);
    expect(run.stdout).toContain("intent -> result");
    return r;
  }

  it("20 bots for 7 s: every bot joins, gets rounds and results; sane latency; JSON report; exit 0", async () => {
    // 7 s: the plain progress line comes every 5 s, and a loaded machine may tick the 5th second
    // after a 5 s run has already stopped
    const run = await runSim(
      ["--url", stack.url, "--bots", "20", "--duration", "7", "--ramp", "1", "--seed", "7"],
      40_000,
    );
    const r = expectSaneRun(run, 20);
    expect(r.config).toMatchObject({ bots: 20, durationS: 7, seed: 7, scenario: "aggressive" });
    // 20 bots fill two 16-player arenas under the default matchmaking
    expect(r.rooms).toBeGreaterThanOrEqual(2);
    // not a TTY: periodic summary lines, no carriage-return progress
    expect(run.stderr).toContain("[sim] t=5s bots 20/20");
    expect(run.stderr).not.toContain("\r");
  }, 60_000);

  it("--workers 2 --rooms 4 splits the bots over two processes and merges their results", async () => {
    const run = await runSim(
      ["--url", stack.url, "--bots", "24", "--duration", "5", "--ramp", "1", "--workers", "2", "--rooms", "4"],
      40_000,
    );
    const r = expectSaneRun(run, 24);
    expect(r.rooms).toBe(4);
    expect(r.config.workers).toBe(2);
  }, 60_000);

  it("garbage scenario: the server refuses every malformed message, valid intents still resolve, exit 0", async () => {
    const run = await runSim(
      ["--url", stack.url, "--bots", "6", "--duration", "4", "--ramp", "0.5", "--scenario", "garbage"],
      40_000,
    );
    const r = expectSaneRun(run, 6);
    expect(r.expected.total).toBeGreaterThan(0);
    expect(Object.keys(r.expected.byKind).every((k) => k.startsWith("server:"))).toBe(true);
    expect(r.bots.drops).toBe(0);
  }, 60_000);

  it("reconnect-storm: dropped bots come back (SDK reconnect or fresh join) without errors", async () => {
    const run = await runSim(
      ["--url", stack.url, "--bots", "12", "--duration", "10", "--ramp", "0.5", "--scenario", "reconnect-storm"],
      40_000,
    );
    const r = expectSaneRun(run, 12);
    expect(r.bots.drops).toBeGreaterThan(0);
    expect(r.bots.reconnects + r.bots.rejoins).toBe(r.bots.drops);
  }, 60_000);

  it("--client thin: the same run with thin bots, their CPU per client-round in the report", async () => {
    const run = await runSim(
      ["--url", stack.url, "--bots", "20", "--duration", "6", "--ramp", "1", "--client", "thin", "--seed", "7"],
      40_000,
    );
    const r = expectSaneRun(run, 20);
    expect(r.config.client).toBe("thin");
    expect(run.stdout).toContain("20 thin bots");
    expect(r.rooms).toBeGreaterThanOrEqual(2);
    expect(r.botCpu!.clientRounds).toBeGreaterThan(0);
    expect(r.botCpu!.usPerClientRound).toBeGreaterThan(0);
    expect(run.stdout).toContain("µs per client-round");
  }, 60_000);

  it("--client thin with --workers 2 --rooms 4 and the reconnect storm: drops come back by token", async () => {
    const run = await runSim(
      [
        ...["--url", stack.url, "--bots", "12", "--duration", "10", "--ramp", "0.5", "--client", "thin"],
        ...["--workers", "2", "--rooms", "4", "--scenario", "reconnect-storm"],
      ],
      40_000,
    );
    const r = expectSaneRun(run, 12);
    expect(r.rooms).toBe(4);
    expect(r.bots.drops).toBeGreaterThan(0);
    expect(r.bots.rejoins).toBe(r.bots.drops);
  }, 60_000);

  it("a worker process that dies is reported as an error; the other worker's bots still count", async () => {
    let killed = "";
    let killing: Promise<void> = Promise.resolve();
    const run = await runSim(
      ["--url", stack.url, "--bots", "10", "--duration", "4", "--ramp", "0.5", "--workers", "2"],
      40_000,
      (simPid) => {
        // mid-run: once all 10 bots are seated (both workers up and playing), SIGKILL one worker.
        // Never kill pid 0 (Number("") of an empty children list): that is this test's whole process group.
        killing = vi
          .waitFor(
            async () => {
              const seated = await playersSeated();
              if (seated < 10) throw new Error(`${seated} of 10 bots seated`);
              const workers = readFileSync(`/proc/${simPid}/task/${simPid}/children`, "utf8")
                .trim()
                .split(/\s+/)
                .filter((c) => /^\d+$/.test(c));
              if (workers.length === 0) throw new Error("the sim has no worker processes");
              return workers[0];
            },
            { timeout: 30_000, interval: 100 },
          )
          .then((worker) => {
            killed = worker;
            process.kill(Number(worker), "SIGKILL");
          });
        killing.catch(() => {}); // awaited below, after the run
      },
    );
    await killing;
    expect(killed).not.toBe("");
    expect(run.code).toBe(1);
    const r = run.report!;
    expect(r.errors.byKind["worker:SIGKILL"]).toBe(1);
    // the surviving worker's half of the bots joined and left normally
    expect(r.bots.left).toBe(5);
  }, 60_000);

  it("exits 1 when the error rate passes --max-error-rate", async () => {
    // 20 bots pinned to one room: the arena seats 16 (MAX_PLAYERS), the other joins are refused
    const run = await runSim(
      ["--url", stack.url, "--bots", "20", "--duration", "3", "--ramp", "0", "--rooms", "1", "--max-error-rate", "0"],
      40_000,
    );
    expect(run.code).toBe(1);
    const r = run.report!;
    expect(r.ok).toBe(false);
    expect(r.errors.total).toBeGreaterThan(0);
    expect(Object.keys(r.errors.byKind).some((k) => k.startsWith("join:"))).toBe(true);
    expect(run.stdout).toContain("FAIL");
  }, 60_000);
});
