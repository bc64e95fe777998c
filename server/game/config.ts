/**
 * Game server configuration: defaults, environment variables and matching command-line flags
 * (`--round-ticks 5` or `--round-ticks=5`; a flag wins over its variable).
 */
import { isLogLevel, type LogLevel } from "../log.ts";

export interface GameConfig {
  port: number;
  host: string;
  statsUrl: string;
  statsToken: string;
  /** HMAC key of player tokens; empty = a random key per process (tokens die with it) */
  authSecret: string;
  authTtlS: number;
  journalPath: string;
  tickHz: number;
  roundTicks: number;
  roundDeadlineMs: number;
  maxPlayers: number;
  npcs: number;
  reconnectGraceS: number;
  maxMessagesPerSecond: number;
  logLevel: LogLevel;
  summaryEveryS: number;
  httpMaxBodyBytes: number;
  httpRequestTimeoutMs: number;
  seatReservationS: number;
  /** 1: clients may also `create` rooms and `joinById`; 0: joinOrCreate / join only */
  clientRoomChoice: number;
}

interface Option {
  key: keyof GameConfig;
  env: string;
  kind: "int" | "string" | "level";
  min?: number;
  max?: number;
  help: string;
}

export const OPTIONS: readonly Option[] = [
  { key: "port", env: "PORT", kind: "int", min: 0, max: 65535, help: "game server port (0 = random)" },
  { key: "host", env: "HOST", kind: "string", help: "interface to listen on" },
  { key: "statsUrl", env: "STATS_URL", kind: "string", help: "stats service (ws://…/rpc or http://…)" },
  { key: "statsToken", env: "STATS_TOKEN", kind: "string", help: "service token for the stats service" },
  { key: "authSecret", env: "AUTH_SECRET", kind: "string", help: "HMAC secret of player tokens (unset: random per process)" },
  { key: "authTtlS", env: "AUTH_TTL_S", kind: "int", min: 1, max: 365 * 86400, help: "player token lifetime, seconds" },
  { key: "journalPath", env: "JOURNAL_PATH", kind: "string", help: "round journal, SQLite file or :memory:" },
  { key: "tickHz", env: "TICK_HZ", kind: "int", min: 1, max: 1000, help: "scheduler ticks per second" },
  { key: "roundTicks", env: "ROUND_TICKS", kind: "int", min: 1, max: 100_000, help: "ticks between combat rounds" },
  { key: "roundDeadlineMs", env: "ROUND_DEADLINE_MS", kind: "int", min: 1, max: 600_000, help: "bound on a round's stats join" },
  { key: "maxPlayers", env: "MAX_PLAYERS", kind: "int", min: 1, max: 10_000, help: "human players per arena" },
  { key: "npcs", env: "NPCS", kind: "int", min: 0, max: 1000, help: "NPCs per arena" },
  { key: "reconnectGraceS", env: "RECONNECT_GRACE_S", kind: "int", min: 0, max: 86_400, help: "seconds a dropped player may reconnect" },
  { key: "maxMessagesPerSecond", env: "MAX_MESSAGES_PER_SECOND", kind: "int", min: 1, max: 1_000_000, help: "per client; above it the client is dropped" },
  { key: "logLevel", env: "LOG_LEVEL", kind: "level", help: "debug | info | warn | error | silent" },
  { key: "summaryEveryS", env: "SUMMARY_EVERY_S", kind: "int", min: 0, max: 86_400, help: "seconds between info summaries (0 = off)" },
  { key: "httpMaxBodyBytes", env: "HTTP_MAX_BODY_BYTES", kind: "int", min: 256, max: 1_048_576, help: "largest HTTP request body; beyond it 413 and close" },
  { key: "seatReservationS", env: "SEAT_RESERVATION_S", kind: "int", min: 1, max: 600, help: "a reserved seat nobody connects to is freed after this" },
  { key: "clientRoomChoice", env: "CLIENT_ROOM_CHOICE", kind: "int", min: 0, max: 1, help: "1 = clients may create rooms and join by id; 0 = joinOrCreate only" },
  { key: "httpRequestTimeoutMs", env: "HTTP_REQUEST_TIMEOUT_MS", kind: "int", min: 100, max: 300_000, help: "an HTTP request's headers and body must arrive within this" },
];

export const DEFAULT_CONFIG: GameConfig = {
  port: 2567,
  host: "127.0.0.1",
  statsUrl: "ws://127.0.0.1:2580/rpc",
  statsToken: "dev-stats-token",
  authSecret: "",
  authTtlS: 24 * 3600,
  journalPath: "data/journal.db",
  tickHz: 20,
  roundTicks: 10,
  roundDeadlineMs: 300,
  maxPlayers: 16,
  npcs: 3,
  reconnectGraceS: 20,
  maxMessagesPerSecond: 40,
  logLevel: "info",
  summaryEveryS: 30,
  httpMaxBodyBytes: 8192,
  httpRequestTimeoutMs: 10_000,
  seatReservationS: 5,
  clientRoomChoice: 0,
};

function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

export function helpText(): string {
  const rows = OPTIONS.map((o) => {
    const flag = `--${flagName(o.key)}`.padEnd(28);
    const env = o.env.padEnd(24);
    return `  ${flag}${env}${o.help} (default: ${JSON.stringify(DEFAULT_CONFIG[o.key])})`;
  });
  return ["usage: npm run game -- [flags]", "", "  flag                        env var", ...rows, "  --help                      this text", ""].join("\n");
}

function parseValue(o: Option, raw: string, source: string): string | number {
  if (o.kind === "string") return raw;
  if (o.kind === "level") {
    if (!isLogLevel(raw)) throw new Error(`${source}: expected debug|info|warn|error|silent, got ${JSON.stringify(raw)}`);
    return raw;
  }
  const n = Number(raw);
  const min = o.min ?? 0;
  const max = o.max ?? Number.MAX_SAFE_INTEGER;
  if (raw.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${source}: expected an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** Throws with a message naming the bad variable or flag. Returns null when --help was asked. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): GameConfig | null {
  const config: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const o of OPTIONS) {
    const raw = env[o.env];
    if (raw !== undefined && raw !== "") config[o.key] = parseValue(o, raw, o.env);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return null;
    if (!arg.startsWith("--")) throw new Error(`unexpected argument ${JSON.stringify(arg)} (try --help)`);
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const o = OPTIONS.find((x) => flagName(x.key) === name);
    if (!o) throw new Error(`unknown flag --${name} (try --help)`);
    let value: string | undefined = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new Error(`flag --${name} needs a value`);
    config[o.key] = parseValue(o, value, `--${name}`);
  }
  return config as unknown as GameConfig;
}
