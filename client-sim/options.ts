/**
 * Command-line flags of client-sim, declared in shared/options.ts's table form, plus the checks that
 * span flags (ramp <= duration, rooms <= bots, loopback URL). A bad flag is a UsageError (exit 2)
 * whose message names the flag.
 */
import { parseArgs } from "node:util";
import {
  decimal,
  integer,
  oneOf,
  parseCommandLine,
  renderHelp,
  presence,
  text,
  UsageError,
  type Command,
  type OptionValues,
} from "../shared/options.ts";
import { SCENARIO_NAMES } from "./scenarios/index.ts";
import { CLIENT_KINDS } from "./seat.ts";

export { UsageError };

const options = {
  url: text({ flag: "url", default: "ws://127.0.0.1:2567", help: "game server WebSocket URL (ws:// or wss://)" }),
  bots: integer({ flag: "bots", min: 1, max: 100_000, default: 100, help: "number of bots (concurrent players)" }),
  durationS: decimal({
    flag: "duration",
    min: 1,
    max: 24 * 3600,
    default: 60,
    help: "seconds from the first bot's start until every bot leaves",
  }),
  rampS: decimal({
    flag: "ramp",
    min: 0,
    max: 24 * 3600,
    default: 10,
    help: "seconds over which bots start, evenly spaced (<= duration)",
  }),
  /** "auto" lets the matchmaker fill rooms; a number pins bots round-robin to that many rooms */
  rooms: integer({
    flag: "rooms",
    min: 1,
    max: 100_000,
    words: ["auto"],
    default: "auto",
    help: "auto = matchmaker fills rooms (joinOrCreate); N = bots spread round-robin over N rooms",
  }),
  seed: integer({
    flag: "seed",
    min: 0,
    max: 0xffff_ffff,
    default: 1,
    help: "seed of every bot's choices (bot i uses a seed derived from S and i)",
  }),
  json: text({ flag: "json", default: null, help: "write the full report (with encoded histograms) to this file" }),
  workers: integer({
    flag: "workers",
    min: 1,
    max: 64,
    default: 1,
    help: "1 = bots in this process; K > 1 = K child processes sharing the bots",
  }),
  scenario: oneOf(SCENARIO_NAMES, {
    flag: "scenario",
    default: "aggressive",
    help: "bot behaviour (client-sim/scenarios/)",
  }),
  client: oneOf(CLIENT_KINDS, {
    flag: "client",
    default: "sdk",
    help: "sdk = each bot a real @colyseus/sdk client; thin = the protocol on ws, patches counted not decoded, each round decoded once per room (client-sim/thin/)",
  }),
  maxErrorRate: decimal({
    flag: "max-error-rate",
    min: 0,
    max: 1,
    default: 0.01,
    help: "exit 1 when errors / (intents sent + join attempts) exceeds this",
  }),
  allowRemote: presence({
    flag: "allow-remote",
    help: "allow a non-loopback URL (load-testing someone else's server is on you)",
  }),
  verbose: presence({ flag: "verbose", help: "log every error and SDK message as JSON lines on stderr" }),
};

export const SIM_COMMAND: Command<typeof options> = {
  usage: "npm run sim -- [flags]",
  about: [
    "Load-test bots for the Skirmish arena: each bot gets a guest token, joins `arena` with",
    "@colyseus/sdk, sends one intent per round and measures intent -> round-result latency.",
  ],
  options,
  notes: [
    "Latency is in milliseconds: intent -> result runs from sending an intent to receiving the",
    "`round` message that lists it; connect (WebSocket open) and join (joined) run from the",
    "joinOrCreate call, so both include the matchmaking request; guest auth is POST /auth/guest.",
    "",
    "Exit codes: 0 ok, 1 error rate above --max-error-rate, a worker process lost or server unreachable,",
    "2 bad usage, 3 hard stop.",
  ],
};

export function helpText(): string {
  return renderHelp(SIM_COMMAND);
}

export type SimOptions = OptionValues<typeof options> & {
  /** http(s) origin + path derived from `url`, for /auth/guest and matchmaking */
  httpUrl: string;
};

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|::1)$/i;

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.test(hostname);
}

/** ws://h:p/path -> http://h:p/path (wss -> https); the game server serves both on one port. */
export function httpUrlOf(wsUrl: URL): string {
  const scheme = wsUrl.protocol === "wss:" ? "https:" : "http:";
  return `${scheme}//${wsUrl.host}${wsUrl.pathname.replace(/\/$/, "")}`;
}

/** Returns null when --help was asked. Throws UsageError naming the flag. */
export function parseOptions(argv: readonly string[]): SimOptions | null {
  const line = parseCommandLine(SIM_COMMAND, argv, {}, parseArgs);
  if (line.help) return null;
  const opts: SimOptions = { ...line.values, httpUrl: "" };
  if (opts.rampS > opts.durationS) {
    throw new UsageError(`--ramp (${opts.rampS}) must not exceed --duration (${opts.durationS})`);
  }
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
