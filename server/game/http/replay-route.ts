/**
 * GET /replay/rounds?room=<roomId>&from=<round>&limit=<n>: a page of a room's journaled rounds,
 * each replayed from its row (replay.ts, no I/O) for the replay viewer (shared/replay.ts). Read-only; at most MAX_REPLAY_ROUNDS
 * rounds per answer. A bad parameter is a 400 naming it; a room with no journaled round from
 * `from` on is a 404. Runs synchronously on the journal's own reader (bounded by the limit).
 */
import { createEndpoint } from "@colyseus/core";
import { carriedState } from "../../../shared/combat.ts";
import { NPC_ID_PREFIX } from "../../../shared/stats.ts";
import { replayRound, type ReplayPage, type ReplayRound } from "../../../shared/replay.ts";
import { replayRecord } from "../journal/replay.ts";
import type { JournalRecord, RoundJournal } from "../journal/round-journal.ts";

export const MAX_REPLAY_ROUNDS = 100;
const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A row that does not replay: the entities as the round found them, and why. */
function unverified(rec: JournalRecord, divergence: string): ReplayRound {
  const entities = Array.isArray(rec.plan?.entities) ? rec.plan.entities : [];
  return {
    round: rec.round,
    seed: rec.seed,
    hash: rec.hash,
    verified: false,
    divergence,
    intents: entities.flatMap((e) => (e.intent ? [[e.id, e.intent] as ReplayRound["intents"][number]] : [])),
    events: [],
    entities: entities.map((e) => ({
      id: e.id,
      kind: e.id.startsWith(NPC_ID_PREFIX) ? "npc" : "player",
      ...carriedState(e),
      defending: false,
      stale: false,
      absent: false,
    })),
  };
}

function bad(message: string): Response {
  return Response.json({ error: message }, { status: 400 });
}

function intParam(raw: string | null, name: string, min: number, max: number, fallback: number): number | string {
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!/^\d{1,10}$/.test(raw) || n < min || n > max) return `${name} must be an integer in [${min}, ${max}]`;
  return n;
}

export function replayEndpoint(journal: RoundJournal) {
  return createEndpoint("/replay/rounds", { method: "GET" }, async (ctx) => {
    const query = new URL(ctx.request?.url ?? "/", "http://localhost").searchParams;
    for (const key of query.keys())
      if (key !== "room" && key !== "from" && key !== "limit")
        return bad(`unknown parameter ${JSON.stringify(key.slice(0, 32))}`);
    const room = query.get("room");
    if (room === null || !ROOM_ID.test(room)) return bad("room must be a room id (1-64 of A-Z a-z 0-9 _ -)");
    const from = intParam(query.get("from"), "from", 0, 0xffff_ffff, 0);
    if (typeof from === "string") return bad(from);
    const limit = intParam(query.get("limit"), "limit", 1, MAX_REPLAY_ROUNDS, MAX_REPLAY_ROUNDS);
    if (typeof limit === "string") return bad(limit);
    const rounds: ReplayRound[] = [];
    for (const rec of journal.read({ room, fromRound: from, limit: limit + 1 })) {
      const replayed = await replayRecord(rec);
      rounds.push(replayed.ok ? replayRound(replayed.input, rec.hash) : unverified(rec, replayed.divergence));
    }
    if (rounds.length === 0)
      return Response.json({ error: `no journaled round of room ${room} from round ${from} on` }, { status: 404 });
    const more = rounds.length > limit;
    if (more) rounds.pop();
    const page: ReplayPage = { room, rounds, next: more ? rounds[rounds.length - 1].round + 1 : null };
    const body = Buffer.from(JSON.stringify(page));
    // an explicit length: the router's writer never ends a large body sent without one
    return new Response(body, {
      headers: { "content-type": "application/json", "content-length": String(body.length) },
    });
  });
}
