/**
 * The play page: a guest token, a seat in an arena (or a spectator's seat with `?watch=<roomId>`),
 * the arena table, hotkeys, the round log. The seat survives reloads and drops: the token and the
 * reconnection token live in sessionStorage, so a reload or a lost connection comes back to the
 * same entity (reconnect, else join again with the same token).
 *
 * `window.skirmish.room` is the SDK room, for the browser console.
 */
import { Client, type Room } from "@colyseus/sdk";
import {
  ARENA_ENDED_CLOSE_CODE,
  Msg,
  ROOM_NAME,
  type ErrorMessage,
  type Intent,
  type JoinOptions,
  type RoundMessage,
} from "../shared/protocol.ts";
import type { WatchRequest } from "../shared/lobby.ts";
import { EntityTable, type EntityView } from "./entity-table.ts";
import { EventLog } from "./event-log.ts";
import { loadRooms } from "./room-list.ts";
import { GRANT_KEY, store, stored, type Grant } from "./session-store.ts";

interface Seat {
  roomId: string;
  reconnectionToken: string;
}
interface ArenaStateView {
  round: number;
  entities: { forEach(cb: (e: EntityView, id: string) => void): void; get(id: string): EntityView | undefined };
}
type ArenaRoom = Room<any, ArenaStateView>;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const watchId = params.get("watch") ?? undefined;
const SEAT_KEY = "skirmish.seat";
/** Colyseus' close code for a leave the client asked for. */
const CONSENTED = 4000;
const AUTH_FAILED = 4215;

const client = new Client(location.origin.replace(/^http/, "ws"));
const table = new EntityTable($("table"), watchId ? undefined : (id) => attack(id));
const log = new EventLog($("log"));

let room: ArenaRoom | undefined;
let grant: Grant | undefined;
let online = false;
let seq = 0;
let selected: string | undefined;
/** the intent sent and not yet resolved or refused */
let pending: { seq: number; text: string } | undefined;
let lastRoundAt = 0;
let roundMs = 0;
/** set once the watched arena has ended (or never existed): there is nothing to retry */
let ended: string | undefined;

/** POST /watch found no such arena. */
class NoArena extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function newGuest(): Promise<Grant> {
  const res = await fetch("/auth/guest", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: params.get("name") ?? undefined }),
  });
  if (!res.ok) throw new Error(`guest login: HTTP ${res.status}`);
  const g = (await res.json()) as Grant;
  store(GRANT_KEY, g);
  return g;
}

/** A spectator's seat (POST /watch): spectators hold no entity, so there is nothing to reconnect to. */
async function watch(roomId: string): Promise<ArenaRoom> {
  for (let attempt = 0; ; attempt++) {
    grant ??= stored<Grant>(GRANT_KEY) ?? (await newGuest());
    const res = await fetch("/watch", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ roomId, token: grant.token } satisfies WatchRequest),
    });
    const body = await res.json();
    if (res.ok) return (await client.consumeSeatReservation(body)) as ArenaRoom;
    if (res.status === 404) throw new NoArena(`No arena ${roomId} is running: it has ended, or never existed.`);
    if (res.status === 401 && attempt === 0)
      grant = await newGuest(); // signed by a restarted server
    else throw new Error(body.error ?? `HTTP ${res.status}`);
  }
}

/** Reconnect to the stored seat, else join with the same token (a new token only if refused). */
async function takeSeat(): Promise<ArenaRoom> {
  if (watchId) return watch(watchId);
  grant ??= stored<Grant>(GRANT_KEY);
  const seat = stored<Seat>(SEAT_KEY);
  if (seat && grant) {
    try {
      return (await client.reconnect(seat.reconnectionToken)) as ArenaRoom;
    } catch {
      sessionStorage.removeItem(SEAT_KEY);
    }
  }
  grant ??= stored<Grant>(GRANT_KEY) ?? (await newGuest());
  for (let attempt = 0; ; attempt++) {
    const options: JoinOptions = { token: grant.token };
    try {
      return (await client.joinOrCreate(ROOM_NAME, options)) as ArenaRoom;
    } catch (err) {
      const { code, message } = err as { code?: number; message?: string };
      // our earlier seat is still held for its reconnection grace: it frees, then we get in
      const held = /already in an arena/.test(message ?? "");
      if (code === AUTH_FAILED && !held)
        grant = await newGuest(); // expired, or signed by a restarted server
      else if (attempt >= 30) throw err;
      setStatus("connection", `joining… (${message ?? "retrying"})`, true);
      await sleep(Math.min(5000, 250 * 2 ** Math.min(attempt, 5)));
    }
  }
}

function attach(r: ArenaRoom): void {
  room = r;
  (window as unknown as { skirmish: unknown }).skirmish = { room: r };
  r.reconnection.minUptime = 0; // a drop right after joining is reconnected like any other
  // a restarted server restores this room before it listens, within seconds: try every second
  // rather than backing off to the SDK's 5 s
  r.reconnection.maxDelay = 1000;
  if (!watchId) store(SEAT_KEY, { roomId: r.roomId, reconnectionToken: r.reconnectionToken } satisfies Seat);
  setOnline(true);
  r.onStateChange(render);
  r.onMessage(Msg.round, onRound);
  r.onMessage(Msg.error, onError);
  r.onDrop(() => setOnline(false));
  r.onReconnect(() => {
    if (!watchId) store(SEAT_KEY, { roomId: r.roomId, reconnectionToken: r.reconnectionToken } satisfies Seat);
    setOnline(true);
  });
  r.onLeave((code) => {
    if (room !== r) return;
    room = undefined;
    if (code === ARENA_ENDED_CLOSE_CODE) return arenaEnded(`Arena ${r.roomId} has ended: its last player left.`);
    setOnline(false);
    if (code === CONSENTED) return;
    void connect();
  });
  render();
}

async function connect(): Promise<void> {
  for (;;) {
    try {
      attach(await takeSeat());
      return;
    } catch (err) {
      if (err instanceof NoArena) return arenaEnded(err.message);
      setStatus("connection", `could not join: ${(err as Error).message}; retrying`, true);
      await sleep(3000);
    }
  }
}

// --- acting --------------------------------------------------------------------------------

function me(): EntityView | undefined {
  return grant && !watchId ? room?.state?.entities?.get(grant.playerId) : undefined;
}

function canAct(): boolean {
  return online && !watchId && me()?.alive === true;
}

function nameOf(id: string): string {
  return room?.state?.entities?.get(id)?.name ?? id;
}

/** An intent before its `seq` is chosen, per variant (a plain Omit of the union would drop `target`). */
type Unsequenced<T> = T extends unknown ? Omit<T, "seq"> : never;

function send(intent: Unsequenced<Intent>, text: string): void {
  if (!room || !canAct()) return;
  seq = (seq + 1) >>> 0;
  room.send(Msg.intent, { ...intent, seq } as Intent);
  pending = { seq, text };
  showIntent(`next round: ${text}`);
}

function attack(target: string): void {
  selected = target;
  send({ action: "attack", target }, `attack ${nameOf(target)}`);
  render();
}

function showIntent(text: string, refused = false): void {
  const box = $("intent");
  box.textContent = text;
  box.classList.toggle("refused", refused);
}

document.addEventListener("keydown", (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat) return;
  if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLTextAreaElement) return;
  const key = ev.key.toLowerCase();
  if (key >= "1" && key <= "9") {
    const id = table.targets(grant?.playerId)[Number(key) - 1];
    if (id) {
      selected = id;
      render();
    }
  } else if (key === "a") {
    if (selected) attack(selected);
    else showIntent("pick a target with 1-9 first", true);
  } else if (key === "d") {
    send({ action: "defend" }, "defend");
  } else if (key === "f") {
    send({ action: "focus" }, "focus");
  } else {
    return;
  }
  ev.preventDefault();
});
$("defend").addEventListener("click", () => send({ action: "defend" }, "defend"));
$("focus").addEventListener("click", () => send({ action: "focus" }, "focus"));

// --- what the server says ------------------------------------------------------------------

function onRound(r: RoundMessage): void {
  const now = performance.now();
  if (lastRoundAt > 0) {
    const gap = now - lastRoundAt;
    // a smoothed period; a long gap (a drop, a stalled tab) is not a round's length
    if (roundMs === 0) roundMs = gap;
    else if (gap < roundMs * 3) roundMs = roundMs * 0.8 + gap * 0.2;
  }
  lastRoundAt = now;
  const mine = grant?.playerId;
  log.round(r.round, r.events, nameOf, watchId ? undefined : mine);
  if (r.stale.length || r.absent.length) {
    log.add(
      `#${r.round} stale: ${r.stale.map(nameOf).join(", ") || "-"} · absent: ${r.absent.map(nameOf).join(", ") || "-"}`,
      "flag",
    );
  }
  if (pending && r.intents.some(([id, s]) => id === mine && s === pending!.seq)) {
    pending = undefined;
    showIntent("");
  }
  $("round").textContent = `round ${r.round}`;
}

function onError(e: ErrorMessage): void {
  log.add(`refused (${e.code}): ${e.message}`, "error");
  pending = undefined;
  showIntent(`refused: ${e.message}`, true);
}

// --- drawing -------------------------------------------------------------------------------

function setStatus(id: string, text: string, bad = false): void {
  const node = $(id);
  node.textContent = text;
  node.classList.toggle("bad", bad);
}

/** The watched arena is gone: say so (the arena list offers others) and stop. */
function arenaEnded(text: string): void {
  ended = `${text} Pick another arena to watch below.`;
  online = false;
  setStatus("connection", "arena ended", true);
  render();
}

function setOnline(value: boolean): void {
  online = value;
  setStatus("connection", value ? `room ${room?.roomId ?? ""}` : "disconnected", !value);
  if (!value) {
    pending = undefined;
    showIntent("");
  }
  render();
}

function banner(kind: "" | "dead" | "offline" | "watching" | "ended", text = ""): void {
  const node = $("banner");
  node.className = kind ? `show ${kind}` : "";
  node.textContent = text;
}

function render(): void {
  const self = me();
  const act = canAct();
  const entities: EntityView[] = [];
  room?.state?.entities?.forEach((e) => entities.push(e));
  table.update(entities, { me: watchId ? undefined : grant?.playerId, canAct: act, selected });
  for (const id of ["defend", "focus"]) $<HTMLButtonElement>(id).disabled = !act;
  if (ended) banner("ended", ended);
  else if (!online) banner("offline", "Disconnected — reconnecting…");
  else if (watchId) banner("watching", `Watching room ${watchId} — you are a spectator`);
  else if (self && !self.alive) {
    const n = self.respawnIn;
    banner("dead", `You died — back in ${n} round${n === 1 ? "" : "s"}`);
    if (pending) {
      pending = undefined;
      showIntent("");
    }
  } else banner("");
  if (self) setStatus("you", `you are ${self.name}`);
  document.body.dataset.me = watchId ? "" : (grant?.playerId ?? "");
}

setInterval(() => {
  if (online && roundMs > 0) {
    const left = Math.max(0, roundMs - (performance.now() - lastRoundAt));
    $("countdown").textContent = `next in ${(left / 1000).toFixed(1)} s`;
  }
}, 100);
setInterval(() => {
  if (online) room?.ping((ms) => ($("ping").textContent = `ping ${Math.round(ms)} ms`));
}, 2000);

if (watchId) {
  document.body.classList.add("watching");
  $("actions").hidden = true;
}
$("rooms").addEventListener("toggle", () => {
  if (($("rooms") as HTMLDetailsElement).open) void loadRooms($("room-list"));
});
void connect();
