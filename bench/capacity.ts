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
 * `--steps 1000,2000` and `--servers skirmish` narrow a run (`--help`). `--before DIR` adds a third server:
 * the game server and stats service of another checkout of this repository (e.g. `git worktree add
 * DIR <commit>`), driven by the same bots in the same run, for before/after figures; that checkout's
 * entry points must send the ready message (server/process/ready-message.ts). `startStack`,
 * `runSim` and `runStep` are exported for the client-sim tests and ad-hoc comparisons.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Report } from "../client-sim/report.ts";
import { SETTLE_MS } from "../client-sim/steady-state.ts";
import { DEFAULT_CONFIG } from "../server/game/config.ts";
import { spawnReady, type ReadyProcess } from "../server/process/spawn-ready.ts";
import { integerList, listOf, text, type Command } from "../shared/options.ts";
import { readCommandLine } from "./command-line.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const STOP_TIMEOUT_MS = 5_000;
const CLK_TCK = 100;
const STATS_TOKEN = "capacity-bench-token";

/** seconds of steady state a step measures (after the ramp and every bot's join) */
const STEADY_S = 12;
/** a step whose steady state lasted less than this (joins lagged too long) is not judged held */
const MIN_STEADY_S = 6;
const SIM_WORKERS = 2;

/**
 * Joins are the expensive part (auth + matchmaking + handshake + full state: per bot, a join
 * costs both sides tens of rounds' work): 100 bots start per second, and the run allows as long
 * again for joins that lag the ramp before its steady state (client-sim/steady-state.ts).
 */
function rampOf(bots: number): number {
  return Math.max(4, Math.ceil(bots / 100));
}
function joinSlackOf(rampS: number): number {
  return Math.max(5, rampS);
}
/** lets the previous step's rooms dispose before the next one starts */
const BETWEEN_STEPS_MS = 2_000;

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
function pin(pid: number, cpu: string | undefined): void {
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
}

/** Stats service + game server as two processes on free loopback ports, data in a temp dir. */
export async function startStack(gameEnv: Record<string, string> = {}, opts: StackOptions = {}): Promise<Stack> {
  const pinning = opts.pinning ?? null;
  const dir = mkdtempSync(join(tmpdir(), "skirmish-capacity-"));
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
  bots: number;
  ccu: number;
  rooms: number;
  serverCpu: number;
  /** server CPU (user + system, /proc) per client per round, steady state */
  cpuUsPerClientRound: number;
  statsCpu: number;
  botsCpu: number;
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
  /** seconds of steady state measured (from every bot joined to the bots' stop); 0: none */
  steadyS: number;
  exit: number | null;
  ok: boolean;
}

export async function runStep(stack: Stack, bots: number, server = "skirmish"): Promise<Step> {
  const gamePid = stack.game.pid;
  const rampS = rampOf(bots);
  const durationS = rampS + joinSlackOf(rampS) + STEADY_S;
  let simPid = -1;
  // Sampled every second: the steady state's start is known only from the sim's report.
  const samples: { game: number; stats: number; sim: number; machine: [number, number]; at: number }[] = [];
  let rss = 0;
  const sampler = setInterval(() => {
    samples.push({
      game: cpuSeconds(gamePid),
      stats: cpuSeconds(stack.stats.pid),
      sim: treeCpuSeconds(simPid),
      machine: machineJiffies(),
      at: Date.now(),
    });
    rss = Math.max(rss, rssMb(gamePid));
  }, 1000);
  const run = await runSim(
    [
      "--url",
      stack.url,
      "--bots",
      String(bots),
      "--duration",
      String(durationS),
      "--ramp",
      String(rampS),
      "--workers",
      String(SIM_WORKERS),
      "--seed",
      String(bots),
    ],
    (durationS + 40) * 1000,
    (pid) => (simPid = pid),
    stack.pinning?.others,
  );
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
  if (r === null) {
    process.stderr.write(
      `capacity: sim at ${bots} bots wrote no report (exit ${run.code}):\n${run.stderr.slice(-2000)}\n`,
    );
  }
  const errors = r ? r.errors.total : NaN;
  const p99 = r ? r.latency.steady.p99 : NaN;
  const machine =
    steadyS > 0
      ? (100 * (last!.machine[0] - first!.machine[0])) / Math.max(1, last!.machine[1] - first!.machine[1])
      : NaN;
  const ccu = r ? r.bots.joined : 0;
  const rooms = r ? r.rooms : 0;
  const serverCpu = pct("game");
  // client-rounds per second: rounds resolved per second (all rooms) x clients per room
  const clientRoundsPerS = r && rooms > 0 ? (r.roundsPerSSteady * ccu) / rooms : NaN;
  return {
    server,
    bots,
    ccu,
    rooms,
    serverCpu,
    cpuUsPerClientRound: ((serverCpu / 100) * 1e6) / clientRoundsPerS,
    statsCpu: pct("stats"),
    botsCpu: pct("sim"),
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
    exit: run.code,
    steadyS,
    ok:
      r !== null &&
      errors === 0 &&
      r.bots.joined === bots &&
      steadyS >= MIN_STEADY_S &&
      p99 < stack.roundIntervalMs &&
      r.latency.steady.count > 0,
  };
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

function formatTable(steps: Step[], roundIntervalMs: number, pinning: Pinning | null): string {
  const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "-");
  const where = pinning
    ? `The game server is pinned to core ${pinning.game} (taskset -c ${pinning.game}); the stats service and the bots (client-sim --workers ${SIM_WORKERS}) share core ${pinning.others}, ` +
      `so "server CPU %" is of its one core (100 % = that core saturated).`
    : `Nothing is pinned (fewer than 2 cores or no taskset): server, stats service and bots share the machine.`;
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
      `one-round-old view explains (expected under load, not errors). skirmish = this server; baseline = bench/baseline-room.ts ` +
      `(plain Colyseus: async interval awaiting Promise.all over HTTP fetch, no deadline, Math.random, default patchRate).`,
    "",
    "| server | bots | CCU | rooms | steady s | server CPU % | µs/client-round | server RSS MB | stats CPU % | bots CPU % | machine % | rounds/s | p50 ms | p99 ms | p99 all ms | errors | lag | held |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
    ...steps.map(
      (s) =>
        `| ${s.server} | ${s.bots} | ${s.ccu} | ${s.rooms} | ${f(s.steadyS)} | ${f(s.serverCpu)} | ${f(s.cpuUsPerClientRound)} | ${f(s.rssMb)} | ${f(s.statsCpu)} | ${f(s.botsCpu)} | ${f(s.machineCpu)} | ` +
        `${f(s.roundsPerS, 1)} | ${f(s.p50, 1)} | ${f(s.p99, 1)} | ${f(s.p99All, 1)} | ${f(s.errors)} | ${f(s.lag)} | ${s.ok ? "yes" : "no"} |`,
    ),
    "",
    ...servers.map(
      (name) =>
        `Highest CCU with p99 intent -> result < one round interval (${roundIntervalMs} ms) and zero errors, ${name}: **${best.get(name)}**.`,
    ),
    "",
    ...servers.map((name) => headroom(steps, name)),
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
    default: [500, 1000, 2000, 3000, 4000, 5000, 6000],
    help: "bot counts, in order; each server stops at its first step that fails",
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
};
export const CAPACITY_COMMAND: Command<typeof options> = { usage: "npm run bench:capacity -- [flags]", options };

export interface CapacityOptions {
  steps?: readonly number[];
  servers?: readonly string[];
  /** another checkout of this repository, run as server "before" */
  before?: string | null;
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
  const stacks = new Map<string, Stack>();
  const steps: Step[] = [];
  try {
    for (const name of names) stacks.set(name, await startStack({}, { ...servers[name], pinning }));
    const going = new Set(names);
    for (const bots of opts.steps ?? options.steps.default) {
      for (const name of names) {
        if (!going.has(name)) continue;
        process.stderr.write(`capacity: ${name} ${bots} bots...\n`);
        const step = await runStep(stacks.get(name)!, bots, name);
        steps.push(step);
        process.stderr.write(
          `capacity: ${name} ${bots} bots: CCU ${step.ccu}, p99 ${step.p99.toFixed(1)} ms (all ${step.p99All.toFixed(1)}), ` +
            `server CPU ${step.serverCpu.toFixed(0)} % = ${step.cpuUsPerClientRound.toFixed(0)} µs/client-round, machine CPU ${step.machineCpu.toFixed(0)} %, ` +
            `errors ${step.errors} ${step.errorKinds}, lag ${step.lag}\n`,
        );
        if (!step.ok) going.delete(name);
        await new Promise((done) => setTimeout(done, BETWEEN_STEPS_MS));
      }
      if (going.size === 0) break;
    }
  } finally {
    await Promise.all([...stacks.values()].map((s) => s.close()));
  }
  const roundIntervalMs = stacks.values().next().value?.roundIntervalMs ?? 500;
  return formatTable(steps, roundIntervalMs, pinning);
}

if (import.meta.main) {
  process.stdout.write((await benchCapacity(readCapacityOptions())) + "\n");
}
