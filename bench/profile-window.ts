/**
 * `npm run bench:profile -- --dir DIR [--bots N] [--top K]`: where a game server's CPU went over one
 * step's steady state, from the profile `npm run bench:capacity -- --profile DIR` wrote (node
 * --cpu-prof; the server's whole life, joins included) cut to that step's window
 * (steady-windows.json, same monotonic clock). Prints the busy share (non-idle samples) and the
 * functions by self and by total time (a function counted once per sample however deep it
 * recurses), as a share of busy samples. Default window: the step with the most bots.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { integer, text, type Command } from "../shared/options.ts";
import { readCommandLine } from "./command-line.ts";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}
interface SteadyWindow {
  bots: number;
  ccu: number;
  fromUs: number;
  toUs: number;
}

const IDLE = new Set(["(idle)", "(program)"]);

function label(f: CallFrame): string {
  const file = f.url === "" ? "" : ` ${basename(f.url)}:${f.lineNumber + 1}`;
  return `${f.functionName || "(anonymous)"}${file}`;
}

function table(title: string, counts: Map<string, number>, busy: number, top: number): string {
  const rows = [...counts].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `| ${title} % of busy | function |`,
    "| ---: | --- |",
    ...rows.map(([name, n]) => `| ${((100 * n) / busy).toFixed(1)} | ${name.replaceAll("|", "\\|")} |`),
  ].join("\n");
}

const options = {
  dir: text({
    flag: "dir",
    env: "BENCH_PROFILE_DIR",
    default: null,
    help: "a server's folder under bench:capacity's --profile folder (e.g. /tmp/prof/skirmish)",
  }),
  bots: integer({
    flag: "bots",
    env: "BENCH_PROFILE_BOTS",
    min: 1,
    max: 100_000,
    default: null,
    help: "the step to read (default: the one with the most bots)",
  }),
  top: integer({ flag: "top", env: "BENCH_PROFILE_TOP", min: 1, max: 1000, default: 25, help: "rows per table" }),
};
export const PROFILE_COMMAND: Command<typeof options> = {
  usage: "npm run bench:profile -- --dir DIR [flags]",
  options,
};
/** Prints the busy share and the two tables for one step's window. */
function main(): void {
  const opts = readCommandLine(PROFILE_COMMAND);
  const dir = opts.dir;
  if (dir === null) {
    process.stderr.write("--dir is required (see --help)\n");
    process.exit(2);
  }
  const windows: SteadyWindow[] = JSON.parse(readFileSync(join(dir, "steady-windows.json"), "utf8"));
  const window =
    opts.bots === null
      ? windows.reduce((a, b) => (b.bots > a.bots ? b : a))
      : windows.find((w) => w.bots === opts.bots);
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (window === undefined || file === undefined) {
    process.stderr.write(`${dir}: no ${file === undefined ? "CPU profile" : `window for --bots ${opts.bots}`}\n`);
    process.exit(2);
  }
  const profile: CpuProfile = JSON.parse(readFileSync(join(dir, file), "utf8"));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  let busy = 0;
  let t = profile.startTime;
  for (const [i, id] of profile.samples.entries()) {
    t += profile.timeDeltas[i];
    if (t < window.fromUs || t > window.toUs) continue;
    all++;
    const leaf = byId.get(id)!;
    if (IDLE.has(leaf.callFrame.functionName)) continue;
    busy++;
    self.set(label(leaf.callFrame), (self.get(label(leaf.callFrame)) ?? 0) + 1);
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const name = label(byId.get(n)!.callFrame);
      if (!seen.has(name)) total.set(name, (total.get(name) ?? 0) + 1);
      seen.add(name);
    }
  }
  const top = opts.top;
  process.stdout.write(
    [
      `${file}: step of ${window.bots} bots (${window.ccu} CCU), steady state ${((window.toUs - window.fromUs) / 1e6).toFixed(1)} s, ` +
        `${all} samples, main thread busy ${((100 * busy) / Math.max(1, all)).toFixed(1)} %`,
      "",
      table("self", self, busy, top),
      "",
      table("total", total, busy, top),
      "",
    ].join("\n"),
  );
}

if (import.meta.main) main();
