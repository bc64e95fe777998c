/**
 * `npm run bench:loadgen`: what the load generator itself costs, the SDK bots beside the thin ones
 * (client-sim --client sdk|thin). One stats service and game server (bench/capacity.ts's stack:
 * the game server pinned to core 0, the bots to core 1 when there are two cores), then, per bot
 * count and run, client-sim with each client kind in turn (the order alternating run by run), one
 * bot process each (`--workers 1`). The figure is the bot process's CPU (process.cpuUsage: user +
 * system, every thread) over the steady state divided by the client-rounds its bots received then
 * (client-sim/steady-cpu.ts), medians over the runs. Issue 21's goal: at most 40 µs per client-round
 * for the thin client, so that 10 000 thin clients take under 80 % of one core. A third kind,
 * `floor` (bench/socket-floor.ts), is thin seats that only answer each round with a constant
 * intent: what the sockets alone cost, under any bot.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { cpus } from "node:os";
import type { Report } from "../client-sim/report.ts";
import { CLIENT_KINDS, type ClientKind } from "../client-sim/seat.ts";
import { integer, integerList, listOf, type Command, type OptionValues } from "../shared/options.ts";
import {
  BETWEEN_STEPS_MS,
  defaultPinning,
  joinSlackOf,
  pin,
  rampOf,
  runSim,
  startStack,
  STEADY_S,
} from "./capacity.ts";
import { readCommandLine } from "./command-line.ts";
import { median } from "./median.ts";
import type { FloorResult } from "./socket-floor.ts";

const KINDS = [...CLIENT_KINDS, "floor"] as const;
type Kind = (typeof KINDS)[number];
const FLOOR_FILE = fileURLToPath(new URL("./socket-floor.ts", import.meta.url));

const options = {
  bots: integerList({
    flag: "bots",
    env: "BENCH_LOADGEN_BOTS",
    min: 1,
    max: 100_000,
    default: [1000, 2000],
    help: "bot counts to measure, each with every client kind",
  }),
  runs: integer({
    flag: "runs",
    env: "BENCH_LOADGEN_RUNS",
    min: 1,
    max: 50,
    default: 3,
    help: "runs per bot count and client kind (the table shows medians)",
  }),
  clients: listOf(KINDS, {
    flag: "clients",
    env: "BENCH_LOADGEN_CLIENTS",
    default: KINDS,
    help: "client kinds to compare (floor: thin seats that only answer each round, bench/socket-floor.ts)",
  }),
};
export const LOADGEN_COMMAND: Command<typeof options> = { usage: "npm run bench:loadgen -- [flags]", options };
export type LoadgenOptions = OptionValues<typeof options>;

/** the thin client's goal, µs of bot CPU per client-round */
const GOAL_US = 40;

interface Sample {
  bots: number;
  client: Kind;
  usPerClientRound: number;
  /** the kernel's part of it (system calls: socket reads and writes) */
  kernelUs: number;
  corePct: number;
  steadyS: number;
  p99: number;
  errors: number;
  /** the errors by kind, for the log */
  errorKinds: string;
}

/** The floor process (socket-floor.ts) with `bots` seats, pinned to `cpu`. */
async function measureFloor(url: string, bots: number, cpu: string | undefined): Promise<Sample> {
  const child = spawn(process.execPath, [FLOOR_FILE, url, String(bots)], { stdio: ["ignore", "pipe", "inherit"] });
  if (child.pid !== undefined) pin(child.pid, cpu);
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  clearTimeout(timer);
  let r: FloorResult;
  try {
    r = JSON.parse(out) as FloorResult;
  } catch {
    throw new Error(`socket-floor exited ${code} without a result`);
  }
  return {
    bots,
    client: "floor",
    usPerClientRound: r.usPerClientRound,
    kernelUs: r.systemUsPerClientRound,
    corePct: (r.usPerClientRound * r.clientRounds) / 15 / 1e4,
    steadyS: 15,
    p99: NaN,
    errors: r.errors,
    errorKinds: "",
  };
}

async function measure(url: string, bots: number, client: ClientKind, cpu: string | undefined): Promise<Sample> {
  const rampS = rampOf(bots);
  const durationS = rampS + joinSlackOf(rampS) + STEADY_S;
  const run = await runSim(
    [
      ...["--url", url, "--bots", String(bots), "--duration", String(durationS), "--ramp", String(rampS)],
      ...["--workers", "1", "--client", client, "--seed", String(bots)],
    ],
    (durationS + 40) * 1000,
    undefined,
    cpu,
  );
  const r: Report | null = run.report;
  if (r === null) throw new Error(`client-sim wrote no report (exit ${run.code}):\n${run.stderr.slice(-2000)}`);
  return {
    bots,
    client,
    usPerClientRound: r.botCpu?.usPerClientRound ?? NaN,
    kernelUs: r.botCpu?.systemUsPerClientRound ?? NaN,
    corePct: r.botCpu?.corePct ?? NaN,
    steadyS: r.botCpu?.seconds ?? 0,
    p99: r.latency.steady.p99,
    errors: r.errors.total,
    errorKinds: Object.entries(r.errors.byKind)
      .map(([k, v]) => `${k}=${v}`)
      .join(" "),
  };
}

function formatTable(samples: Sample[], opts: LoadgenOptions, pinned: boolean): string {
  const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "-");
  const rows: string[] = [];
  const medians = new Map<string, number>();
  for (const bots of opts.bots) {
    for (const client of opts.clients) {
      const all = samples.filter((x) => x.bots === bots && x.client === client);
      // a run without a steady state (some bots never joined) measured nothing
      const s = all.filter((x) => Number.isFinite(x.usPerClientRound));
      const us = s.map((x) => x.usPerClientRound);
      const m = median(us);
      medians.set(`${bots}/${client}`, m);
      rows.push(
        `| ${bots} | ${client} | ${s.length}/${all.length} | **${f(m, 1)}** | ${f(Math.min(...us), 1)}-${f(Math.max(...us), 1)} | ${f(median(s.map((x) => x.kernelUs)), 1)} | ` +
          `${f(median(s.map((x) => x.corePct)))} | ${f(median(s.map((x) => x.steadyS)))} | ${f(median(s.map((x) => x.p99)), 1)} | ${s.reduce((n, x) => n + x.errors, 0)} |`,
      );
    }
  }
  const lines = [
    `Bot CPU per client-round (a round message reaching one bot): the bot process's CPU (process.cpuUsage, user + system, every thread) ` +
      `over the steady state / the round messages its bots received then; one bot process (--workers 1), default tick rate, ` +
      `${cpus().length}-core machine, ${pinned ? "game server pinned to core 0 and the bots to core 1" : "nothing pinned"}. ` +
      `Medians of the runs that reached a steady state ("runs": those / all), client kinds alternating; "core %" is the bot process's share of one core, ` +
      `"of it kernel" the median system-time part (socket reads and writes), p99 is intent -> result in the steady state, "errors" the sum over the runs. floor = thin seats that only answer each round with a constant ` +
      `intent (bench/socket-floor.ts: joined 20 at a time, then 15 s measured): the sockets' own cost.`,
    "",
    "| bots | client | runs | µs/client-round | range | of it kernel µs | core % | steady s | p99 ms | errors |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
  ];
  if (opts.clients.includes("sdk") && opts.clients.includes("thin")) {
    lines.push("");
    for (const bots of opts.bots) {
      const sdk = medians.get(`${bots}/sdk`)!;
      const thin = medians.get(`${bots}/thin`)!;
      lines.push(
        `${bots} bots: sdk / thin = **${f(sdk / thin, 1)}x**; thin ${f(thin, 1)} µs ${thin <= GOAL_US ? "meets" : "misses"} the ${GOAL_US} µs goal` +
          (thin <= GOAL_US ? "" : ` by ${f(thin - GOAL_US, 1)} µs`) +
          (medians.has(`${bots}/floor`)
            ? `; the sockets alone (floor) take ${f(medians.get(`${bots}/floor`)!, 1)} µs.`
            : "."),
      );
    }
  }
  return lines.join("\n");
}

export async function benchLoadgen(opts: LoadgenOptions): Promise<string> {
  const pinning = defaultPinning();
  const stack = await startStack({}, { pinning });
  const samples: Sample[] = [];
  try {
    for (let run = 0; run < opts.runs; run++) {
      for (const bots of opts.bots) {
        const order = run % 2 === 0 ? opts.clients : [...opts.clients].reverse();
        for (const client of order) {
          process.stderr.write(`loadgen: run ${run + 1}/${opts.runs}, ${bots} ${client} bots...\n`);
          const s = await (
            client === "floor"
              ? measureFloor(stack.url, bots, pinning?.others)
              : measure(stack.url, bots, client, pinning?.others)
          ).catch((err: Error): Sample => {
            // one failed run is one missing sample (the table counts them), not a lost benchmark
            process.stderr.write(`loadgen: ${bots} ${client} bots failed: ${err.message}\n`);
            return {
              bots,
              client,
              usPerClientRound: NaN,
              kernelUs: NaN,
              corePct: NaN,
              steadyS: 0,
              p99: NaN,
              errors: NaN,
              errorKinds: err.message,
            };
          });
          samples.push(s);
          // the previous bots' rooms dispose before the next ones join
          await new Promise((done) => setTimeout(done, BETWEEN_STEPS_MS));
          process.stderr.write(
            `loadgen: ${bots} ${client} bots: ${s.usPerClientRound.toFixed(1)} µs/client-round, ${s.corePct.toFixed(0)} % of a core, p99 ${s.p99.toFixed(1)} ms, errors ${s.errors} ${s.errorKinds}\n`,
          );
        }
      }
    }
  } finally {
    await stack.close();
  }
  return formatTable(samples, opts, pinning !== null);
}

if (import.meta.main) {
  process.stdout.write((await benchLoadgen(readCommandLine(LOADGEN_COMMAND))) + "\n");
}
