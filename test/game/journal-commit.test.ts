// The round journal groups the appends of one event-loop turn into one transaction, committed at
// the end of the turn: this process reads them at once, another connection (a replay while the
// server runs) once committed, afterCommit runs after the commit (a round's broadcast waits for
// it), close commits.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { RoundJournal, type JournalRecord } from "../../server/game/journal/round-journal.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function file(): string {
  const d = mkdtempSync(join(tmpdir(), "skirmish-journal-"));
  dirs.push(d);
  return join(d, "journal.db");
}
const rec = (round: number): JournalRecord => ({
  room: "r1",
  round,
  seed: 7,
  plan: { seed: 1, round, entities: [] },
  calls: [],
  hash: "00",
  joinMs: 1,
  deadlineMs: 300,
});

describe("round journal commits", () => {
  it("one batch per event-loop turn: visible here at once, to another connection and afterCommit once committed", async () => {
    const path = file();
    const writer = new RoundJournal(path);
    const reader = new RoundJournal(path, { readOnly: true });
    const seenAtCommit: number[] = [];
    for (let round = 1; round <= 50; round++) {
      writer.append(rec(round));
      writer.afterCommit(() => seenAtCommit.push(reader.count()));
    }
    expect(writer.count()).toBe(50);
    // still one open transaction: another connection sees none of it yet, nothing ran after it
    expect(reader.count()).toBe(0);
    expect(seenAtCommit).toEqual([]);
    await new Promise((done) => setImmediate(done));
    expect(reader.count()).toBe(50);
    // every callback ran after the commit, in order, and saw all 50 rounds
    expect(seenAtCommit).toEqual(Array(50).fill(50));
    writer.afterCommit(() => seenAtCommit.push(-1));
    expect(seenAtCommit.at(-1)).toBe(-1); // nothing waiting: at once
    writer.append(rec(51));
    writer.commit();
    expect(reader.count()).toBe(51);
    expect([...reader.read({ round: 51 })][0]).toMatchObject({ room: "r1", round: 51, seed: 7, hash: "00" });
    reader.close();
    writer.close();
  });

  it("close commits what is still waiting", () => {
    const path = file();
    const writer = new RoundJournal(path);
    writer.append(rec(1));
    writer.append(rec(2));
    writer.close();
    const reader = new RoundJournal(path, { readOnly: true });
    expect(reader.count()).toBe(2);
    reader.close();
  });

  it("a record that cannot be stored throws from append and leaves the batch's other rounds in", () => {
    const path = file();
    const writer = new RoundJournal(path);
    writer.append(rec(1));
    expect(() => writer.append(rec(1))).toThrow(/UNIQUE/);
    writer.append(rec(2));
    writer.close();
    const reader = new RoundJournal(path, { readOnly: true });
    expect([...reader.read()].map((r) => r.round)).toEqual([1, 2]);
    reader.close();
  });

  it("a full disk that rolls the batch back is reported with the rounds lost, and later appends start a new batch", () => {
    const lost: [string, number][] = [];
    const writer = new RoundJournal(file(), { onCommitError: (err, rounds) => lost.push([String(err), rounds]) });
    const db = (writer as unknown as { db: DatabaseSync }).db;
    const big = (round: number): JournalRecord => ({
      ...rec(round),
      plan: { ...rec(round).plan, pad: "x".repeat(3000) } as never,
    });
    writer.append(big(1));
    writer.commit();
    const pages = (db.prepare("PRAGMA page_count").get() as { page_count: number }).page_count;
    db.exec(`PRAGMA max_page_count = ${pages + 2}`);
    let failed = 0;
    for (let round = 2; failed === 0 && round < 50; round++) {
      try {
        writer.append(big(round));
      } catch (err) {
        expect(String(err)).toMatch(/full/);
        failed = round;
      }
    }
    expect(failed).toBeGreaterThan(2);
    // every round of the batch before the failed one was rolled back with it
    expect(lost).toEqual([[expect.stringMatching(/full/), failed - 2]]);
    expect(writer.count()).toBe(1);
    db.exec(`PRAGMA max_page_count = ${pages + 1000}`);
    writer.append(rec(100));
    writer.commit();
    expect(lost).toHaveLength(1);
    expect(writer.count()).toBe(2);
    writer.close();
  });
});
