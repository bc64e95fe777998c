/**
 * `npm run replay -- <journal.db>... [--room R] [--round N]`: re-runs journaled rounds through the
 * runtime's replay mode and resolveRound, and checks that each round of a room began where the one
 * before it ended (chain-check.ts: across crashes and restores too). Prints one OK line per round,
 * or the first divergence.
 * Several files (a cluster writes one per process: `data/journal-*.db`) are replayed together: a
 * room adopted by another process has rounds in both, checked as one chain.
 * Exit code: 0 all OK, 1 a divergence (or no round matched in any file), 2 usage error or an
 * unreadable journal.
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { integer, parseCommandLine, renderHelp, text, UsageError, type Command } from "../../../shared/options.ts";
import { RoundJournal, type JournalRecord } from "./round-journal.ts";
import { replayRecord } from "./replay.ts";
import { chainBreak } from "./chain-check.ts";
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

/**
 * Replays every room of every file and reports through `out`; returns the exit code. A room may
 * span files (a cluster process adopted it from another): its rounds from all of them are taken
 * in round order, with the membership events of all of them, so the chain check crosses the
 * adoption too. A round number found twice is a divergence: a round fought twice.
 */
export async function replayJournal(args: ReplayArgs, out: (line: string) => void): Promise<number> {
  const journals: { path: string; journal: RoundJournal }[] = [];
  try {
    for (const path of args.paths) {
      if (!existsSync(path)) {
        out(`no journal at ${path}`);
        return 2;
      }
      try {
        journals.push({ path, journal: new RoundJournal(path, { readOnly: true }) });
      } catch (err) {
        out(`cannot open journal ${path}: ${(err as Error).message}`);
        return 2;
      }
      if (args.paths.length > 1) out(`== ${path}`);
    }
    const rooms = new Set<string>();
    for (const { journal } of journals) for (const room of journal.roomIds(args.room)) rooms.add(room);
    let rounds = 0;
    for (const room of [...rooms].sort()) {
      const result = await replayRoom(room, journals, args.round, out);
      rounds += result.rounds;
      if (result.code !== 0) return result.code;
    }
    if (rounds === 0) {
      out("no rounds matched");
      return 1;
    }
    out(`replayed ${rounds} round(s)${args.paths.length > 1 ? ` from ${args.paths.length} journals` : ""}: all OK`);
    return 0;
  } finally {
    for (const { journal } of journals) journal.close();
  }
}

/** One room's rounds from every file, in round order, each replayed and chained to the one before. */
async function replayRoom(
  room: string,
  journals: { path: string; journal: RoundJournal }[],
  round: number | undefined,
  out: (line: string) => void,
): Promise<{ code: number; rounds: number }> {
  // the room's membership events from every file, in the order they happened
  const events = journals
    .flatMap(({ journal }, file) => journal.rooms.members(room).map((e) => ({ e, file })))
    .sort((a, b) => (a.e.atMs ?? 0) - (b.e.atMs ?? 0) || a.file - b.file || (a.e.seq ?? 0) - (b.e.seq ?? 0))
    .map(({ e }, i) => ({ ...e, seq: i + 1 }));
  let rounds = 0;
  let prev: { round: number; hash: string; next: CombatantState[] } | undefined;
  for (const { rec, path } of byRound(journals, room, round)) {
    if (rec instanceof Error) {
      // e.g. a row in an encoding this version does not know: say so, never guess
      out(`cannot read journal ${path}: ${rec.message}`);
      return { code: 2, rounds };
    }
    if (prev?.round === rec.round) {
      if (prev.hash === rec.hash) continue; // the same round in two files (a copy), not a second fight
      out(`DIVERGED room=${room} round=${rec.round}: fought twice, with two results`);
      return { code: 1, rounds };
    }
    const v = await replayRecord(rec);
    rounds++;
    if (!v.ok) {
      out(`DIVERGED room=${v.room} round=${v.round}: ${v.divergence}`);
      return { code: 1, rounds };
    }
    // rooms recorded in the ledger (journals from before it have no membership to check against)
    const broken = prev && events.length > 0 ? chainBreak(prev.round, prev.next, rec.plan, events) : null;
    if (broken !== null) {
      out(`DIVERGED room=${v.room} round=${v.round}: chain: ${broken}`);
      return { code: 1, rounds };
    }
    out(`OK room=${v.room} round=${v.round} hash=${v.hash}`);
    prev = { round: rec.round, hash: rec.hash, next: v.next };
  }
  return { code: 0, rounds };
}

/** A room's rows of every file merged in round order (a read error is yielded, with its file). */
function* byRound(
  journals: { path: string; journal: RoundJournal }[],
  room: string,
  round: number | undefined,
): Generator<{ rec: JournalRecord; path: string } | { rec: Error; path: string }> {
  const heads = journals.map(({ path, journal }) => ({
    path,
    rows: journal.read({ room, round }),
    head: undefined as JournalRecord | undefined,
  }));
  const advance = (h: (typeof heads)[number]) => {
    h.head = h.rows.next().value ?? undefined;
  };
  for (const h of heads) {
    try {
      advance(h);
    } catch (err) {
      yield { rec: err as Error, path: h.path };
      return;
    }
  }
  for (;;) {
    let first: (typeof heads)[number] | undefined;
    for (const h of heads) if (h.head && (!first || h.head.round < first.head!.round)) first = h;
    if (!first) return;
    yield { rec: first.head!, path: first.path };
    try {
      advance(first);
    } catch (err) {
      yield { rec: err as Error, path: first.path };
      return;
    }
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
