/**
 * `npm start`: the embedded default. Runs the stats service and the game server as two real
 * processes on loopback under a supervisor (server/process/supervisor.ts): their log lines are
 * prefixed, a crashed child is restarted with backoff (the game keeps playing on last-known-good
 * stats while the stats service comes back, and reconnects by itself), and Ctrl-C / SIGTERM
 * stops both, game first. Repeated fast crashes end it with a clear error and exit code 1.
 * Children exit when this process dies, even by SIGKILL; this process exits when its own parent
 * does. Once both are up it tells a parent that spawned it with an IPC channel (announceReady).
 */
import { dirname } from "node:path";
import { createLogger, writeStdout } from "./observability/log.ts";
import { announceReady } from "./process/ready-message.ts";
import { stopOnSignals } from "./process/stop-on-signals.ts";
import { supervise } from "./process/supervisor.ts";
import { STATS_COMMAND } from "./stats/config.ts";
import { GAME_COMMAND } from "./game/config.ts";
import { authSecretFile } from "./process/auth-secret-file.ts";

const log = createLogger("info", (line) => writeStdout(`[main] ${line}`));

// The game server finds the stats service on the port this run gives it. Without an AUTH_SECRET it
// gets one kept in the data directory, so that a restarted game process still accepts its
// players' tokens and takes its matches back from the journal.
const env = { ...process.env };
if (env.AUTH_SECRET === undefined) {
  const journalPath = env.JOURNAL_PATH ?? GAME_COMMAND.options.journalPath.default;
  const dataDir = journalPath === ":memory:" ? "data" : dirname(journalPath);
  const { secret, path } = authSecretFile(dataDir);
  env.AUTH_SECRET = secret;
  log.info("AUTH_SECRET from the data directory", { file: path });
}
env.STATS_PORT ??= String(STATS_COMMAND.options.port.default);
env.STATS_URL ??= `ws://127.0.0.1:${env.STATS_PORT}/rpc`;

const supervisor = supervise(
  [
    { name: "stats", entry: "server/stats/main.ts", env },
    { name: "game", entry: "server/game/main.ts", env },
  ],
  { log },
);

stopOnSignals(supervisor, log);

supervisor.ready.then(
  (ports) => {
    log.info("skirmish is up", {
      game: `ws://127.0.0.1:${ports.game}`,
      stats: env.STATS_URL,
      play: `http://127.0.0.1:${ports.game}/`,
      bots: "npm run sim -- --bots 20 --duration 30",
    });
    announceReady(ports.game);
  },
  () => {}, // supervision ended first: `done` says why
);

try {
  await supervisor.done;
  log.info("stopped");
  process.exit(0);
} catch (err) {
  log.error("gave up", { why: (err as Error).message });
  process.exit(1);
}
