/**
 * The replay viewer: `/replay.html?room=<roomId>` steps through a room's journaled rounds
 * (GET /replay/rounds, fetched a page at a time as playback reaches it) and draws the same arena
 * table as the play page after each round, with that round's intents and events.
 *
 * A room's replay is for its own players and spectators (unless the server has REPLAY_PUBLIC=1):
 * the page sends the guest token this tab played or watched with (session-store.ts), so the
 * viewer works when opened from that tab (the arena list's replay links).
 */
import type { ReplayPage, ReplayRound } from "../shared/replay.ts";
import { EntityTable } from "./entity-table.ts";
import { EventLog } from "./event-log.ts";
import { GRANT_KEY, stored, type Grant } from "./session-store.ts";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const room = new URLSearchParams(location.search).get("room") ?? "";
/** ms per round while playing */
const PLAY_MS = 500;

const table = new EntityTable($("table"));
const log = new EventLog($("log"));
const rounds: ReplayRound[] = [];
let next: number | null = 0;
let at = -1;
let timer: ReturnType<typeof setInterval> | undefined;

async function loadMore(): Promise<boolean> {
  if (next === null) return false;
  const token = stored<Grant>(GRANT_KEY)?.token;
  const res = await fetch(`/replay/rounds?room=${encodeURIComponent(room)}&from=${next}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const body = (await res.json()) as ReplayPage & { error?: string };
  if (res.status === 401 || res.status === 403)
    throw new Error(
      "this replay is for the arena's players and spectators: open it from the tab you played or watched in",
    );
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  rounds.push(...body.rounds);
  next = body.next;
  return body.rounds.length > 0;
}

function show(i: number): void {
  at = i;
  const r = rounds[i];
  table.update(
    r.entities.map((e) => ({ ...e, name: e.id, connected: true })),
    { canAct: false },
  );
  log.clear();
  log.round(r.round, r.events, (id) => id);
  $("intents").textContent = r.intents.length
    ? "intents: " +
      r.intents.map(([id, it]) => `${id} ${it.action}${it.action === "attack" ? " " + it.target : ""}`).join(" · ")
    : "no intents";
  $("position").textContent = `round ${r.round} (${i + 1} of ${rounds.length}${next === null ? "" : "+"})`;
  $("verified").textContent = r.verified
    ? "✓ matches the journaled hash"
    : `✗ does not replay: ${r.divergence ?? "hash differs"}`;
  $("verified").classList.toggle("bad", !r.verified);
  document.body.dataset.round = String(r.round);
  controls();
}

function controls(): void {
  const atEnd = at >= rounds.length - 1 && next === null;
  $<HTMLButtonElement>("first").disabled = at <= 0;
  $<HTMLButtonElement>("back").disabled = at <= 0;
  $<HTMLButtonElement>("step").disabled = atEnd;
  $<HTMLButtonElement>("play").disabled = atEnd && timer === undefined;
  $("play").textContent = timer === undefined ? "Play" : "Pause";
}

async function step(): Promise<boolean> {
  if (at >= rounds.length - 1 && !(await loadMore())) {
    pause();
    return false;
  }
  show(at + 1);
  return true;
}

function pause(): void {
  if (timer !== undefined) clearInterval(timer);
  timer = undefined;
  controls();
}

function play(): void {
  if (timer !== undefined) return pause();
  timer = setInterval(() => void step().catch(fail), PLAY_MS);
  controls();
}

function fail(err: unknown): void {
  pause();
  $("source").textContent = `could not load room ${room}: ${(err as Error).message}`;
  $("source").classList.add("bad");
}

$("first").addEventListener("click", () => show(0));
$("back").addEventListener("click", () => show(at - 1));
$("step").addEventListener("click", () => void step().catch(fail));
$("play").addEventListener("click", play);
document.addEventListener("keydown", (ev) => {
  if (ev.key === " ") play();
  else if (ev.key === "ArrowRight") void step().catch(fail);
  else if (ev.key === "ArrowLeft" && at > 0) show(at - 1);
  else return;
  ev.preventDefault();
});

(async () => {
  if (!room) throw new Error("no ?room=<roomId> given");
  await loadMore();
  $("source").textContent = `room ${room}`;
  show(0);
})().catch(fail);
