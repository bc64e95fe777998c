/**
 * Game server options, declared in shared/options.ts's table form: environment variables and
 * matching flags (`--round-ticks 5` or `--round-ticks=5`; a flag wins over its variable).
 */
import { parseArgs } from "node:util";
import { LOG_LEVELS } from "../observability/log.ts";
import {
  integer,
  UsageError,
  oneOf,
  originList,
  parseCommandLine,
  renderHelp,
  defaultValues,
  text,
  type Command,
  type OptionValues,
} from "../../shared/options.ts";
import { STATS_COMMAND, statsTokenOption } from "../stats/config.ts";

const options = {
  port: integer({
    flag: "port",
    env: "PORT",
    min: 0,
    max: 65535,
    default: 2567,
    help: "game server port (0 = random)",
  }),
  host: text({ flag: "host", env: "HOST", default: "127.0.0.1", help: "interface the game server listens on" }),
  statsUrl: text({
    flag: "stats-url",
    env: "STATS_URL",
    default: `ws://127.0.0.1:${STATS_COMMAND.options.port.default}/rpc`,
    help: "stats service: ws://…/rpc (RPC; a bare ws://host:port means /rpc) or http://… (your own HTTP backend; its answer may leave out id, a missing or non-integer stat is refused naming the field); a comma-separated list = stats replicas (least in flight, failover); npm start: port STATS_PORT",
  }),
  statsToken: { ...statsTokenOption, flag: "stats-token" },
  /** HMAC key of guest tokens; null = a random key per process (tokens die with it) */
  authSecret: text({
    flag: "auth-secret",
    env: "AUTH_SECRET",
    default: null,
    defaultText: "random per process (warns)",
    help: "HS256 key of guest tokens (JWTs), also keying each room's secret; every process of a cluster needs the same",
  }),
  authTtlS: integer({
    flag: "auth-ttl-s",
    env: "AUTH_TTL_S",
    min: 1,
    max: 365 * 86400,
    default: 24 * 3600,
    help: "guest token lifetime, seconds; no token (guest or studio) is accepted with an exp further ahead",
  }),
  authClockSkewS: integer({
    flag: "auth-clock-skew-s",
    env: "AUTH_CLOCK_SKEW_S",
    min: 0,
    max: 300,
    default: 30,
    help: "tolerance on a token's exp, nbf and iat for clocks that disagree, seconds",
  }),
  /** a studio's own login: its JWKS; null = guest tokens only */
  authJwksUrl: text({
    flag: "auth-jwks-url",
    env: "AUTH_JWKS_URL",
    default: null,
    defaultText: "unset (guest tokens only)",
    help: "accept RS256/ES256/EdDSA JWTs of your own login, keys from this JWKS (https://, or http:// on loopback); needs AUTH_ISSUER and AUTH_AUDIENCE (README: Your own login)",
  }),
  authIssuer: text({
    flag: "auth-issuer",
    env: "AUTH_ISSUER",
    default: null,
    help: "with AUTH_JWKS_URL: the iss your login's tokens carry",
  }),
  authAudience: text({
    flag: "auth-audience",
    env: "AUTH_AUDIENCE",
    default: null,
    help: "with AUTH_JWKS_URL: the aud your login's tokens carry for this game",
  }),
  authNameClaims: text({
    flag: "auth-name-claims",
    env: "AUTH_NAME_CLAIMS",
    default: "name,preferred_username",
    help: "with AUTH_JWKS_URL: claims a player's display name is taken from, first present first (comma-separated)",
  }),
  authJwksRefreshS: integer({
    flag: "auth-jwks-refresh-s",
    env: "AUTH_JWKS_REFRESH_S",
    min: 1,
    max: 86_400,
    default: 600,
    help: "the JWKS is fetched again in the background when this old, seconds (the last good set stays while it is down)",
  }),
  authJwksCooldownS: integer({
    flag: "auth-jwks-cooldown-s",
    env: "AUTH_JWKS_COOLDOWN_S",
    min: 0,
    max: 3600,
    default: 30,
    help: "a token with an unknown kid fetches the JWKS again at most this often, seconds",
  }),
  /** 1: POST /auth/guest hands out guest identities; 0: it answers 404 */
  guestLogin: integer({
    flag: "guest-login",
    env: "GUEST_LOGIN",
    min: 0,
    max: 1,
    default: 1,
    help: "1 = POST /auth/guest hands out guest identities; 0 = off (404, guest tokens refused), for games with their own login",
  }),
  guestLoginPerMin: integer({
    flag: "guest-login-per-min",
    env: "GUEST_LOGIN_PER_MIN",
    min: 1,
    max: 1_000_000,
    default: 10,
    help: "guest logins a client address earns back per minute (token bucket; past it 429 with Retry-After)",
  }),
  guestLoginBurst: integer({
    flag: "guest-login-burst",
    env: "GUEST_LOGIN_BURST",
    min: 1,
    max: 1_000_000,
    default: 20,
    help: "guest logins a client address may make at once",
  }),
  guestLoginExemptLoopback: integer({
    flag: "guest-login-exempt-loopback",
    env: "GUEST_LOGIN_EXEMPT_LOOPBACK",
    min: 0,
    max: 1,
    default: 1,
    help: "1 = guest logins from this machine (127.0.0.1, ::1: local bots, tests) are not rate-limited; behind a proxy set TRUST_PROXY",
  }),
  trustProxy: integer({
    flag: "trust-proxy",
    env: "TRUST_PROXY",
    min: 0,
    max: 10,
    default: 0,
    help: "reverse proxies in front: the client address is read from X-Forwarded-For that many hops back (0 = the socket's address, the header ignored)",
  }),
  journalPath: text({
    flag: "journal-path",
    env: "JOURNAL_PATH",
    default: "data/journal.db",
    help: "round journal, SQLite file or :memory:",
  }),
  tickHz: integer({
    flag: "tick-hz",
    env: "TICK_HZ",
    min: 1,
    max: 1000,
    default: 20,
    help: "scheduler ticks per second",
  }),
  roundTicks: integer({
    flag: "round-ticks",
    env: "ROUND_TICKS",
    min: 1,
    max: 100_000,
    default: 10,
    help: "ticks per combat round (10 at 20 Hz = 500 ms)",
  }),
  roundDeadlineMs: integer({
    flag: "round-deadline-ms",
    env: "ROUND_DEADLINE_MS",
    min: 1,
    max: 600_000,
    default: 300,
    help: "bound on a round's stats join, ms",
  }),
  maxPlayers: integer({
    flag: "max-players",
    env: "MAX_PLAYERS",
    min: 1,
    max: 10_000,
    default: 16,
    help: "human players per arena (then a new arena opens)",
  }),
  maxSpectators: integer({
    flag: "max-spectators",
    env: "MAX_SPECTATORS",
    min: 0,
    max: 10_000,
    default: 32,
    help: "spectators per arena (POST /watch), on top of MAX_PLAYERS",
  }),
  npcs: integer({ flag: "npcs", env: "NPCS", min: 0, max: 1000, default: 3, help: "NPCs per arena" }),
  reconnectGraceS: integer({
    flag: "reconnect-grace-s",
    env: "RECONNECT_GRACE_S",
    min: 0,
    max: 86_400,
    default: 20,
    help: "seconds a dropped player may come back and keep its entity",
  }),
  maxMessagesPerSecond: integer({
    flag: "max-messages-per-second",
    env: "MAX_MESSAGES_PER_SECOND",
    min: 1,
    max: 1_000_000,
    default: 40,
    help: "per client; a soft limit answers rate_limited first, above it the client is dropped",
  }),
  logLevel: oneOf(LOG_LEVELS, {
    flag: "log-level",
    env: "LOG_LEVEL",
    default: "info",
    help: "JSON-lines log threshold",
  }),
  summaryEveryS: integer({
    flag: "summary-every-s",
    env: "SUMMARY_EVERY_S",
    min: 0,
    max: 86_400,
    default: 30,
    help: "seconds between info summary lines (0 = off)",
  }),
  journalMaxAgeS: integer({
    flag: "journal-max-age-s",
    env: "JOURNAL_MAX_AGE_S",
    min: 0,
    max: 10 * 365 * 86400,
    default: 86_400,
    help: "journal rows older than this are pruned (0 = no age bound)",
  }),
  journalMaxMb: integer({
    flag: "journal-max-mb",
    env: "JOURNAL_MAX_MB",
    min: 0,
    max: 10_000_000,
    default: 2048,
    help: "the oldest journal rows are pruned while the journal uses more (0 = no size bound)",
  }),
  journalPruneEveryS: integer({
    flag: "journal-prune-every-s",
    env: "JOURNAL_PRUNE_EVERY_S",
    min: 1,
    max: 86_400,
    default: 60,
    help: "seconds between retention runs (each prunes in batches of 500 rows, one per event-loop turn)",
  }),
  seatReservationS: integer({
    flag: "seat-reservation-s",
    env: "SEAT_RESERVATION_S",
    min: 1,
    max: 600,
    default: 5,
    help: "a seat reserved by matchmaking that nobody connects to is freed after this",
  }),
  /** 1: clients may also `create` rooms and `joinById`; 0: joinOrCreate / join only */
  clientRoomChoice: integer({
    flag: "client-room-choice",
    env: "CLIENT_ROOM_CHOICE",
    min: 0,
    max: 1,
    default: 0,
    help: "1 = clients may also create rooms and joinById (client-sim --rooms N needs it); 0 = joinOrCreate / join only",
  }),
  httpMaxBodyBytes: integer({
    flag: "http-max-body-bytes",
    env: "HTTP_MAX_BODY_BYTES",
    min: 256,
    max: 1_048_576,
    default: 8192,
    help: "largest HTTP request body; beyond it 413 and the connection closes",
  }),
  httpRequestTimeoutMs: integer({
    flag: "http-request-timeout-ms",
    env: "HTTP_REQUEST_TIMEOUT_MS",
    min: 100,
    max: 300_000,
    default: 10_000,
    help: "an HTTP request's headers and body must arrive within this (408 after)",
  }),
  httpIdleTimeoutMs: integer({
    flag: "http-idle-timeout-ms",
    env: "HTTP_IDLE_TIMEOUT_MS",
    min: 100,
    max: 600_000,
    default: 5_000,
    help: "a keep-alive HTTP connection with no request for this long is closed",
  }),
  corsOrigins: originList({
    flag: "cors-origins",
    env: "CORS_ORIGINS",
    default: [],
    defaultText: "none",
    help: "origins whose pages may call the game's HTTP routes (matchmaking, guest login, lobby, replay) cross-origin; never the monitor or /metrics",
  }),
  /** 1: anyone may read every room's replay; 0: only the room's players and spectators (their token) */
  replayPublic: integer({
    flag: "replay-public",
    env: "REPLAY_PUBLIC",
    min: 0,
    max: 1,
    default: 0,
    help: "1 = GET /replay/rounds answers anyone; 0 = only a token of one of the room's players or spectators",
  }),
  replayPagesPerMinute: integer({
    flag: "replay-pages-per-minute",
    env: "REPLAY_PAGES_PER_MINUTE",
    min: 1,
    max: 1_000_000,
    default: 30,
    help: "GET /replay/rounds answers one client address this often a minute (then 429)",
  }),
  spectatorSeatsPerPlayer: integer({
    flag: "spectator-seats-per-player",
    env: "SPECTATOR_SEATS_PER_PLAYER",
    min: 1,
    max: 1000,
    default: 3,
    help: "spectator seats (reserved or taken) one token may hold at once in this process",
  }),
  /** password of the Colyseus monitor at /colyseus/; null = no monitor */
  monitorPassword: text({
    flag: "monitor-password",
    env: "MONITOR_PASSWORD",
    default: null,
    defaultText: "unset (no monitor)",
    help: "turns on the Colyseus monitor at /colyseus/ (basic auth, user admin, this password)",
  }),
  /** 1: the monitor may disconnect clients and close arenas; 0: it only reads */
  monitorActions: integer({
    flag: "monitor-actions",
    env: "MONITOR_ACTIONS",
    min: 0,
    max: 1,
    default: 0,
    help: "1 = the monitor may disconnect a client or close an arena; 0 = it only lists and inspects",
  }),
  /** Redis of a cluster (RedisPresence + RedisDriver); null = one process, local presence */
  redisUrl: text({
    flag: "redis-url",
    env: "REDIS_URL",
    default: null,
    defaultText: "unset (one process)",
    help: "redis://host:port[/db] of a cluster: RedisPresence + RedisDriver, one seat per player cluster-wide (README: Scale-out on Redis)",
  }),
  /** host:port clients reach this process at, carried in seat reservations; null = 127.0.0.1:<port> */
  publicAddress: text({
    flag: "public-address",
    env: "PUBLIC_ADDRESS",
    default: null,
    defaultText: "127.0.0.1:PORT",
    help: "cluster only: host:port clients reach this process at (carried in seat reservations)",
  }),
};

export const GAME_COMMAND: Command<typeof options> = {
  usage: "npm run game -- [flags]     (node server/game/main.ts)",
  options,
};

export function helpText(): string {
  return renderHelp(GAME_COMMAND);
}

export type GameConfig = OptionValues<typeof options>;

export const DEFAULT_CONFIG: GameConfig = defaultValues(options);

/** Throws UsageError naming the bad variable or flag. Returns null when --help was asked. */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): GameConfig | null {
  const line = parseCommandLine(GAME_COMMAND, argv, env, parseArgs);
  if (line.help) return null;
  checkLoginOptions(line.values);
  return line.values;
}

/**
 * The checks that span options of a studio's login: AUTH_JWKS_URL needs AUTH_ISSUER and
 * AUTH_AUDIENCE (a token from any issuer, or for any game, would otherwise pass), and neither
 * means anything without it; keys come over https (http only from this machine), since whoever
 * can change them in transit can sign in as anyone. Throws UsageError naming the variable.
 */
export function checkLoginOptions(config: GameConfig): void {
  if (config.authJwksUrl === null) {
    const stray = config.authIssuer !== null ? "AUTH_ISSUER" : config.authAudience !== null ? "AUTH_AUDIENCE" : null;
    if (stray)
      throw new UsageError(`${stray} is set without AUTH_JWKS_URL: set the JWKS of your login too, or unset it`);
    return;
  }
  for (const [name, value] of [
    ["AUTH_ISSUER", config.authIssuer],
    ["AUTH_AUDIENCE", config.authAudience],
  ] as const) {
    if (value === null)
      throw new UsageError(
        `AUTH_JWKS_URL needs ${name} (the ${name === "AUTH_ISSUER" ? "iss" : "aud"} of your login's tokens)`,
      );
  }
  let url: URL;
  try {
    url = new URL(config.authJwksUrl);
  } catch {
    throw new UsageError(`AUTH_JWKS_URL: not a URL: ${config.authJwksUrl}`);
  }
  const loopback = ["127.0.0.1", "[::1]", "localhost"].includes(url.hostname);
  if (!(url.protocol === "https:" || (url.protocol === "http:" && loopback))) {
    throw new UsageError("AUTH_JWKS_URL must be https:// (http:// only on this machine: 127.0.0.1, ::1, localhost)");
  }
}
