// Journal files of cluster processes that no longer exist are pruned by the same retention rules
// (issue 18): a real game process plays rounds and is SIGKILLed; the surviving process prunes its
// journal's rows past JOURNAL_MAX_AGE_S and deletes an orphan journal with no rows, leaves alone the
// journal of a process that is alive (its IPC channel subscribed), and `npm run replay` still
// replays every round kept.
import { existsSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Redis } from "ioredis";
import { journalPathOf, RoundJournal } from "../../server/game/journal/round-journal.ts";
import { replayJournal } from "../../server/game/journal/replay-cli.ts";
import { guest, track, waitFor } from "../game/helpers.ts";
import { clusterFixture, consume, describeWithRedis, reserve, type GameProc } from "./helpers.ts";

/** a process id no generated one sorts after: the live process it names never takes over the pruning */
const LIVE_ELSEWHERE = "zzzzzzzzz";
const DAY_MS = 86_400_000;

describeWithRedis("journals of gone cluster processes", () => {
  const cluster = clusterFixture("gone-journals");
  const { journalPath } = cluster;
  let procs: GameProc[];
  let channel: Redis;

  beforeAll(async () => {
    const env = { JOURNAL_MAX_AGE_S: "3600", JOURNAL_PRUNE_EVERY_S: "1", NPCS: "1" };
    procs = await Promise.all([cluster.startGame(env), cluster.startGame(env)]);
    // a process alive elsewhere, as the survivor sees it: its IPC channel subscribed
    channel = new Redis(cluster.redis.url);
    await channel.subscribe(`p:${LIVE_ELSEWHERE}`);
  }, 200_000);

  afterAll(() => channel?.disconnect());

  /** Rows of a journal file older than a day (opened and closed again). */
  const rowsOlderThanADay = (path: string) => {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return (db.prepare("SELECT COUNT(*) AS n FROM rounds WHERE at_ms < ?").get(Date.now() - DAY_MS) as { n: number })
        .n;
    } finally {
      db.close();
    }
  };
  /** Writes the first `rounds` rows of a journal file two days back. */
  const ageRows = (path: string, rounds: number) => {
    // the survivor may be pruning it at that moment: wait for its write lock
    const db = new DatabaseSync(path, { timeout: 10_000 });
    db.prepare(
      "UPDATE rounds SET at_ms = at_ms - ? WHERE rowid IN (SELECT rowid FROM rounds ORDER BY round LIMIT ?)",
    ).run(2 * DAY_MS, rounds);
    db.close();
  };

  it("the survivor prunes a SIGKILLed process's old rows and deletes an empty orphan; a live process's journal stays; what is kept replays", async () => {
    // rounds journaled by the process that will die: the one Colyseus puts the room on
    const g = await guest(procs[0]);
    const seat = await reserve(procs[0], g.token);
    const killed = procs.find((p) => p.processId === seat.processId)!;
    const survivor = procs.find((p) => p !== killed)!;
    const player = track(await consume(killed, seat), g.playerId);
    await waitFor("rounds on the doomed process", () => player.rounds.length >= 12, 20_000);
    player.room.reconnection.enabled = false;
    killed.child.kill("SIGKILL");
    await killed.exited;

    ageRows(killed.journal, 6);
    const kept = new RoundJournal(killed.journal, { readOnly: true });
    const recent = kept.count() - 6;
    kept.close();
    expect(rowsOlderThanADay(killed.journal)).toBe(6);
    // an orphan that never journaled a round, and the journal of a process alive elsewhere, with an old row
    const emptyOrphan = journalPathOf(journalPath, "goneEmpty1");
    new RoundJournal(emptyOrphan).close();
    const liveElsewhere = journalPathOf(journalPath, LIVE_ELSEWHERE);
    const live = new RoundJournal(liveElsewhere);
    live.append({ ...(await firstRecord(killed.journal)), room: "elsewhere" });
    live.close();
    ageRows(liveElsewhere, 1);

    await expect.poll(() => rowsOlderThanADay(killed.journal), { timeout: 30_000, interval: 250 }).toBe(0);
    await expect.poll(() => existsSync(emptyOrphan), { timeout: 30_000, interval: 250 }).toBe(false);
    expect(rowsOlderThanADay(liveElsewhere)).toBe(1);
    expect(existsSync(survivor.journal)).toBe(true);
    expect(survivor.lines.some((l) => l.includes('"msg":"journals of gone processes pruned"'))).toBe(true);

    const out: string[] = [];
    expect(await replayJournal({ paths: [killed.journal] }, (l) => out.push(l))).toBe(0);
    expect(out.filter((l) => l.startsWith("OK room="))).toHaveLength(recent);
  }, 120_000);
});

async function firstRecord(path: string) {
  const j = new RoundJournal(path, { readOnly: true });
  try {
    const [rec] = j.read({ limit: 1 });
    return rec;
  } finally {
    j.close();
  }
}
