import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as pathJoin } from "node:path";
import { spawn } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { pack } from "msgpackr";
import { run } from "../../server/runtime/index.ts";
import { resolveRound, type RoundInput } from "../../shared/combat.ts";
import { createStatsClient } from "../../server/stats/client.ts";
import { combatRound, type RoundPlan } from "../../server/game/round/combat-round.ts";
import { RoundJournal, type JournalRecord } from "../../server/game/journal/round-journal.ts";
import { replayRecord } from "../../server/game/journal/replay.ts";
import { replayJournal } from "../../server/game/journal/replay-cli.ts";
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
    const p = spawn(process.execPath, [repoFile("server/game/journal/replay-cli.ts"), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("exit", (code) => resolve({ code, out }));
  });
}

describe("journal and replay", () => {
  const file = pathJoin(dir, "match.db");

  it("journals every round of a real match; the replayed input gives the same bytes and hash", async () => {
    await recordMatch(file, 12);
    const recs = readAll(file);
    expect(recs.length).toBeGreaterThanOrEqual(12);
    const withIntents = recs.filter((r) => r.plan.entities.some((e) => e.intent !== null && e.id.startsWith("p_")));
    expect(withIntents.length).toBeGreaterThan(0);
    for (const rec of recs) {
      const v = await replayRecord(rec);
      if (!v.ok) throw new Error(v.divergence);
      const a = resolveRound(v.input);
      const b = resolveRound(structuredClone(v.input));
      const shuffled = resolveRound({ ...v.input, combatants: [...v.input.combatants].reverse() });
      expect(a.hash).toBe(rec.hash);
      expect(Buffer.from(pack(a))).toEqual(Buffer.from(pack(b)));
      expect(shuffled.hash).toBe(rec.hash);
      // one stats call per living entity, one last-known-good lookup per entity left without
      // stats, and the plan holds no stats (each entity's stats are stored once, in the calls)
      const living = rec.plan.entities.filter((e) => e.alive).length;
      const names = (rec.calls as { call: string; ok: boolean }[]).map((c) => c.call);
      expect(names.filter((n) => n.startsWith("stats:"))).toHaveLength(living);
      const stale = v.input.combatants.filter((c) => c.stale || (c.alive && c.stats === null)).length;
      expect(names.filter((n) => n.startsWith("lkg:"))).toHaveLength(stale);
      expect(rec.plan.entities.every((e) => !("stats" in e) && !("stale" in e))).toBe(true);
    }
  });

  it("replays the recorded match: the CLI prints OK per round and exits 0", async () => {
    const { code, out } = await runCli([file]);
    expect(out).toMatch(/^OK room=\S+ round=1 hash=[0-9a-f]{16}$/m);
    expect(out).toMatch(/all OK/);
    expect(code).toBe(0);
    const one = await runCli([file, "--round", "3"]);
    expect(
      one.out
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("OK")),
    ).toHaveLength(1);
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

    // an entity's hp in the journaled plan changed: the replayed round no longer has the hash
    // (one that survives the round: a blow that kills clamps hp at 0 and would hide the change)
    const inputOf = async (r: JournalRecord) => ((await replayRecord(r)) as { input: RoundInput }).input;
    const killed = new Set(resolveRound(await inputOf(target)).events.flatMap((e) => (e.t === "death" ? [e.by] : [])));
    const plan = structuredClone(target.plan);
    plan.entities.find((e) => e.alive && !killed.has(e.id))!.hp -= 1;
    const lines: string[] = [];
    expect(await replayJournal({ paths: [tamper({ plan })] }, (l) => lines.push(l))).toBe(1);
    expect(lines.at(-1)).toMatch(new RegExp(`DIVERGED room=${target.room} round=${target.round}: output hash`));

    // an attack that landed, and the round that has it
    let landed: JournalRecord | undefined;
    let attacker = "";
    for (const r of recs.filter((x) => x.round > 1)) {
      const hit = resolveRound(await inputOf(r)).events.find((e) => e.t === "attack");
      if (hit) [landed, attacker] = [r, hit.by];
      if (landed) break;
    }
    expect(landed).toBeDefined();

    // the attacker's stats in the call journal (fetched, or looked up) changed: its blow lands differently
    const calls = structuredClone(landed!.calls) as { call: string; ok: boolean; value: { attack: number } }[];
    calls.find(
      (c) => (c.call === `stats:${attacker}` || c.call === `lkg:${attacker}`) && c.ok && c.value !== null,
    )!.value.attack += 50;
    expect((await replayRecord({ ...landed!, calls })) as { divergence?: string }).toMatchObject({
      ok: false,
      divergence: expect.stringMatching(/output hash/),
    });

    // an intent rewritten (the attack becomes a defend): the round replays, but its
    // resolution no longer has the journaled hash
    const plan2 = structuredClone(landed!.plan);
    plan2.entities.find((x) => x.id === attacker)!.intent = { seq: 1, action: "defend" };
    const v = await replayRecord({ ...landed!, plan: plan2 });
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
    const ids = Array.from({ length: 24 }, (_, i) =>
      i % 3 === 0 ? `npc_wolf_${i}` : `p_det_${String(i).padStart(2, "0")}`,
    );
    const plan: RoundPlan = {
      seed: 0xdecafbad,
      round: 42,
      deadlineMs: 1000,
      entities: ids.map((id, i) => ({
        id,
        hp: 50 + i,
        maxHp: 500,
        alive: i !== 5,
        respawnIn: i === 5 ? 2 : 0,
        charge: i % 3,
        intent:
          i % 4 === 0
            ? { seq: i, action: "defend" }
            : { seq: i, action: "attack", target: ids[(i * 7 + 3) % ids.length] },
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
