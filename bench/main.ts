/**
 * `npm run bench`: every benchmark, one after another, each printing its own table (medians and
 * ratios measured side by side in one run). The combined tables are also written to
 * bench/results.md so the README can quote the latest figures. `--only runtime,stats` picks some.
 * Benchmarks never fail on timing; they fail only when something breaks.
 */
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { benchRuntime } from "./runtime.ts";
import { benchStats } from "./stats.ts";
import { benchRound } from "./round.ts";
import { benchCapacity } from "./capacity.ts";

const suites: Record<string, () => Promise<string>> = {
  runtime: benchRuntime,
  stats: benchStats,
  round: benchRound,
  capacity: benchCapacity,
};

const onlyIndex = process.argv.indexOf("--only");
const chosen = onlyIndex >= 0 ? process.argv[onlyIndex + 1].split(",") : Object.keys(suites);
for (const name of chosen) {
  if (!suites[name]) {
    console.error(`unknown benchmark "${name}"; choose from ${Object.keys(suites).join(", ")}`);
    process.exit(2);
  }
}

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
if (onlyIndex < 0) {
  writeFileSync(fileURLToPath(new URL("./results.md", import.meta.url)), sections.join("\n") + "\n");
  console.error("\nwrote bench/results.md");
}
