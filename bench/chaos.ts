/**
 * `npm run chaos`: replays issue 9's and issue 18's attacks against real processes on 127.0.0.1 (a stats service
 * and a game server, each its own process), bounded in count and time, and prints one table. A
 * watcher (a real @colyseus/sdk client) plays through every phase and records when rounds arrive.
 * Not part of `npm test`: it takes about a minute and its figures are measurements, not checks.
 *
 *   protocol fuzz     random frames (plus undecodable message types) from raw WebSocket seats
 *   stats kills       SIGKILL of the stats service, restarted on the same port a second later
 *   game SIGKILLs     SIGKILL of the game server mid-round, restarted on the same journal file
 *   oversized bodies  concurrent 64 MB request bodies, declared and chunked
 *   anonymous create  POST /matchmake/create|joinOrCreate/arena with no token
 *   keep-alive bodies a replay page of over 64 KiB, then a second request on the same connection
 *   replay burst      GET /replay/rounds pages at once over open keep-alive connections, with a
 *                     player's token (and some without)
 *   monitor           cross-origin requests to /colyseus/api, a room method call, password guesses
 *   durable matches   the process holding a match SIGKILLed or stopped (chaos-durable.ts)
 *
 * and against a cluster (a redis-server and two game processes; skipped, with a row saying so,
 * where redis-server is not installed):
 *
 *   duplicate joins   six simultaneous joinOrCreate with one token, three through each process
 *   Redis outage      SIGKILL of redis-server, GET /rooms, POST /watch, a join and GET /readyz on
 *                     both processes while it is away, restarted on its port: how soon each process
 *                     matchmakes again, and whether ioredis printed unhandled-error stacks
 *
 * A recorder (an SDK player) plays on the single game server from the start, so that the replay
 * rows have a journal to read.
 *
 * Flags (`npm run chaos -- --help`): --frames N (5000) --stats-kills N (5) --game-kills N (5)
 * --bodies N (8) --creates N (200) --keep-alives N (20) --replays N (200) --match-kills N (3)
 * --redis-outages N (3) --duplicate-trials N (20).
 */
import { randomBytes, randomInt } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, type Room } from "@colyseus/sdk";
import { Msg, ROOM_NAME, type RoundMessage } from "../shared/protocol.ts";
import { Agent, request } from "node:http";
import { sendOversizedBodies } from "../client-sim/attacks/oversized-bodies.ts";
import { sendReplayBurst } from "../client-sim/attacks/replay-burst.ts";
import { rawSeat, UNDECODABLE_TYPE_FRAME } from "../client-sim/attacks/raw-seat.ts";
import { spawnReady, type ReadyProcess } from "../server/process/spawn-ready.ts";
import { freePort } from "../server/process/free-port.ts";
import { findRedisServer, startRedisServer, type RedisServer } from "../server/process/redis-server.ts";
import { RoundJournal } from "../server/game/journal/round-journal.ts";
import { replayRecord } from "../server/game/journal/replay.ts";
import { integer, type Command } from "../shared/options.ts";
import { readCommandLine } from "./command-line.ts";
import { clusterKills, npmStartKills } from "./chaos-durable.ts";

const STATS_TOKEN = "chaos-stats-token";
const AUTH_SECRET = "chaos-auth-secret";
const MONITOR_PASSWORD = "chaos-monitor-password";
const ROUND_MS = 500; // the defaults: 20 Hz, 10 ticks a round

function startStats(port = 0): Promise<ReadyProcess> {
  return spawnReady("server/stats/main.ts", {
    env: { STATS_PORT: String(port), STATS_HOST: "127.0.0.1", STATS_TOKEN, STATS_DB: ":memory:" },
  });
}

/** `env` adds to the defaults (a cluster process: REDIS_URL and a PORT); `onLine` sees its output. */
function startGame(
  statsPort: number,
  journalPath: string,
  env: Record<string, string> = {},
  onLine?: (line: string) => void,
): Promise<ReadyProcess> {
  return spawnReady("server/game/main.ts", {
    env: {
      PORT: "0",
      HOST: "127.0.0.1",
      STATS_URL: `ws://127.0.0.1:${statsPort}/rpc`,
      STATS_TOKEN,
      AUTH_SECRET,
      JOURNAL_PATH: journalPath,
      LOG_LEVEL: "error",
      SUMMARY_EVERY_S: "0",
      MONITOR_PASSWORD,
      // as many client addresses as it takes: the per-address limit out of the way, the rest on trial
      REPLAY_PAGES_PER_MINUTE: "100000",
      ...env,
    },
    onLine,
  });
}

const httpOf = (game: ReadyProcess) => `http://127.0.0.1:${game.port}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function guestToken(game: ReadyProcess): Promise<string> {
  const res = await fetch(`${httpOf(game)}/auth/guest`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  return ((await res.json()) as { token: string }).token;
}

/** A real SDK player that records every round it is sent, with its arrival time. */
interface Watcher {
  room: Room;
  token: string;
  rounds: { at: number; m: RoundMessage }[];
}

async function watch(game: ReadyProcess): Promise<Watcher> {
  const token = await guestToken(game);
  const room = await new Client(`ws://127.0.0.1:${game.port}`).joinOrCreate(ROOM_NAME, { token });
  const w: Watcher = { room, token, rounds: [] };
  room.onMessage(Msg.round, (m: RoundMessage) => w.rounds.push({ at: performance.now(), m }));
  room.onMessage(Msg.error, () => {});
  return w;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

/** Rounds missing from a watcher's consecutive sequence. */
function missingRounds(rounds: { m: RoundMessage }[]): number {
  let missing = 0;
  for (let i = 1; i < rounds.length; i++) missing += Math.max(0, rounds[i].m.round - rounds[i - 1].m.round - 1);
  return missing;
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "-");

/** A counter of the game's /metrics (its only series, or the one with `labels`). */
async function metric(game: ReadyProcess, name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`${httpOf(game)}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(labels ? `${name}{${labels}}` : `${name} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** The watcher's round gaps over `seen`, as the table shows them. */
function gapsOf(seen: { at: number; m: RoundMessage }[]): string {
  const gaps = seen.slice(1).map((r, i) => r.at - seen[i].at);
  return `watcher round gaps p50 ${fmt(percentile(gaps, 50))} ms, p99 ${fmt(percentile(gaps, 99))} ms, max ${fmt(Math.max(...gaps))} ms (nominal ${ROUND_MS}); rounds missed ${missingRounds(seen)}`;
}

const statusList = (counts: Map<number, number>) =>
  [...counts]
    .sort(([a], [b]) => a - b)
    .map(([status, n]) => `${n} × ${status || "no answer"}`)
    .join(", ");

async function fuzz(game: ReadyProcess, frames: number): Promise<string> {
  const w = await watch(game);
  await sleep(1500);
  const from = w.rounds.length;
  let sent = 0;
  let seats = 0;
  const until = performance.now() + 60_000;
  const seat = async () => {
    while (sent < frames && performance.now() < until) {
      const ws = await rawSeat(httpOf(game), await guestToken(game));
      seats++;
      // below the per-client message limit: each seat is dropped by the server for its garbage, not its rate
      for (let i = 0; i < 35 && sent < frames && ws.readyState === ws.OPEN; i++, sent++) {
        ws.send(
          i % 7 === 6
            ? UNDECODABLE_TYPE_FRAME
            : Buffer.concat([Buffer.of([13, 17, 21, randomInt(256)][randomInt(4)]), randomBytes(randomInt(64))]),
        );
        await sleep(1);
      }
      ws.terminate();
    }
  };
  await Promise.all([seat(), seat(), seat(), seat()]);
  await sleep(1500);
  const up = (await fetch(`${httpOf(game)}/healthz`)).status === 200 && game.proc.exitCode === null;
  const seen = w.rounds.slice(from);
  const gaps = seen.slice(1).map((r, i) => r.at - seen[i].at);
  await w.room.leave();
  return `| protocol fuzz | ${sent} frames from ${seats} raw seats | server up: ${up ? "yes" : "NO"}; watcher round gaps p50 ${fmt(percentile(gaps, 50))} ms, p99 ${fmt(percentile(gaps, 99))} ms, max ${fmt(Math.max(...gaps))} ms (nominal ${ROUND_MS}); rounds missed ${missingRounds(seen)} |`;
}

async function killStats(game: ReadyProcess, stats: { p: ReadyProcess }, kills: number): Promise<string> {
  const w = await watch(game);
  const outageMs: number[] = [];
  const backMs: number[] = [];
  const port = stats.p.port;
  for (let k = 0; k < kills; k++) {
    await sleep(1500);
    stats.p.proc.kill("SIGKILL");
    await stats.p.exited;
    const killedAt = performance.now();
    await sleep(1000);
    stats.p = await startStats(port);
    const readyAt = performance.now();
    outageMs.push(readyAt - killedAt);
    // back to fresh: the first round after the restart in which no entity was stale or absent
    const deadline = performance.now() + 20_000;
    let fresh: number | undefined;
    while (fresh === undefined && performance.now() < deadline) {
      fresh = w.rounds.find((r) => r.at > readyAt && r.m.stale.length === 0 && r.m.absent.length === 0)?.at;
      await sleep(20);
    }
    backMs.push(fresh === undefined ? NaN : fresh - readyAt);
  }
  await sleep(1000);
  await w.room.leave();
  return `| stats kills | ${kills} SIGKILLs, each restarted 1 s later | rounds lost: ${missingRounds(w.rounds)} of ${w.rounds.length} (degraded meanwhile, never skipped); outage (kill to restarted service ready) median ${fmt(percentile(outageMs, 50))} ms; restarted service ready to the first fresh round: median ${fmt(percentile(backMs, 50))} ms, max ${fmt(Math.max(...backMs))} ms |`;
}

async function killGame(statsPort: number, journalPath: string, kills: number): Promise<string> {
  const seen = new Set<string>();
  for (let k = 0; k < kills; k++) {
    const game = await startGame(statsPort, journalPath);
    const w = await watch(game);
    await sleep(1000 + randomInt(2000));
    game.proc.kill("SIGKILL");
    await game.exited;
    for (const r of w.rounds) seen.add(`${w.room.roomId}/${r.m.round}`);
  }
  const journal = new RoundJournal(journalPath, { readOnly: true });
  let rows = 0;
  let torn = 0;
  const stored = new Set<string>();
  try {
    for (const rec of journal.read()) {
      rows++;
      stored.add(`${rec.room}/${rec.round}`);
      if (!(await replayRecord(rec)).ok) torn++;
    }
  } catch {
    torn++; // a row that cannot even be decoded
  }
  journal.close();
  const lost = [...seen].filter((k) => !stored.has(k)).length;
  return `| game SIGKILLs | ${kills} SIGKILLs mid-round, restarted on the same journal | journal rows: ${rows}; rounds a client saw but not journaled: ${lost} of ${seen.size}; torn (undecodable or not replaying): ${torn} |`;
}

async function oversized(game: ReadyProcess, bodies: number): Promise<string> {
  const {
    results,
    rssBeforeMb: before,
    rssPeakMb: peak,
  } = await sendOversizedBodies({
    host: "127.0.0.1",
    port: game.port,
    pid: game.pid,
    count: bodies,
    bytes: 64 << 20,
  });
  const refused = results.filter((r) => r.status === 413).length;
  return `| oversized bodies | ${bodies} x 64 MB at once (half chunked) | 413: ${refused} of ${bodies}; game RSS ${fmt(before)} MB before, peak ${fmt(peak)} MB |`;
}

async function anonymousCreates(game: ReadyProcess, attempts: number): Promise<string> {
  const rooms = async () => ((await (await fetch(`${httpOf(game)}/healthz`)).json()) as { rooms: number }).rooms;
  const before = await rooms();
  let refused = 0;
  for (let i = 0; i < attempts; i += 20) {
    const batch = Array.from({ length: Math.min(20, attempts - i) }, (_, j) =>
      fetch(`${httpOf(game)}/matchmake/${(i + j) % 2 ? "create" : "joinOrCreate"}/${ROOM_NAME}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      }).then((r) => (r.ok ? 0 : 1)),
    );
    refused += (await Promise.all(batch)).reduce<number>((a, b) => a + b, 0);
  }
  await sleep(1000);
  return `| anonymous create | ${attempts} POSTs (create / joinOrCreate, no token) | refused: ${refused}; rooms created: ${(await rooms()) - before} |`;
}

async function replayBurst(game: ReadyProcess, recorder: Watcher, requests: number): Promise<string> {
  const w = await watch(game);
  await sleep(1500);
  const httpUrl = httpOf(game);
  const room = recorder.room.roomId;
  const page = await fetch(`${httpUrl}/replay/rounds?room=${room}`, {
    headers: { authorization: `Bearer ${recorder.token}` },
  });
  const kb = (await page.arrayBuffer()).byteLength / 1024;
  const from = w.rounds.length;
  const dropped = await metric(game, "skirmish_ticks_dropped_total");
  const anonymous = await sendReplayBurst({ httpUrl, room, count: 20, limit: 100 });
  const answered = await sendReplayBurst({ httpUrl, room, token: recorder.token, count: requests, limit: 100 });
  await sleep(1500);
  const seen = w.rounds.slice(from);
  await w.room.leave();
  return `| replay burst | ${requests} GET /replay/rounds of a ${fmt(kb)} KB page at once over ${requests} open keep-alive connections with a player's token; then 20 without | ${statusList(answered)}; without a token ${statusList(anonymous)}; ${gapsOf(seen)}; ticks dropped ${(await metric(game, "skirmish_ticks_dropped_total")) - dropped} |`;
}

/** GET `path` on `agent`; the answer's status and size, and whether it came on a reused connection. */
function agentGet(agent: Agent, url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; bytes: number; reused: boolean }>((resolve) => {
    const req = request(url, { agent, headers, timeout: 10_000 }, (res) => {
      let bytes = 0;
      res.on("data", (c: Buffer) => (bytes += c.length));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes, reused: req.reusedSocket }));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve({ status: 0, bytes: 0, reused: false }));
    req.end();
  });
}

async function keepAliveBodies(game: ReadyProcess, recorder: Watcher, connections: number): Promise<string> {
  const url = `${httpOf(game)}/replay/rounds?room=${recorder.room.roomId}`;
  let large = 0;
  let second = 0;
  let closed = 0;
  const closeMs: number[] = [];
  let bytes = 0;
  for (let i = 0; i < connections; i++) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let socketClosed: Promise<number> | undefined;
    agent.on(
      "free",
      (socket) => (socketClosed ??= new Promise((r) => socket.once("close", () => r(performance.now())))),
    );
    const first = await agentGet(agent, url, { authorization: `Bearer ${recorder.token}` });
    if (first.status === 200 && first.bytes > 64 * 1024) large++;
    bytes = Math.max(bytes, first.bytes);
    const next = await agentGet(agent, `${httpOf(game)}/healthz`);
    if (next.status === 200 && next.reused) second++;
    const idleFrom = performance.now();
    const at = await Promise.race([socketClosed, sleep(15_000).then(() => undefined)]);
    if (at !== undefined) {
      closed++;
      closeMs.push(at - idleFrom);
    }
    agent.destroy();
  }
  return `| keep-alive bodies | ${connections} connections, one after another: a ${fmt(bytes / 1024)} KB replay page, then GET /healthz on the same connection, then nothing | pages over 64 KiB answered whole: ${large} of ${connections}; second request answered on the same connection: ${second} of ${connections}; idle connection closed by the server: ${closed} of ${connections}, median ${fmt(percentile(closeMs, 50))} ms after the last answer (HTTP_IDLE_TIMEOUT_MS 5000) |`;
}

async function monitorAttacks(game: ReadyProcess): Promise<string> {
  const w = await watch(game);
  await sleep(1000);
  const api = `${httpOf(game)}/colyseus/api`;
  const evil = "https://evil.example";
  const basic = (password: string) => `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`;
  const preflight = await fetch(api, {
    method: "OPTIONS",
    headers: {
      origin: evil,
      "access-control-request-method": "GET",
      "access-control-request-headers": "authorization",
    },
  });
  const read = await fetch(api, { headers: { origin: evil, authorization: basic(MONITOR_PASSWORD) } });
  const cors = [preflight, read].filter((r) => r.headers.has("access-control-allow-origin")).length;
  const query = new URLSearchParams({ roomId: w.room.roomId, method: "onDispose", args: "[]" });
  const call = await fetch(`${api}/room/call?${query}`, { headers: { authorization: basic(MONITOR_PASSWORD) } });
  const before = w.rounds.length;
  await sleep(1500);
  const after = w.rounds.length - before;
  const guesses = new Map<number, number>();
  for (let i = 0; i < 10; i++) {
    const status = (await fetch(api, { headers: { authorization: basic(`guess-${i}`) } })).status;
    guesses.set(status, (guesses.get(status) ?? 0) + 1);
  }
  const right = (await fetch(api, { headers: { authorization: basic(MONITOR_PASSWORD) } })).status;
  const counted = await metric(game, "skirmish_errors_total", 'code="monitor_login_failed"');
  await w.room.leave();
  return `| monitor | from https://evil.example: a preflight and a GET /colyseus/api with the password; GET /colyseus/api/room/call method=onDispose on a playing arena; 10 wrong passwords, then the right one | CORS headers answered: ${cors} of 2; the cross-site GET: ${read.status}; onDispose: ${call.status}, the arena played ${after} rounds after it; guesses: ${statusList(guesses)}, then the right password: ${right}; failed logins counted: ${counted} |`;
}

/** A redis-server and two game processes on it; `output` holds every line they print. */
interface Cluster {
  redis: RedisServer;
  games: ReadyProcess[];
  output: string[];
}

async function startCluster(statsPort: number, dir: string): Promise<Cluster> {
  const redis = await startRedisServer();
  const output: string[] = [];
  const games = await Promise.all(
    [0, 1].map(async () =>
      startGame(statsPort, join(dir, "cluster.db"), { REDIS_URL: redis.url, PORT: String(await freePort()) }, (line) =>
        output.push(line),
      ),
    ),
  );
  return { redis, games, output };
}

const status = async (url: string, init?: RequestInit) => (await fetch(url, init)).status;
const postJson = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

/** performance.now() once `attempt` resolves true (tried every 100 ms), or NaN after 30 s. */
async function firstSuccess(attempt: () => Promise<boolean>): Promise<number> {
  for (const until = performance.now() + 30_000; performance.now() < until; await sleep(100)) {
    if (await attempt().catch(() => false)) return performance.now();
  }
  return NaN;
}

async function redisOutages(cluster: Cluster, outages: number): Promise<string> {
  const w = await watch(cluster.games[0]);
  const token = await guestToken(cluster.games[0]);
  const during = new Map<string, number[]>();
  const saw = (what: string, code: number) => during.set(what, [...(during.get(what) ?? []), code]);
  const joinBackMs: number[] = [];
  const readyBackMs: number[] = [];
  const stacksBefore = cluster.output.filter((l) => l.includes("Unhandled error event")).length;
  for (let k = 0; k < outages; k++) {
    await sleep(1000);
    await cluster.redis.kill();
    const killedAt = performance.now();
    for (const game of cluster.games) {
      const http = httpOf(game);
      // once the process knows (its connections dropped), the lobby requests that used to wedge it
      await firstSuccess(
        async () => ((await (await fetch(`${http}/healthz`)).json()) as { redis?: string }).redis === "down",
      );
      saw("/rooms", await status(`${http}/rooms`));
      saw("/watch", await status(`${http}/watch`, postJson({ roomId: w.room.roomId, token })));
      saw("join", await status(`${http}/matchmake/joinOrCreate/${ROOM_NAME}`, postJson({ token })));
      saw("/readyz", await status(`${http}/readyz`));
    }
    await sleep(Math.max(0, 2000 - (performance.now() - killedAt)));
    cluster.redis = await startRedisServer({ port: cluster.redis.port });
    const backAt = performance.now();
    const back = await Promise.all(
      cluster.games.map(async (game) => {
        const [joined, ready] = await Promise.all([
          firstSuccess(async () => {
            const room = await new Client(`ws://127.0.0.1:${game.port}`).joinOrCreate(ROOM_NAME, {
              token: await guestToken(game),
            });
            room.onMessage("*", () => {});
            await room.leave();
            return true;
          }),
          firstSuccess(async () => (await status(`${httpOf(game)}/readyz`)) === 200),
        ]);
        saw("/rooms after", await status(`${httpOf(game)}/rooms`));
        return { joined: joined - backAt, ready: ready - backAt };
      }),
    );
    joinBackMs.push(...back.map((b) => b.joined));
    readyBackMs.push(...back.map((b) => b.ready));
  }
  await sleep(1000);
  await w.room.leave();
  const stacks = cluster.output.filter((l) => l.includes("Unhandled error event")).length - stacksBefore;
  const backWithin = (ms: number[]) => {
    const done = ms.filter(Number.isFinite);
    const late = ms.length - done.length;
    return `median ${fmt(percentile(done, 50))} ms, max ${fmt(Math.max(...done))} ms${late ? ` (${late} of ${ms.length} not within 30 s)` : ""}`;
  };
  const codes = (what: string) => {
    const counts = new Map<number, number>();
    for (const c of during.get(what) ?? []) counts.set(c, (counts.get(c) ?? 0) + 1);
    return [...counts].map(([c, n]) => `${n}x ${c}`).join(", ");
  };
  return `| Redis outage + lobby requests | ${outages} SIGKILLs of redis-server (2 s each, restarted on its port); meanwhile GET /rooms, POST /watch, a join, GET /readyz on both processes | during: /rooms ${codes("/rooms")}; /watch ${codes("/watch")}; join ${codes("join")}; /readyz ${codes("/readyz")}. Redis back to a join through each process: ${backWithin(joinBackMs)}; to /readyz 200: ${backWithin(readyBackMs)}; /rooms after: ${codes("/rooms after")}; ioredis unhandled-error stacks: ${stacks}; watcher rounds missed: ${missingRounds(w.rounds)} of ${w.rounds.length} |`;
}

async function duplicateJoins(cluster: Cluster, trials: number): Promise<string> {
  const seated: number[] = [];
  for (let t = 0; t < trials; t++) {
    const token = await guestToken(cluster.games[t % 2]);
    const joins = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        new Client(`ws://127.0.0.1:${cluster.games[i % 2].port}`).joinOrCreate(ROOM_NAME, { token }),
      ),
    );
    const rooms = joins.flatMap((j) => (j.status === "fulfilled" ? [j.value] : []));
    for (const room of rooms) room.onMessage("*", () => {});
    seated.push(rooms.length);
    await Promise.all(rooms.map((room) => room.leave()));
  }
  const over = seated.filter((n) => n > 1);
  return `| duplicate joins | ${trials} trials: 6 simultaneous joinOrCreate with one token, 3 through each of 2 processes | one client seated in ${seated.filter((n) => n === 1).length} of ${trials} trials; more than one in ${over.length}${over.length ? ` (up to ${Math.max(...over)})` : ""}; none in ${seated.filter((n) => n === 0).length} |`;
}

/** How many of each attack; every count in [1, 100000]. */
const count = (flag: string, defaultCount: number, help: string) =>
  integer({ flag, min: 1, max: 100_000, default: defaultCount, help });
const options = {
  frames: count("frames", 5000, "random frames sent from raw WebSocket seats"),
  statsKills: count("stats-kills", 5, "SIGKILLs of the stats service, each restarted a second later"),
  gameKills: count("game-kills", 5, "SIGKILLs of the game server mid-round, restarted on the same journal"),
  bodies: count("bodies", 8, "concurrent 64 MB request bodies"),
  creates: count("creates", 200, "anonymous POST /matchmake/create|joinOrCreate"),
  keepAlives: count(
    "keep-alives",
    20,
    "keep-alive connections each carrying a large replay page, then a second request",
  ),
  replays: count("replays", 200, "replay page requests sent at once, over as many open connections"),
  matchKills: count("match-kills", 3, "kills of the process holding a match, per durable-match row"),
  redisOutages: count("redis-outages", 3, "SIGKILLs of a cluster's redis-server, with lobby requests while it is away"),
  duplicateTrials: count(
    "duplicate-trials",
    20,
    "trials of six simultaneous joins with one token through two processes",
  ),
};
export const CHAOS_COMMAND: Command<typeof options> = { usage: "npm run chaos -- [flags]", options };

async function main(): Promise<void> {
  const n = readCommandLine(CHAOS_COMMAND);
  const dir = mkdtempSync(join(tmpdir(), "skirmish-chaos-"));
  const stats = { p: await startStats() };
  const game = await startGame(stats.p.port, join(dir, "journal.db"));
  const rows: string[] = [];
  const started = performance.now();
  try {
    const recorder = await watch(game);
    rows.push(await fuzz(game, n.frames));
    rows.push(await killStats(game, stats, n.statsKills));
    rows.push(await oversized(game, n.bodies));
    rows.push(await anonymousCreates(game, n.creates));
    rows.push(await keepAliveBodies(game, recorder, n.keepAlives));
    rows.push(await replayBurst(game, recorder, n.replays));
    rows.push(await monitorAttacks(game));
    await recorder.room.leave();
    await game.stop();
    rows.push(await killGame(stats.p.port, join(dir, "killed.db"), n.gameKills));
    if (findRedisServer()) {
      const cluster = await startCluster(stats.p.port, dir);
      try {
        rows.push(await duplicateJoins(cluster, n.duplicateTrials));
        rows.push(await redisOutages(cluster, n.redisOutages));
      } finally {
        await Promise.all(cluster.games.map((g) => g.stop()));
        await cluster.redis.stop();
      }
    } else rows.push("| cluster rows | skipped: redis-server not found (Debian package redis-server) | |");
    rows.push(await npmStartKills(n.matchKills));
    rows.push(await clusterKills(n.matchKills, "SIGKILL"));
    rows.push(await clusterKills(n.matchKills, "SIGTERM"));
  } finally {
    await game.stop();
    await stats.p.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    [
      `chaos: ${fmt((performance.now() - started) / 1000, 1)} s, rounds of ${ROUND_MS} ms, one watcher playing throughout`,
      "",
      "| attack | what was sent | what happened |",
      "| --- | --- | --- |",
      ...rows,
      "",
    ].join("\n"),
  );
  process.exit(0);
}

if (import.meta.main) await main();
