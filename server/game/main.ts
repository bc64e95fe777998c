/**
 * `npm run game`: the game server alone, against the stats service at STATS_URL.
 * Configuration by environment variables and matching flags (`--help`). Logs one JSON line per
 * event. Once listening it logs `game listening` and sends its parent the ready message
 * (`announceReady`: the one readiness signal, server/process/ready-message.ts).
 * SIGINT/SIGTERM, or its parent gone (`exitWithParent`): stop accepting, finish or cancel in-flight
 * rounds, close the journal, exit 0. An uncaught exception: logged, exit 1.
 */
import { helpText, loadConfig, type GameConfig } from "./config.ts";
import { createLogger, errorFields } from "../observability/log.ts";
import { maskRedisUrl } from "./cluster/redis-connection.ts";
import { startGameServer } from "./server.ts";
import { announceReady } from "../process/ready-message.ts";
import { exitWithParent } from "../process/exit-with-parent.ts";

let config: GameConfig | null;
try {
  config = loadConfig(process.argv.slice(2), process.env);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
if (config === null) {
  process.stdout.write(helpText());
  process.exit(0);
}

const log = createLogger(config.logLevel);

// An exception that escaped every handler (rooms, rounds and coroutines contain their own) leaves
// state nobody can vouch for: log it and exit non-zero, as Node advises, for the supervisor
// (`npm start`) to restart a clean process; clients reconnect, the journal holds every finished
// round (rounds waiting for its batched commit are committed first). An unhandled rejection
// arrives here too (Node's default turns it into one). The logger cannot throw (a dead stdout is
// dropped and counted), so this handler cannot loop on itself.
let journal: { commit(): void } | undefined;
process.on("uncaughtException", (err, origin) => {
  log.error("uncaught exception; exiting for the supervisor to restart", { origin, ...errorFields(err) });
  try {
    journal?.commit();
  } catch (commitErr) {
    log.error("journal commit at exit failed; its last rounds are lost", errorFields(commitErr));
  }
  process.exit(1);
});

let server: Awaited<ReturnType<typeof startGameServer>>;
try {
  server = await startGameServer({ ...config, log });
} catch (err) {
  log.error("game failed to start", { port: config.port, host: config.host, ...errorFields(err) });
  process.exit(1);
}
log.info("game listening", {
  port: server.port,
  host: config.host,
  process: server.processId,
  ...(config.redisUrl
    ? { redis: maskRedisUrl(config.redisUrl), publicAddress: config.publicAddress || `127.0.0.1:${server.port}` }
    : {}),
  statsUrl: config.statsUrl,
  journal: server.journal.path,
  tickHz: config.tickHz,
  roundTicks: config.roundTicks,
  roundDeadlineMs: config.roundDeadlineMs,
});
journal = server.journal;
announceReady(server.port);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info("game stopping", { signal });
  // a shutdown that hangs must not leave a zombie holding the port
  const force = setTimeout(() => {
    log.error("shutdown timed out; exiting");
    process.exit(1);
  }, 10_000);
  force.unref();
  await server.close();
  log.info("game stopped", {
    rounds: server.metrics.roundsTotal.get(),
    journalRounds: server.metrics.journalRounds.get(),
  });
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
exitWithParent(() => void shutdown("parent exited"));
