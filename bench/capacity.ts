/**
 * `npm run bench:capacity`: how many players one game server carries at the default tick rate.
 * Starts the stats service and the game server (separate processes, free ports, data in a temp
 * dir), then runs client-sim (its own processes, `--workers 2`) at growing bot counts, reading the
 * game process's CPU and RSS from /proc. Stops stepping once p99 intent -> result passes one
 * round interval or errors appear. Reports the highest CCU that held with zero errors.
 *
 * `startStack` and `runSim` are exported for the client-sim tests.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Report } from "../client-sim/report.ts";
import { DEFAULT_CONFIG } from "../server/game/config.ts";
import { spawnReady, type ReadyProcess } from "../server/process/spawn-ready.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const STOP_TIMEOUT_MS = 5_000;
const CLK_TCK = 100;
const STATS_TOKEN = "capacity-bench-token";

/** Default steps; the run stops early at the first step that fails. */
const STEPS = [100, 250, 500, 1000, 2000, 3000, 4000, 5000];
/** seconds measured after the ramp */
const STEADY_S = 12;
const SIM_WORKERS = 2;

/** joins are the expensive part (auth + matchmaking + handshake): at most 200 bots start per second */
function rampOf(bots: number): number {
  return Math.max(4, Math.ceil(bots / 200));
}
/** lets the previous step's rooms dispose before the next one starts */
const SETTLE_MS = 2_000;

export interface Stack {
  /** ws://127.0.0.1:port of the game server */
  readonly url: string;
  readonly game: ReadyProcess;
  readonly stats: ReadyProcess;
  readonly roundIntervalMs: number;
  close(): Promise<void>;
}

/** Stats service + game server as two processes on free loopback ports, data in a temp dir. */
export async function startStack(gameEnv: Record<string, string> = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), "skirmish-capacity-"));
  let stats: ReadyProcess | undefined;
  let game: ReadyProcess | undefined;
  const close = async () => {
    await game?.stop("SIGTERM", STOP_TIMEOUT_MS);
    await stats?.stop("SIGTERM", STOP_TIMEOUT_MS);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    stats = await spawnReady("server/stats/main.ts", {
      env: { STATS_PORT: "0", STATS_HOST: "127.0.0.1", STATS_DB: join(dir, "stats.db"), STATS_TOKEN },
    });
    game = await spawnReady("server/game/main.ts", {
      env: {
        PORT: "0",
        HOST: "127.0.0.1",
        STATS_URL: `ws://127.0.0.1:${stats.port}/rpc`,
        STATS_TOKEN,
        JOURNAL_PATH: join(dir, "journal.db"),
        LOG_LEVEL: "info",
        SUMMARY_EVERY_S: "0",
        ...gameEnv,
      },
    });
    const tickHz = Number(gameEnv.TICK_HZ ?? DEFAULT_CONFIG.tickHz);
    const roundTicks = Number(gameEnv.ROUND_TICKS ?? DEFAULT_CONFIG.roundTicks);
    return { url: `ws://127.0.0.1:${game.port}`, game, stats, roundIntervalMs: (roundTicks / tickHz) * 1000, close };
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
 * after `timeoutMs`. `onStart` gets its pid (the bench samples its CPU).
 */
export async function runSim(args: string[], timeoutMs: number, onStart?: (pid: number) => void): Promise<SimRun> {
  const dir = mkdtempSync(join(tmpdir(), "skirmish-sim-"));
  const jsonPath = join(dir, "report.json");
  const child = spawn(process.execPath, [join(ROOT, "client-sim/main.ts"), ...args, "--json", jsonPath], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
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

interface Step {
  bots: number;
  ccu: number;
  rooms: number;
  serverCpu: number;
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
  exit: number | null;
  ok: boolean;
}

async function runStep(stack: Stack, bots: number): Promise<Step> {
  const gamePid = stack.game.pid;
  const rampS = rampOf(bots);
  const durationS = rampS + STEADY_S;
  let simPid = -1;
  const samples: { game: number; stats: number; sim: number; machine: [number, number]; at: number }[] = [];
  const sample = () =>
    samples.push({
      game: cpuSeconds(gamePid),
      stats: cpuSeconds(stack.stats.pid),
      sim: treeCpuSeconds(simPid),
      machine: machineJiffies(),
      at: performance.now(),
    });
  // CPU is measured over the steady part: after the ramp, until just before the bots leave
  const t1 = setTimeout(sample, (rampS + 1) * 1000);
  const t2 = setTimeout(sample, (durationS - 0.5) * 1000);
  let rss = 0;
  const rssTimer = setInterval(() => (rss = Math.max(rss, rssMb(gamePid))), 1000);
  const run = await runSim(
    ["--url", stack.url, "--bots", String(bots), "--duration", String(durationS), "--ramp", String(rampS),
      "--workers", String(SIM_WORKERS), "--seed", String(bots)],
    (durationS + 40) * 1000,
    (pid) => (simPid = pid),
  );
  clearTimeout(t1);
  clearTimeout(t2);
  clearInterval(rssTimer);
  const pct = (key: "game" | "stats" | "sim") =>
    samples.length === 2 ? (100 * (samples[1][key] - samples[0][key])) / ((samples[1].at - samples[0].at) / 1000) : NaN;
  const r = run.report;
  if (r === null) {
    process.stderr.write(`capacity: sim at ${bots} bots wrote no report (exit ${run.code}):\n${run.stderr.slice(-2000)}\n`);
  }
  const errors = r ? r.errors.total : NaN;
  const p99 = r ? r.latency.steady.p99 : NaN;
  const machine =
    samples.length === 2
      ? (100 * (samples[1].machine[0] - samples[0].machine[0])) / Math.max(1, samples[1].machine[1] - samples[0].machine[1])
      : NaN;
  return {
    bots,
    ccu: r ? r.bots.joined : 0,
    rooms: r ? r.rooms : 0,
    serverCpu: pct("game"),
    statsCpu: pct("stats"),
    botsCpu: pct("sim"),
    machineCpu: machine,
    rssMb: rss,
    roundsPerS: r ? r.roundsPerSSteady : 0,
    p50: r ? r.latency.steady.p50 : NaN,
    p99,
    p99All: r ? r.latency.latency.p99 : NaN,
    errors,
    errorKinds: r ? Object.entries(r.errors.byKind).map(([k, v]) => `${k}=${v}`).join(" ") : "",
    exit: run.code,
    ok: r !== null && errors === 0 && r.bots.joined === bots && p99 < stack.roundIntervalMs && r.latency.steady.count > 0,
  };
}

function formatTable(steps: Step[], roundIntervalMs: number): string {
  const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "-");
  const best = steps.filter((s) => s.ok).reduce((m, s) => Math.max(m, s.ccu), 0);
  return [
    `One game server process at the default tick rate (round interval ${roundIntervalMs} ms), one stats service process, ` +
      `bots from client-sim --workers ${SIM_WORKERS} (scenario aggressive: acts 20-40 % into each round) on the same ${cpus().length}-core machine. ` +
      `Each step: ramp (bots/200 s, at least 4 s), then ${STEADY_S} s measured. CPU % over the measured part, 100 % = one core; ` +
      `"machine" is all cores of the machine, other work included (100 % = saturated). Latency: intent -> round result, ` +
      `intents sent after the ramp; "p99 all" includes the ramp.`,
    "",
    "| bots | CCU | rooms | server CPU % | server RSS MB | stats CPU % | bots CPU % | machine % | rounds/s | p50 ms | p99 ms | p99 all ms | errors | held |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
    ...steps.map(
      (s) =>
        `| ${s.bots} | ${s.ccu} | ${s.rooms} | ${f(s.serverCpu)} | ${f(s.rssMb)} | ${f(s.statsCpu)} | ${f(s.botsCpu)} | ${f(s.machineCpu)} | ` +
        `${f(s.roundsPerS, 1)} | ${f(s.p50, 1)} | ${f(s.p99, 1)} | ${f(s.p99All, 1)} | ${f(s.errors)} | ${s.ok ? "yes" : "no"} |`,
    ),
    "",
    `Highest CCU with p99 intent -> result < one round interval (${roundIntervalMs} ms) and zero errors: **${best}**.`,
  ].join("\n");
}

export async function benchCapacity(): Promise<string> {
  const stack = await startStack();
  const steps: Step[] = [];
  try {
    for (const bots of STEPS) {
      process.stderr.write(`capacity: ${bots} bots...\n`);
      const step = await runStep(stack, bots);
      steps.push(step);
      process.stderr.write(
        `capacity: ${bots} bots: CCU ${step.ccu}, p99 ${step.p99.toFixed(1)} ms (all ${step.p99All.toFixed(1)}), machine CPU ${step.machineCpu.toFixed(0)} %, errors ${step.errors} ${step.errorKinds}, server CPU ${step.serverCpu.toFixed(0)} %\n`,
      );
      if (!step.ok) break;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    }
  } finally {
    await stack.close();
  }
  return formatTable(steps, stack.roundIntervalMs);
}

if (import.meta.main) {
  process.stdout.write((await benchCapacity()) + "\n");
}
