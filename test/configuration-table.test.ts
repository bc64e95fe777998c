// The README's configuration tables are the declarations rendered: edit an option and not the README
// (or the other way round) and this fails, printing the table to paste.
import { execFile, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { configurationTable, type Command, type OptionTable } from "../shared/options.ts";
import { GAME_COMMAND } from "../server/game/config.ts";
import { STATS_COMMAND } from "../server/stats/config.ts";
import { SIM_COMMAND } from "../client-sim/options.ts";
import { ROUND_COMMAND } from "../bench/round.ts";
import { STATS_BENCH_COMMAND } from "../bench/stats.ts";
import { SCALE_OUT_COMMAND } from "../bench/scale-out.ts";
import { CHAOS_COMMAND } from "../bench/chaos.ts";
import { CAPACITY_COMMAND } from "../bench/capacity.ts";
import { LOADGEN_COMMAND } from "../bench/loadgen.ts";
import { PROFILE_COMMAND } from "../bench/profile-window.ts";

const repoFile = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const COMMANDS: Record<string, Command<OptionTable>> = {
  game: GAME_COMMAND,
  stats: STATS_COMMAND,
  sim: SIM_COMMAND,
  "bench:round": ROUND_COMMAND,
  "bench:stats": STATS_BENCH_COMMAND,
  "bench:scale-out": SCALE_OUT_COMMAND,
  "bench:capacity": CAPACITY_COMMAND,
  "bench:loadgen": LOADGEN_COMMAND,
  chaos: CHAOS_COMMAND,
};

/** Every `<!-- generated: configurationTable(a, b) -->` … `<!-- end generated -->` block of a file. */
function generatedBlocks(path: string): { names: string[]; body: string }[] {
  const text = readFileSync(repoFile(path), "utf8");
  return [
    ...text.matchAll(/<!-- generated: configurationTable\(([^)]*)\) -->\n([\s\S]*?)\n<!-- end generated -->/g),
  ].map((m) => ({
    names: m[1].split(",").map((n) => n.trim()),
    body: m[2],
  }));
}

describe("README configuration tables", () => {
  it.each([
    [
      "README.md",
      [
        ["game", "stats"],
        ["bench:round", "bench:stats", "bench:scale-out", "bench:capacity", "bench:loadgen", "chaos"],
      ],
    ],
    ["client-sim/README.md", [["sim"]]],
  ])("%s holds the tables generated from the declarations", (path, tables) => {
    const blocks = generatedBlocks(path);
    expect(blocks.map((b) => b.names)).toEqual(tables);
    for (const [i, names] of tables.entries()) {
      const expected = configurationTable(names.map((name) => ({ name, command: COMMANDS[name] })));
      expect(blocks[i].body).toBe(expected);
    }
  });

  it("lists every game and stats variable once, the shared stats token for both", () => {
    const [block] = generatedBlocks("README.md");
    for (const o of [...Object.values(GAME_COMMAND.options), ...Object.values(STATS_COMMAND.options)]) {
      expect(
        block.body.split("\n").filter((l) => l.startsWith(`| \`${o.env}\` |`)),
        o.env,
      ).toHaveLength(1);
    }
    expect(block.body).toMatch(
      /^\| `STATS_TOKEN` \| `--stats-token`, `--token` \| dev-stats-token \|.*\| game, stats \|/m,
    );
  });
});

describe("bench/main.ts options", () => {
  it("refuses --only as the last argument with a usage error, not a crash", () => {
    const r = spawnSync(process.execPath, [repoFile("bench/main.ts"), "--only"], { encoding: "utf8", timeout: 20_000 });
    expect(r.stderr).toContain("--only needs a value");
    expect(r.status).toBe(2);
    const bad = spawnSync(process.execPath, [repoFile("bench/main.ts"), "--only", "runtime,nope"], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(bad.stderr).toContain(
      "--only: expected a comma-separated list of runtime, stats, round, auth, capacity, scale-out",
    );
    expect(bad.status).toBe(2);
  });
});

describe("benchmark entry points' options", () => {
  const run = async (file: string, args: string[], env: Record<string, string> = {}) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [repoFile(file), ...args], {
        env: { ...process.env, ...env },
        timeout: 30_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout: string; stderr: string };
      return { code: e.code ?? -1, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it.each([
    ["bench/round.ts", ROUND_COMMAND],
    ["bench/stats.ts", STATS_BENCH_COMMAND],
    ["bench/scale-out.ts", SCALE_OUT_COMMAND],
    ["bench/chaos.ts", CHAOS_COMMAND],
    ["bench/capacity.ts", CAPACITY_COMMAND],
    ["bench/profile-window.ts", PROFILE_COMMAND],
  ])("%s --help prints its declarations and exits 0 without running", async (file, command) => {
    const r = await run(file, ["--help"]);
    expect(r.code).toBe(0);
    for (const o of Object.values(command.options)) {
      expect(r.stdout).toContain(`--${o.flag} <value>`);
      if (o.env) expect(r.stdout).toContain(o.env);
    }
  });

  it("reads BENCH_* variables through the declarations: a bad one is refused naming it, a flag wins over it", async () => {
    const [badEnv, flagWins, badFlag] = await Promise.all([
      run("bench/round.ts", [], { BENCH_ROUND_ROUNDS: "0" }),
      run("bench/stats.ts", ["--slice-ms", "10"], { BENCH_SLICE_MS: "nope" }),
      run("bench/scale-out.ts", ["--bots", "0"], { BENCH_SCALE_CCU: "400" }),
    ]);
    expect(badEnv.stderr).toContain('BENCH_ROUND_ROUNDS (--rounds): expected an integer in [1, 1000], got "0"');
    expect(badEnv.code).toBe(2);
    // the flag is read, its variable not even looked at
    expect(flagWins.stderr).toContain('--slice-ms: expected an integer in [50, 60000], got "10"');
    expect(flagWins.stderr).not.toContain("BENCH_SLICE_MS");
    expect(flagWins.code).toBe(2);
    expect(badFlag.stderr).toContain('--bots: expected an integer in [1, 100000], got "0"');
    expect(badFlag.code).toBe(2);
  });

  it("bench:capacity refuses a bad step list, and a 'before' server without --before, before starting anything", async () => {
    const [badSteps, noBefore, notACheckout] = await Promise.all([
      run("bench/capacity.ts", [], { BENCH_CAPACITY_STEPS: "1000,,2000" }),
      run("bench/capacity.ts", ["--servers", "before,skirmish"]),
      run("bench/capacity.ts", ["--before", "/nonexistent"]),
    ]);
    expect(badSteps.stderr).toContain(
      'BENCH_CAPACITY_STEPS (--steps): expected a comma-separated list of integers in [1, 100000], got "1000,,2000"',
    );
    expect(badSteps.code).toBe(2);
    expect(noBefore.stderr).toContain("--servers before needs --before DIR");
    expect(noBefore.code).toBe(2);
    expect(notACheckout.stderr).toContain("not a checkout of this repository");
    expect(notACheckout.code).toBe(2);
  });

  it("npm run bench reads every benchmark's variables before the first one starts: a bad one exits 2 at once", async () => {
    const [notACheckout, badRounds, help] = await Promise.all([
      run("bench/main.ts", [], { BENCH_CAPACITY_BEFORE: "/nonexistent" }),
      run("bench/main.ts", [], { BENCH_ROUND_ROUNDS: "0" }),
      run("bench/main.ts", ["--help"], { BENCH_ROUND_ROUNDS: "0" }),
    ]);
    expect(help.stdout).toContain("usage: npm run bench");
    expect(help.code).toBe(0);
    expect(notACheckout.stderr).toContain("--before /nonexistent: not a checkout of this repository");
    expect(badRounds.stderr).toContain("BENCH_ROUND_ROUNDS (--rounds): expected an integer in [1, 1000]");
    for (const r of [notACheckout, badRounds]) {
      expect(r.code).toBe(2);
      expect(r.stderr).not.toContain("=== bench:"); // no benchmark started
    }
  });
});
