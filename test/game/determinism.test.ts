import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as pathJoin } from "node:path";
import { spawn } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { pack } from "msgpackr";
import { run } from "../../server/runtime/index.ts";
import { resolveRound } from "../../shared/combat.ts";
import { createStatsClient } from "../../server/stats/client.ts";
import { combatRound, type RoundPlan } from "../../server/game/combat-round.ts";
import { RoundJournal, type JournalRecord } from "../../server/game/round-journal.ts";
import { replayRecord } from "../../server/game/replay.ts";
import { replayJournal } from "../../server/game/replay-cli.ts";
import type { StatsService } from "../../server/stats/service.ts";
import { join, leaveAll, repoFile, startGame, startStats, STATS_TOKEN, waitFor, type Player } from "./helpers.ts";

const dir = mkdtempSync(pathJoin(tmpdir(), "skirmish-game-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Records a short real match into a journal file; returns its path. */
async function recordMatch(file: string, rounds: number): Promise<void> {
  const stats = await startStats();
  const game = await startGame(stats.rpcUrl, { journalPath: file });
  const players: Player[] = [await join(game, "Ann"), await join(game, "Bob")];
  const [ann, bob] = players;
  // human intents too, not only the NPCs'
  let seq = 1;
  const timer = setInterval(() => {
    ann.room.send("intent", { seq: seq++, action: "attack", target: "npc_goblin_1" });
    bob.room.send("intent", { seq: seq++, action: seq % 3 ? "defend" : "focus" });
  }, 37);
  await waitFor(`${rounds} rounds`, () => ann.rounds.length >= rounds, 10_000);
  clearInterval(timer);
  await leaveAll(players);
  await game.close();
  await stats.close();
}

function readAll(file: string): JournalRecord[] {
  const j = new RoundJournal(file, { readOnly: true });
  try {
    return [...j.read()];
  } finally {
    j.close();
  }
}

function runCli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [repoFile("server/game/replay-cli.ts"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("exit", (code) => resolve({ code, out }));
  });
}

describe("journal and replay", () => {
  const file = pathJoin(dir, "match.db");

  it("journals every round of a real match; same journaled input gives the same bytes and hash", async () => {
    await recordMatch(file, 12);
    const recs = readAll(file);
    expect(recs.length).toBeGreaterThanOrEqual(12);
    const withIntents = recs.filter((r) => r.input.combatants.some((c) => c.intent !== null && c.id.startsWith("p_")));
    expect(withIntents.length).toBeGreaterThan(0);
    for (const rec of recs) {
      const a = resolveRound(rec.input);
      const b = resolveRound(structuredClone(rec.input));
      const shuffled = resolveRound({ ...rec.input, combatants: [...rec.input.combatants].reverse() });
      expect(a.hash).toBe(rec.hash);
      expect(Buffer.from(pack(a))).toEqual(Buffer.from(pack(b)));
      expect(shuffled.hash).toBe(rec.hash);
      // the call journal holds one stats call per living combatant
      const living = rec.input.combatants.filter((c) => c.alive).length;
      expect(rec.calls.length).toBe(living);
    }
  });

  it("replays the recorded match: the CLI prints OK per round and exits 0", async () => {
    const { code, out } = await runCli([file]);
    expect(out).toMatch(/^OK room=\S+ round=1 hash=[0-9a-f]{16}$/m);
    expect(out).toMatch(/all OK/);
    expect(code).toBe(0);
    const one = await runCli([file, "--round", "3"]);
    expect(one.out.trim().split("\n").filter((l) => l.startsWith("OK"))).toHaveLength(1);
    expect(one.code).toBe(0);
  });

  it("detects a tampered journal: output hash, fetched stats, intents", async () => {
    const recs = readAll(file);
    const target = recs[4];
    const tamper = (set: Parameters<RoundJournal["rawUpdate"]>[2]) => {
      const copy = pathJoin(dir, `tampered-${Math.random().toString(36).slice(2)}.db`);
      const j = new RoundJournal(copy);
      for (const r of recs) j.append(r);
      j.rawUpdate(target.room, target.round, set);
      j.close();
      return copy;
    };

    const badHash = tamper({ hash: "0123456789abcdef" });
    const cli = await runCli([badHash]);
    expect(cli.code).toBe(1);
    expect(cli.out).toMatch(new RegExp(`DIVERGED room=${target.room} round=${target.round}: output hash`));

    // a stats value in the journaled input no longer matches what the call journal says was fetched
    const input = structuredClone(target.input);
    const fresh = input.combatants.find((c) => c.stats && !c.stale)!;
    fresh.stats!.attack += 1;
    const lines: string[] = [];
    expect(await replayJournal({ path: tamper({ input }) }, (l) => lines.push(l))).toBe(1);
    expect(lines.at(-1)).toMatch(new RegExp(`DIVERGED .*input\\.combatants\\.\\d+\\.stats\\.attack`));

    // the fetched stats in the call journal changed: the replayed input diverges from the journaled one
    const calls = structuredClone(target.calls) as { ok: boolean; value: { defense: number } }[];
    calls.find((c) => c.ok)!.value.defense += 5;
    expect((await replayRecord({ ...target, calls })).ok).toBe(false);

    // an intent rewritten (an attack that landed becomes a defend): the input replays, but its
    // resolution no longer has the journaled hash
    const landed = recs.find((r) => r.round > 1 && r.input.combatants.some((x) => resolveRound(r.input).events.some((e) => e.t === "attack" && e.by === x.id)))!;
    const input2 = structuredClone(landed.input);
    const attacker = resolveRound(landed.input).events.find((e) => e.t === "attack")!.by;
    input2.combatants.find((x) => x.id === attacker)!.intent = { seq: 1, action: "defend" };
    const v = await replayRecord({ ...landed, input: input2 });
    expect(v).toMatchObject({ ok: false });
    expect((v as { divergence: string }).divergence).toMatch(/output hash/);

    // a call the recorded round made and the replayed one does not
    const extra = structuredClone(target.calls) as { coroutine: string; call: string }[];
    extra.push({ ...extra[0], coroutine: `${extra[0].coroutine}.ghost`, call: "stats:npc_ghost" });
    const missed = await replayRecord({ ...target, calls: extra as typeof target.calls });
    expect(missed).toMatchObject({ ok: false });
    expect((missed as { divergence: string }).divergence).toMatch(/never made journaled call "stats:npc_ghost"/);

    // the untouched record still replays
    expect(await replayRecord(target)).toMatchObject({ ok: true, hash: target.hash });
  });
});

describe("determinism against the network", () => {
  const services: StatsService[] = [];
  afterAll(async () => {
    for (const s of services) await s.close();
  });

  it("a stats service with random jitter gives the same round as one without, given the same stats", async () => {
    const steady = await startStats();
    const jittery = await startStats({ latencyMs: 2, jitterMs: 25, seed: 7 });
    services.push(steady, jittery);
    const ids = Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? `npc_wolf_${i}` : `p_det_${String(i).padStart(2, "0")}`));
    const plan: RoundPlan = {
      roomSeed: 0xdecafbad,
      round: 42,
      deadlineMs: 1000,
      entities: ids.map((id, i) => ({
        id,
        hp: 50 + i,
        maxHp: 500,
        alive: i !== 5,
        respawnIn: i === 5 ? 2 : 0,
        charge: i % 3,
        intent: i % 4 === 0 ? { seq: i, action: "defend" } : { seq: i, action: "attack", target: ids[(i * 7 + 3) % ids.length] },
      })),
    };

    async function roundAgainst(url: string): Promise<{ hash: string; order: string[]; bytes: Buffer }> {
      // batch off: one RPC per id, so jitter reorders the answers
      const client = createStatsClient(url, { token: STATS_TOKEN, batch: false, deadlineMs: 1000 });
      const order: string[] = [];
      try {
        // connected first: gets queued while connecting leave together, in one frame
        await client.get("p_warmup");
        const outcome = await run(() =>
          combatRound(plan, {
            fetch: (id, signal, deadlineMs) => client.get(id, { signal, deadlineMs }).then((s) => (order.push(id), s)),
            lastKnownGood: (id) => client.lastKnownGood(id),
            now: () => performance.now(),
          }),
        );
        expect(outcome.stale).toEqual([]);
        expect(outcome.absent).toEqual([]);
        return { hash: outcome.result.hash, order, bytes: Buffer.from(pack(outcome.result)) };
      } finally {
        await client.close();
      }
    }

    const reference = await roundAgainst(steady.rpcUrl);
    const sorted = [...reference.order].sort();
    let reordered = 0;
    for (let i = 0; i < 3; i++) {
      const r = await roundAgainst(jittery.rpcUrl);
      expect(r.hash).toBe(reference.hash);
      expect(r.bytes).toEqual(reference.bytes);
      if (r.order.join() !== sorted.join()) reordered++;
    }
    // the jitter really changed the arrival order, so the equality above means something
    expect(reordered).toBeGreaterThan(0);
  });
});
