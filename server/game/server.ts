/**
 * The game server: Colyseus (`@colyseus/core` Server + `@colyseus/ws-transport`) with the
 * `arena` room, and plain HTTP routes on the same port (Colyseus' router, no express):
 * GET /healthz (the process is up), GET /readyz (stats answering, journal writable; 503 with the
 * reasons otherwise), GET /metrics, POST /auth/guest, GET /rooms and POST /watch (lobby-routes.ts),
 * GET /replay/rounds (replay-route.ts), the monitor (monitor-route.ts); the browser pages
 * (GET /, /replay.html and their files, page-route.ts) are served ahead of the router.
 *
 * Colyseus' matchmaker is process-global: one game server per process at a time (tests start
 * and close them one after another).
 */
import { randomBytes } from "node:crypto";
import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, createRouter, createEndpoint, matchMaker } from "@colyseus/core";
import { WebSocketTransport } from "@colyseus/ws-transport";
import { ROOM_NAME } from "../../shared/protocol.ts";
import { createStatsClient, type ClientLog, type StatsClient } from "../stats/client.ts";
import { arenaRoomClass, MAX_PAYLOAD_BYTES, type ArenaDeps, type ArenaRoom } from "./room/arena-room.ts";
import { issueGuest } from "./auth/player-token.ts";
import { DEFAULT_CONFIG, type GameConfig } from "./config.ts";
import { createLogger, errorFields, type Logger } from "../observability/log.ts";
import { limitLog, type LimitedLog } from "../observability/log-limiter.ts";
import { createGameMetrics, type GameMetrics } from "./metrics.ts";
import { monitorEndpoints } from "./http/monitor-route.ts";
import { pageResponder } from "./http/page-route.ts";
import { roomsEndpoint, watchEndpoint } from "./http/lobby-routes.ts";
import { MAX_PAGES_IN_FLIGHT, replayResponder } from "./http/replay-route.ts";
import { ReplayThread } from "./http/replay-thread.ts";
import { RoomAudience } from "./room/room-audience.ts";
import { routerListener, type AdapterFailure } from "./http/router-adapter.ts";
import { corsResponder } from "./http/cors-policy.ts";
import { LocalPlayerRegistry } from "./room/player-registry.ts";
import { admitBody, limitedHttpServer, type RequestRefusal } from "./http/request-limits.ts";
import { journalPathOf, RoundJournal } from "./journal/round-journal.ts";
import { startJournalRetention } from "./journal/journal-retention.ts";
import { joinCluster, openScaleOut, type ClusterMember, type ScaleOut } from "./cluster/scale-out.ts";

/** What any client may ask the matchmaker for (over HTTP `POST /matchmake/<method>/arena`). */
const MATCHMAKE_METHODS = ["joinOrCreate", "join", "reconnect"] as const;

export interface GameServerOptions extends Partial<GameConfig> {
  /** defaults to a JSON logger at `logLevel` on stdout */
  log?: Logger;
}

export interface GameServer {
  readonly port: number;
  /** ws://host:port, what an SDK Client is given */
  readonly url: string;
  readonly httpUrl: string;
  readonly config: GameConfig;
  /** Colyseus's matchMaker.processId: names this process in listings, seats, metrics, logs and its journal */
  readonly processId: string;
  /** the cluster's Redis, when REDIS_URL is set */
  readonly cluster: ClusterMember | undefined;
  readonly metrics: GameMetrics;
  readonly journal: RoundJournal;
  readonly rooms: ReadonlySet<ArenaRoom>;
  /** stop accepting, finish or cancel in-flight rounds, close the journal and the stats client */
  close(): Promise<void>;
}

/**
 * Colyseus' own log calls (garbage frames, handshake failures) as structured lines. Every one is
 * counted; lines are capped at one per second so a client spraying junk cannot flood the log.
 */
function colyseusLogger(limited: LimitedLog, log: Logger, metrics: GameMetrics) {
  const text = (args: unknown[]) =>
    args
      .map((a) => (a instanceof Error ? a.message : String(a)))
      .join(" ")
      .slice(0, 500);
  return {
    debug: () => {},
    trace: () => {},
    info: (...args: unknown[]) => log.debug("colyseus", { detail: text(args) }),
    warn: (...args: unknown[]) => limited("warn", "colyseus", "colyseus", { detail: text(args) }),
    error: (...args: unknown[]) => {
      metrics.errors.inc("colyseus");
      limited("warn", "colyseus", "colyseus error", { detail: text(args) });
    },
  };
}

/**
 * A route that threw (most often: its body was cut off by the request limits, or the client
 * went away mid-body) is counted and answered 400, instead of better-call's 500 plus a raw
 * console.error stack per request. An APIError is an answer a route meant (the monitor's 401
 * with its challenge): rethrown, better-call sends it as it is.
 */
function routeError(limited: LimitedLog, metrics: GameMetrics) {
  return (err: unknown): Response => {
    if ((err as { name?: unknown } | null)?.name === "APIError") throw err;
    metrics.errors.inc("http_route");
    limited("warn", "http_route", "HTTP route failed", errorFields(err));
    return Response.json({ error: "bad_request", message: "the request could not be read" }, { status: 400 });
  };
}

/**
 * Every HTTP request: the body cap (the router buffers bodies without a limit), then the
 * responders that answer without the router (CORS preflights, the pages' files, replay pages: a
 * request through the router costs several times more), then Colyseus' router through our
 * adapter (router-adapter.ts), which replaces the listener Colyseus bound.
 */
function frontColyseus(
  httpServer: HttpServer,
  maxBodyBytes: number,
  refused: (reason: RequestRefusal) => void,
  responders: readonly ((req: IncomingMessage, res: ServerResponse) => boolean)[],
  route: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  httpServer.removeAllListeners("request");
  httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (!admitBody(req, res, maxBodyBytes, refused)) return;
    for (const responder of responders) if (responder(req, res)) return;
    route(req, res);
  });
}

export async function startGameServer(opts: GameServerOptions = {}): Promise<GameServer> {
  const { log: givenLog, ...overrides } = opts;
  const config: GameConfig = { ...DEFAULT_CONFIG, port: 0, ...overrides };
  const log = givenLog ?? createLogger(config.logLevel);
  // a cluster refuses to start half-configured or against an unreachable Redis (before anything listens)
  const scaleOut: ScaleOut | undefined = config.redisUrl ? await openScaleOut(config, config.redisUrl) : undefined;
  const authSecret = config.authSecret || randomBytes(32).toString("hex");
  if (!config.authSecret) log.warn("AUTH_SECRET not set: tokens are signed with a random per-process secret");

  const rooms = new Set<ArenaRoom>();
  const limited = limitLog(log);
  // the client's connection events and refused replies, in the game's log (rate-limited per kind)
  const statsLog: ClientLog = ({ level, msg, ...fields }) => limited(level, "stats:" + msg, msg, fields);
  let cluster: ClusterMember | undefined;
  const statsClient: StatsClient = createStatsClient(config.statsUrl, {
    token: config.statsToken,
    deadlineMs: config.roundDeadlineMs,
    log: statsLog,
  });
  const metrics = createGameMetrics({
    ccu: () => [...rooms].reduce((n, r) => n + r.ccu, 0),
    rooms: () => rooms.size,
    statsClientCounters: () => statsClient.counters() as unknown as Record<string, number>,
    redisUp: scaleOut ? () => (cluster?.redisUp() ? 1 : 0) : undefined,
  });
  let closing = false;

  const refused = (reason: RequestRefusal) => metrics.errors.inc("http_" + reason);
  const limits = {
    maxBodyBytes: config.httpMaxBodyBytes,
    timeoutMs: config.httpRequestTimeoutMs,
    idleTimeoutMs: config.httpIdleTimeoutMs,
  };
  const transport = new WebSocketTransport({
    server: limitedHttpServer(limits, refused),
    maxPayload: MAX_PAYLOAD_BYTES,
  });
  const server = new Server({
    transport,
    greet: false,
    gracefullyShutdown: false,
    logger: colyseusLogger(limited, log, metrics),
    presence: scaleOut?.presence,
    driver: scaleOut?.driver,
    publicAddress: scaleOut?.publicAddress,
  });
  await matchMaker.onReady; // processId is known from here on
  const processId = matchMaker.processId;
  // several processes behind one scrape config stay apart (one process needs no label)
  if (scaleOut) metrics.registry.labelEverySeries({ process: processId });
  if (config.redisUrl) cluster = joinCluster(config.redisUrl, processId, metrics, log);
  let journal: RoundJournal;
  try {
    journal = new RoundJournal(journalPathOf(config.journalPath, cluster ? processId : undefined), {
      onCommitError: (err, rounds) => {
        metrics.errors.inc("journal_commit");
        log.error("journal commit failed; rounds lost", { rounds, ...errorFields(err) });
      },
    });
  } catch (err) {
    await cluster?.close();
    await server
      .gracefullyShutdown(false)
      .catch((e) => log.debug("shutdown after a failed start failed", errorFields(e)));
    await statsClient.close();
    throw err;
  }
  const audience = new RoomAudience();
  const deps: ArenaDeps = {
    config,
    authSecret,
    statsClient,
    journal,
    metrics,
    log,
    limitedLog: limited,
    players: cluster?.players ?? new LocalPlayerRegistry(),
    rooms,
    audience,
  };
  const replayThread = new ReplayThread({
    maxInFlight: MAX_PAGES_IN_FLIGHT,
    onCrash: (err) => {
      metrics.errors.inc("replay_worker_crash");
      log.error("replay worker died; the next page starts a new one", errorFields(err));
    },
  });

  const healthz = createEndpoint("/healthz", { method: "GET" }, async () =>
    Response.json(
      {
        status: closing ? "shutting_down" : "ok",
        process: processId,
        rooms: rooms.size,
        ccu: [...rooms].reduce((n, r) => n + r.ccu, 0),
        ...(cluster ? { redis: cluster.redisUp() ? "up" : "down" } : {}),
      },
      { status: closing ? 503 : 200 },
    ),
  );
  // ready = can play real rounds: stats answering (not merely the process up, which /healthz says)
  const readyz = createEndpoint("/readyz", { method: "GET" }, async () => {
    const reasons: string[] = [];
    if (closing) reasons.push("shutting down");
    const stats = statsClient.problem();
    if (stats !== null) reasons.push(`stats: ${stats}`);
    const journaled = journal.problem();
    if (journaled !== null) reasons.push(`journal: ${journaled}`);
    if (cluster && !cluster.redisUp()) reasons.push("redis: unreachable (running matches go on, joins are refused)");
    return Response.json(reasons.length === 0 ? { status: "ready" } : { status: "not_ready", reasons }, {
      status: reasons.length === 0 ? 200 : 503,
    });
  });
  const metricsRoute = createEndpoint("/metrics", { method: "GET" }, async () => {
    const { contentType, text } = await metrics.registry.exposition();
    return new Response(text, { headers: { "content-type": contentType } });
  });
  const guest = createEndpoint("/auth/guest", { method: "POST" }, async (ctx) => {
    const body: unknown = ctx.body;
    if (body !== undefined && body !== null && (typeof body !== "object" || Array.isArray(body))) {
      return Response.json({ error: "body must be a JSON object { name?: string }" }, { status: 400 });
    }
    const grant = issueGuest(
      authSecret,
      config.authTtlS,
      (body as { name?: unknown } | undefined)?.name,
      Math.floor(Date.now() / 1000),
    );
    metrics.guestsIssued.inc();
    return Response.json(grant);
  });
  const replay = replayResponder({
    journal,
    audience,
    thread: replayThread,
    authSecret,
    config,
    metrics,
    limitedLog: limited,
  });
  server.router = createRouter(
    {
      healthz,
      readyz,
      metricsRoute,
      guest,
      rooms: roomsEndpoint(),
      watch: watchEndpoint(authSecret, config.authTtlS, metrics),
      ...monitorEndpoints(config, { metrics, log, limitedLog: limited }),
    },
    { onError: routeError(limited, metrics) },
  );
  server.define(ROOM_NAME, arenaRoomClass(deps));
  // Players are placed by joinOrCreate; letting every client create rooms or pick one by id is
  // only for tools that plan rooms themselves (client-sim --rooms). The list is process-global.
  matchMaker.controller.exposedMethods = config.clientRoomChoice
    ? [...MATCHMAKE_METHODS, "create", "joinById"]
    : [...MATCHMAKE_METHODS];

  const httpServer = transport.server!;
  try {
    // Colyseus subscribes to the HTTP server's 'error' only once listening: a busy port would
    // leave listen() pending forever. Fail fast instead.
    await new Promise<void>((resolve, reject) => {
      httpServer.once("error", reject);
      server.listen(config.port, config.host).then(() => {
        httpServer.off("error", reject);
        resolve();
      }, reject);
    });
  } catch (err) {
    httpServer.close();
    // the start-up error is what the caller needs; a failed cleanup of a half-started server only matters for debugging
    await server
      .gracefullyShutdown(false)
      .catch((e) => log.debug("shutdown after a failed start failed", errorFields(e)));
    journal.close();
    await cluster?.close();
    await statsClient.close();
    throw err;
  }
  const port = (httpServer.address() as AddressInfo).port;
  const adapterFailed = (kind: AdapterFailure, err: unknown) => {
    metrics.errors.inc(kind);
    limited("warn", kind, kind.replaceAll("_", " "), errorFields(err));
  };
  const responders = [corsResponder(config.corsOrigins), pageResponder(log, metrics), replay];
  frontColyseus(
    httpServer,
    config.httpMaxBodyBytes,
    refused,
    responders,
    routerListener(server.router.handler, adapterFailed),
  );

  const retention = startJournalRetention(
    journal,
    { maxAgeS: config.journalMaxAgeS, maxBytes: config.journalMaxMb * 1024 * 1024, everyS: config.journalPruneEveryS },
    metrics,
    log,
  );
  const summary =
    config.summaryEveryS > 0
      ? setInterval(() => {
          log.info("summary", {
            process: processId,
            rooms: rooms.size,
            ccu: [...rooms].reduce((n, r) => n + r.ccu, 0),
            rounds: metrics.roundsTotal.get(),
            overruns: metrics.overruns.get(),
            stale: metrics.staleEntities.get(),
            absent: metrics.absentEntities.get(),
            journalRounds: metrics.journalRounds.get(),
          });
        }, config.summaryEveryS * 1000)
      : undefined;
  summary?.unref();

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      closing = true;
      if (summary) clearInterval(summary);
      retention.stop();
      try {
        // locks rooms, disconnects clients, awaits each room's onDispose (which finishes or
        // cancels its in-flight round), then closes the websocket and HTTP servers
        await server.gracefullyShutdown(false);
      } catch (err) {
        log.error("colyseus shutdown failed", errorFields(err));
      }
      httpServer.closeAllConnections?.();
      await replayThread.close();
      journal.close();
      await cluster?.close();
      try {
        await statsClient.close();
      } catch (err) {
        log.error("stats client close failed", errorFields(err));
      }
    })());

  return {
    port,
    url: `ws://${config.host}:${port}`,
    httpUrl: `http://${config.host}:${port}`,
    config,
    processId,
    cluster,
    metrics,
    journal,
    rooms,
    close,
  };
}
