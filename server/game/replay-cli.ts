/**
 * `npm run replay -- <journal.db> [--room R] [--round N]`: re-runs journaled rounds through the
 * runtime's replay mode and resolveRound. Prints one OK line per round, or the first divergence.
 * Exit code: 0 all OK, 1 a divergence, 2 usage error or unreadable journal.
 */
import { existsSync } from "node:fs";
import { RoundJournal } from "./round-journal.ts";
import { replayRecord } from "./replay.ts";

const USAGE = "usage: npm run replay -- <journal.db> [--room R] [--round N]";

export interface ReplayArgs {
  path: string;
  room?: string;
  round?: number;
}

export function parseReplayArgs(argv: readonly string[]): ReplayArgs | string {
  let path: string | undefined;
  let room: string | undefined;
  let round: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") return USAGE;
    if (a === "--room") {
      room = argv[++i];
      if (!room) return "--room needs a value\n" + USAGE;
    } else if (a === "--round") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0) return "--round needs a round number\n" + USAGE;
      round = n;
    } else if (a.startsWith("--")) {
      return `unknown flag ${a}\n${USAGE}`;
    } else if (path === undefined) {
      path = a;
    } else {
      return `unexpected argument ${a}\n${USAGE}`;
    }
  }
  if (path === undefined) return USAGE;
  return { path, room, round };
}

/** Replays and reports through `out`; returns the exit code. */
export async function replayJournal(args: ReplayArgs, out: (line: string) => void): Promise<number> {
  if (!existsSync(args.path)) {
    out(`no journal at ${args.path}`);
    return 2;
  }
  let journal: RoundJournal;
  try {
    journal = new RoundJournal(args.path, { readOnly: true });
  } catch (err) {
    out(`cannot open journal ${args.path}: ${(err as Error).message}`);
    return 2;
  }
  try {
    let n = 0;
    for (const rec of journal.read({ room: args.room, round: args.round })) {
      const v = await replayRecord(rec);
      n++;
      if (!v.ok) {
        out(`DIVERGED room=${v.room} round=${v.round}: ${v.divergence}`);
        return 1;
      }
      out(`OK room=${v.room} round=${v.round} hash=${v.hash}`);
    }
    if (n === 0) {
      out("no rounds matched");
      return 1;
    }
    out(`replayed ${n} round(s): all OK`);
    return 0;
  } finally {
    journal.close();
  }
}

if (import.meta.main) {
  const parsed = parseReplayArgs(process.argv.slice(2));
  if (typeof parsed === "string") {
    process.stdout.write(parsed + "\n");
    process.exitCode = parsed.startsWith("usage") && process.argv.includes("--help") ? 0 : 2;
  } else {
    process.exitCode = await replayJournal(parsed, (line) => process.stdout.write(line + "\n"));
  }
}
