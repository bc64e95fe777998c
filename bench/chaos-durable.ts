/**
 * `npm run chaos`'s durable-match rows: a match under fire from its own host. Two SDK players in
 * one arena; the process holding it is killed or stopped, over and over; each time, how long until
 * the players are in rounds again (kill to the first round either sees after it), whether both are
 * back in the same room and entity, and whether any round was lost (seen by a client, not in the
 * journals) or fought twice (one round number, two results).
 *
 *   npm start SIGKILL  the game child under `npm start`: the supervisor restarts it, it restores the
 *                      room from its journal, the SDK's own reconnection brings the players back
 *   cluster SIGKILL    the owner in a 2-process `start:cluster`: the other adopts the room, the
 *                      players come back with client.reconnect(token) through it
 *   cluster SIGTERM    the same, with a graceful stop: the room is handed over
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, type Room } from "@colyseus/sdk";
import { Msg, ROOM_NAME, type RoundMessage } from "../shared/protocol.ts";
import { spawnReady } from "../server/process/spawn-ready.ts";
import { freePort, freePortRange } from "../server/process/free-port.ts";
import { RoundJournal } from "../server/game/journal/round-journal.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Player {
  room: Room;
  id: string;
  /** round messages with their arrival time (performance.now) */
  rounds: { m: RoundMessage; at: number }[];
}

async function player(url: string, name: string): Promise<Player> {
  const http = url.replace("ws://", "http://");
  const res = await fetch(`${http}/auth/guest`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const { token, playerId } = (await res.json()) as { token: string; playerId: string };
  const room = await new Client(url).joinOrCreate(ROOM_NAME, { token });
  return follow(room, playerId, []);
}

function follow(room: Room, id: string, rounds: Player["rounds"]): Player {
  room.onMessage(Msg.round, (m: RoundMessage) => rounds.push({ m, at: performance.now() }));
  return { room, id, rounds };
}

/** A child's pid from its supervisor's last "child ready" line. */
function childPid(lines: string[], child: string): number | undefined {
  const line = lines.filter((l) => l.includes('"msg":"child ready"') && l.includes(`"child":"${child}"`)).at(-1);
  return line ? (JSON.parse(line.slice(line.indexOf("{"))) as { pid: number }).pid : undefined;
}

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms: number): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`chaos: timed out waiting for ${what}`);
    await sleep(50);
  }
}

interface Tally {
  matches: number;
  survived: number;
  backInEntity: number;
  players: number;
  backMs: number[];
  seen: Map<number, string>;
  twice: number;
}

const newTally = (): Tally => ({
  matches: 0,
  survived: 0,
  backInEntity: 0,
  players: 0,
  backMs: [],
  seen: new Map(),
  twice: 0,
});

function record(t: Tally, ps: Player[]): void {
  for (const p of ps)
    for (const { m } of p.rounds) {
      const hash = t.seen.get(m.round);
      if (hash !== undefined && hash !== m.hash) t.twice++;
      t.seen.set(m.round, m.hash);
    }
}

/** Rounds a client saw that no journal in `dir` holds. */
function lostRounds(dir: string, roomId: string, seen: Map<number, string>): number {
  const stored = new Set<number>();
  for (const f of readdirSync(dir).filter((f) => /^journal.*\.db$/.test(f))) {
    const journal = new RoundJournal(join(dir, f), { readOnly: true });
    try {
      for (const rec of journal.read({ room: roomId })) stored.add(rec.round);
    } finally {
      journal.close();
    }
  }
  return [...seen.keys()].filter((r) => !stored.has(r)).length;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)];
};

function row(what: string, sent: string, t: Tally, lost: number): string {
  return `| ${what} | ${sent} | matches survived: ${t.survived} of ${t.matches}; players back in the same entity: ${t.backInEntity} of ${t.players}; kill to first round after: median ${Math.round(median(t.backMs))} ms, max ${Math.round(Math.max(...t.backMs))} ms; rounds lost: ${lost}, fought twice: ${t.twice} |`;
}

/** The game child of `npm start` SIGKILLed `kills` times mid-match; the SDK reconnects by itself. */
export async function npmStartKills(kills: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "skirmish-chaos-durable-"));
  const lines: string[] = [];
  const port = await freePort();
  const main = await spawnReady("server/main.ts", {
    env: {
      PORT: String(port),
      STATS_PORT: String(await freePort()),
      STATS_DB: ":memory:",
      JOURNAL_PATH: join(dir, "journal.db"),
      AUTH_SECRET: undefined,
      LOG_LEVEL: "warn",
      SUMMARY_EVERY_S: "0",
    },
    onLine: (l) => lines.push(l),
  });
  const t = newTally();
  let roomId = "";
  try {
    const url = `ws://127.0.0.1:${port}`;
    const ps = [await player(url, "Ann"), await player(url, "Bob")];
    roomId = ps[0].room.roomId;
    for (let k = 0; k < kills; k++) {
      await sleep(6000); // past the SDK's 5 s minUptime: it reconnects by itself
      const pid = childPid(lines, "game")!;
      const from = ps.map((p) => p.rounds.length);
      const killedAt = performance.now();
      process.kill(pid, "SIGKILL");
      t.matches++;
      t.players += ps.length;
      try {
        const firsts = await until(
          "both players in rounds",
          () => (ps.every((p, i) => p.rounds.length > from[i]) ? ps.map((p, i) => p.rounds[from[i]].at) : undefined),
          30_000,
        );
        t.backMs.push(Math.min(...firsts) - killedAt);
        t.survived++;
        t.backInEntity += ps.filter((p) => p.room.roomId === roomId && p.room.state?.entities?.get(p.id)).length;
      } catch {
        break; // the match did not survive: the row says so
      }
    }
    record(t, ps);
    for (const p of ps) await p.room.leave().catch(() => {});
  } finally {
    await main.stop();
  }
  const lost = lostRounds(dir, roomId, t.seen);
  rmSync(dir, { recursive: true, force: true });
  return row("npm start SIGKILL", `${kills} SIGKILLs of the game child mid-match, 2 SDK players`, t, lost);
}

/** The owner of the match in a 2-process cluster killed (`signal`) `kills` times; players reconnect through the other. */
export async function clusterKills(kills: number, signal: "SIGKILL" | "SIGTERM"): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "skirmish-chaos-durable-"));
  const lines: string[] = [];
  const base = await freePortRange(3);
  const ports = [base, base + 1];
  const cluster = await spawnReady("server/cluster-main.ts", {
    args: ["--processes", "2"],
    env: {
      PORT: String(base),
      STATS_PORT: String(base + 2),
      STATS_DB: ":memory:",
      JOURNAL_PATH: join(dir, "journal.db"),
      REDIS_URL: undefined,
      AUTH_SECRET: undefined,
      STATS_URL: undefined,
      RECONNECT_GRACE_S: "60",
      LOG_LEVEL: "warn",
      SUMMARY_EVERY_S: "0",
    },
    onLine: (l) => lines.push(l),
    timeoutMs: 120_000,
  });
  const t = newTally();
  let roomId = "";
  const all: Player[] = [];
  try {
    let ps = [await player(`ws://127.0.0.1:${ports[0]}`, "Ann"), await player(`ws://127.0.0.1:${ports[0]}`, "Bob")];
    roomId = ps[0].room.roomId;
    all.push(...ps);
    for (let k = 0; k < kills; k++) {
      await sleep(2000);
      for (const p of ps) p.room.reconnection.enabled = false;
      const owner = await ownerIndex(ports, roomId);
      const other = ports[1 - owner];
      const killedAt = performance.now();
      process.kill(childPid(lines, `game-${owner + 1}`)!, signal);
      t.matches++;
      t.players += ps.length;
      try {
        const back: Player[] = [];
        for (const p of ps) {
          const room = await until(
            "the adopted room",
            () => new Client(`ws://127.0.0.1:${other}`).reconnect(p.room.reconnectionToken).catch(() => undefined),
            30_000,
          );
          back.push(follow(room, p.id, p.rounds));
        }
        const from = back.map((p) => p.rounds.length);
        const firsts = await until(
          "both players in rounds",
          () =>
            back.every((p, i) => p.rounds.length > from[i]) ? back.map((p, i) => p.rounds[from[i]].at) : undefined,
          30_000,
        );
        t.backMs.push(Math.min(...firsts) - killedAt);
        t.survived++;
        t.backInEntity += back.filter((p) => p.room.roomId === roomId && p.room.state?.entities?.get(p.id)).length;
        ps = back;
        all.push(...back);
        // the supervisor brings the killed process back before the next round of this
        await until(
          "both processes up",
          async () => ((await Promise.all(ports.map(up))).every(Boolean) ? true : undefined),
          60_000,
        );
      } catch {
        break;
      }
    }
    record(t, all);
    for (const p of ps) await p.room.leave().catch(() => {});
  } finally {
    await cluster.stop();
  }
  const lost = lostRounds(dir, roomId, t.seen);
  rmSync(dir, { recursive: true, force: true });
  const what = signal === "SIGKILL" ? "cluster SIGKILL" : "cluster SIGTERM";
  return row(what, `${kills} x ${signal} of the process holding the match (2 processes), 2 SDK players`, t, lost);
}

async function up(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200;
  } catch {
    return false;
  }
}

/** Which of the two processes holds the match (the only room of the run). */
async function ownerIndex(ports: number[], roomId: string): Promise<number> {
  for (let i = 0; i < ports.length; i++) {
    const { rooms } = (await (await fetch(`http://127.0.0.1:${ports[i]}/healthz`)).json()) as { rooms: number };
    if (rooms > 0) return i;
  }
  throw new Error(`chaos: no process holds room ${roomId}`);
}
