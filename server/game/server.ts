/**
 * The game server: Colyseus (`@colyseus/core` Server + `@colyseus/ws-transport`) with the
 * `arena` room, and plain HTTP routes on the same port (Colyseus' router, no express):
 * /healthz, /readyz and /metrics (http/health-routes.ts), POST /auth/guest (http/guest-route.ts; how
 * players get in, guests or a studio's own login, is composed in login.ts),
 * GET /rooms and POST /watch (http/lobby-routes.ts), the monitor (http/monitor-route.ts); ahead of
 * the router: CORS (http/cors-policy.ts), the browser pages (GET /, /replay.html and their files,
 * http/page-route.ts) and GET /replay/rounds (http/replay-route.ts, pages made on a worker thread). This file only composes those parts; each
 * registers its own close on one teardown list (teardown.ts).
 *
 * Colyseus' matchmaker is process-global: one game server per process at a time (tests start
 * and close them one after another).
 */
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { Server, createRouter, matchMaker } from "@colyseus/core";
import { WebSocketTransport } from "@colyseus/ws-transport";
import { ROOM_NAME } from "../../shared/protocol.ts";
import { createStatsClient, type StatsClient } from "../stats/client.ts";
import { arenaRoomClass, MAX_PAYLOAD_BYTES, type ArenaRoom } from "./room/arena-room.ts";
import { checkLoginOptions, DEFAULT_CONFIG, type GameConfig } from "./config.ts";
import { openLogin, type Login } from "./login.ts";
import { createLogger, errorFields, type Logger } from "../observability/log.ts";
import { limitLog, type LimitedLog } from "../observability/log-limiter.ts";
import { createGameMetrics, type GameMetrics } from "./metrics.ts";
import { monitorEndpoints } from "./http/monitor-route.ts";
import { pageResponder } from "./http/page-route.ts";
import { roomsEndpoint, watchEndpoint } from "./http/lobby-routes.ts";
import { matchmakerGuard } from "./http/matchmaker-guard.ts";
import { MAX_PAGES_IN_FLIGHT, replayResponder } from "./http/replay-route.ts";
import { ReplayThread } from "./http/replay-thread.ts";
import { routerListener, type AdapterFailure } from "./http/router-adapter.ts";
import { corsResponder } from "./http/cors-policy.ts";
import { RoomAudience } from "./room/room-audience.ts";
import { healthRoutes } from "./http/health-routes.ts";
import { guestEndpoint } from "./http/guest-route.ts";
import { colyseusLogger } from "./http/colyseus-log.ts";
import { routeError } from "./http/route-error.ts";
import { frontColyseus } from "./http/front-colyseus.ts";
import { listen } from "./http/listen.ts";
import { LocalPlayerRegistry } from "./room/player-registry.ts";
import { limitedHttpServer, type RequestRefusal } from "./http/request-limits.ts";
import { journalPathOf, RoundJournal } from "./journal/round-journal.ts";
import { startJournalRetention } from "./journal/journal-retention.ts";
import { joinCluster, openScaleOut, type ClusterMember, type ScaleOut } from "./cluster/scale-out.ts";
import { goneProcessJournals } from "./cluster/gone-process-journals.ts";
import { startSummaryLine } from "./summary-line.ts";
import { restoreRoom, restoreRooms } from "./room/restore-rooms.ts";
import { openClusterRooms, type ClusterRooms } from "./cluster/room-adoption.ts";
import type { RestorePlan } from "./room/restore-plan.ts";
import { SeatCredentials } from "./room/seat-credential.ts";
import { TickClock } from "./room/tick-clock.ts";
import { Teardown } from "./teardown.ts";

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
 * Starts a game server (listening once it resolves). A start that fails half-way closes what it
 * had opened and rejects with the start-up error.
 */
export async function startGameServer(opts: GameServerOptions = {}): Promise<GameServer> {
  const { log: givenLog, ...overrides } = opts;
  const config: GameConfig = { ...DEFAULT_CONFIG, port: 0, ...overrides };
  const log = givenLog ?? createLogger(config.logLevel);
  const teardown = new Teardown(log);
  try {
    return await compose(config, log, teardown);
  } catch (err) {
    await teardown.close();
    throw err;
  }
}

/** What every part of one game server shares. */
interface Core {
  config: GameConfig;
  log: Logger;
  limited: LimitedLog;
  rooms: Set<ArenaRoom>;
  ccu(): number;
  statsClient: StatsClient;
  metrics: GameMetrics;
}

async function compose(config: GameConfig, log: Logger, teardown: Teardown): Promise<GameServer> {
  // a cluster refuses to start half-configured or against an unreachable Redis (before anything listens)
  const scaleOut = config.redisUrl ? await openScaleOut(config, config.redisUrl) : undefined;
  checkLoginOptions(config); // also when started without loadConfig (tests, benches)
  const authSecret = config.authSecret || randomBytes(32).toString("hex");
  if (!config.authSecret) log.warn("AUTH_SECRET not set: tokens are signed with a random per-process secret");
  let closing = false;
  let cluster: ClusterMember | undefined;
  const core = openCore(config, log, teardown, () => cluster?.redisUp());
  const login = await openLogin(config, authSecret, core, teardown);

  const refused = (reason: RequestRefusal) => core.metrics.errors.inc("http_" + reason);
  const { server, httpServer } = colyseusServer(core, scaleOut, refused);
  let journal: RoundJournal | undefined;
  let durable: ClusterRooms | undefined;
  // locks rooms, disconnects clients, awaits each room's onDispose (which finishes or cancels its
  // in-flight round), closes the websocket and HTTP servers; only then the journal and the
  // cluster seats the rooms wrote to. One part, so that this order holds even for a failed start.
  teardown.add("colyseus, the journal and the cluster", async () => {
    closing = true;
    await durable?.stopAdopting();
    // every match goes on in this process's successor: rounds committed, clients told to reconnect
    await Promise.all([...core.rooms].map((room) => room.handOver()));
    await server.gracefullyShutdown(false);
    httpServer.closeAllConnections?.();
    journal?.close();
    await durable?.close();
    await cluster?.close();
  });
  await matchMaker.onReady; // processId is known from here on
  const processId = matchMaker.processId;
  // several processes behind one scrape config stay apart (one process needs no label)
  if (scaleOut) core.metrics.registry.labelEverySeries({ process: processId });
  if (scaleOut && config.redisUrl) {
    const member = (cluster = joinCluster(scaleOut, processId, core.metrics, log));
    const { metrics, limited } = core;
    durable = openClusterRooms(config.redisUrl, processId, { metrics, log, limited, redisUp: () => member.redisUp() });
  }
  journal = openJournal(core, journalPathOf(config.journalPath, cluster ? processId : undefined));

  server.router = gameRouter(core, { processId, journal, cluster, login, closing: () => closing });
  const audience = new RoomAudience();
  const replay = openReplay(core, journal, audience, login, teardown);
  const restoring = new Map<string, RestorePlan>();
  server.define(ROOM_NAME, arenaRoom(core, { authSecret, login, journal, cluster, restoring, durable, audience }));
  exposeMatchmaking(config.clientRoomChoice === 1);

  // restore before listen: no client meets a room that is not back yet
  await restoreRooms(journal, restoring, core.metrics, log);
  await listen(server, httpServer, config.port, config.host);
  const port = (httpServer.address() as AddressInfo).port;
  const ahead = [corsResponder(config.corsOrigins), login.guestGate, pageResponder(log, core.metrics), replay];
  frontColyseus(httpServer, config.httpMaxBodyBytes, refused, ahead, routerAdapter(core, server));
  login.start();
  durable?.start({
    adopt: (plan) => restoreRoom(plan, restoring),
    drop: (roomId) => [...core.rooms].find((room) => room.roomId === roomId)?.drop(),
  });
  startBackground(core, journal, processId, cluster, teardown);
  return {
    port,
    url: `ws://${config.host}:${port}`,
    httpUrl: `http://${config.host}:${port}`,
    config,
    processId,
    cluster,
    metrics: core.metrics,
    journal,
    rooms: core.rooms,
    close: () => teardown.close(),
  };
}

/** Colyseus on our HTTP server (request limits first) and, in a cluster, on Redis. */
function colyseusServer(core: Core, scaleOut: ScaleOut | undefined, refused: (reason: RequestRefusal) => void) {
  const { config } = core;
  const transport = new WebSocketTransport({
    server: limitedHttpServer(
      {
        maxBodyBytes: config.httpMaxBodyBytes,
        timeoutMs: config.httpRequestTimeoutMs,
        idleTimeoutMs: config.httpIdleTimeoutMs,
      },
      refused,
    ),
    maxPayload: MAX_PAYLOAD_BYTES,
  });
  const server = new Server({
    transport,
    greet: false,
    gracefullyShutdown: false,
    logger: colyseusLogger(core.limited, core.log, core.metrics),
    presence: scaleOut?.presence,
    driver: scaleOut?.driver,
    publicAddress: scaleOut?.publicAddress,
  });
  return { server, httpServer: transport.server! };
}

/** The arena's room class: what every room shares, seats in the cluster's registry or this process's. */
function arenaRoom(
  core: Core,
  s: {
    authSecret: string;
    login: Login;
    journal: RoundJournal;
    cluster: ClusterMember | undefined;
    restoring: Map<string, RestorePlan>;
    durable: ClusterRooms | undefined;
    audience: RoomAudience;
  },
) {
  return arenaRoomClass({
    ...core,
    authSecret: s.authSecret,
    verifyToken: s.login.verifyToken,
    journal: s.journal,
    players: s.cluster?.players ?? new LocalPlayerRegistry(),
    limitedLog: core.limited,
    restoring: s.restoring,
    credentials: new SeatCredentials(s.authSecret),
    durability: s.durable,
    audience: s.audience,
    tickClock: new TickClock(core.config.tickHz),
  });
}

/** Colyseus' router on our node adapter (http/router-adapter.ts): its failures counted and logged. */
function routerAdapter(core: Core, server: Server) {
  const failed = (kind: AdapterFailure, err: unknown) => {
    core.metrics.errors.inc(kind);
    core.limited("warn", kind, kind.replaceAll("_", " "), errorFields(err));
  };
  return routerListener(server.router.handler, core.config.trustProxy, failed);
}

/** GET /replay/rounds: its worker thread (closed at teardown) and who may read what. */
function openReplay(core: Core, journal: RoundJournal, audience: RoomAudience, login: Login, teardown: Teardown) {
  const { config, metrics, log } = core;
  const thread = new ReplayThread({
    maxInFlight: MAX_PAGES_IN_FLIGHT,
    onCrash: (err) => {
      metrics.errors.inc("replay_worker_crash");
      log.error("replay worker died; the next page starts a new one", errorFields(err));
    },
  });
  teardown.add("replay worker", () => thread.close());
  return replayResponder({
    journal,
    audience,
    thread,
    verifyToken: login.verifyToken,
    config,
    metrics,
    limitedLog: core.limited,
  });
}

/**
 * Players are placed by joinOrCreate; letting every client create rooms or pick one by id is only
 * for tools that plan rooms themselves (client-sim --rooms). The list is process-global.
 */
function exposeMatchmaking(clientRoomChoice: boolean): void {
  matchMaker.controller.exposedMethods = clientRoomChoice
    ? [...MATCHMAKE_METHODS, "create", "joinById"]
    : [...MATCHMAKE_METHODS];
}

/** The rooms, the stats client and the metrics that read them; the stats client closes last. */
function openCore(config: GameConfig, log: Logger, teardown: Teardown, redisUp: () => boolean | undefined): Core {
  const rooms = new Set<ArenaRoom>();
  const ccu = () => [...rooms].reduce((n, r) => n + r.ccu, 0);
  const limited = limitLog(log);
  const statsClient = createStatsClient(config.statsUrl, {
    token: config.statsToken,
    deadlineMs: config.roundDeadlineMs,
    // the client's connection events and refused replies, in the game's log (rate-limited per kind)
    log: ({ level, msg, ...fields }) => limited(level, "stats:" + msg, msg, fields),
  });
  teardown.add("stats client", () => statsClient.close());
  const metrics = createGameMetrics({
    ccu,
    rooms: () => rooms.size,
    statsClientCounters: () => statsClient.counters() as unknown as Record<string, number>,
    redisUp: config.redisUrl ? () => (redisUp() ? 1 : 0) : undefined,
  });
  return { config, log, limited, rooms, ccu, statsClient, metrics };
}

function openJournal(core: Core, path: string): RoundJournal {
  return new RoundJournal(path, {
    onCommitError: (err, rounds) => {
      core.metrics.errors.inc("journal_commit");
      core.log.error("journal commit failed; rounds lost", { rounds, ...errorFields(err) });
    },
  });
}

/**
 * Every HTTP route on Colyseus' router; a route that throws is answered 400 (http/route-error.ts),
 * 503 while the cluster's Redis is away (http/matchmaker-guard.ts).
 */
function gameRouter(
  core: Core,
  s: {
    processId: string;
    journal: RoundJournal;
    cluster: ClusterMember | undefined;
    login: Login;
    closing(): boolean;
  },
) {
  const { config, metrics } = core;
  const { login } = s;
  const matchmaker = matchmakerGuard(() => s.cluster?.unavailable() ?? null, metrics, core.limited);
  return createRouter(
    {
      ...healthRoutes({
        ...s,
        rooms: () => core.rooms.size,
        ccu: core.ccu,
        statsClient: core.statsClient,
        metrics,
        loginProblem: login.problem,
      }),
      // with GUEST_LOGIN=0 there is no route: the gate ahead of the router answers 404
      ...(login.issueGuest ? { guest: guestEndpoint(login.issueGuest, metrics) } : {}),
      rooms: roomsEndpoint(matchmaker),
      watch: watchEndpoint(login.verifyToken, metrics, matchmaker),
      ...monitorEndpoints(config, { metrics, log: core.log, limitedLog: core.limited }),
    },
    { onError: routeError(core.limited, metrics, matchmaker) },
  );
}

/** Journal retention (in a cluster, of gone processes' journals too) and the summary line: timers only, stopped first at close. */
function startBackground(
  core: Core,
  journal: RoundJournal,
  processId: string,
  cluster: ClusterMember | undefined,
  teardown: Teardown,
): void {
  const { config, log, metrics } = core;
  const retention = startJournalRetention(
    journal,
    { maxAgeS: config.journalMaxAgeS, maxBytes: config.journalMaxMb * 1024 * 1024, everyS: config.journalPruneEveryS },
    metrics,
    log,
    cluster ? goneProcessJournals(config.journalPath, processId, cluster) : undefined,
  );
  teardown.add("journal retention", () => retention.stop());
  const stopSummary = startSummaryLine(config.summaryEveryS, log, metrics, () => ({
    process: processId,
    rooms: core.rooms.size,
    ccu: core.ccu(),
  }));
  teardown.add("summary line", stopSummary);
}
