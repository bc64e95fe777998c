// The README's configuration tables are the declarations rendered: edit an option and not the README
// (or the other way round) and this fails, printing the table to paste.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { configurationTable, type Command, type OptionTable } from "../shared/options.ts";
import { GAME_COMMAND } from "../server/game/config.ts";
import { STATS_COMMAND } from "../server/stats/config.ts";
import { SIM_COMMAND } from "../client-sim/options.ts";

const repoFile = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const COMMANDS: Record<string, Command<OptionTable>> = { game: GAME_COMMAND, stats: STATS_COMMAND, sim: SIM_COMMAND };

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
    ["README.md", ["game", "stats"]],
    ["client-sim/README.md", ["sim"]],
  ])("%s holds the table generated from the declarations", (path, names) => {
    const blocks = generatedBlocks(path);
    expect(blocks.map((b) => b.names)).toEqual([names]);
    const expected = configurationTable(names.map((name) => ({ name, command: COMMANDS[name] })));
    expect(blocks[0].body).toBe(expected);
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
      "--only: expected a comma-separated list of runtime, stats, round, capacity, scale-out",
    );
    expect(bad.status).toBe(2);
  });
});
