/**
 * `npm run bench:capacity`: how many players one game server core carries at the default tick
 * rate, Skirmish beside the plain-Colyseus baseline (bench/baseline-room.ts) in the same run.
 * Starts, per server, a stats service and the game server (separate processes, free ports, data in
 * a temp dir), then runs client-sim (its own processes, `--workers 2`) at growing bot counts,
 * alternating the two servers step by step, reading each game process's CPU and RSS from /proc
 * over the steady state only (every bot joined: client-sim/steady-state.ts).
 * On a machine with 2+ cores the game server is pinned to core 0 (`taskset -c 0`) and the stats
 * service and the bots to core 1, so "CCU held" means one server core. A server stops stepping
 * once p99 intent -> result passes one round interval or errors appear.
 *
 * The bots are client-sim's thin client by default (`--client thin`, one bot process: a thin bot
 * costs a fraction of an SDK bot, so one core can drive the steps up to 10 000), plus `--sdk-bots`
 * real @colyseus/sdk bots (default 4) joining every step beside them as an end-to-end check: a
 * step is held only if they too joined, got results and saw no errors. `--client sdk` runs SDK
 * bots only (`--workers 2`), as before. Each run also draws bench/capacity.svg (CCU against p99 and
 * against server CPU, every server: capacity-chart.ts).
 *
 * `--steps 1000,2000` and `--servers skirmish` narrow a run (`--help`). `--before DIR` adds a third server:
 * the game server and stats service of another checkout of this repository (e.g. `git worktree add
 * DIR <commit>`), driven by the same bots in the same run, for before/after figures; that checkout's
 * entry points must send the ready message (server/process/ready-message.ts). `startStack`,
 * `runSim` and `runStep` are exported for the client-sim tests and ad-hoc comparisons.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Report } from "../client-sim/report.ts";
import { CLIENT_KINDS, type ClientKind } from "../client-sim/seat.ts";
import { SETTLE_MS } from "../client-sim/steady-state.ts";
import { DEFAULT_CONFIG } from "../server/game/config.ts";
import { spawnReady, type ReadyProcess } from "../server/process/spawn-ready.ts";
import { integer, integerList, listOf, oneOf, text, type Command } from "../shared/options.ts";
import { capacityChart } from "./capacity-chart.ts";
import { readCommandLine } from "./command-line.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const STOP_TIMEOUT_MS = 5_000;
const CLK_TCK = 100;
const STATS_TOKEN = "capacity-bench-token";

/** seconds of steady state a step measures (after the ramp and every bot's join) */
export const STEADY_S = 12;
/** a step whose steady state lasted less than this (joins lagged too long) is not judged held */
const MIN_STEADY_S = 6;
/** bot processes: SDK bots need two cores' worth of decoding to get far; thin bots share one loop */
const SIM_WORKERS: Record<ClientKind, number> = { sdk: 2, thin: 1 };
const CHART_FILE = fileURLToPath(new URL("./capacity.svg", import.meta.url));

/**
 * Joins are the expensive part (auth + matchmaking + handshake + full state: per bot, a join
 * costs both sides tens of rounds' work): 100 bots start per second, and the run allows as long
 * again for joins that lag the ramp before its steady state (client-sim/steady-state.ts).
 */
export function rampOf(bots: number): number {
  return Math.max(4, Math.ceil(bots / 100));
}
export function joinSlackOf(rampS: number): number {
  return Math.max(5, rampS);
}
/** lets the previous step's rooms dispose before the next one starts */
export const BETWEEN_STEPS_MS = 2_000;

/** Cores to pin processes to (`taskset -c`), or null: run unpinned. */
export interface Pinning {
  game: string;
  others: string;
}

/** Game server on core 0, everything else on core 1, when there are two cores and taskset. */
export function defaultPinning(): Pinning | null {
  return cpus().length >= 2 && existsSync("/usr/bin/taskset") ? { game: "0", others: "1" } : null;
}

/** Moves a running process (every thread) to `cpu`; children it forks later inherit it. */
export function pin(pid: number, cpu: string | undefined): void {
  if (cpu === undefined) return;
  const r = spawnSync("/usr/bin/taskset", ["-a", "-p", "-c", cpu, String(pid)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`taskset -a -p -c ${cpu} ${pid} failed: ${r.stderr || r.error}`);
}

export interface Stack {
  /** ws://127.0.0.1:port of the game server */
  readonly url: string;
  readonly game: ReadyProcess;
  readonly stats: ReadyProcess;
  readonly roundIntervalMs: number;
  /** where the processes run; the bots go on `others` too */
  readonly pinning: Pinning | null;
  close(): Promise<void>;
}

export interface StackOptions {
  /** the game server's entry point, relative to the repo (default: Skirmish's) */
  server?: string;
  /** the stats service's entry point, relative to the repo (default: Skirmish's) */
  stats?: string;
  /** the stats URL scheme the game server talks (Skirmish: RPC; the baseline: HTTP) */
  statsTransport?: "rpc" | "http";
  pinning?: Pinning | null;
  /** write the game server's CPU profile (node --cpu-prof) into this folder when it exits */
  profileDir?: string | null;
}

/** Stats service + game server as two processes on free loopback ports, data in a temp dir. */
export async function startStack(gameEnv: Record<string, string> = {}, opts: StackOptions = {}): Promise<Stack> {
  const pinning = opts.pinning ?? null;
  const dir = mkdtempSync(join(tmpdir(), "skirmish-capacity-"));
  if (opts.profileDir) mkdirSync(opts.profileDir, { recursive: true });
  let stats: ReadyProcess | undefined;
  let game: ReadyProcess | undefined;
  const close = async () => {
    await game?.stop("SIGTERM", STOP_TIMEOUT_MS);
    await stats?.stop("SIGTERM", STOP_TIMEOUT_MS);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    stats = await spawnReady(opts.stats ?? "server/stats/main.ts", {
      env: { STATS_PORT: "0", STATS_HOST: "127.0.0.1", STATS_DB: join(dir, "stats.db"), STATS_TOKEN },
    });
    pin(stats.pid, pinning?.others);
    game = await spawnReady(opts.server ?? "server/game/main.ts", {
      execArgv: opts.profileDir ? ["--cpu-prof", "--cpu-prof-dir", opts.profileDir] : [],
      env: {
        PORT: "0",
        HOST: "127.0.0.1",
        STATS_URL:
          opts.statsTransport === "http" ? `http://127.0.0.1:${stats.port}` : `ws://127.0.0.1:${stats.port}/rpc`,
        STATS_TOKEN,
        JOURNAL_PATH: join(dir, "journal.db"),
        LOG_LEVEL: "info",
        SUMMARY_EVERY_S: "0",
        ...gameEnv,
      },
    });
    pin(game.pid, pinning?.game);
    const tickHz = Number(gameEnv.TICK_HZ ?? DEFAULT_CONFIG.tickHz);
    const roundTicks = Number(gameEnv.ROUND_TICKS ?? DEFAULT_CONFIG.roundTicks);
    return {
      url: `ws://127.0.0.1:${game.port}`,
      game,
      stats,
      roundIntervalMs: (roundTicks / tickHz) * 1000,
      pinning,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export interface SimRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** parsed --json report, when the sim wrote one */
  report: Report | null;
}

/**
 * Runs client-sim as its own process with `args` (plus `--json` into a temp file); kills it
 * after `timeoutMs`. `onStart` gets its pid (the bench samples its CPU); `cpu` pins it (taskset).
 */
export async function runSim(
  args: string[],
  timeoutMs: number,
  onStart?: (pid: number) => void,
  cpu?: string,
): Promise<SimRun> {
  const dir = mkdtempSync(join(tmpdir(), "skirmish-sim-"));
  const jsonPath = join(dir, "report.json");
  const child = spawn(process.execPath, [join(ROOT, "client-sim/main.ts"), ...args, "--json", jsonPath], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // pinned before it forks its workers (after loading), which inherit its cores
  if (child.pid !== undefined) pin(child.pid, cpu);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  onStart?.(child.pid ?? -1);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(timer);
  let report: Report | null = null;
  try {
    report = JSON.parse(readFileSync(jsonPath, "utf8")) as Report;
  } catch {
    report = null;
  }
  rmSync(dir, { recursive: true, force: true });
  return { code, stdout, stderr, report };
}

/** CPU seconds (user + system) of a process so far, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // fields after the command name (which may hold spaces) start after the last ')'
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** [busy, total] jiffies of the whole machine, from /proc/stat */
function machineJiffies(): [number, number] {
  try {
    const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const total = cpu.reduce((a, b) => a + b, 0);
    const idle = cpu[3] + (cpu[4] ?? 0);
    return [total - idle, total];
  } catch {
    return [0, 0];
  }
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** the sim and its worker processes */
function treeCpuSeconds(pid: number): number {
  let total = cpuSeconds(pid);
  try {
    for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/)) {
      if (c !== "") total += cpuSeconds(Number(c));
    }
  } catch {
    // the sim already exited: nothing more to add
  }
  return total;
}

export interface Step {
  server: string;
  /** the bots' client kind (client-sim --client); with thin bots, `sdkBots` SDK bots join too */
  client: ClientKind;
  bots: number;
  ccu: number;
  rooms: number;
  serverCpu: number;
  /** server CPU (user + system, /proc) per client per round, steady state */
  cpuUsPerClientRound: number;
  /** the steady state on the monotonic clock V8's CPU profiles use (µs), for bench/profile-window.ts */
  steadyMonoUs: [number, number] | null;
  statsCpu: number;
  botsCpu: number;
  /** the main bot process's own CPU per client-round over its steady state (client-sim/steady-cpu.ts) */
  botsUsPerClientRound: number;
  /** every process on the machine, other people's included: 100 % = all cores busy */
  machineCpu: number;
  rssMb: number;
  roundsPerS: number;
  p50: number;
  p99: number;
  p99All: number;
  errors: number;
  errorKinds: string;
  /** refusals the bots' one-round-old view explains (client-sim/stale-view.ts): expected under load */
  lag: number;
  /** the SDK bots' end-to-end check: how many ran, joined, got results; their errors and p99 (null: none ran) */
  sdkCheck: { bots: number; joined: number; withResults: number; errors: number; p99: number } | null;
  /** seconds of steady state measured (from every bot joined to the bots' stop); 0: none */
  steadyS: number;
  exit: number | null;
  ok: boolean;
}

export interface StepBots {
  client: ClientKind;
  /** SDK bots beside thin ones (ignored with SDK bots) */
  sdkBots: number;
}

export async function runStep(
  stack: Stack,
  bots: number,
  server = "skirmish",
  { client, sdkBots }: StepBots = { client: "sdk", sdkBots: 0 },
): Promise<Step> {
  const gamePid = stack.game.pid;
  const rampS = rampOf(bots);
  const durationS = rampS + joinSlackOf(rampS) + STEADY_S;
  const checkBots = client === "thin" ? sdkBots : 0;
  const simPids: number[] = [];
  // Sampled every second: the steady state's start is known only from the sim's report.
  const samples: { game: number; stats: number; sim: number; machine: [number, number]; at: number; mono: number }[] =
    [];
  let rss = 0;
  const sampler = setInterval(() => {
    samples.push({
      game: cpuSeconds(gamePid),
      stats: cpuSeconds(stack.stats.pid),
      sim: simPids.reduce((sum, pid) => sum + treeCpuSeconds(pid), 0),
      machine: machineJiffies(),
      at: Date.now(),
      mono: monotonicUs(),
    });
    rss = Math.max(rss, rssMb(gamePid));
  }, 1000);
  const sim = (kind: ClientKind, n: number, workers: number) =>
    runSim(
      [
        ...["--url", stack.url, "--bots", String(n), "--duration", String(durationS), "--ramp", String(rampS)],
        ...["--workers", String(workers), "--seed", String(bots), "--client", kind],
      ],
      (durationS + 40) * 1000,
      (pid) => simPids.push(pid),
      stack.pinning?.others,
    );
  // the SDK bots join over the same ramp, so they land in rooms among the thin ones
  const [run, check] = await Promise.all([
    sim(client, bots, SIM_WORKERS[client]),
    checkBots > 0 ? sim("sdk", checkBots, 1) : null,
  ]);
  clearInterval(sampler);
  const r = run.report;
  // CPU is measured over the steady state: from its start (every bot joined) until just before
  // the bots leave; the join storm before it costs both sides far more than rounds do
  const steady =
    r === null || r.steadyAt === null
      ? []
      : samples.filter((x) => x.at >= (r.steadyAt as number) && x.at <= r.startAt + durationS * 1000 - 500);
  const [first, last] = [steady[0], steady.at(-1)];
  const steadyS = steady.length >= 2 ? (last!.at - first!.at) / 1000 : 0;
  const pct = (key: "game" | "stats" | "sim") => (steadyS > 0 ? (100 * (last![key] - first![key])) / steadyS : NaN);
  for (const [what, sr] of [
    [`sim at ${bots} bots`, run],
    ["SDK check sim", check],
  ] as const) {
    if (sr !== null && sr.report === null) {
      process.stderr.write(`capacity: ${what} wrote no report (exit ${sr.code}):\n${sr.stderr.slice(-2000)}\n`);
    }
  }
  const c = check?.report ?? null;
  const sdkCheck =
    check === null
      ? null
      : {
          bots: checkBots,
          joined: c?.bots.joined ?? 0,
          withResults: c?.bots.withResults ?? 0,
          errors: c ? c.errors.total : NaN,
          p99: c ? c.latency.steady.p99 : NaN,
        };
  const errors = r ? r.errors.total : NaN;
  const p99 = r ? r.latency.steady.p99 : NaN;
  const machine =
    steadyS > 0
      ? (100 * (last!.machine[0] - first!.machine[0])) / Math.max(1, last!.machine[1] - first!.machine[1])
      : NaN;
  const ccu = (r ? r.bots.joined : 0) + (sdkCheck?.joined ?? 0);
  const rooms = r ? r.rooms : 0;
  const serverCpu = pct("game");
  // client-rounds per second: rounds resolved per second (all rooms) x clients per room
  const clientRoundsPerS = r && rooms > 0 ? (r.roundsPerSSteady * ccu) / rooms : NaN;
  return {
    server,
    client,
    bots,
    ccu,
    rooms,
    serverCpu,
    cpuUsPerClientRound: ((serverCpu / 100) * 1e6) / clientRoundsPerS,
    statsCpu: pct("stats"),
    botsCpu: pct("sim"),
    botsUsPerClientRound: r?.botCpu?.usPerClientRound ?? NaN,
    machineCpu: machine,
    rssMb: rss,
    roundsPerS: r ? r.roundsPerSSteady : 0,
    p50: r ? r.latency.steady.p50 : NaN,
    p99,
    p99All: r ? r.latency.latency.p99 : NaN,
    errors,
    errorKinds: r
      ? Object.entries(r.errors.byKind)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ")
      : "",
    lag: r ? Object.entries(r.expected.byKind).reduce((n, [k, v]) => (k.startsWith("lag:") ? n + v : n), 0) : NaN,
    sdkCheck,
    exit: run.code,
    steadyS,
    steadyMonoUs: steady.length >= 2 ? [first!.mono, last!.mono] : null,
    ok:
      r !== null &&
      errors === 0 &&
      r.bots.joined === bots &&
      steadyS >= MIN_STEADY_S &&
      p99 < stack.roundIntervalMs &&
      r.latency.steady.count > 0 &&
      (sdkCheck === null ||
        (sdkCheck.errors === 0 && sdkCheck.joined === sdkCheck.bots && sdkCheck.withResults === sdkCheck.bots)),
  };
}

/** CLOCK_MONOTONIC in µs: libuv's hrtime and V8's profile timestamps read the same clock on Linux */
function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Each server's profile folder gets the steady windows of its steps, named by bot count. */
function writeSteadyWindows(dir: string, steps: readonly Step[]): void {
  for (const server of new Set(steps.map((s) => s.server))) {
    const windows = steps
      .filter((s) => s.server === server && s.steadyMonoUs !== null)
      .map((s) => ({ bots: s.bots, ccu: s.ccu, fromUs: s.steadyMonoUs![0], toUs: s.steadyMonoUs![1] }));
    writeFileSync(join(dir, server, "steady-windows.json"), JSON.stringify(windows, null, 2) + "\n");
  }
}

function sdkCheckCell({ sdkCheck: c }: Step): string {
  if (c === null) return "-";
  const p99 = Number.isFinite(c.p99) ? c.p99.toFixed(0) : "-";
  return `${c.joined}/${c.withResults}/${Number.isFinite(c.errors) ? c.errors : "-"} p99 ${p99}`;
}

function highestHeld(steps: readonly Step[], server: string): number {
  return steps.filter((s) => s.server === server && s.ok).reduce((m, s) => Math.max(m, s.ccu), 0);
}

/**
 * Whether the server or the bots set a server's limit: how busy its core was at its best step,
 * the CCU that would fill that core if CPU grew linearly (a projection, said so), and how busy
 * the bots were at the step that failed.
 */
function headroom(steps: readonly Step[], server: string): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : "-");
  const held = steps.filter((s) => s.server === server && s.ok).sort((a, b) => b.ccu - a.ccu)[0];
  const failed = steps.find((s) => s.server === server && !s.ok);
  const parts = [`${server}:`];
  if (held)
    parts.push(
      `at ${held.ccu} CCU its server core was ${f(held.serverCpu)} % busy, so about ${f((held.ccu * 100) / held.serverCpu)} CCU would fill it (a linear projection, not a measurement).`,
    );
  if (failed)
    parts.push(
      `At ${failed.bots} bots (failed) the server core was ${f(failed.serverCpu)} % busy and the bots used ${f(failed.botsCpu)} % of a core.`,
    );
  return parts.join(" ");
}

function formatTable(steps: Step[], roundIntervalMs: number, pinning: Pinning | null, bots: StepBots): string {
  const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "-");
  const sim =
    bots.client === "thin"
      ? `thin bots (client-sim --client thin, one process)${bots.sdkBots > 0 ? ` plus ${bots.sdkBots} SDK bots per step (their own process) as an end-to-end check` : ""}`
      : `SDK bots (client-sim --workers ${SIM_WORKERS.sdk})`;
  const where = pinning
    ? `The game server is pinned to core ${pinning.game} (taskset -c ${pinning.game}); the stats service and the bots, ${sim}, share core ${pinning.others}, ` +
      `so "server CPU %" is of its one core (100 % = that core saturated).`
    : `Nothing is pinned (fewer than 2 cores or no taskset): server, stats service and bots share the machine. Bots: ${sim}.`;
  const servers = [...new Set(steps.map((s) => s.server))];
  const best = new Map(servers.map((name) => [name, highestHeld(steps, name)]));
  const lines = [
    `One game server process at the default tick rate (round interval ${roundIntervalMs} ms) with its own stats service process, ` +
      `on a ${cpus().length}-core machine. ${where} ` +
      `Each step: ramp (bots/100 s, at least 4 s), as long again for joins that lag it, then ${STEADY_S} s; the servers alternate step by step. ` +
      `Measured is the steady state only: from every bot joined (plus ${SETTLE_MS / 1000} s) until the bots stop ("steady s"; under ${MIN_STEADY_S} s the step is not held), ` +
      `since a join costs both sides far more than a round. CPU from /proc/<pid>/stat (user + system) over it; "µs/client-round" = server CPU per client per round ` +
      `(CPU seconds / (rounds resolved x clients in the room)). "machine" is all cores, other work included. Latency: intent -> round result, ` +
      `intents sent in the steady state; "p99 all" includes the joins. "errors" are the bots' real errors; "lag" are refusals the bots' ` +
      `one-round-old view explains (expected under load, not errors). "bots µs/c-r" is the main bot process's own CPU per client-round ` +
      `over its steady state (process.cpuUsage, client-sim's report). "SDK check": SDK bots joined / with results / errors, and their p99 ms; ` +
      `a step is held only if all of them joined and got results without errors. skirmish = this server; baseline = bench/baseline-room.ts ` +
      `(plain Colyseus: async interval awaiting Promise.all over HTTP fetch, no deadline, Math.random, default patchRate).`,
    "",
    "| server | bots | CCU | rooms | steady s | server CPU % | µs/client-round | server RSS MB | stats CPU % | bots CPU % | bots µs/c-r | machine % | rounds/s | p50 ms | p99 ms | p99 all ms | errors | lag | SDK check | held |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | :---: |",
    ...steps.map(
      (s) =>
        `| ${s.server} | ${s.bots} | ${s.ccu} | ${s.rooms} | ${f(s.steadyS)} | ${f(s.serverCpu)} | ${f(s.cpuUsPerClientRound)} | ${f(s.rssMb)} | ${f(s.statsCpu)} | ${f(s.botsCpu)} | ${f(s.botsUsPerClientRound)} | ${f(s.machineCpu)} | ` +
        `${f(s.roundsPerS, 1)} | ${f(s.p50, 1)} | ${f(s.p99, 1)} | ${f(s.p99All, 1)} | ${f(s.errors)} | ${f(s.lag)} | ${sdkCheckCell(s)} | ${s.ok ? "yes" : "no"} |`,
    ),
    "",
    ...servers.map(
      (name) =>
        `Highest CCU with p99 intent -> result < one round interval (${roundIntervalMs} ms) and zero errors, ${name}: **${best.get(name)}**.`,
    ),
    "",
    ...servers.map((name) => headroom(steps, name)),
    "",
    `![CCU against p99 intent -> result and against server CPU, every server](capacity.svg)`,
  ];
  // every other server against skirmish, step by step: CPU per client-round and CCU held
  const others = servers.filter((name) => name !== "skirmish");
  if (servers.includes("skirmish") && others.length > 0) {
    const rows = steps
      .filter((s) => s.server === "skirmish")
      .map((a) => {
        const cells = others.map((name) => {
          const b = steps.find((s) => s.server === name && s.bots === a.bots);
          return b ? `${f(b.cpuUsPerClientRound)} | ${f(b.cpuUsPerClientRound / a.cpuUsPerClientRound, 2)}x` : "- | -";
        });
        return `| ${a.bots} | ${f(a.cpuUsPerClientRound)} | ${cells.join(" | ")} |`;
      });
    const held = best.get("skirmish")!;
    lines.push(
      "",
      `| bots | skirmish µs/client-round | ${others.map((n) => `${n} µs/client-round | ${n} / skirmish`).join(" | ")} |`,
      `| ---: | ---: | ${others.map(() => "---: | ---:").join(" | ")} |`,
      ...rows,
      "",
      ...others.map((name) => {
        const other = best.get(name)!;
        return (
          `Highest CCU held, skirmish / ${name}: ${held} / ${other}` +
          (other > 0 ? ` = **${f(held / other, 2)}x**.` : " (it held no step).")
        );
      }),
    );
  }
  return lines.join("\n");
}

/** The servers a capacity run can compare: name -> how its stack starts. */
const SERVERS: Record<string, StackOptions> = {
  skirmish: {},
  baseline: { server: "bench/baseline-room.ts", statsTransport: "http" },
};

const SERVER_NAMES = ["before", "skirmish", "baseline"] as const;
const options = {
  steps: integerList({
    flag: "steps",
    env: "BENCH_CAPACITY_STEPS",
    min: 1,
    max: 100_000,
    default: [500, 1000, 2000, 3000, 4000, 6000, 8000, 10000],
    help: "bot counts, in order; each server stops at its first step that fails",
  }),
  client: oneOf(CLIENT_KINDS, {
    flag: "client",
    env: "BENCH_CAPACITY_CLIENT",
    default: "thin",
    help: "the bots' client (client-sim --client): thin reaches 10 000 bots on one core, sdk is the real SDK",
  }),
  sdkBots: integer({
    flag: "sdk-bots",
    env: "BENCH_CAPACITY_SDK_BOTS",
    min: 0,
    max: 1000,
    default: 4,
    help: "real SDK bots joining every step beside thin ones, an end-to-end check (0: none; ignored with --client sdk)",
  }),
  servers: listOf(SERVER_NAMES, {
    flag: "servers",
    env: "BENCH_CAPACITY_SERVERS",
    default: ["skirmish", "baseline"],
    help: "the servers to compare, alternating step by step (with --before and no --servers: all three)",
  }),
  before: text({
    flag: "before",
    env: "BENCH_CAPACITY_BEFORE",
    default: null,
    help: "another checkout of this repository (git worktree of an older commit), run as server before",
  }),
  profile: text({
    flag: "profile",
    env: "BENCH_CAPACITY_PROFILE",
    default: null,
    help: "folder for each game server's CPU profile (node --cpu-prof) and steady-windows.json; read them with npm run bench:profile",
  }),
};
export const CAPACITY_COMMAND: Command<typeof options> = { usage: "npm run bench:capacity -- [flags]", options };

export interface CapacityOptions extends Partial<StepBots> {
  steps?: readonly number[];
  servers?: readonly string[];
  /** another checkout of this repository, run as server "before" */
  before?: string | null;
  /** folder for the game servers' CPU profiles and their steady-state windows */
  profile?: string | null;
}

/** The entry points of another checkout, as paths relative to this repository. */
function beforeServer(dir: string): StackOptions {
  const entry = (file: string) => relative(ROOT, resolve(dir, file));
  return { server: entry("server/game/main.ts"), stats: entry("server/stats/main.ts") };
}

/**
 * bench:capacity's options from this process's flags (`argv`) and variables (BENCH_CAPACITY_*),
 * with the servers resolved: `--before` and no `--servers` compares all three. A bad value, a
 * `--before` that is not a checkout of this repository, or `before` without `--before` prints the
 * error and exits 2, before anything starts. `npm run bench` reads it too (with no flags).
 */
export function readCapacityOptions(argv?: readonly string[]): CapacityOptions {
  const opts = readCommandLine(CAPACITY_COMMAND, argv);
  const problem =
    opts.before !== null && !existsSync(join(opts.before, "server/game/main.ts"))
      ? `--before ${opts.before}: not a checkout of this repository (no server/game/main.ts)`
      : opts.servers.includes("before") && opts.before === null
        ? "--servers before needs --before DIR"
        : null;
  if (problem !== null) {
    process.stderr.write(`${problem}\n`);
    process.exit(2);
  }
  const servers = opts.before !== null && opts.servers === options.servers.default ? SERVER_NAMES : opts.servers;
  return { ...opts, servers };
}

/** Runs the capacity steps for `opts.servers` (default: skirmish and baseline) and returns the result table (markdown). */
export async function benchCapacity(opts: CapacityOptions = {}): Promise<string> {
  const pinning = defaultPinning();
  const servers: Record<string, StackOptions> =
    opts.before == null ? SERVERS : { before: beforeServer(opts.before), ...SERVERS };
  const names = opts.servers ?? options.servers.default;
  const unknown = names.filter((name) => !Object.hasOwn(servers, name));
  if (unknown.length > 0) throw new Error(`no server ${unknown.join(", ")} here (before needs --before DIR)`);
  const bots: StepBots = {
    client: opts.client ?? options.client.default,
    sdkBots: opts.sdkBots ?? options.sdkBots.default,
  };
  const stacks = new Map<string, Stack>();
  const steps: Step[] = [];
  try {
    const profileDir = opts.profile == null ? null : resolve(opts.profile);
    for (const name of names) {
      const dir = profileDir === null ? null : join(profileDir, name);
      stacks.set(name, await startStack({}, { ...servers[name], pinning, profileDir: dir }));
    }
    const going = new Set(names);
    for (const n of opts.steps ?? options.steps.default) {
      for (const name of names) {
        if (!going.has(name)) continue;
        process.stderr.write(`capacity: ${name} ${n} ${bots.client} bots...\n`);
        const step = await runStep(stacks.get(name)!, n, name, bots);
        steps.push(step);
        process.stderr.write(
          `capacity: ${name} ${n} bots: CCU ${step.ccu}, p99 ${step.p99.toFixed(1)} ms (all ${step.p99All.toFixed(1)}), ` +
            `server CPU ${step.serverCpu.toFixed(0)} % = ${step.cpuUsPerClientRound.toFixed(0)} µs/client-round, machine CPU ${step.machineCpu.toFixed(0)} %, ` +
            `bots ${step.botsUsPerClientRound.toFixed(0)} µs/client-round, errors ${step.errors} ${step.errorKinds}, lag ${step.lag}, SDK check ${sdkCheckCell(step)}\n`,
        );
        if (!step.ok) going.delete(name);
        await new Promise((done) => setTimeout(done, BETWEEN_STEPS_MS));
      }
      if (going.size === 0) break;
    }
  } finally {
    await Promise.all([...stacks.values()].map((s) => s.close()));
  }
  if (opts.profile != null) writeSteadyWindows(resolve(opts.profile), steps);
  const roundIntervalMs = stacks.values().next().value?.roundIntervalMs ?? 500;
  const title = `bench:capacity ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${bots.client} bots, ${cpus().length} cores`;
  writeFileSync(CHART_FILE, capacityChart(steps, roundIntervalMs, title));
  process.stderr.write(`capacity: wrote ${relative(process.cwd(), CHART_FILE)}\n`);
  return formatTable(steps, roundIntervalMs, pinning, bots);
}

if (import.meta.main) {
  process.stdout.write((await benchCapacity(readCapacityOptions())) + "\n");
}
