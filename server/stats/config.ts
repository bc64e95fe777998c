// Start-up options of the stats service process, declared in shared/options.ts's table form:
// flag > env var > default. The service token and port are declared here once; the game server's
// options reuse them.
import { parseArgs } from "node:util";
import {
  boolean,
  decimal,
  integer,
  parseCommandLine,
  renderHelp,
  text,
  UsageError,
  type Command,
  type OptionValues,
} from "../../shared/options.ts";
import { DEFAULT_FAULTS, FAULT_LIMITS, type Faults } from "./faults.ts";
import { parseStoreLocation } from "./store/open-store.ts";

/** The service token: the stats service requires it, the game server presents it (as `--stats-token`). */
export const statsTokenOption = text({
  flag: "token",
  env: "STATS_TOKEN",
  default: "dev-stats-token",
  help: "service token of the stats RPC, HTTP writes and /admin",
});

const options = {
  port: integer({
    flag: "port",
    env: "STATS_PORT",
    min: 0,
    max: 65535,
    default: 2580,
    help: "stats service port (0 = any free port)",
  }),
  host: text({ flag: "host", env: "STATS_HOST", default: "127.0.0.1", help: "interface the stats service listens on" }),
  db: text({
    flag: "db",
    env: "STATS_DB",
    default: "data/stats.db",
    help: "SQLite file (created on first start), :memory:, or postgres://user@host:port/db (PostgreSQL, shared by stats replicas); other URL schemes are refused",
  }),
  poolSize: integer({
    flag: "pool-size",
    env: "STATS_PG_POOL_SIZE",
    min: 1,
    max: 1000,
    default: 10,
    help: "PostgreSQL: connections per stats replica",
  }),
  statementTimeoutMs: integer({
    flag: "statement-timeout-ms",
    env: "STATS_PG_STATEMENT_TIMEOUT_MS",
    min: 1,
    max: 600_000,
    default: 1000,
    help: "PostgreSQL: bound of one statement, ms",
  }),
  token: statsTokenOption,
  guestTtlS: integer({
    flag: "guest-ttl-s",
    env: "STATS_GUEST_TTL_S",
    min: 0,
    max: 10 * 365 * 86400,
    default: 172_800,
    help: "guest rows (p_…) nobody read for this long are deleted (0 = never; SQLite store); NPC and other ids stay",
  }),
  latencyMs: integer({
    flag: "latency-ms",
    env: "STATS_LATENCY_MS",
    min: 0,
    max: FAULT_LIMITS.latencyMs,
    default: DEFAULT_FAULTS.latencyMs,
    help: "fault: added latency per answer, ms",
  }),
  jitterMs: integer({
    flag: "jitter-ms",
    env: "STATS_JITTER_MS",
    min: 0,
    max: FAULT_LIMITS.jitterMs,
    default: DEFAULT_FAULTS.jitterMs,
    help: "fault: plus a seeded uniform 0..N ms",
  }),
  failRate: decimal({
    flag: "fail-rate",
    env: "STATS_FAIL_RATE",
    min: 0,
    max: 1,
    default: DEFAULT_FAULTS.failRate,
    help: "fault: fraction of ids answered with an error",
  }),
  stall: boolean({
    flag: "stall",
    env: "STATS_STALL",
    default: DEFAULT_FAULTS.stall,
    help: "fault: accept requests, never answer",
  }),
  seed: integer({
    flag: "seed",
    env: "STATS_SEED",
    min: 0,
    max: FAULT_LIMITS.seed,
    default: DEFAULT_FAULTS.seed,
    help: "fault: seed of the jitter/failure PRNG",
  }),
};

export const STATS_COMMAND: Command<typeof options> = {
  usage: "npm run stats -- [flags]     (node server/stats/main.ts)",
  options,
  notes: [
    "Faults can be changed at run time: PUT /admin/faults with 'Authorization: Bearer <token>'",
    'and a JSON body such as {"latencyMs":100,"jitterMs":20,"failRate":0.1,"stall":false,"seed":7}.',
  ],
};

export function helpText(): string {
  return renderHelp(STATS_COMMAND);
}

export interface ServiceConfig {
  host: string;
  port: number;
  db: string;
  poolSize: number;
  statementTimeoutMs: number;
  token: string;
  guestTtlS: number;
  faults: Faults;
  help: boolean;
}

/** Throws UsageError naming the flag or variable. With `help`, the rest holds the defaults. */
export function loadConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ServiceConfig {
  const line = parseCommandLine(STATS_COMMAND, argv, env, parseArgs);
  const v: OptionValues<typeof options> = line.values;
  const faults = { latencyMs: v.latencyMs, jitterMs: v.jitterMs, failRate: v.failRate, stall: v.stall, seed: v.seed };
  try {
    parseStoreLocation(v.db); // an unsupported URL scheme is refused here, by name
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return {
    host: v.host,
    port: v.port,
    db: v.db,
    poolSize: v.poolSize,
    statementTimeoutMs: v.statementTimeoutMs,
    token: v.token,
    guestTtlS: v.guestTtlS,
    faults,
    help: line.help,
  };
}
