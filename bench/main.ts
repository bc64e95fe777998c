/**
 * `npm run bench`: every benchmark, one after another, each printing its own table (medians and
 * ratios measured side by side in one run). The combined tables are also written to
 * bench/results.md so the README can quote the latest figures. `--only runtime,stats` picks some.
 * Benchmarks never fail on timing; they fail only when something breaks.
 */
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { listOf, type Command } from "../shared/options.ts";
import { readCommandLine } from "./command-line.ts";
import { benchRuntime } from "./runtime.ts";
import { benchStats, STATS_BENCH_COMMAND } from "./stats.ts";
import { benchRound, ROUND_COMMAND } from "./round.ts";
import { benchCapacity, readCapacityOptions } from "./capacity.ts";
import { benchScaleOut, SCALE_OUT_COMMAND } from "./scale-out.ts";
import { benchAuth } from "./auth.ts";
import { benchLoadgen, LOADGEN_COMMAND } from "./loadgen.ts";

const names = ["runtime", "stats", "round", "auth", "capacity", "scale-out", "loadgen"] as const;
const options = {
  only: listOf(names, {
    flag: "only",
    default: names,
    defaultText: "all",
    help: "run these benchmarks only (and leave bench/results.md alone)",
  }),
};
const BENCH_COMMAND: Command<typeof options> = {
  usage: "npm run bench -- [--only runtime,stats]",
  options,
  notes: ["Each benchmark's own flags: npm run bench:<name> -- --help; their variables apply here too."],
};

const chosen = readCommandLine(BENCH_COMMAND).only;
const everything = chosen === options.only.default;

// No flags of their own here, but their variables (BENCH_*) apply: all are read, and a bad one
// refused (exit 2), after --help and before the first benchmark starts rather than minutes into the run.
const statsOptions = readCommandLine(STATS_BENCH_COMMAND, []);
const roundOptions = readCommandLine(ROUND_COMMAND, []);
const capacityOptions = readCapacityOptions([]);
const scaleOutOptions = readCommandLine(SCALE_OUT_COMMAND, []);
const loadgenOptions = readCommandLine(LOADGEN_COMMAND, []);

const suites: Record<(typeof names)[number], () => Promise<string>> = {
  runtime: benchRuntime,
  stats: () => benchStats(statsOptions),
  round: () => benchRound(roundOptions),
  auth: benchAuth,
  capacity: () => benchCapacity(capacityOptions),
  "scale-out": () => benchScaleOut(scaleOutOptions),
  loadgen: () => benchLoadgen(loadgenOptions),
};

const sections: string[] = [
  `# Benchmark results`,
  ``,
  `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}`,
];
for (const name of chosen) {
  console.error(`\n=== bench: ${name} ===`);
  const table = await suites[name]();
  console.log(table);
  sections.push(``, `## ${name}`, ``, table);
}
if (everything) {
  writeFileSync(fileURLToPath(new URL("./results.md", import.meta.url)), sections.join("\n") + "\n");
  console.error("\nwrote bench/results.md");
}
