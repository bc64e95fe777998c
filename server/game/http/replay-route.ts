/**
 * GET /replay/rounds?room=<roomId>&from=<round>&limit=<n>: a page of a room's journaled rounds,
 * each replayed from its row, for the replay viewer (shared/replay.ts). Read-only; at most
 * MAX_REPLAY_ROUNDS rounds per answer.
 *
 * Who may read: a room's own players and spectators, with their token (`Authorization: Bearer
 * <token>`, RoomAudience), or anyone with REPLAY_PUBLIC=1; anyone else is refused (401 without a
 * valid token, 403 with somebody else's) before the journal is touched.
 *
 * What it may cost the thread that runs rounds: little. Replaying is done on a worker thread
 * (replay-thread.ts); here only the stored rows are read (SQLite, no decoding). Each client
 * address (client-address.ts) gets REPLAY_PAGES_PER_MINUTE pages a minute, as many at once (then
 * 429; address-rate-limiter.ts), and at most MAX_PAGES_IN_FLIGHT pages are
 * being made at once (then 503, before any row is read). The route answers on node:http directly,
 * ahead of Colyseus' router, whose web Request and Response objects made a refusal cost several
 * times more (a burst of refusals is what an attacker sends). Every refusal is counted
 * (`skirmish_errors_total{code="replay_…"}`). A bad parameter is a 400 naming it; a room with no
 * journaled round from `from` on is a 404.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { LimitedLog } from "../../observability/log-limiter.ts";
import { errorFields } from "../../observability/log.ts";
import type { TokenVerifier } from "../auth/token-verifier.ts";
import type { GameConfig } from "../config.ts";
import type { RoundJournal } from "../journal/round-journal.ts";
import type { GameMetrics } from "../metrics.ts";
import type { RoomAudience } from "../room/room-audience.ts";
import { AddressRateLimiter } from "./address-rate-limiter.ts";
import { addressKey, clientAddress } from "./client-address.ts";
import type { ReplayThread } from "./replay-thread.ts";

export const REPLAY_PATH = "/replay/rounds";
export const MAX_REPLAY_ROUNDS = 100;
/** Pages given to the worker and not yet answered; more wait in no queue: they are refused. */
export const MAX_PAGES_IN_FLIGHT = 4;
const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Addresses the page limiter keeps a bucket for. */
const LIMITER_MAX_ADDRESSES = 10_000;

export interface ReplayRouteDeps {
  journal: RoundJournal;
  audience: RoomAudience;
  thread: ReplayThread;
  verifyToken: TokenVerifier;
  config: Pick<GameConfig, "replayPublic" | "replayPagesPerMinute" | "trustProxy">;
  metrics: GameMetrics;
  limitedLog: LimitedLog;
}

function send(res: ServerResponse, status: number, body: string | Uint8Array, headers: Record<string, string> = {}) {
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": typeof body === "string" ? Buffer.byteLength(body) : body.length,
    ...headers,
  });
  res.end(body);
}

function intParam(raw: string | null, name: string, min: number, max: number, fallback: number): number | string {
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!/^\d{1,10}$/.test(raw) || n < min || n > max) return `${name} must be an integer in [${min}, ${max}]`;
  return n;
}

/** The page asked for, or what is wrong with the query. */
function parseQuery(url: URL): { room: string; from: number; limit: number } | string {
  const query = url.searchParams;
  for (const key of query.keys())
    if (key !== "room" && key !== "from" && key !== "limit")
      return `unknown parameter ${JSON.stringify(key.slice(0, 32))}`;
  const room = query.get("room");
  if (room === null || !ROOM_ID.test(room)) return "room must be a room id (1-64 of A-Z a-z 0-9 _ -)";
  const from = intParam(query.get("from"), "from", 0, 0xffff_ffff, 0);
  if (typeof from === "string") return from;
  const limit = intParam(query.get("limit"), "limit", 1, MAX_REPLAY_ROUNDS, MAX_REPLAY_ROUNDS);
  if (typeof limit === "string") return limit;
  return { room, from, limit };
}

function bearerToken(req: IncomingMessage): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
}

/** Answers GET /replay/rounds (true), or leaves the request alone (false). */
export function replayResponder(deps: ReplayRouteDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { journal, audience, thread, config, metrics } = deps;
  const limiter = new AddressRateLimiter({
    perMinute: config.replayPagesPerMinute,
    burst: config.replayPagesPerMinute,
    maxAddresses: LIMITER_MAX_ADDRESSES,
  });
  const error = (res: ServerResponse, status: number, message: string, headers?: Record<string, string>) =>
    send(res, status, JSON.stringify({ error: message }), headers);
  const refuse = (
    res: ServerResponse,
    code: string,
    status: number,
    message: string,
    headers?: Record<string, string>,
  ) => {
    metrics.errors.inc(`replay_${code}`);
    error(res, status, message, headers);
  };

  /** Whether the request may read `room`'s rounds; if not, it has been answered. */
  const admitted = async (req: IncomingMessage, res: ServerResponse, room: string): Promise<boolean> => {
    if (config.replayPublic === 1) return true;
    const check = await deps.verifyToken(bearerToken(req));
    if (!check.ok) {
      refuse(
        res,
        "unauthorized",
        401,
        `replays are for the room's players and spectators: send your token as "Authorization: Bearer <token>" (${check.message})`,
      );
      return false;
    }
    if (audience.has(room, check.identity.pid)) return true;
    refuse(res, "forbidden", 403, `player ${check.identity.pid} did not play or watch in room ${room}`);
    return false;
  };

  const answer = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const page = parseQuery(url);
    if (typeof page === "string") return error(res, 400, page);
    if (!(await admitted(req, res, page.room))) return;
    const admission = limiter.take(addressKey(clientAddress(req, config.trustProxy)), performance.now());
    if (!admission.ok)
      return refuse(
        res,
        "rate_limited",
        429,
        `at most ${config.replayPagesPerMinute} replay pages a minute per address`,
        {
          "retry-after": String(admission.retryAfterS),
        },
      );
    if (thread.busy)
      return refuse(res, "busy", 503, "the server is busy making other replay pages; try again in a moment", {
        "retry-after": "1",
      });
    // one past the page: whether there is a next one
    const rows = [...journal.readStored({ room: page.room, fromRound: page.from, limit: page.limit + 1 })];
    if (rows.length === 0) return error(res, 404, `no journaled round of room ${page.room} from round ${page.from} on`);
    send(res, 200, await thread.page(page.room, rows, page.limit));
  };

  return (req, res) => {
    if (req.method !== "GET" || (req.url ?? "/").split("?")[0] !== REPLAY_PATH) return false;
    const url = new URL(req.url ?? "/", "http://localhost");
    answer(req, res, url).catch((err: unknown) => {
      metrics.errors.inc("replay_failed");
      deps.limitedLog("error", "replay_failed", "replay page failed", { url: url.search, ...errorFields(err) });
      if (!res.headersSent) error(res, 500, "the replay page could not be made; see the server log");
    });
    return true;
  };
}
