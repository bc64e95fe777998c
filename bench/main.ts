/**
 * `npm run bench`: every benchmark, one after another, each printing its own table (medians and
 * ratios measured side by side in one run). The combined tables are also written to
 * bench/results.md so the README can quote the latest figures. `--only runtime,stats` picks some.
 * Benchmarks never fail on timing; they fail only when something breaks.
 */
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { listOf, parseCommandLine, renderHelp, UsageError, type Command, type CommandLine } from "../shared/options.ts";
import { benchRuntime } from "./runtime.ts";
import { benchStats } from "./stats.ts";
import { benchRound } from "./round.ts";
import { benchCapacity } from "./capacity.ts";
import { benchScaleOut } from "./scale-out.ts";

const suites: Record<string, () => Promise<string>> = {
  runtime: benchRuntime,
  stats: benchStats,
  round: benchRound,
  capacity: benchCapacity,
  "scale-out": benchScaleOut,
};

const names = Object.keys(suites);
const options = {
  only: listOf(names, {
    flag: "only",
    default: names,
    defaultText: "all",
    help: "run these benchmarks only (and leave bench/results.md alone)",
  }),
};
const BENCH_COMMAND: Command<typeof options> = { usage: "npm run bench -- [--only runtime,stats]", options };

let line: CommandLine<typeof options>;
try {
  line = parseCommandLine(BENCH_COMMAND, process.argv.slice(2), {}, parseArgs);
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}
if (line.help) {
  process.stdout.write(renderHelp(BENCH_COMMAND));
  process.exit(0);
}
const chosen = line.values.only;
const everything = chosen === options.only.default;

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
