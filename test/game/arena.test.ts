import { beforeAll, describe, expect, it } from "vitest";
import type { RoundMessage } from "../../shared/protocol.ts";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import { closeAfterAll, entitiesOf, join, startGame, startStats, waitFor, type Player } from "./helpers.ts";

const NPC = "npc_goblin_1";

describe("the arena: rounds end to end", () => {
  let stats: StatsService;
  let game: GameServer;
  let ann: Player;
  let bob: Player;

  beforeAll(async () => {
    stats = await startStats();
    // 200 ms rounds: room to send an intent well before a cut-off
    game = await startGame(stats.rpcUrl, { tickHz: 50, roundTicks: 10, roundDeadlineMs: 100 });
    ann = await join(game, "Ann");
    bob = await join(game, "Bob");
  });
  closeAfterAll(() => ({ players: [ann, bob], game, stats }));

  /** Right after a round arrived with the player alive: the next cut-off is ~a round away. */
  async function afterNextRound(p: Player): Promise<RoundMessage> {
    for (let i = 0; i < 50; i++) {
      const seen = p.rounds.length;
      const r = await waitFor("a round", () => p.rounds[seen]);
      if (entitiesOf(p.room).get(p.id)?.alive) return r;
    }
    throw new Error(`${p.id} never came back alive`);
  }

  function livingNpc(p: Player): string {
    const alive = [...entitiesOf(p.room)].filter(([id, e]) => id.startsWith("npc_") && e.alive);
    return alive.sort((a, b) => b[1].hp - a[1].hp)[0][0];
  }

  it("puts both players and the NPCs in one arena, synchronised to every client", async () => {
    expect(ann.room.roomId).toBe(bob.room.roomId);
    const ents = await waitFor("both players in bob's state", () => {
      const e = entitiesOf(bob.room);
      return e.has(ann.id) && e.has(bob.id) && e;
    });
    expect(ents.get(ann.id)!.kind).toBe("player");
    expect(ents.get(NPC)!.kind).toBe("npc");
    expect([...ents.values()].filter((e) => e.kind === "npc").length).toBe(3);
  });

  it("resolves an attack: the intent's seq in `intents`, an attack event, hp down in state", async () => {
    await afterNextRound(ann);
    const target = livingNpc(ann);
    ann.room.send("intent", { seq: 7001, action: "attack", target });
    const round = await waitFor("the round that consumed seq 7001", () =>
      ann.rounds.find((r) => r.intents.some(([id, seq]) => id === ann.id && seq === 7001)),
    );
    const hit = round.events.find((e) => e.t === "attack" && e.by === ann.id);
    expect(hit).toMatchObject({ t: "attack", by: ann.id, target });
    const after = (hit as { hp: number }).hp;
    expect(after).toBeLessThan(entitiesOf(ann.room).get(target)!.maxHp);
    // the patch went out before the round message: the state already shows this round
    const i = ann.rounds.indexOf(round);
    expect(ann.stateRoundAtMessage[i]).toBe(round.round);
    expect(round.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof round.seed).toBe("number");
    // bob got the very same message
    const bobs = await waitFor("bob's copy", () => bob.rounds.find((r) => r.round === round.round));
    expect(bobs).toEqual(round);
  });

  it("counts only the last valid intent before the cut-off", async () => {
    await afterNextRound(ann);
    ann.room.send("intent", { seq: 8001, action: "defend" });
    ann.room.send("intent", { seq: 8002, action: "focus" });
    const round = await waitFor("the round with seq 8002", () =>
      ann.rounds.find((r) => r.intents.some(([id, s]) => id === ann.id && s === 8002)),
    );
    expect(round.intents.filter(([id]) => id === ann.id)).toEqual([[ann.id, 8002]]);
    expect(round.events).toContainEqual({ t: "focus", by: ann.id, charge: expect.any(Number) });
    expect(ann.rounds.some((r) => r.intents.some(([, s]) => s === 8001))).toBe(false);
  });

  it("answers invalid intents with an error to that client only, and changes nothing", async () => {
    await afterNextRound(ann);
    ann.room.send("intent", { seq: 9001, action: "defend" });
    const bad: [unknown, string][] = [
      [{ seq: 9002, action: "attack", target: ann.id }, "self_target"],
      [{ seq: 9003, action: "attack", target: "npc_nobody" }, "unknown_target"],
      [{ seq: 9004, action: "dance" }, "bad_intent"],
      [{ seq: -1, action: "defend" }, "bad_intent"],
      [{ seq: 9005, action: "attack", target: "x".repeat(65) }, "bad_intent"],
      ["attack!", "bad_intent"],
      [{ seq: 9006, action: "defend", extra: 1 }, "bad_intent"],
    ];
    for (const [payload] of bad) ann.room.send("intent", payload);
    ann.room.send("chat", { text: "hi" });
    const errors = await waitFor("every refusal", () => ann.errors.length >= bad.length + 1 && ann.errors);
    expect(errors.map((e) => e.code)).toEqual([...bad.map(([, code]) => code), "unknown_type"]);
    for (const e of errors) expect(e.message.length).toBeGreaterThan(0);
    // the valid intent queued before them is the one that counts
    const round = await waitFor("the round with seq 9001", () =>
      ann.rounds.find((r) => r.intents.some(([id, s]) => id === ann.id && s === 9001)),
    );
    expect(round.events).toContainEqual({ t: "defend", by: ann.id });
    const seqs = ann.rounds.flatMap((r) => r.intents.map(([, s]) => s));
    for (let s = 9002; s <= 9006; s++) expect(seqs).not.toContain(s);
    expect(bob.errors).toEqual([]);
  });

  it("keeps combat going with NPC brains: NPCs queue intents and attack", async () => {
    const r = await waitFor("an NPC attack", () =>
      ann.rounds.find((m) => m.events.some((e) => e.t === "attack" && e.by.startsWith("npc_"))),
    );
    expect(r.intents.some(([id]) => id.startsWith("npc_"))).toBe(true);
    // rounds are numbered consecutively with no gaps as received
    const nums = ann.rounds.map((m) => m.round);
    for (let i = 1; i < nums.length; i++) expect(nums[i]).toBe(nums[i - 1] + 1);
  });

  it("serves /healthz and Prometheus /metrics", async () => {
    const h = await fetch(`${game.httpUrl}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ status: "ok", rooms: 1, ccu: 2 });
    const text = await (await fetch(`${game.httpUrl}/metrics`)).text();
    expect(text).toMatch(/^skirmish_ccu 2$/m);
    expect(text).toMatch(/^skirmish_rooms 1$/m);
    expect(Number(/^skirmish_rounds_total (\d+)$/m.exec(text)![1])).toBeGreaterThan(3);
    expect(text).toMatch(/^skirmish_round_duration_seconds_count \d+$/m);
    expect(text).toMatch(/^skirmish_stats_join_wait_seconds_bucket\{le="0.05"\} \d+$/m);
    expect(text).toContain('skirmish_errors_total{code="self_target"} 1');
    expect(text).toMatch(/^skirmish_stats_client_total\{counter="requests"\} \d+$/m);
    expect(text).toMatch(/^skirmish_round_overruns_total \d+$/m);
  });
});
