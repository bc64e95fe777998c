// A match outlives its game process under `npm start`: the game child is SIGKILLed mid-match, the
// supervisor starts a new one, which restores every live room from the journal before it
// listens; the SDK's own automatic reconnection brings both players back to the same entity, and
// client-sim's bots keep reconnecting while the process is down instead of joining as new players.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as pathJoin } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runSim } from "../../bench/capacity.ts";
import type { RoundMessage } from "../../shared/protocol.ts";
import { RoundJournal } from "../../server/game/journal/round-journal.ts";
import { replayJournal } from "../../server/game/journal/replay-cli.ts";
import {
  entitiesOf,
  freePort,
  join,
  leaveAll,
  spawnEntry,
  stop,
  waitFor,
  type ChildService,
  type Player,
} from "../game/helpers.ts";
import { latestChildReady } from "../process/child-ready-records.ts";

const dir = mkdtempSync(pathJoin(tmpdir(), "skirmish-durable-"));
const journalPath = pathJoin(dir, "journal.db");
let start: ChildService | undefined;
let port = 0;
const players: Player[] = [];
afterAll(async () => {
  await leaveAll(players);
  if (start) await stop(start, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** Every round number seen by any player maps to one result. */
function roundsAgree(all: RoundMessage[]): void {
  const hashOf = new Map<number, string>();
  for (const r of all) {
    expect(hashOf.get(r.round) ?? r.hash, `round ${r.round} seen with two results`).toBe(r.hash);
    hashOf.set(r.round, r.hash);
  }
}

describe("a match outlives its game process (npm start)", () => {
  it("SIGKILL mid-match: both players are back in the same room and entity, the match goes on from the next round", async () => {
    port = await freePort();
    start = await spawnEntry("server/main.ts", {
      PORT: String(port),
      STATS_PORT: String(await freePort()),
      STATS_DB: ":memory:",
      JOURNAL_PATH: journalPath,
      // 100 ms rounds
      TICK_HZ: "50",
      ROUND_TICKS: "5",
      ROUND_DEADLINE_MS: "80",
      RECONNECT_GRACE_S: "60",
    });
    // no AUTH_SECRET given: npm start keeps one in the data directory, readable by its owner only
    expect(statSync(pathJoin(dir, "auth-secret")).mode & 0o777).toBe(0o600);
    const game = { url: `ws://127.0.0.1:${port}`, httpUrl: `http://127.0.0.1:${port}` };
    const ann = await join(game, "Ann");
    const bob = await join(game, "Bob");
    players.push(ann, bob);
    expect(bob.room.roomId).toBe(ann.room.roomId);
    const roomId = ann.room.roomId;
    // the SDK reconnects by itself only to a room it has been in for 5 s (its minUptime)
    await waitFor("5.5 s of rounds", () => ann.rounds.length >= 55 && bob.rounds.length >= 55, 30_000);

    const killed = latestChildReady(start.lines, "game");
    process.kill(killed.pid, "SIGKILL");
    const seenBefore = { ann: ann.rounds.length, bob: bob.rounds.length };
    // state as each player last saw it (the output of its last round): taken once the socket is gone
    await waitFor(
      "both sockets dropped",
      () => ann.room.connection.isOpen === false && bob.room.connection.isOpen === false,
    );
    const lastSeen = Math.max(ann.rounds.at(-1)!.round, bob.rounds.at(-1)!.round);
    const before = entitiesOf(ann.rounds.at(-1)!.round === lastSeen ? ann.room : bob.room);

    await waitFor(
      "the game child restarted",
      () => latestChildReady(start!.lines, "game").restarts === killed.restarts + 1,
      30_000,
    );
    const after = (p: Player, from: number) => p.rounds.slice(from);
    await waitFor(
      "both players in rounds again",
      () => after(ann, seenBefore.ann).length >= 3 && after(bob, seenBefore.bob).length >= 3,
      30_000,
    );

    // the same room, the same entities, neither player left
    for (const p of [ann, bob]) {
      expect(p.room.roomId).toBe(roomId);
      expect(p.left).toBeNull();
      expect(entitiesOf(p.room).get(p.id)).toMatchObject({ kind: "player", connected: true });
    }
    // the round after the last one anyone saw comes next: none lost, none fought twice
    const firstBack = Math.min(after(ann, seenBefore.ann)[0].round, after(bob, seenBefore.bob)[0].round);
    expect(firstBack).toBe(lastSeen + 1);
    roundsAgree([...ann.rounds, ...bob.rounds]);
    // the new process knows the restored room's players: they may still read its replay
    const replay = await fetch(`${game.httpUrl}/replay/rounds?room=${roomId}&limit=1`, {
      headers: { authorization: `Bearer ${ann.token}` },
    });
    expect(replay.status).toBe(200);

    // the restored room went on from exactly the state the players last saw
    const journal = new RoundJournal(journalPath, { readOnly: true });
    try {
      const resumed = [...journal.read({ room: roomId, round: lastSeen + 1 })][0];
      expect(resumed).toBeDefined();
      for (const e of resumed.plan.entities) {
        const seen = before.get(e.id);
        expect(seen, `${e.id} was in the room before the kill`).toBeDefined();
        expect({ id: e.id, hp: e.hp, alive: e.alive }).toEqual({ id: e.id, hp: seen!.hp, alive: seen!.alive });
      }
      expect(resumed.plan.entities.map((e) => e.id).sort()).toEqual([...before.keys()].sort());
    } finally {
      journal.close();
    }
    // and the journal replays across the crash, chain included
    const out: string[] = [];
    expect(await replayJournal({ paths: [journalPath] }, (l) => out.push(l))).toBe(0);
  }, 120_000);

  it("client-sim's bots keep reconnecting while the game process is down and come back as the same players", async () => {
    // the bots join the players' room (it has seats): they are in once their entities are connected
    const [ann] = players;
    const seated = () => [...entitiesOf(ann.room).values()].filter((e) => e.kind === "player" && e.connected).length;
    const before = seated();
    // thin bots: they never reconnect by themselves, so every drop goes through the bot's own reconnect
    const bots = 3;
    // long enough for a restart on a loaded machine and the bots' backoff (up to 4 s) after it
    const sim = runSim(
      [
        "--url",
        `ws://127.0.0.1:${port}`,
        "--bots",
        String(bots),
        "--duration",
        "45",
        "--ramp",
        "1",
        "--client",
        "thin",
      ],
      120_000,
    );
    await waitFor("the bots connected", () => seated() === before + bots, 30_000);
    const killed = latestChildReady(start!.lines, "game");
    process.kill(killed.pid, "SIGKILL");
    await waitFor(
      "the game child restarted",
      () => latestChildReady(start!.lines, "game").restarts === killed.restarts + 1,
      30_000,
    );
    const r = (await sim).report!;
    // nobody became a new player: one guest login each, and each came back through a reconnect
    expect(r.latency.auth.count).toBe(bots);
    expect(r.bots.rejoins).toBeGreaterThanOrEqual(bots);
    expect(r.bots.withResults).toBe(bots);
    // what failed is what a crash makes fail: the dropped sockets and reconnects refused while down
    for (const kind of Object.keys(r.errors.byKind)) expect(kind).toMatch(/^(drop|left|room_error|reconnect):/);
  }, 180_000);
});
