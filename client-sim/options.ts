/**
 * Command-line flags of client-sim: defaults, help text, parsing and validation. A bad flag is a
 * UsageError (exit 2) whose message names the flag.
 */
import { SCENARIO_NAMES, type ScenarioName } from "./scenarios/index.ts";

export interface SimOptions {
  url: string;
  /** http(s) origin + path derived from `url`, for /auth/guest and matchmaking */
  httpUrl: string;
  bots: number;
  durationS: number;
  rampS: number;
  /** "auto" lets the matchmaker fill rooms; a number pins bots round-robin to that many rooms */
  rooms: "auto" | number;
  seed: number;
  json: string | null;
  workers: number;
  scenario: ScenarioName;
  maxErrorRate: number;
  allowRemote: boolean;
  verbose: boolean;
}

export class UsageError extends Error {}

interface Flag {
  name: string;
  key: keyof SimOptions;
  value: string;
  help: string;
  parse?: (raw: string, flag: string) => unknown;
}

function numberIn(min: number, max: number, integer: boolean) {
  return (raw: string, flag: string): number => {
    const n = Number(raw);
    if (raw.trim() === "" || !(integer ? Number.isInteger(n) : Number.isFinite(n)) || n < min || n > max) {
      throw new UsageError(`${flag}: expected ${integer ? "an integer" : "a number"} in [${min}, ${max}], got ${JSON.stringify(raw)}`);
    }
    return n;
  };
}
const int = (min: number, max: number) => numberIn(min, max, true);
const num = (min: number, max: number) => numberIn(min, max, false);

const FLAGS: readonly Flag[] = [
  { name: "url", key: "url", value: "ws://127.0.0.1:2567", help: "game server WebSocket URL (ws:// or wss://)", parse: (raw) => raw },
  { name: "bots", key: "bots", value: "100", help: "number of bots (concurrent players)", parse: int(1, 100_000) },
  { name: "duration", key: "durationS", value: "60", help: "seconds from the first bot's start until every bot leaves", parse: num(1, 24 * 3600) },
  { name: "ramp", key: "rampS", value: "10", help: "seconds over which bots start, evenly spaced (<= duration)", parse: num(0, 24 * 3600) },
  {
    name: "rooms", key: "rooms", value: "auto", help: "auto = matchmaker fills rooms (joinOrCreate); N = bots spread round-robin over N rooms",
    parse: (raw, flag) => (raw === "auto" ? "auto" : int(1, 100_000)(raw, flag)),
  },
  { name: "seed", key: "seed", value: "1", help: "seed of every bot's choices (bot i uses a seed derived from S and i)", parse: int(0, 0xffff_ffff) },
  { name: "json", key: "json", value: "", help: "write the full report (with encoded histograms) to this file", parse: (raw) => raw },
  { name: "workers", key: "workers", value: "1", help: "1 = bots in this process; K > 1 = K child processes sharing the bots", parse: int(1, 64) },
  {
    name: "scenario", key: "scenario", value: "aggressive", help: `bot behaviour: ${SCENARIO_NAMES.join(" | ")} (client-sim/scenarios/)`,
    parse: (raw, flag) => {
      if (!(SCENARIO_NAMES as readonly string[]).includes(raw)) {
        throw new UsageError(`${flag}: expected one of ${SCENARIO_NAMES.join(", ")}, got ${JSON.stringify(raw)}`);
      }
      return raw;
    },
  },
  { name: "max-error-rate", key: "maxErrorRate", value: "0.01", help: "exit 1 when errors / (intents sent + join attempts) exceeds this", parse: num(0, 1) },
  { name: "allow-remote", key: "allowRemote", value: "false", help: "allow a non-loopback URL (load-testing someone else's server is on you)" },
  { name: "verbose", key: "verbose", value: "false", help: "log every error and SDK message as JSON lines on stderr" },
];

export function helpText(): string {
  const rows = FLAGS.map((f) => {
    const left = f.parse ? `--${f.name} <${f.value === "" ? "path" : f.value}>` : `--${f.name}`;
    const def = f.parse ? ` (default: ${f.value === "" ? "none" : f.value})` : "";
    return `  ${left.padEnd(34)}${f.help}${def}`;
  });
  return [
    "usage: npm run sim -- [flags]",
    "",
    "Load-test bots for the Skirmish arena: each bot gets a guest token, joins `arena` with",
    "@colyseus/sdk, sends one intent per round and measures intent -> round-result latency.",
    "",
    ...rows,
    `  ${"--help".padEnd(34)}this text`,
    "",
    "Latency is in milliseconds: intent -> result runs from sending an intent to receiving the",
    "`round` message that lists it; connect (WebSocket open) and join (joined) run from the",
    "joinOrCreate call, so both include the matchmaking request; guest auth is POST /auth/guest.",
    "",
    "Exit codes: 0 ok, 1 error rate above --max-error-rate, a worker process lost or server unreachable,",
    "2 bad usage, 3 hard stop.",
    "",
  ].join("\n");
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|::1)$/i;

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.test(hostname);
}

/** ws://h:p/path -> http://h:p/path (wss -> https); the game server serves both on one port. */
export function httpUrlOf(wsUrl: URL): string {
  const scheme = wsUrl.protocol === "wss:" ? "https:" : "http:";
  return `${scheme}//${wsUrl.host}${wsUrl.pathname.replace(/\/$/, "")}`;
}

/** Returns null when --help was asked. */
export function parseOptions(argv: readonly string[]): SimOptions | null {
  const raw: Record<string, unknown> = {};
  for (const f of FLAGS) raw[f.key] = f.parse ? f.parse(f.value, `--${f.name}`) : false;
  raw.json = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return null;
    if (!arg.startsWith("--")) throw new UsageError(`unexpected argument ${JSON.stringify(arg)} (try --help)`);
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const flag = FLAGS.find((f) => f.name === name);
    if (!flag) throw new UsageError(`unknown flag --${name} (try --help)`);
    if (!flag.parse) {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      raw[flag.key] = true;
      continue;
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || (eq === -1 && value.startsWith("--"))) throw new UsageError(`--${name} needs a value`);
    raw[flag.key] = flag.parse(value, `--${name}`);
  }
  const opts = raw as unknown as SimOptions;
  if (opts.rampS > opts.durationS) {
    throw new UsageError(`--ramp (${opts.rampS}) must not exceed --duration (${opts.durationS})`);
  }
  if (opts.json === "") throw new UsageError("--json needs a file path");
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new UsageError(`--url: not a URL: ${JSON.stringify(opts.url)}`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new UsageError(`--url: expected ws:// or wss://, got ${url.protocol}//`);
  }
  if (!opts.allowRemote && !isLoopbackHost(url.hostname)) {
    throw new UsageError(
      `--url: ${url.hostname} is not a loopback address; refusing to load-test it without --allow-remote`,
    );
  }
  if (typeof opts.rooms === "number" && opts.rooms > opts.bots) {
    throw new UsageError(`--rooms (${opts.rooms}) must not exceed --bots (${opts.bots})`);
  }
  opts.httpUrl = httpUrlOf(url);
  return opts;
}
