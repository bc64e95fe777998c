import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { deflateRawSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { Packr } from "msgpackr";
import type { JournaledPlan } from "../../server/game/round/combat-round.ts";
import { RoundJournal, type JournalRecord } from "../../server/game/journal/round-journal.ts";
import { replayJournal } from "../../server/game/journal/replay-cli.ts";
import { startJournalRetention } from "../../server/game/journal/journal-retention.ts";
import { createGameMetrics } from "../../server/game/metrics.ts";
import { createLogger } from "../../server/observability/log.ts";
import { join as joinArena, leaveAll, sleep, startGame, startStats, waitFor } from "./helpers.ts";

const dir = mkdtempSync(joinPath(tmpdir(), "skirmish-journal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const fresh = () => joinPath(dir, `j${++files}.db`);

/** A record whose plan carries `bytes` of incompressible data (retention tests) or a small structured one. */
function record(round: number, bytes = 0): JournalRecord {
  const plan = {
    entities: [{ id: "p_a", hp: 10 }],
    blob: bytes > 0 ? randomBytes(bytes) : null,
    seed: 7,
  } as unknown as JournaledPlan;
  return {
    room: "r1",
    round,
    seed: 7,
    plan,
    calls: [{ call: "stats:p_a", step: 1 }],
    hash: "h" + round,
    joinMs: 1.5,
    deadlineMs: 100,
  };
}

describe("journal encoding", () => {
  it("writes rows compactly (msgpack records) and reads them back unchanged", () => {
    const j = new RoundJournal(fresh());
    const big = {
      ...record(1),
      plan: {
        entities: Array.from({ length: 12 }, (_, i) => ({
          id: `p_${i}`,
          hp: 50,
          maxHp: 50,
          alive: true,
          respawnIn: 0,
          charge: 0,
          intent: null,
        })),
      } as unknown as JournaledPlan,
    };
    j.append(big);
    expect([...j.read()]).toEqual([big]);
    const stored = (j as unknown as { db: DatabaseSync }).db.prepare("SELECT input, enc FROM rounds").get() as {
      input: Uint8Array;
      enc: number;
    };
    const msgpack = new Packr({ useRecords: false, moreTypes: false }).pack(big.plan);
    expect(stored.enc).toBe(2);
    expect(stored.input.length).toBeLessThan(msgpack.length / 2);
    j.close();
  });

  it("decodes every row on its own: rows of different shapes, read in any order, by another connection", () => {
    const path = fresh();
    const j = new RoundJournal(path);
    const recs = [
      record(1),
      { ...record(2), calls: [{ coroutine: "round:r1:2.0.0", step: 0, call: "lkg:p_a", ok: true, value: null }] },
      { ...record(3), plan: { seed: 3, round: 3, entities: [] } as JournaledPlan },
    ];
    for (const r of recs) j.append(r);
    j.close();
    const reader = new RoundJournal(path, { readOnly: true });
    for (const round of [3, 1, 2]) expect([...reader.read({ round })]).toEqual([recs[round - 1]]);
    expect([...reader.read()]).toEqual(recs);
    reader.close();
  });

  it("reads the rows of earlier encodings: 0 (msgpack maps) and 1 (deflated maps)", () => {
    const path = fresh();
    const j = new RoundJournal(path);
    j.append(record(1));
    j.append(record(2));
    j.close();
    const maps = new Packr({ useRecords: false, moreTypes: false });
    const db = new DatabaseSync(path);
    const [r1, r2] = [record(1), record(2)];
    db.prepare("UPDATE rounds SET input = ?, calls = ?, enc = 0 WHERE round = 1").run(
      maps.pack(r1.plan),
      maps.pack(r1.calls),
    );
    db.prepare("UPDATE rounds SET input = ?, calls = ?, enc = 1 WHERE round = 2").run(
      deflateRawSync(maps.pack(r2.plan)),
      deflateRawSync(maps.pack(r2.calls)),
    );
    db.close();
    const reader = new RoundJournal(path, { readOnly: true });
    expect([...reader.read()]).toEqual([r1, r2]);
    reader.close();
  });

  it("reads a journal written before encodings were numbered, and refuses an unknown encoding by name", async () => {
    const path = fresh();
    const old = new DatabaseSync(path);
    old.exec(`CREATE TABLE rounds (room TEXT NOT NULL, round INTEGER NOT NULL, seed INTEGER NOT NULL, input BLOB NOT NULL, calls BLOB NOT NULL,
      hash TEXT NOT NULL, join_ms REAL NOT NULL, deadline_ms INTEGER NOT NULL, at_ms INTEGER NOT NULL, PRIMARY KEY (room, round)) STRICT`);
    const packr = new Packr({ useRecords: false, moreTypes: false });
    const rec = record(1);
    old
      .prepare("INSERT INTO rounds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .run(
        rec.room,
        rec.round,
        rec.seed,
        packr.pack(rec.plan),
        packr.pack(rec.calls),
        rec.hash,
        rec.joinMs,
        rec.deadlineMs,
        Date.now(),
      );
    old.close();
    const readOnly = new RoundJournal(path, { readOnly: true });
    expect([...readOnly.read()]).toEqual([rec]);
    readOnly.close();
    const writable = new RoundJournal(path); // adds the enc column, old rows stay encoding 0
    writable.append(record(2));
    expect([...writable.read()].map((r) => r.round)).toEqual([1, 2]);
    (writable as unknown as { db: DatabaseSync }).db.exec("UPDATE rounds SET enc = 9 WHERE round = 1");
    expect(() => [...writable.read()]).toThrow(/encoding 9 is not known to this version/);
    writable.close();
    const out: string[] = [];
    expect(await replayJournal({ paths: [path] }, (l) => out.push(l))).toBe(2);
    expect(out.join("\n")).toMatch(/cannot read journal .*encoding 9 is not known/);
  });
});

describe("journal retention", () => {
  it("prunes rows older than the cut-off, oldest first", async () => {
    const j = new RoundJournal(fresh());
    for (let i = 1; i <= 30; i++) j.append(record(i));
    await sleep(20);
    const cutoff = Date.now();
    await sleep(5);
    for (let i = 31; i <= 60; i++) j.append(record(i));
    expect(j.prune(cutoff, 0, 10)).toBe(10);
    while (j.prune(cutoff, 0, 10) > 0);
    expect([...j.read()].map((r) => r.round)).toEqual(Array.from({ length: 30 }, (_, i) => 31 + i));
    j.close();
  });

  it("prunes the oldest rows while the journal uses more than its byte budget", () => {
    const j = new RoundJournal(fresh());
    for (let i = 1; i <= 300; i++) j.append(record(i, 8000));
    expect(j.usedBytes()).toBeGreaterThan(2_000_000);
    while (j.prune(0, 1_000_000, 20) > 0);
    expect(j.usedBytes()).toBeLessThanOrEqual(1_000_000);
    const left = [...j.read()].map((r) => r.round);
    expect(left.length).toBeGreaterThan(50);
    expect(left.at(-1)).toBe(300);
    expect(left[0]).toBe(300 - left.length + 1);
    j.close();
  });

  it("prunes the journals of gone processes as one more journal: age, then their oldest rows while together over the budget; emptied files deleted", async () => {
    const hoursAgo = (h: number) => Date.now() - h * 3600_000;
    /** a journal file with `rounds` rows of 1 000 bytes, the first `old` of them written two hours ago */
    const written = (rounds: number, old = 0, from = 1) => {
      const path = fresh();
      const j = new RoundJournal(path);
      for (let i = from; i < from + rounds; i++) j.append(record(i, 1000));
      j.close();
      const db = new DatabaseSync(path);
      db.prepare("UPDATE rounds SET at_ms = ? WHERE round < ?").run(hoursAgo(2), from + old);
      db.close();
      return path;
    };
    // 20 rows past the age bound, then the oldest of the recent ones; then newer rows, more than the budget
    const olderAndBig = written(1220, 20);
    const newer = written(1500, 0, 10_000);
    const empty = written(0);
    const onlyOld = written(10, 10);
    const own = new RoundJournal(fresh());
    own.append(record(1));
    const gone = [olderAndBig, newer, empty, onlyOld];
    const metrics = createGameMetrics({ ccu: () => 0, rooms: () => 0, statsClientCounters: () => ({}) });
    const retention = startJournalRetention(
      own,
      { maxAgeS: 3600, maxBytes: 1_000_000, everyS: 1 },
      metrics,
      createLogger("error"),
      async () => gone.filter((path) => existsSync(path)),
    );
    try {
      await waitFor("the gone journals pruned", () => metrics.journalFilesRemoved.get() >= 3, 10_000);
    } finally {
      retention.stop();
    }
    expect(gone.map((path) => existsSync(path))).toEqual([false, true, false, false]);
    for (const path of [olderAndBig, empty, onlyOld]) {
      expect(existsSync(path + "-wal")).toBe(false);
      expect(existsSync(path + "-shm")).toBe(false);
    }
    const kept = new RoundJournal(newer, { readOnly: true });
    const rounds = [...kept.read()].map((r) => r.round);
    expect(kept.usedBytes()).toBeLessThanOrEqual(1_000_000);
    kept.close();
    // the newest rows, without a gap (pruned 500 rows a batch)
    expect(rounds.length).toBeGreaterThan(0);
    expect(rounds).toEqual(Array.from({ length: rounds.length }, (_, i) => 11_500 - rounds.length + i));
    expect(metrics.journalPruned.get()).toBe(1220 + 1500 - rounds.length + 10);
    // the live process's own journal is its own business
    expect(own.count()).toBe(1);
    own.close();
  });

  it("a running server prunes its journal periodically while rounds go on", async () => {
    const stats = await startStats();
    const game = await startGame(stats.rpcUrl, { journalPath: fresh(), journalMaxAgeS: 1, journalPruneEveryS: 1 });
    const p = await joinArena(game);
    try {
      await waitFor("a prune", () => game.metrics.journalPruned.get() > 0, 10_000);
      const seen = p.rounds.length;
      await waitFor("rounds after the prune", () => p.rounds.length >= seen + 5);
      const rounds = p.rounds.map((r) => r.round);
      expect(rounds).toEqual(Array.from({ length: rounds.length }, (_, i) => rounds[0] + i));
      expect(game.journal.count()).toBeLessThan(game.metrics.journalRounds.get());
    } finally {
      await leaveAll([p]);
      await game.close();
      await stats.close();
    }
  });
});
