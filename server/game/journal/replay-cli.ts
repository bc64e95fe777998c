/**
 * `npm run replay -- <journal.db>... [--room R] [--round N]`: re-runs journaled rounds through the
 * runtime's replay mode and resolveRound, and checks that each round of a room began where the one
 * before it ended (chain-check.ts: across crashes and restores too). Prints one OK line per round,
 * or the first divergence.
 * Several files (a cluster writes one per process: `data/journal-*.db`) are replayed one after
 * the other; a room lives in one process, so each file stands alone.
 * Exit code: 0 all OK, 1 a divergence (or no round matched in any file), 2 usage error or an
 * unreadable journal.
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { integer, parseCommandLine, renderHelp, text, UsageError, type Command } from "../../../shared/options.ts";
import { RoundJournal } from "./round-journal.ts";
import { replayRecord } from "./replay.ts";
import { chainBreak } from "./chain-check.ts";
import type { MemberRecord } from "./room-ledger.ts";
import type { CombatantState } from "../../../shared/combat.ts";

const options = {
  room: text({ flag: "room", default: null, defaultText: "every room", help: "replay only this room" }),
  round: integer({
    flag: "round",
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    default: null,
    defaultText: "every round",
    help: "replay only this round",
  }),
};

const REPLAY_COMMAND: Command<typeof options> = {
  usage: "npm run replay -- <journal.db>... [--room R] [--round N]",
  options,
  positionals: { name: "journal.db", min: 1, max: 10_000 },
};

export interface ReplayArgs {
  paths: string[];
  room?: string;
  round?: number;
}

/** The arguments, or the text to print: the help, or a usage error followed by the help. */
export function parseReplayArgs(argv: readonly string[]): ReplayArgs | { help: string; error?: string } {
  try {
    const line = parseCommandLine(REPLAY_COMMAND, argv, {}, parseArgs);
    if (line.help) return { help: renderHelp(REPLAY_COMMAND) };
    const { room, round } = line.values;
    return { paths: [...line.positionals], room: room ?? undefined, round: round ?? undefined };
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return { help: renderHelp(REPLAY_COMMAND), error: err.message };
  }
}

/** Replays every file and reports through `out`; returns the exit code. */
export async function replayJournal(args: ReplayArgs, out: (line: string) => void): Promise<number> {
  let rounds = 0;
  for (const path of args.paths) {
    if (args.paths.length > 1) out(`== ${path}`);
    const file = await replayFile(path, args, out);
    if (file.code !== 0) return file.code;
    rounds += file.rounds;
  }
  if (rounds === 0) {
    out("no rounds matched");
    return 1;
  }
  out(`replayed ${rounds} round(s)${args.paths.length > 1 ? ` from ${args.paths.length} journals` : ""}: all OK`);
  return 0;
}

/** One file: exit code 0 and the rounds replayed, or the exit code of its failure. */
async function replayFile(
  path: string,
  filter: { room?: string; round?: number },
  out: (line: string) => void,
): Promise<{ code: number; rounds: number }> {
  if (!existsSync(path)) {
    out(`no journal at ${path}`);
    return { code: 2, rounds: 0 };
  }
  let journal: RoundJournal;
  try {
    journal = new RoundJournal(path, { readOnly: true });
  } catch (err) {
    out(`cannot open journal ${path}: ${(err as Error).message}`);
    return { code: 2, rounds: 0 };
  }
  try {
    let rounds = 0;
    let prev: { room: string; round: number; next: CombatantState[]; events: MemberRecord[] } | undefined;
    for (const rec of journal.read({ room: filter.room, round: filter.round })) {
      const v = await replayRecord(rec);
      rounds++;
      if (!v.ok) {
        out(`DIVERGED room=${v.room} round=${v.round}: ${v.divergence}`);
        return { code: 1, rounds };
      }
      // rooms recorded in the ledger (journals from before it have no membership to check against)
      const events = prev?.room === rec.room ? prev.events : journal.rooms.members(rec.room);
      const broken =
        prev?.room === rec.room && events.length > 0 ? chainBreak(prev.round, prev.next, rec.plan, events) : null;
      if (broken !== null) {
        out(`DIVERGED room=${v.room} round=${v.round}: chain: ${broken}`);
        return { code: 1, rounds };
      }
      out(`OK room=${v.room} round=${v.round} hash=${v.hash}`);
      prev = { room: rec.room, round: rec.round, next: v.next, events };
    }
    return { code: 0, rounds };
  } catch (err) {
    // e.g. a row in an encoding this version does not know: say so, never guess
    out(`cannot read journal ${path}: ${(err as Error).message}`);
    return { code: 2, rounds: 0 };
  } finally {
    journal.close();
  }
}

if (import.meta.main) {
  const parsed = parseReplayArgs(process.argv.slice(2));
  if ("help" in parsed) {
    process.stdout.write((parsed.error ? parsed.error + "\n\n" : "") + parsed.help);
    process.exitCode = parsed.error ? 2 : 0;
  } else {
    process.exitCode = await replayJournal(parsed, (line) => process.stdout.write(line + "\n"));
  }
}
