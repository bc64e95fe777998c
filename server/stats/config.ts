// Start-up configuration of the stats service process: flags override env vars override defaults.
import { parseArgs } from "node:util";
import { checkFaults, type Faults } from "./faults.ts";

export interface ServiceConfig {
  host: string;
  port: number;
  db: string;
  token: string;
  faults: Faults;
  help: boolean;
}

/** [flag, env var, default, description] */
const OPTIONS: [string, string, string, string][] = [
  ["port", "STATS_PORT", "2580", "TCP port (0 = any free port)"],
  ["host", "STATS_HOST", "127.0.0.1", "interface to listen on"],
  ["db", "STATS_DB", "data/stats.db", "SQLite file, or :memory:"],
  ["token", "STATS_TOKEN", "dev-stats-token", "service token (RPC connect, HTTP PUT, /admin)"],
  ["latency-ms", "STATS_LATENCY_MS", "0", "fault: added latency per answer, ms"],
  ["jitter-ms", "STATS_JITTER_MS", "0", "fault: plus uniform 0..N ms"],
  ["fail-rate", "STATS_FAIL_RATE", "0", "fault: fraction 0..1 of ids answered with an error"],
  ["stall", "STATS_STALL", "0", "fault: 1 = accept requests, never answer"],
  ["seed", "STATS_SEED", "1", "fault: seed of the jitter/failure PRNG"],
];

export function helpText(): string {
  const rows = OPTIONS.map(([flag, env, def, text]) => `  --${flag.padEnd(12)} ${env.padEnd(17)} ${def.padEnd(16)} ${text}`);
  return [
    "usage: npm run stats -- [options]     (node server/stats/main.ts)",
    "",
    `  ${"flag".padEnd(14)} ${"env".padEnd(17)} ${"default".padEnd(16)} meaning`,
    ...rows,
    "  --help                                          this text",
    "",
    "Faults can be changed at run time: PUT /admin/faults with 'Authorization: Bearer <token>'",
    'and a JSON body such as {"latencyMs":100,"jitterMs":20,"failRate":0.1,"stall":false,"seed":7}.',
  ].join("\n");
}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): ServiceConfig {
  const parsed = parseArgs({
    args: argv,
    options: Object.fromEntries([
      ...OPTIONS.map(([flag]) => [flag, { type: "string" as const }]),
      ["help", { type: "boolean" as const }],
    ]),
    strict: true,
  });
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const pick = (flag: string): string => {
    const [, envName, def] = OPTIONS.find((o) => o[0] === flag)!;
    return (values[flag] as string | undefined) ?? env[envName] ?? def;
  };
  const int = (flag: string): number => {
    const text = pick(flag);
    const n = Number(text);
    if (text.trim() === "" || !Number.isInteger(n)) throw new RangeError(`--${flag}: not an integer: ${text}`);
    return n;
  };
  const port = int("port");
  if (port < 0 || port > 65535) throw new RangeError(`--port: out of range: ${port}`);
  const stall = pick("stall");
  if (!["0", "1", "true", "false"].includes(stall)) throw new RangeError(`--stall: use 0/1/true/false, not ${stall}`);
  const faults = {
    latencyMs: int("latency-ms"),
    jitterMs: int("jitter-ms"),
    failRate: Number(pick("fail-rate")),
    stall: stall === "1" || stall === "true",
    seed: int("seed"),
  };
  const checked = checkFaults(faults); // names the bad field; every field is set, so `faults` is complete
  if (!checked.ok) throw new RangeError(checked.message);
  const token = pick("token");
  if (token === "") throw new RangeError("--token: must not be empty");
  return { host: pick("host"), port, db: pick("db"), token, faults, help: values.help === true };
}
