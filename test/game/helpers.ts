/**
 * Shared by the game suites: real stats services (in-process or as a child process), real game
 * servers, real @colyseus/sdk clients, and bounded waits.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, vi } from "vitest";
import { Client, type Room } from "@colyseus/sdk";
import { Msg, ROOM_NAME, type ErrorMessage, type RoundMessage } from "../../shared/protocol.ts";
import { startStatsService, type StatsService } from "../../server/stats/service.ts";
import { startGameServer, type GameServer, type GameServerOptions } from "../../server/game/server.ts";
import { spawnReady } from "../../server/process/spawn-ready.ts";

export const STATS_TOKEN = "test-stats-token";
export const AUTH_SECRET = "test-auth-secret";
export const repoFile = (rel: string) => fileURLToPath(new URL(`../../${rel}`, import.meta.url));

export function startStats(faults: Parameters<typeof startStatsService>[0]["faults"] = {}): Promise<StatsService> {
  return startStatsService({ port: 0, host: "127.0.0.1", token: STATS_TOKEN, db: ":memory:", faults });
}

/** Fast rounds for tests: 50 Hz ticks, a round every 4 ticks (80 ms), 60 ms stats deadline. */
export function startGame(statsUrl: string, overrides: GameServerOptions = {}): Promise<GameServer> {
  return startGameServer({
    statsUrl,
    statsToken: STATS_TOKEN,
    authSecret: AUTH_SECRET,
    journalPath: ":memory:",
    tickHz: 50,
    roundTicks: 4,
    roundDeadlineMs: 60,
    logLevel: "silent",
    summaryEveryS: 0,
    ...overrides,
  });
}

export interface Guest {
  playerId: string;
  name: string;
  token: string;
}

export async function guest(game: { httpUrl: string }, name?: string): Promise<Guest> {
  const res = await fetch(`${game.httpUrl}/auth/guest`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(name === undefined ? {} : { name }),
  });
  if (res.status !== 200) throw new Error(`POST /auth/guest: ${res.status} ${await res.text()}`);
  return (await res.json()) as Guest;
}

/** POST /matchmake/<method>/<room> as a raw HTTP client would; answers the status and the error text. */
export async function matchmake(
  game: { httpUrl: string },
  method: string,
  body: unknown,
  room = ROOM_NAME,
): Promise<{ status: number; error: string; roomId?: string }> {
  const res = await fetch(`${game.httpUrl}/matchmake/${method}/${room}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as { error?: string; roomId?: string };
  return { status: res.status, error: answer.error ?? "", roomId: answer.roomId };
}

/** A joined player: the SDK room plus everything the server sent it. */
export interface Player {
  room: Room;
  id: string;
  rounds: RoundMessage[];
  /** the synchronised state's round number when each round message arrived */
  stateRoundAtMessage: number[];
  errors: ErrorMessage[];
  left: number | null;
  /** the guest token it joined with (join() sets it) */
  token?: string;
}

export function track(room: Room, id: string): Player {
  const p: Player = { room, id, rounds: [], stateRoundAtMessage: [], errors: [], left: null };
  room.onMessage(Msg.round, (m: RoundMessage) => {
    p.rounds.push(m);
    p.stateRoundAtMessage.push((room.state as { round?: number } | undefined)?.round ?? -1);
  });
  room.onMessage(Msg.error, (m: ErrorMessage) => p.errors.push(m));
  room.onLeave((code: number) => (p.left = code));
  return p;
}

export async function join(game: { url: string; httpUrl: string }, name?: string): Promise<Player> {
  const g = await guest(game, name);
  const room = await new Client(game.url).joinOrCreate(ROOM_NAME, { token: g.token });
  const p = track(room, g.playerId);
  p.token = g.token;
  return p;
}

/** What an arena suite started; any part may still be unset if its start failed. */
export interface Started {
  players?: (Player | undefined)[];
  game?: { close(): Promise<void> };
  stats?: { close(): Promise<void> };
}

/** Registers a suite's teardown: players leave, then the game server closes, then the stats service. */
export function closeAfterAll(started: () => Started): void {
  afterAll(async () => {
    const { players = [], game, stats } = started();
    await leaveAll(players.filter((p): p is Player => p !== undefined));
    await game?.close();
    await stats?.close();
  });
}

/** Leaves (bounded: a room that already left never answers) every player still in. */
export async function leaveAll(players: Player[]): Promise<void> {
  await Promise.all(
    players.filter((p) => p.left === null).map((p) => Promise.race([p.room.leave().catch(() => {}), sleep(1000)])),
  );
}

// a loopback port nobody listens on right now (for processes that take a fixed port, as a user would give)
export { freePort } from "../../server/process/free-port.ts";

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Alive and not a zombie (a dead orphan may wait for a reaper that is not there). Linux /proc. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Waits (vi.waitFor, every 10 ms) until `check` returns a truthy value; fails naming `what` after `ms`. */
export function waitFor<T>(what: string, check: () => T | undefined | null | false, ms = 5000): Promise<T> {
  return vi.waitFor(
    () => {
      const v = check();
      if (!v) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      return v;
    },
    { timeout: ms, interval: 10 },
  );
}

/** The entities of a client's synchronised state, as plain objects. */
export function entitiesOf(
  room: Room,
): Map<string, { hp: number; alive: boolean; kind: string; connected: boolean; maxHp: number }> {
  const out = new Map();
  const state = room.state as { entities?: Map<string, any> } | undefined;
  state?.entities?.forEach((e: any, id: string) =>
    out.set(id, { hp: e.hp, alive: e.alive, kind: e.kind, connected: e.connected, maxHp: e.maxHp }),
  );
  return out;
}

export interface ChildService {
  proc: ChildProcess;
  port: number;
  lines: string[];
  exited: Promise<number | null>;
}

/** Runs one of the repo's entry points and waits for its ready message (spawnReady). */
export async function spawnEntry(
  entry: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<ChildService> {
  const lines: string[] = [];
  const child = await spawnReady(entry, { env, args, onLine: (line) => lines.push(line) });
  return { proc: child.proc, port: child.port, lines, exited: child.exited.then((s) => s.code) };
}

export function spawnStats(port = 0): Promise<ChildService> {
  return spawnEntry("server/stats/main.ts", {
    STATS_PORT: String(port),
    STATS_HOST: "127.0.0.1",
    STATS_TOKEN,
    STATS_DB: ":memory:",
  });
}

export async function stop(child: ChildService, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill(signal);
  return child.exited;
}
