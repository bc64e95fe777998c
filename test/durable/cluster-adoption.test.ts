// A match outlives its process in a cluster: one room, two players, three game processes on one
// Redis. SIGKILL of the owner: exactly one survivor adopts the room from its checkpoint, the
// listing points at it, client.reconnect(token) through any process lands both players in their
// entities, the next round is the next number. SIGSTOP of the new owner past its lease: another
// adopts; SIGCONT: the old owner drops the room without broadcasting or writing. SIGTERM of the
// owner: the room is handed over and goes on elsewhere, no round skipped or repeated.
import { Client } from "@colyseus/sdk";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import type { RoundMessage } from "../../shared/protocol.ts";
import { replayJournal } from "../../server/game/journal/replay-cli.ts";
import { decodeCheckpoint } from "../../server/game/cluster/room-checkpoint.ts";
import { entitiesOf, join, leaveAll, track, waitFor, type Player } from "../game/helpers.ts";
import { clusterFixture, describeWithRedis, type GameProc } from "../cluster/helpers.ts";

describeWithRedis("durable matches in a cluster: adoption, fencing, hand-over", () => {
  const cluster = clusterFixture("adoption");
  const procs: GameProc[] = [];
  /** every player connection, old and new, and every round any of them saw */
  const players: Player[] = [];
  const seen: RoundMessage[] = [];

  const start = async () => {
    const proc = await cluster.startGame({ RECONNECT_GRACE_S: "60" });
    procs.push(proc);
    return proc;
  };
  const alive = () => procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  const lease = async (roomId: string) => cluster.probe.hgetall(`skirmish:room:${roomId}:lease`);
  const ownerOf = async (roomId: string) => {
    const owner = (await lease(roomId)).owner;
    return procs.find((p) => p.processId === owner);
  };
  const lastSeen = () => Math.max(...seen.map((r) => r.round));

  /** Back in through `via` with the token the player's SDK holds, retried until a process has the room again. */
  async function backIn(old: Player, via: GameProc): Promise<Player> {
    const room = await vi.waitFor(() => new Client(via.url).reconnect(old.room.reconnectionToken), {
      timeout: 30_000,
      interval: 200,
    });
    const p = track(room, old.id);
    room.onMessage("round", (m: RoundMessage) => seen.push(m));
    players.push(p);
    return p;
  }

  function roundsAgree(): void {
    const hashOf = new Map<number, string>();
    for (const r of seen) {
      expect(hashOf.get(r.round) ?? r.hash, `round ${r.round} seen with two results`).toBe(r.hash);
      hashOf.set(r.round, r.hash);
    }
  }

  beforeAll(async () => {
    await Promise.all([start(), start()]);
  }, 200_000);

  afterAll(async () => {
    if (process.env.DEBUG_ADOPTION)
      for (const p of procs)
        process.stdout.write(
          p.lines
            .filter((l) => !l.includes('"level":"debug"'))
            .map((l) => `[${p.processId}] ${l}\n`)
            .join(""),
        );
    await leaveAll(players);
    // a process may still be SIGSTOPped, deaf to the fixture's SIGTERM
    for (const c of cluster.children) if (c.exitCode === null) c.kill("SIGKILL");
  });

  let ann: Player;
  let bob: Player;
  let roomId: string;

  /** Both players back in through `via`; the first round after is the next number; their entities are there. */
  async function bothBack(via: GameProc): Promise<void> {
    const before = lastSeen();
    const from = seen.length;
    ann = await backIn(ann, via);
    bob = await backIn(bob, via);
    await waitFor("rounds again", () => seen.length - from >= 4, 20_000);
    // the next round, or the one after it when the owner died between committing and checkpointing
    // a round and broadcasting it (its result is in the state; the journals' replay below proves
    // no round was skipped or fought twice)
    expect(Math.min(...seen.slice(from).map((r) => r.round)) - before).toBeOneOf([1, 2]);
    for (const p of [ann, bob]) {
      expect(p.room.roomId).toBe(roomId);
      expect(entitiesOf(p.room).get(p.id)).toMatchObject({ kind: "player" });
    }
    roundsAgree();
  }

  it("SIGKILL of the owner: exactly one survivor adopts; both players are back in their entities", async () => {
    ann = await join(procs[0], "Ann");
    roomId = ann.room.roomId;
    bob = await join(procs[0], "Bob");
    expect(bob.room.roomId).toBe(roomId);
    for (const p of [ann, bob]) {
      players.push(p);
      p.room.onMessage("round", (m: RoundMessage) => seen.push(m));
    }
    await waitFor("rounds", () => seen.length >= 6, 20_000);
    const owner = (await ownerOf(roomId))!;
    const survivor = procs.find((p) => p !== owner)!;
    owner.child.kill("SIGKILL");
    await vi.waitFor(async () => expect((await lease(roomId)).owner).toBe(survivor.processId), { timeout: 20_000 });
    await bothBack(survivor);
    expect(await metric(survivor, 'skirmish_rooms_restored_total{how="adopted"}')).toBe(1);
  }, 90_000);

  it("SIGSTOP of the owner past its lease: another process adopts; SIGCONT: the old owner drops the room, broadcasting and writing nothing", async () => {
    await start();
    const owner = (await ownerOf(roomId))!;
    const next = alive().find((p) => p !== owner)!;
    const oldRooms = [ann, bob];
    owner.child.kill("SIGSTOP");
    await vi.waitFor(async () => expect((await lease(roomId)).owner).toBe(next.processId), { timeout: 30_000 });
    const epoch = Number((await lease(roomId)).epoch);
    await bothBack(next);
    const roundsOnOld = oldRooms.map((p) => p.rounds.length);
    owner.child.kill("SIGCONT");
    await vi.waitFor(async () => expect(await metric(owner, "skirmish_rooms_dropped_total")).toBe(1), {
      timeout: 20_000,
    });
    await waitFor("the old connections closed", () => oldRooms.every((p) => !p.room.connection.isOpen), 20_000);
    // nothing broadcast by the old owner after it woke up, nothing written under its epoch
    expect(oldRooms.map((p) => p.rounds.length)).toEqual(roundsOnOld);
    expect(await lease(roomId)).toMatchObject({ owner: next.processId, epoch: String(epoch) });
    const checkpoint = decodeCheckpoint((await cluster.probe.getBuffer(`skirmish:room:${roomId}:checkpoint`))!);
    expect({ owner: checkpoint.owner, epoch: checkpoint.epoch }).toEqual({ owner: next.processId, epoch });
    roundsAgree();
  }, 120_000);

  it("SIGTERM of the owner: the room is handed over and goes on elsewhere, no round skipped or repeated", async () => {
    const owner = (await ownerOf(roomId))!;
    const other = alive().find((p) => p !== owner)!;
    owner.child.kill("SIGTERM");
    await vi.waitFor(async () => expect((await lease(roomId)).owner).toBe(other.processId), { timeout: 20_000 });
    await bothBack(other);
    // every process's journal replays, each room's chain included
    const out: string[] = [];
    expect(await replayJournal({ paths: procs.map((p) => p.journal) }, (l) => out.push(l))).toBe(0);
  }, 90_000);
});

/** One series of a process's /metrics, or 0 when absent. */
async function metric(proc: GameProc, series: string): Promise<number> {
  const text = await (await fetch(`${proc.httpUrl}/metrics`)).text();
  const line = text
    .split("\n")
    .find(
      (l) =>
        l.startsWith(series.replace("}", `,process="${proc.processId}"}`)) ||
        l.startsWith(`${series}{process="${proc.processId}"}`),
    );
  return line ? Number(line.split(" ").at(-1)) : 0;
}
