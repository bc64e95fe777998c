// Entry point of the stats service process (`npm run stats`). When listening it logs
// `stats listening` and sends its parent the ready message (`announceReady`,
// server/process/ready-message.ts); SIGINT/SIGTERM, or its parent gone, close it cleanly.
import { createLogger } from "../observability/log.ts";
import { helpText, loadConfig } from "./config.ts";
import { startStatsService } from "./service.ts";
import { announceReady } from "../process/ready-message.ts";
import { exitWithParent } from "../process/exit-with-parent.ts";
import { describePostgresUrl } from "./store/postgres-store.ts";
import { parseStoreLocation } from "./store/open-store.ts";

/** The db for the start-up line: a PostgreSQL URL without its password. */
function describeDb(db: string): string {
  return parseStoreLocation(db).kind === "postgres" ? describePostgresUrl(db) : db;
}

const log = createLogger("info");

function fatal(msg: string, fields: Record<string, unknown> = {}): never {
  createLogger("error", (line) => process.stderr.write(line)).error(msg, fields);
  process.exit(1);
}

let config;
try {
  config = loadConfig(process.argv.slice(2), process.env);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n\n${helpText()}\n`);
  process.exit(2);
}
if (config.help) {
  process.stdout.write(helpText() + "\n");
  process.exit(0);
}

const service = await startStatsService({
  host: config.host,
  port: config.port,
  db: config.db,
  poolSize: config.poolSize,
  statementTimeoutMs: config.statementTimeoutMs,
  token: config.token,
  guestTtlS: config.guestTtlS,
  faults: config.faults,
  log,
}).catch((err: Error) => fatal("stats service failed to start", { error: err.message }));

log.info("stats listening", {
  host: config.host,
  port: service.port,
  rpc: service.rpcUrl,
  http: service.httpUrl,
  db: describeDb(config.db),
  faults: config.faults,
  pid: process.pid,
});
announceReady(service.port);

let stopping = false;
function stop(why: string): void {
  if (stopping) return;
  stopping = true;
  service.close().then(
    () => {
      log.info("stats stopped", { signal: why });
      process.exit(0);
    },
    (err: Error) => fatal("stats service failed to close", { error: err.message }),
  );
}
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => stop(signal));
exitWithParent(() => stop("parent exited"));
